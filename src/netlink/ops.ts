/**
 * A plan is data: an ordered list of network operations, each naming the namespace it runs in.
 * Planners (src/modes) produce plans; the executor (./executor.ts) is the only thing that applies them.
 *
 * Semantics every op keeps, so plans are safe to re-apply and to tear down twice:
 * - `*.replace` ops overwrite what is there;
 * - `rule.add` treats "already exists" as success (the kernel has no rule replace);
 * - `*.del` ops treat "not found" as success;
 * - `link.ifb` treats "already exists" as success (plans that need a fresh one delete it first).
 * - `link.move` with a `mac` moves only a link that has that MAC; in a teardown a link already gone counts as moved.
 *
 * `qdisc.*` and `filter.*` ops render to `tc -force -batch -` lines, the rest (but sysctls) to `ip -force -batch -`.
 * Sysctls are written directly in the host namespace, and through `nsenter --net=PATH sysctl -q -w …` (one process
 * per run of consecutive sysctls of one pod namespace) in a pod's.
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

/** A tbf's kernel parameters (see src/bandwidth/tbf.ts): rate bytes/s, bucket bytes, queue limit bytes. */
export interface TbfQdisc {
  readonly type: 'tbf';
  readonly rateBytes: number;
  readonly burstBytes: number;
  readonly limitBytes: number;
}
/** The `ingress` qdisc (handle ffff:), where u32 filters of traffic received by the device attach. */
export interface IngressQdisc {
  readonly type: 'ingress';
}
/** The `clsact` qdisc (handle ffff:): an ingress and an egress hook for filters, no queueing. */
export interface ClsactQdisc {
  readonly type: 'clsact';
}
export type QdiscSpec = TbfQdisc | IngressQdisc | ClsactQdisc;
/** Where a qdisc sits: `root` (handle 1:), the ingress hook or clsact (both handle ffff:, so one excludes the other). */
export type QdiscSlot = 'root' | 'ingress' | 'clsact';

export function slotOf(q: QdiscSpec): QdiscSlot {
  return q.type === 'tbf' ? 'root' : q.type;
}

/** A filter hook of a clsact qdisc. */
export type ClsactHook = 'ingress' | 'egress';

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
  /**
   * Moves link `name` from `ns` into `to`, renamed `newName` there, in one step (`ip link set dev NAME netns PATH
   * name NEW`: the name never clashes in the target). The kernel sets it down. Rollback moves it back under
   * `returnName` (the planner's neutral name; e.g. the ENI's host name). `mac`, when the planner knows it, guards
   * the move: the executor moves the link only when it has that MAC (./move-guard.ts: never the wrong link; in a
   * teardown a link already gone counts as moved), and CHECK expects the moved link to have it. `mtu` is set in the
   * same command (`… name NEW mtu M`) and compared by CHECK.
   */
  | {
      readonly kind: 'link.move';
      readonly ns: NsRef;
      readonly name: IfName;
      readonly to: NsRef;
      readonly newName: IfName;
      readonly returnName: IfName;
      readonly mac?: MacAddr;
      readonly mtu?: number;
    }
  /**
   * An ipvlan slave of `parent` (a link of `ns`), created directly in `peerNs` as `name` (`ip link add link PARENT
   * name X … netns PATH type ipvlan mode l2`). No NOARP here: in L2 mode the kernel's ipvlan_open() clears NOARP at
   * every `up`, so a NOARP slave needs `link.arp-off` after its `link.up`. `ensure`: an existing link of that name
   * counts as success (node state re-ensured at every start; the ops after it set its state; CHECK compares it), and
   * a rollback never removes it (pods route through it). `mac`: the parent's MAC, which every slave shares (not
   * rendered: ip cannot set it; CHECK compares it).
   */
  | {
      readonly kind: 'link.ipvlan';
      readonly ns: NsRef;
      readonly parent: IfName;
      readonly name: IfName;
      readonly peerNs: NsRef;
      readonly mode: 'l2' | 'l3' | 'l3s';
      readonly mtu: number;
      readonly ensure?: boolean;
      readonly mac?: MacAddr;
    }
  /** `ip link set dev X arp off` (NOARP). After `link.up` for an ipvlan L2 slave (see link.ipvlan). */
  | { readonly kind: 'link.arp-off'; readonly ns: NsRef; readonly name: IfName }
  | { readonly kind: 'link.up'; readonly ns: NsRef; readonly name: IfName }
  | { readonly kind: 'link.del'; readonly ns: NsRef; readonly name: IfName }
  | { readonly kind: 'addr.replace'; readonly ns: NsRef; readonly dev: IfName; readonly cidr: Cidr; readonly scope?: 'host' | 'link' }
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
  /**
   * Creates an ifb link (txqueuelen 0, like the reference plugin); "exists" is success. Not set up. `mac` (stable,
   * chosen by the planner) lets the CNI result name the ifb's address without reading it back.
   */
  | { readonly kind: 'link.ifb'; readonly ns: NsRef; readonly name: IfName; readonly mtu: number; readonly mac?: MacAddr }
  /** `tc qdisc replace`: a tbf at root (handle 1:) or the ingress qdisc (handle ffff:) of `dev`. */
  | { readonly kind: 'qdisc.replace'; readonly ns: NsRef; readonly dev: IfName; readonly qdisc: QdiscSpec }
  /** `tc qdisc del` of the root or ingress qdisc of `dev` (its filters go with it); "not found" is success. */
  | { readonly kind: 'qdisc.del'; readonly ns: NsRef; readonly dev: IfName; readonly slot: QdiscSlot }
  /**
   * `tc filter replace` on `dev`'s ingress qdisc: u32 match-all (prio 1, handle 800::800) with
   * `action mirred egress redirect dev <target>` — everything `dev` receives is sent out of `target` (an ifb).
   */
  | { readonly kind: 'filter.redirect'; readonly ns: NsRef; readonly dev: IfName; readonly target: IfName }
  /**
   * `tc filter add dev DEV <hook> pref PREF protocol ip u32 match ip dst DST action mirred <redirect> redirect dev
   * TARGET` on `dev`'s clsact qdisc: what `dev` sends (egress hook) or receives (ingress hook) to `dst` is sent out
   * of (`redirect: egress`) or received again on (`ingress`, with `skbedit ptype host` so the stack takes it as its
   * own) `target`. Exactly one filter per (dev, hook, pref): `filter.del` with the same pref removes exactly it.
   * Not idempotent on its own: planners put a `filter.del` of the same pref before it.
   */
  | {
      readonly kind: 'filter.u32-dst';
      readonly ns: NsRef;
      readonly dev: IfName;
      readonly hook: ClsactHook;
      readonly pref: number;
      readonly dst: Cidr;
      readonly target: IfName;
      readonly redirect: 'egress' | 'ingress';
    }
  /** `tc filter del dev DEV <hook> pref PREF protocol ip u32`: the filter of that pref; "not found" is success. */
  | { readonly kind: 'filter.del'; readonly ns: NsRef; readonly dev: IfName; readonly hook: ClsactHook; readonly pref: number }
  /**
   * Writes /proc/sys/<key with dots as slashes> in `ns`: directly in the host namespace, through `nsenter` +
   * `sysctl` in a pod's (a process's /proc/sys is the netns of the process itself).
   */
  | { readonly kind: 'sysctl.set'; readonly ns: NsRef; readonly key: string; readonly value: string };

