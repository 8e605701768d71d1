/**
 * Host objects that are provably the hub's and that no lease explains. Proof comes from the registered dataplanes
 * (Dataplane.gc): a link one of them claims (the veth modes: prefix + 11 hex AND the name-derived MAC, so a foreign
 * `cali*` veth is never touched; an ifb of the bandwidth naming), a rule one of them claims (512 `to X/32 lookup
 * main`, 2048 `from X/32 lookup N`), a /32 route in main through a claimed link. Pure.
 */
import type { Cidr, IfName } from '../lib/brand.js';
import { cidrContains } from '../lib/net.js';
import type { Dataplane, HostLinkFacts, LinkClaim, NodeFacts } from '../modes/types.js';
import type { ObservedLink } from '../netlink/state.js';
import { HOST, type Op } from '../netlink/ops.js';
import type { Explained } from './lease-host.js';
import type { HostView } from './types.js';

export type OrphanKind = 'veth' | 'rule' | 'route' | 'ifb' | 'link';

export interface HostOrphan {
  readonly key: string;
  readonly kind: OrphanKind;
  readonly subject: string;
  readonly op: Op;
}

const HOST_32 = /^(\d{1,3}(?:\.\d{1,3}){3})\/32$/u;

function ipOf(cidr: string | undefined): string | undefined {
  return cidr === undefined ? undefined : HOST_32.exec(cidr)?.[1];
}

/**
 * A host link as the dataplanes' claims see it: its lower device (`link` of `ip -j link`, a name in the same netns)
 * resolved to that device's ifindex and MAC among the observed links (ipvlan's host slave is proven by them).
 */
export function hostLinkFacts(link: ObservedLink, all: readonly ObservedLink[]): HostLinkFacts {
  const lower = link.parent === undefined ? undefined : all.find((l) => l.name === link.parent);
  return {
    name: link.name,
    mac: link.mac,
    ...(lower?.ifindex !== undefined ? { parent: { ifindex: lower.ifindex, mac: lower.mac } } : {}),
  };
}

/** The first claim a registered dataplane makes on a host link. */
export function claimOf(link: HostLinkFacts, node: NodeFacts, dataplanes: readonly Dataplane[]): LinkClaim | undefined {
  for (const dp of dataplanes) {
    const claim = dp.gc.claimLink(link, node);
    if (claim !== undefined) return claim;
  }
  return undefined;
}

function tableOf(raw: string): number | 'main' | undefined {
  if (raw === 'main') return 'main';
  return /^\d+$/u.test(raw) ? Number(raw) : undefined;
}

export interface OrphanScope {
  readonly node: NodeFacts;
  /** Every registered dataplane: a host object is the hub's when one of them claims it. */
  readonly dataplanes: readonly Dataplane[];
  /** Host objects of leases (kept and being released): never orphans. */
  readonly explained: Explained;
  /** Links the plan deletes anyway (their routes vanish with them). */
  readonly linksDeleted: ReadonlySet<string>;
  readonly podCidrs?: readonly string[];
}

function inScope(ip: string, cidrs: readonly string[] | undefined): boolean {
  return cidrs === undefined || cidrs.some((c) => cidrContains(c, ip));
}

export function findHostOrphans(host: HostView, scope: OrphanScope): readonly HostOrphan[] {
  const { explained, node, dataplanes } = scope;
  const out: HostOrphan[] = [];
  const claims = new Map<string, LinkClaim>();
  for (const l of host.links) {
    const claim = claimOf(hostLinkFacts(l, host.links), node, dataplanes);
    if (claim !== undefined) claims.set(l.name, claim);
  }

  for (const rule of host.rules) {
    const table = tableOf(rule.table);
    if (table === undefined) continue;
    const ip = dataplanes.map((dp) => dp.gc.claimRule(rule)).find((x) => x !== undefined);
    if (ip === undefined || explained.ips.has(ip) || !inScope(ip, scope.podCidrs)) continue;
    const from = rule.from as Cidr | undefined;
    const to = rule.to as Cidr | undefined;
    const sel = [...(from !== undefined ? ['from', from] : []), ...(to !== undefined ? ['to', to] : [])].join(' ');
    out.push({
      key: `rule:${String(rule.priority)}:${from !== undefined ? `from:${ip}:${rule.table}` : `to:${ip}`}`,
      kind: 'rule',
      subject: `rule ${String(rule.priority)} ${sel} lookup ${rule.table}`,
      op: { kind: 'rule.del', ns: HOST, priority: rule.priority, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), table },
    });
  }

  const deleted = new Set(scope.linksDeleted);
  const links: HostOrphan[] = [];
  for (const link of host.links) {
    const name = link.name as IfName;
    const claim = claims.get(name);
    if (claim?.role !== 'attachment' || explained.links.has(name)) continue;
    links.push({ key: `link:${name}`, kind: claim.kind, subject: `${claim.kind} ${name}`, op: { kind: 'link.del', ns: HOST, name } });
    deleted.add(name);
  }

  for (const route of host.routes) {
    const ip = ipOf(route.dst);
    const dev = route.dev;
    if (ip === undefined || dev === undefined || route.table !== 'main' || route.type !== 'unicast') continue;
    if (!claims.has(dev) || deleted.has(dev) || explained.routes.has(`${ip}|${dev}`) || explained.ips.has(ip)) continue;
    if (!inScope(ip, scope.podCidrs)) continue;
    out.push({ key: `route:${ip}:${dev}`, kind: 'route', subject: `route ${ip}/32 dev ${dev}`, op: { kind: 'route.del', ns: HOST, dst: `${ip}/32` as Cidr, dev: dev as IfName } });
  }
  // Rules and routes first, links last (a route through a deleted link is gone with it anyway).
  return [...out, ...links];
}
