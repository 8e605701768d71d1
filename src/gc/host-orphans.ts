/**
 * Host objects that are provably the hub's and that no lease explains. Proof: a veth's name has the hub's prefix
 * AND its MAC is stableMac(name, 'host') (a foreign `cali*` veth has another MAC); an ifb matches the bandwidth
 * naming; a rule has a Terway priority (512 `to X/32 lookup main`, 2048 `from X/32 lookup N`); a /32 route in
 * main goes through a proven hub veth. Pure.
 */
import { isHubIfbName } from '../bandwidth/names.js';
import type { Cidr, IfName } from '../lib/brand.js';
import { cidrContains } from '../lib/net.js';
import { stableMac } from '../lib/veth-name.js';
import { RULE_PRIO_FROM_POD, RULE_PRIO_TO_POD, type NodeFacts } from '../modes/types.js';
import { HOST, type Op } from '../netlink/ops.js';
import type { Explained } from './lease-host.js';
import type { HostView } from './types.js';

export type OrphanKind = 'veth' | 'rule' | 'route' | 'ifb';

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

/** Whether a link is one of the hub's host veths (prefix + 11 hex, MAC proof). */
export function isHubVeth(link: { readonly name: string; readonly mac: string }, node: NodeFacts): boolean {
  const rest = link.name.slice(node.vethPrefix.length);
  return link.name.startsWith(node.vethPrefix) && /^[0-9a-f]{11}$/u.test(rest) && link.mac === stableMac(link.name, 'host');
}

function tableOf(raw: string): number | 'main' | undefined {
  if (raw === 'main') return 'main';
  return /^\d+$/u.test(raw) ? Number(raw) : undefined;
}

export interface OrphanScope {
  readonly node: NodeFacts;
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
  const { explained, node } = scope;
  const out: HostOrphan[] = [];
  const hubVeths = new Set(host.links.filter((l) => isHubVeth(l, node)).map((l) => l.name));

  for (const rule of host.rules) {
    const toIp = ipOf(rule.to);
    const fromIp = ipOf(rule.from);
    const table = tableOf(rule.table);
    if (table === undefined) continue;
    if (rule.priority === RULE_PRIO_TO_POD && toIp !== undefined && rule.from === undefined && table === 'main') {
      if (explained.ips.has(toIp) || !inScope(toIp, scope.podCidrs)) continue;
      const cidr = `${toIp}/32` as Cidr;
      out.push({ key: `rule:${String(RULE_PRIO_TO_POD)}:to:${toIp}`, kind: 'rule', subject: `rule ${String(RULE_PRIO_TO_POD)} to ${cidr} lookup main`, op: { kind: 'rule.del', ns: HOST, to: cidr, table, priority: RULE_PRIO_TO_POD } });
    } else if (rule.priority === RULE_PRIO_FROM_POD && fromIp !== undefined && rule.to === undefined) {
      if (explained.ips.has(fromIp) || !inScope(fromIp, scope.podCidrs)) continue;
      const cidr = `${fromIp}/32` as Cidr;
      out.push({
        key: `rule:${String(RULE_PRIO_FROM_POD)}:from:${fromIp}:${rule.table}`,
        kind: 'rule',
        subject: `rule ${String(RULE_PRIO_FROM_POD)} from ${cidr} lookup ${rule.table}`,
        op: { kind: 'rule.del', ns: HOST, from: cidr, table, priority: RULE_PRIO_FROM_POD },
      });
    }
  }

  const deleted = new Set(scope.linksDeleted);
  const links: HostOrphan[] = [];
  for (const link of host.links) {
    const name = link.name as IfName;
    if (hubVeths.has(name) && !explained.veths.has(name)) {
      links.push({ key: `link:${name}`, kind: 'veth', subject: `veth ${name}`, op: { kind: 'link.del', ns: HOST, name } });
      deleted.add(name);
    } else if (isHubIfbName(name) && !explained.ifbs.has(name)) {
      links.push({ key: `link:${name}`, kind: 'ifb', subject: `ifb ${name}`, op: { kind: 'link.del', ns: HOST, name } });
    }
  }

  for (const route of host.routes) {
    const ip = ipOf(route.dst);
    const dev = route.dev;
    if (ip === undefined || dev === undefined || route.table !== 'main' || route.type !== 'unicast') continue;
    if (!hubVeths.has(dev) || deleted.has(dev) || explained.routes.has(`${ip}|${dev}`) || explained.ips.has(ip)) continue;
    if (!inScope(ip, scope.podCidrs)) continue;
    out.push({ key: `route:${ip}:${dev}`, kind: 'route', subject: `route ${ip}/32 dev ${dev}`, op: { kind: 'route.del', ns: HOST, dst: `${ip}/32` as Cidr, dev: dev as IfName } });
  }
  // Rules and routes first, links last (a route through a deleted link is gone with it anyway).
  return [...out, ...links];
}
