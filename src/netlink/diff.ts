/**
 * Pure comparison of a setup plan against observed state: one readable problem per op whose effect is absent
 * or different. Ops without a lasting observable effect here (deletes, sysctls) are not checked.
 */
import type { NsRef, Op, Plan } from './ops.js';
import { describeNs, nsKey } from './render.js';
import { canonicalDst, type ObservedLink, type ObservedRoute, type ObservedState } from './state.js';

/** State per namespace key (see nsKey); a string is why that namespace could not be observed. */
export type ObservedByNs = ReadonlyMap<string, ObservedState | string>;

type Check = (state: ObservedState) => readonly string[];

function where(ns: NsRef): string {
  return ns.kind === 'host' ? '' : ` in ${describeNs(ns)}`;
}

function linkProblems(state: ObservedState, ns: NsRef, name: string, want: { mtu?: number; mac?: string; up?: boolean }): readonly string[] {
  const link: ObservedLink | undefined = state.links.find((l) => l.name === name);
  if (!link) return [`link ${name}${where(ns)} is missing`];
  return [
    ...(want.mtu !== undefined && link.mtu !== want.mtu ? [`link ${name}${where(ns)} has mtu ${String(link.mtu)}, want ${String(want.mtu)}`] : []),
    ...(want.mac !== undefined && link.mac !== want.mac ? [`link ${name}${where(ns)} has address ${link.mac}, want ${want.mac}`] : []),
    ...(want.up === true && !link.up ? [`link ${name}${where(ns)} is down`] : []),
  ];
}

function routeText(r: { dst: string; gateway?: string | undefined; dev?: string | undefined }): string {
  return [r.dst, ...(r.gateway !== undefined ? ['via', r.gateway] : []), ...(r.dev !== undefined ? ['dev', r.dev] : [])].join(' ');
}

function routeProblems(state: ObservedState, op: Extract<Op, { kind: 'route.replace' }>): readonly string[] {
  const table = op.table === undefined ? 'main' : String(op.table);
  const dst = canonicalDst(op.dst);
  const want = routeText({ dst: op.dst, gateway: op.via, dev: op.dev });
  const same: readonly ObservedRoute[] = state.routes.filter((r) => r.table === table && r.dst === dst && r.type === 'unicast');
  if (same.length === 0) return [`route ${want} table ${table}${where(op.ns)} is missing`];
  const match = same.find((r) => r.dev === op.dev && r.gateway === op.via);
  if (match) return [];
  return [`route ${dst} table ${table}${where(op.ns)} is ${same.map(routeText).join(', ')}, want ${want}`];
}

function ruleText(r: { priority: number; from?: string | undefined; to?: string | undefined; table: string }): string {
  return [`${String(r.priority)}:`, ...(r.from !== undefined ? ['from', r.from] : []), ...(r.to !== undefined ? ['to', r.to] : []), 'lookup', r.table].join(' ');
}

function ruleProblems(state: ObservedState, op: Extract<Op, { kind: 'rule.add' }>): readonly string[] {
  const from = op.from === undefined ? undefined : canonicalDst(op.from);
  const to = op.to === undefined ? undefined : canonicalDst(op.to);
  const table = String(op.table);
  const want = ruleText({ priority: op.priority, from, to, table });
  const same = state.rules.filter((r) => r.priority === op.priority && r.from === from && r.to === to);
  if (same.some((r) => r.table === table)) return [];
  if (same.length === 0) return [`rule ${want}${where(op.ns)} is missing`];
  return [`rule ${want}${where(op.ns)} differs: found ${same.map(ruleText).join(', ')}`];
}

function neighProblems(state: ObservedState, op: Extract<Op, { kind: 'neigh.replace' }>): readonly string[] {
  const n = state.neighs.find((x) => x.dev === op.dev && x.ip === op.ip);
  const name = `neighbour ${op.ip} dev ${op.dev}${where(op.ns)}`;
  if (!n) return [`${name} is missing`];
  return [
    ...(n.state.includes('PERMANENT') ? [] : [`${name} is ${n.state.join(',') || 'without state'}, want PERMANENT`]),
    ...(n.lladdr === op.lladdr ? [] : [`${name} has lladdr ${n.lladdr ?? 'none'}, want ${op.lladdr}`]),
  ];
}

/** Checks of one op, each against the namespace it reads. */
function checksOf(op: Op): readonly (readonly [NsRef, Check])[] {
  switch (op.kind) {
    case 'link.veth':
      return [
        [op.ns, (s) => linkProblems(s, op.ns, op.host.name, { mtu: op.mtu, mac: op.host.mac })],
        [op.peerNs, (s) => linkProblems(s, op.peerNs, op.peer.name, { mtu: op.mtu, mac: op.peer.mac })],
      ];
    case 'link.up':
      return [[op.ns, (s) => linkProblems(s, op.ns, op.name, { up: true })]];
    case 'addr.replace':
      return [
        [op.ns, (s) => (s.addrs.some((a) => a.dev === op.dev && a.cidr === op.cidr) ? [] : [`address ${op.cidr} on ${op.dev}${where(op.ns)} is missing`])],
      ];
    case 'route.replace':
      return [[op.ns, (s) => routeProblems(s, op)]];
    case 'rule.add':
      return [[op.ns, (s) => ruleProblems(s, op)]];
    case 'neigh.replace':
      return [[op.ns, (s) => neighProblems(s, op)]];
    case 'link.del':
    case 'route.del':
    case 'rule.del':
    case 'sysctl.set':
      return [];
  }
}

/** Namespaces a plan's checks read (to observe before diffing). */
export function namespacesOf(plan: Plan): readonly NsRef[] {
  const seen = new Map<string, NsRef>();
  for (const op of plan) for (const [ns] of checksOf(op)) seen.set(nsKey(ns), ns);
  return [...seen.values()];
}

export function diffPlan(plan: Plan, observed: ObservedByNs): readonly string[] {
  const problems: string[] = [];
  const reported = new Set<string>();
  for (const op of plan) {
    for (const [ns, check] of checksOf(op)) {
      const key = nsKey(ns);
      const state = observed.get(key);
      if (state === undefined || typeof state === 'string') {
        if (!reported.has(key)) problems.push(`${describeNs(ns)} cannot be observed: ${state ?? 'not observed'}`);
        reported.add(key);
        continue;
      }
      problems.push(...check(state));
    }
  }
  return [...new Set(problems)];
}
