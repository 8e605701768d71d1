/**
 * Pure: pod ↔ IP ↔ ENI as three views see it — the lease store, the kernel (host links and main-table routes, the
 * same observation GC uses), and the pool (its ENIs and their IPs: the cloud's after each sync) — and every
 * disagreement: a lease whose host objects are missing, a hub veth route no lease explains, a leased IP on no
 * ENI of the pool, an IP leased twice. A lease whose ADD is under way can show as missing its kernel state.
 */
import { explainedBy, leaseFootprint, routeKey } from '../gc/lease-host.js';
import { hostLinkFacts } from '../gc/host-orphans.js';
import type { HostView } from '../gc/types.js';
import { isHubVeth } from '../modes/common/veth-dataplane.js';
import type { NodeFacts } from '../modes/types.js';
import type { MappingEntry, MappingReply, Mismatch, PoolEntryReply } from '../rpc/operator-protocol.js';
import type { Lease } from '../store/lease.js';

export interface MappingInput {
  readonly leases: readonly Lease[];
  /** Undefined: the daemon cannot observe the host (no runner wired); the kernel is not compared. */
  readonly host: HostView | undefined;
  readonly pools: readonly PoolEntryReply[];
  readonly node: NodeFacts;
}

function podOf(l: Lease): string {
  return l.podName === '' ? l.containerId : `${l.podNamespace}/${l.podName}`;
}

export function compareMapping(inp: MappingInput): MappingReply {
  const mismatches: Mismatch[] = [];
  const notes: string[] = [];
  const links = new Set(inp.host?.links.map((l) => l.name) ?? []);
  const routes = new Set((inp.host?.routes ?? []).filter((r) => r.table === 'main' && r.dev !== undefined).map((r) => routeKey(r.dst, r.dev ?? '')));
  const eniOf = new Map<string, string>();
  for (const p of inp.pools) for (const e of p.enis) for (const ip of e.ips) eniOf.set(ip, e.id);
  if (inp.host === undefined) notes.push('the kernel was not observed (this daemon has no host observer): leases are not compared with it');
  if (inp.pools.length === 0) notes.push('no pool (the mode uses a static address set, or its pool has not started): IPs are not compared with ENIs');

  const entries: MappingEntry[] = inp.leases.map((l) => {
    const fp = leaseFootprint(l, inp.node);
    // the links its routes go through must exist; the footprint's other links (a bandwidth ifb) only may
    const required = [...new Set(fp.routes.map((r) => r.dev))];
    const missing = [...required.filter((n) => !links.has(n)).map((n) => `link ${n}`), ...fp.routes.filter((r) => !routes.has(routeKey(r.dst, r.dev))).map((r) => `route ${r.dst} dev ${r.dev}`)];
    if (inp.host !== undefined && missing.length > 0) {
      mismatches.push({ kind: 'lease-without-kernel', detail: `pod ${podOf(l)} (${l.containerId.slice(0, 12)}/${l.ifName}) leases ${l.allocation.ip} but the kernel lacks its ${missing.join(', ')}` });
    }
    const eni = eniOf.get(l.allocation.ip);
    if (inp.pools.length > 0 && l.allocation.mode !== 'vpc' && eni === undefined) {
      mismatches.push({ kind: 'ip-not-on-eni', detail: `pod ${podOf(l)} leases ${l.allocation.ip}, which is on no ENI of the pool` });
    }
    return { pod: podOf(l), containerId: l.containerId, ifName: l.ifName, ip: l.allocation.ip, mode: l.allocation.mode, ...(eni !== undefined ? { eni } : {}), kernel: inp.host === undefined ? false : missing.length === 0 };
  });

  const byIp = new Map<string, Lease[]>();
  for (const l of inp.leases) byIp.set(l.allocation.ip, [...(byIp.get(l.allocation.ip) ?? []), l]);
  for (const [ip, ls] of byIp) {
    if (ls.length > 1) mismatches.push({ kind: 'ip-leased-twice', detail: `${ip}${eniOf.has(ip) ? ` (ENI ${eniOf.get(ip) ?? ''})` : ''} is leased by ${String(ls.length)} attachments: ${ls.map((l) => `${podOf(l)} (${l.containerId.slice(0, 12)}/${l.ifName})`).join(', ')}` });
  }

  if (inp.host !== undefined) {
    const explained = explainedBy(inp.leases, inp.node);
    const hubVeths = new Set(inp.host.links.filter((l) => isHubVeth(hostLinkFacts(l, inp.host?.links ?? []), inp.node)).map((l) => l.name));
    for (const r of inp.host.routes) {
      if (r.table !== 'main' || r.dev === undefined || !hubVeths.has(r.dev) || !r.dst.endsWith('/32')) continue;
      if (!explained.routes.has(routeKey(r.dst, r.dev))) mismatches.push({ kind: 'kernel-without-lease', detail: `route ${r.dst} dev ${r.dev} (a hub veth) has no lease` });
    }
  }
  return { entries, mismatches, notes };
}
