/**
 * Pure comparison of a setup plan against observed state: one readable problem per op whose effect is absent
 * or different. Ops without a lasting observable effect here (deletes, sysctls) are not checked.
 */
import { bufferTicksOf } from './tbf-units.js';
import { slotOf, type ClsactHook, type NsRef, type Op, type Plan, type QdiscSpec } from './ops.js';
import { describeNs, isTcOp, nsKey } from './render.js';
import { canonicalDst, type ObservedLink, type ObservedRoute, type ObservedState } from './state.js';

/** State per namespace key (see nsKey); a string is why that namespace could not be observed. */
export type ObservedByNs = ReadonlyMap<string, ObservedState | string>;

type Check = (state: ObservedState) => readonly string[];

function where(ns: NsRef): string {
  return ns.kind === 'host' ? '' : ` in ${describeNs(ns)}`;
}

function linkProblems(state: ObservedState, ns: NsRef, name: string, want: { mtu?: number; mac?: string; up?: boolean; noarp?: boolean }): readonly string[] {
  const link: ObservedLink | undefined = state.links.find((l) => l.name === name);
  if (!link) return [`link ${name}${where(ns)} is missing`];
  return [
    ...(want.mtu !== undefined && link.mtu !== want.mtu ? [`link ${name}${where(ns)} has mtu ${String(link.mtu)}, want ${String(want.mtu)}`] : []),
    ...(want.mac !== undefined && link.mac !== want.mac ? [`link ${name}${where(ns)} has address ${link.mac}, want ${want.mac}`] : []),
    ...(want.up === true && !link.up ? [`link ${name}${where(ns)} is down`] : []),
    ...(want.noarp === true && link.noarp !== true ? [`link ${name}${where(ns)} answers ARP, want NOARP`] : []),
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

function addrProblems(state: ObservedState, op: Extract<Op, { kind: 'addr.replace' }>): readonly string[] {
  const found = state.addrs.find((a) => a.dev === op.dev && a.cidr === op.cidr);
  if (found === undefined) return [`address ${op.cidr} on ${op.dev}${where(op.ns)} is missing`];
  if (op.scope !== undefined && found.scope !== undefined && found.scope !== op.scope) return [`address ${op.cidr} on ${op.dev}${where(op.ns)} has scope ${found.scope}, want ${op.scope}`];
  return [];
}

/**
 * Attributes of a link that a later plugin of the chain changed on purpose (tuning's `mac`/`mtu`, podman's
 * `--mac-address`), as the runtime's prevResult reports them: they replace the plan's values in CHECK. Only fields
 * that differ from the plan are set.
 */
export interface LinkOverride {
  readonly ns: NsRef;
  readonly name: string;
  readonly mac?: string;
  readonly mtu?: number;
}

function overrideOf(overrides: readonly LinkOverride[], ns: NsRef, name: string): LinkOverride | undefined {
  return overrides.find((o) => o.name === name && nsKey(o.ns) === nsKey(ns));
}

/**
 * The static gateway neighbour must be PERMANENT with the planned address — unless the link's MAC was changed after
 * the hub (the kernel flushes a link's neighbours, PERMANENT ones too, when its address changes): then the pod
 * re-resolves the gateway through the host veth's proxy ARP, and a learned entry with the right address, or none
 * yet, is what a working pod shows.
 */
function neighProblems(state: ObservedState, op: Extract<Op, { kind: 'neigh.replace' }>, macChanged: boolean): readonly string[] {
  const n = state.neighs.find((x) => x.dev === op.dev && x.ip === op.ip);
  const name = `neighbour ${op.ip} dev ${op.dev}${where(op.ns)}`;
  if (!n) return macChanged ? [] : [`${name} is missing`];
  const failed = n.state.includes('FAILED') || n.state.includes('INCOMPLETE');
  return [
    ...(n.state.includes('PERMANENT') || (macChanged && !failed) ? [] : [`${name} is ${n.state.join(',') || 'without state'}, want PERMANENT`]),
    ...(n.lladdr === op.lladdr ? [] : [`${name} has lladdr ${n.lladdr ?? 'none'}, want ${op.lladdr}`]),
  ];
}

/**
 * How far an observed tbf buffer may be from the planned one, in ticks. tc hands the kernel the burst in bytes
 * (TCA_TBF_BURST) and the kernel derives the buffer in ns, without the reference formula's truncation to whole µs
 * (up to one µs = 15.625 ticks) and with its own rounding (~1e-7 relative for huge buckets).
 */
export function bufferTolerance(ticks: number): number {
  return Math.max(20, Math.ceil(ticks * 1e-6));
}

function qdiscProblems(state: ObservedState, ns: NsRef, dev: string, want: QdiscSpec): readonly string[] {
  const slot = slotOf(want);
  const name = `${slot} qdisc ${want.type} on ${dev}${where(ns)}`;
  if (state.qdiscs === undefined) return [`qdiscs${where(ns)} were not observed`];
  const found = state.qdiscs.find((q) => q.dev === dev && (slot === 'root' ? q.root : q.handle === 'ffff:'));
  if (found === undefined || found.kind !== want.type) return [`${name} is missing${found ? ` (found ${found.kind})` : ''}`];
  if (want.type !== 'tbf') return [];
  const problems: string[] = [];
  if (found.rateBytes !== want.rateBytes) problems.push(`${name} has rate ${String(found.rateBytes)} bytes/s, want ${String(want.rateBytes)}`);
  if (found.limitBytes !== want.limitBytes) problems.push(`${name} has limit ${String(found.limitBytes)} bytes, want ${String(want.limitBytes)}`);
  const wantTicks = tbfBufferTicks(want);
  if (found.bufferTicks === undefined || Math.abs(found.bufferTicks - wantTicks) > bufferTolerance(wantTicks)) {
    problems.push(`${name} has buffer ${String(found.bufferTicks)} ticks, want ${String(wantTicks)}`);
  }
  return problems;
}

/** The buffer (ticks) a tbf op's burst gives (u32-safe: planned bursts are already clamped). */
export function tbfBufferTicks(q: Extract<QdiscSpec, { type: 'tbf' }>): number {
  return bufferTicksOf(q.rateBytes, q.burstBytes);
}

function filterProblems(state: ObservedState, op: Extract<Op, { kind: 'filter.u32-dst' }>): readonly string[] {
  const name = `${op.hook} filter pref ${String(op.pref)} on ${op.dev}${where(op.ns)} (to ${op.dst}, ${op.redirect} redirect to ${op.target})`;
  if (state.filters === undefined) return [`filters on ${op.dev}${where(op.ns)} were not observed`];
  const found = state.filters.filter((f) => f.dev === op.dev && f.hook === op.hook && f.pref === op.pref);
  if (found.length === 0) return [`${name} is missing`];
  const wanted = found.filter((f) => f.kind === 'u32' && f.dst === canonicalDst(op.dst) && f.mirred?.direction === op.redirect && f.mirred.target === op.target);
  if (wanted.length === 0) return [`${name} differs: found ${found.map((f) => `${f.kind} ${f.dst ?? '?'} → ${f.mirred ? `${f.mirred.direction} ${f.mirred.target}` : 'no mirred'}`).join(', ')}`];
  if (found.length > 1) return [`${name}: ${String(found.length)} filters at that pref, want exactly one`];
  return [];
}

/** Per namespace, the (dev, hook) pairs whose filters CHECK compares (filter.u32-dst ops). */
export function filterHooksOf(plan: Plan): ReadonlyMap<string, readonly { readonly dev: string; readonly hook: ClsactHook }[]> {
  const out = new Map<string, { dev: string; hook: ClsactHook }[]>();
  for (const op of plan) {
    if (op.kind !== 'filter.u32-dst') continue;
    const list = out.get(nsKey(op.ns)) ?? [];
    if (!list.some((x) => x.dev === op.dev && x.hook === op.hook)) list.push({ dev: op.dev, hook: op.hook });
    out.set(nsKey(op.ns), list);
  }
  return out;
}

/** Namespaces where a plan has tc ops (their qdiscs must be observed too). */
export function qdiscNamespacesOf(plan: Plan): ReadonlySet<string> {
  return new Set(plan.filter(isTcOp).map((op) => nsKey(op.ns)));
}

/** Checks of one op, each against the namespace it reads. */
function checksOf(op: Op, overrides: readonly LinkOverride[] = []): readonly (readonly [NsRef, Check])[] {
  switch (op.kind) {
    case 'link.veth': {
      const peer = overrideOf(overrides, op.peerNs, op.peer.name);
      return [
        [op.ns, (s) => linkProblems(s, op.ns, op.host.name, { mtu: op.mtu, mac: op.host.mac })],
        [op.peerNs, (s) => linkProblems(s, op.peerNs, op.peer.name, { mtu: peer?.mtu ?? op.mtu, mac: peer?.mac ?? op.peer.mac })],
      ];
    }
    case 'link.up':
      return [[op.ns, (s) => linkProblems(s, op.ns, op.name, { up: true })]];
    case 'addr.replace':
      return [[op.ns, (s) => addrProblems(s, op)]];
    case 'link.arp-off':
      return [[op.ns, (s) => linkProblems(s, op.ns, op.name, { noarp: true })]];
    case 'route.replace':
      return [[op.ns, (s) => routeProblems(s, op)]];
    case 'rule.add':
      return [[op.ns, (s) => ruleProblems(s, op)]];
    case 'neigh.replace':
      return [[op.ns, (s) => neighProblems(s, op, overrideOf(overrides, op.ns, op.dev)?.mac !== undefined)]];
    case 'link.ifb':
      return [[op.ns, (s) => linkProblems(s, op.ns, op.name, { mtu: op.mtu })]];
    case 'qdisc.replace':
      return [[op.ns, (s) => qdiscProblems(s, op.ns, op.dev, op.qdisc)]];
    case 'link.move': {
      const o = overrideOf(overrides, op.to, op.newName);
      const mac = o?.mac ?? op.mac;
      const mtu = o?.mtu ?? op.mtu;
      return [[op.to, (s) => linkProblems(s, op.to, op.newName, { ...(mac !== undefined ? { mac } : {}), ...(mtu !== undefined ? { mtu } : {}) })]];
    }
    case 'link.ipvlan': {
      const o = overrideOf(overrides, op.peerNs, op.name);
      return [[op.peerNs, (s) => linkProblems(s, op.peerNs, op.name, { mtu: o?.mtu ?? op.mtu, ...(op.mac !== undefined ? { mac: op.mac } : {}) })]];
    }
    case 'filter.u32-dst':
      return [[op.ns, (s) => filterProblems(s, op)]];
    case 'filter.redirect': // the shaping match-all redirect is not listed (one tc process per device); its ingress qdisc is checked
    case 'filter.del':
    case 'qdisc.del':
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

export function diffPlan(plan: Plan, observed: ObservedByNs, overrides: readonly LinkOverride[] = []): readonly string[] {
  const problems: string[] = [];
  const reported = new Set<string>();
  for (const op of plan) {
    for (const [ns, check] of checksOf(op, overrides)) {
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