export type Plan = readonly Op[];

/**
 * The ops of a plan that run in the host namespace (a veth or ipvlan created from the host into a pod, and a link
 * moved into a pod, count as pod work).
 */
export function hostOnly(plan: Plan): Plan {
  return plan.filter((op) => op.ns.kind === 'host' && !('peerNs' in op && op.peerNs.kind === 'pod') && !(op.kind === 'link.move' && op.to.kind === 'pod'));
}

/** The op that undoes `op`, for rollback; undefined when nothing needs undoing (or it cannot be undone). */
export function inverseOf(op: Op): Op | undefined {
  switch (op.kind) {
    case 'link.veth':
      return { kind: 'link.del', ns: op.ns, name: op.host.name };
    case 'link.ifb':
      return { kind: 'link.del', ns: op.ns, name: op.name };
    case 'link.ipvlan':
      return op.ensure === true ? undefined : { kind: 'link.del', ns: op.peerNs, name: op.name };
    case 'link.move':
      // back where it came from, under the planner's neutral name (the target's name may be taken there)
      return { kind: 'link.move', ns: op.to, name: op.newName, to: op.ns, newName: op.returnName, returnName: op.newName };
    case 'filter.u32-dst':
      return { kind: 'filter.del', ns: op.ns, dev: op.dev, hook: op.hook, pref: op.pref };
    case 'qdisc.replace':
      // clsact is node state (ipvlan's service redirect hangs off it): a failed node setup leaves it in place.
      if (op.qdisc.type === 'clsact') return undefined;
      // A replaced qdisc is removed (the device's default comes back); for a live update this drops the shaping
      // of that direction rather than restoring the previous limit.
      return { kind: 'qdisc.del', ns: op.ns, dev: op.dev, slot: slotOf(op.qdisc) };
    case 'filter.redirect': // dies with its ingress qdisc
    case 'filter.del':
    case 'qdisc.del':
    case 'link.arp-off':
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

/**
 * Builds a `sysctl.set` key from levels, escaping dots inside a level (an interface name) as `/` (sysctl(8)'s
 * convention; the renderer maps it back to a /proc/sys path).
 */
export function sysctlKey(...levels: readonly string[]): string {
  return levels.map((l) => l.replaceAll('.', '/')).join('.');
}
