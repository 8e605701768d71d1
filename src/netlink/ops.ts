/**
 * A plan is data: an ordered list of network operations, each naming the namespace it runs in.
 * Planners (src/modes) produce plans; the executor (./executor.ts) is the only thing that applies them.
 *
 * Semantics every op keeps, so plans are safe to re-apply and to tear down twice:
 * - `*.replace` ops overwrite what is there;
 * - `rule.add` treats "already exists" as success (the kernel has no rule replace);
 * - `*.del` ops treat "not found" as success.
 */
import type { Cidr, IfName, IpAddr, MacAddr, NetnsPath } from '../lib/brand.js';

export type NsRef = { readonly kind: 'host' } | { readonly kind: 'pod'; readonly path: NetnsPath };

export const HOST: NsRef = { kind: 'host' };
export function podNs(path: NetnsPath): NsRef {
  return { kind: 'pod', path };
}

export interface VethEnd {
  readonly name: IfName;
  readonly mac: MacAddr;
}

export type Op =
  /** Creates a veth pair in `ns`, with the peer created directly inside `peerNs`. */
  | {
      readonly kind: 'link.veth';
      readonly ns: NsRef;
      readonly host: VethEnd;
      readonly peer: VethEnd;
      readonly peerNs: NsRef;
      readonly mtu: number;
    }
  | { readonly kind: 'link.up'; readonly ns: NsRef; readonly name: IfName }
  | { readonly kind: 'link.del'; readonly ns: NsRef; readonly name: IfName }
  | { readonly kind: 'addr.replace'; readonly ns: NsRef; readonly dev: IfName; readonly cidr: Cidr }
  | {
      readonly kind: 'route.replace';
      readonly ns: NsRef;
      readonly dst: Cidr | 'default';
      readonly dev: IfName;
      readonly via?: IpAddr;
      readonly onlink?: boolean;
      readonly scope?: 'link' | 'host';
      readonly table?: number;
      /**
       * The route belongs to the node, not to one pod (e.g. an ENI table's default route that every pod on the
       * ENI uses): rollback never removes it and pod teardown never plans its removal.
       */
      readonly shared?: boolean;
    }
  | {
      readonly kind: 'route.del';
      readonly ns: NsRef;
      readonly dst: Cidr | 'default';
      readonly dev?: IfName;
      readonly table?: number;
    }
  | {
      readonly kind: 'rule.add';
      readonly ns: NsRef;
      readonly priority: number;
      readonly from?: Cidr;
      readonly to?: Cidr;
      readonly table: number | 'main';
    }
  /** Without `table` it matches a rule of that priority and selector in any table. */
  | {
      readonly kind: 'rule.del';
      readonly ns: NsRef;
      readonly priority: number;
      readonly from?: Cidr;
      readonly to?: Cidr;
      readonly table?: number | 'main';
    }
  | {
      readonly kind: 'neigh.replace';
      readonly ns: NsRef;
      readonly dev: IfName;
      readonly ip: IpAddr;
      readonly lladdr: MacAddr;
    }
  /** Writes /proc/sys/<key with dots as slashes> in the host namespace. */
  | { readonly kind: 'sysctl.set'; readonly ns: NsRef; readonly key: string; readonly value: string };

export type OpKind = Op['kind'];
export type Plan = readonly Op[];

/** The op that undoes `op`, for rollback; undefined when nothing needs undoing (or it cannot be undone). */
export function inverseOf(op: Op): Op | undefined {
  switch (op.kind) {
    case 'link.veth':
      return { kind: 'link.del', ns: op.ns, name: op.host.name };
    case 'addr.replace':
    case 'link.up':
    case 'link.del':
    case 'route.del':
    case 'rule.del':
    case 'neigh.replace':
    case 'sysctl.set':
      // Addresses and neighbours vanish with their link; sysctls are node settings that stay.
      return undefined;
    case 'route.replace':
      return op.shared === true || (op.dst === 'default' && op.table === undefined)
        ? undefined
        : { kind: 'route.del', ns: op.ns, dst: op.dst, dev: op.dev, ...(op.table !== undefined ? { table: op.table } : {}) };
    case 'rule.add':
      return { ...op, kind: 'rule.del' };
  }
}
