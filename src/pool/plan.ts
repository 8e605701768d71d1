/**
 * The warm pool's decisions, pure (Terway §7.2, with its refill made demand-aware): from a snapshot of the node's
 * ENIs, the allocations waiting, what is in flight and the recent demand, which cloud calls to make now. The pool
 * (./pool.ts) executes them and calls again when anything changes.
 *
 *  - target idle = clamp(max(min_pool_size, expected burst), 0, max_pool_size), where the expected burst is the most
 *    unannounced allocations seen within any `burstWindowMs` of the last `historyMs` (Terway fills to min_pool_size
 *    only, so a burst above it waits for the cloud pod by pod);
 *  - scheduled pods: pods bound to this node whose ADD has not come yet (the daemon learns them from its pod informer
 *    seconds before the kubelet's ADD). Each is a known allocation to come, so each counts in full on top of the
 *    target — NOT capped by max_pool_size — and the unleased IPs that cover them are "held for scheduled pods", not
 *    idle: the watermarks bound only the IPs no pod holds or awaits;
 *  - refill: waiting allocations + scheduled pods + target idle − (unleased + IPs being assigned), in batches of ≤ 10
 *    per call, first on
 *    ENIs with free slots (fullest first: whole ENIs stay free to release), then new ENIs on a vSwitch that is not
 *    inhibited (most free addresses first), while the instance type allows (maxEnis, ipsPerEni);
 *  - shrink: idle (unleased minus what scheduled pods will take) above max_pool_size (or above the target once idle
 *    reclaim is due) is released: a fully idle ENI is deleted when its IPs fit in the excess, else idle secondary
 *    IPs are unassigned from the emptiest ENIs first (≤ 10 per call). Nothing is released while allocations wait or
 *    IPs are on their way, and an excess below `shrinkMinExcess` waits until `shrinkDue` (hysteresis: a few IPs
 *    coming back and going out again during churn cost no cloud call; the pool makes it due after a delay).
 */

/** Terway's ECS limit: IPs per Assign/Create call. */
export const MAX_BATCH = 10;

export interface PoolLimits {
  /** `min_pool_size`, `max_pool_size` (capped by capacity). */
  readonly minIdle: number;
  readonly maxIdle: number;
  /** Secondary ENIs this instance may have (maxENI = Adapters × eni_cap_ratio + eni_cap_shift − 1). */
  readonly maxEnis: number;
  /** Private IPs per ENI (EniPrivateIpAddressQuantity; a secondary ENI's primary IP is usable by pods). */
  readonly ipsPerEni: number;
}

export interface EniView {
  readonly id: string;
  readonly vSwitchId: string;
  /** Private IPs the ENI has (primary included). */
  readonly ips: number;
  /** IPs of it no pod holds. */
  readonly idle: number;
  /** Idle IPs that are not its primary (what Unassign can take). */
  readonly idleSecondary: number;
  /** IPs being assigned to it now. */
  readonly assigning: number;
  /** Allocation to it inhibited until (epoch ms; EniPerInstanceLimitExceeded & co.). */
  readonly inhibitedUntil?: number;
}

export interface VSwitchView {
  readonly id: string;
  /** Free addresses as last described; undefined when unknown. */
  readonly available?: number;
  /** IpNotEnough / quota: no ENI is created on it until (epoch ms). */
  readonly inhibitedUntil?: number;
}

export interface PoolSnapshot {
  readonly now: number;
  readonly enis: readonly EniView[];
  /** ENIs being created (with the IPs each will bring). */
  readonly creating: readonly { readonly ips: number }[];
  readonly vSwitches: readonly VSwitchView[];
  /** Allocations waiting for an IP now. */
  readonly waiting: number;
  /** Pods scheduled to this node whose ADD has not come yet (none: no Kubernetes, or a non-pool mode). */
  readonly scheduled?: number;
  /** Epoch ms of recent unannounced allocations (any order): demand the scheduled pods did not foretell. */
  readonly recentAllocations: readonly number[];
  /** Idle reclaim is due (`idle_ip_reclaim_after` passed without pool changes). */
  readonly reclaimDue: boolean;
  /** An excess smaller than `shrinkMinExcess` may go back now (it has lasted the pool's shrink delay). */
  readonly shrinkDue?: boolean;
}

export interface DemandSettings {
  /** Allocations within this window count as one burst. */
  readonly burstWindowMs: number;
  /** How far back bursts are remembered. */
  readonly historyMs: number;
  /** false: Terway's static watermarks (target = min_pool_size). */
  readonly demandAware: boolean;
  /** An idle excess at least this large goes back at once; a smaller one only when `shrinkDue` (1: no hysteresis). */
  readonly shrinkMinExcess: number;
}

export const DEFAULT_DEMAND: DemandSettings = { burstWindowMs: 10_000, historyMs: 600_000, demandAware: true, shrinkMinExcess: MAX_BATCH };

export type PoolAction =
  | { readonly kind: 'assign'; readonly eniId: string; readonly count: number }
  | { readonly kind: 'create-eni'; readonly vSwitchId: string; readonly count: number }
  | { readonly kind: 'unassign'; readonly eniId: string; readonly count: number }
  | { readonly kind: 'delete-eni'; readonly eniId: string };

/** The largest number of allocations within any `window` ms of the history. */
export function peakBurst(times: readonly number[], now: number, d: DemandSettings): number {
  const recent = times.filter((t) => t > now - d.historyMs && t <= now).sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < recent.length; hi++) {
    while ((recent[hi] ?? 0) - (recent[lo] ?? 0) >= d.burstWindowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

export function targetIdle(limits: PoolLimits, s: PoolSnapshot, d: DemandSettings = DEFAULT_DEMAND): number {
  const expected = d.demandAware ? peakBurst(s.recentAllocations, s.now, d) : 0;
  return Math.min(limits.maxIdle, Math.max(limits.minIdle, expected));
}

/** Unleased IPs split: those scheduled pods will take, and the rest (the idle the watermarks bound). */
export function heldForScheduled(s: Pick<PoolSnapshot, 'enis' | 'scheduled'>): { held: number; idle: number } {
  const unleased = s.enis.reduce((n, e) => n + e.idle, 0);
  const held = Math.min(unleased, s.scheduled ?? 0);
  return { held, idle: unleased - held };
}

const total = (s: PoolSnapshot): { idle: number; assigning: number; ips: number } => ({
  idle: s.enis.reduce((n, e) => n + e.idle, 0),
  assigning: s.enis.reduce((n, e) => n + e.assigning, 0) + s.creating.reduce((n, c) => n + c.ips, 0),
  ips: s.enis.reduce((n, e) => n + e.ips + e.assigning, 0) + s.creating.reduce((n, c) => n + c.ips, 0),
});

/** Calls that bring IPs (assign, create-eni) for what waits and the target idle. */
export function planRefill(limits: PoolLimits, s: PoolSnapshot, d: DemandSettings = DEFAULT_DEMAND): readonly PoolAction[] {
  const t = total(s);
  let need = s.waiting + (s.scheduled ?? 0) + targetIdle(limits, s, d) - t.idle - t.assigning;
  const capacity = limits.maxEnis * limits.ipsPerEni;
  need = Math.min(need, capacity - t.ips);
  if (need <= 0) return [];
  const out: PoolAction[] = [];
  const open = s.enis
    .filter((e) => (e.inhibitedUntil ?? 0) <= s.now && e.ips + e.assigning < limits.ipsPerEni)
    .sort((a, b) => b.ips + b.assigning - (a.ips + a.assigning) || a.id.localeCompare(b.id));
  for (const e of open) {
    let free = limits.ipsPerEni - e.ips - e.assigning;
    while (need > 0 && free > 0) {
      const count = Math.min(MAX_BATCH, need, free);
      out.push({ kind: 'assign', eniId: e.id, count });
      need -= count;
      free -= count;
    }
  }
  let enis = s.enis.length + s.creating.length;
  const switches = s.vSwitches
    .filter((v) => (v.inhibitedUntil ?? 0) <= s.now && v.available !== 0)
    .sort((a, b) => (b.available ?? Number.MAX_SAFE_INTEGER) - (a.available ?? Number.MAX_SAFE_INTEGER) || a.id.localeCompare(b.id));
  const vsw = switches[0];
  while (need > 0 && enis < limits.maxEnis && vsw !== undefined) {
    const count = Math.min(MAX_BATCH, need, limits.ipsPerEni);
    out.push({ kind: 'create-eni', vSwitchId: vsw.id, count });
    need -= count;
    enis++;
  }
  return out;
}

/** Unleased IPs above what the pool keeps: max_pool_size (the target once reclaim is due) plus the scheduled pods. */
export function idleExcess(limits: PoolLimits, s: PoolSnapshot, d: DemandSettings = DEFAULT_DEMAND): number {
  const keep = (s.reclaimDue ? Math.min(targetIdle(limits, s, d), limits.maxIdle) : limits.maxIdle) + (s.scheduled ?? 0);
  return total(s).idle - keep;
}

/** Calls that give IPs back (unassign, delete-eni); none while allocations wait or IPs are on their way. */
export function planShrink(limits: PoolLimits, s: PoolSnapshot, d: DemandSettings = DEFAULT_DEMAND): readonly PoolAction[] {
  const t = total(s);
  if (s.waiting > 0 || t.assigning > 0) return [];
  let excess = idleExcess(limits, s, d);
  if (excess <= 0) return [];
  if (excess < d.shrinkMinExcess && s.shrinkDue !== true && !s.reclaimDue) return [];
  const out: PoolAction[] = [];
  // fully idle ENIs first (the emptiest gives everything back in one call), then secondary IPs of the emptiest
  const byEmptiest = [...s.enis].sort((a, b) => a.ips - a.idle - (b.ips - b.idle) || a.ips - b.ips || a.id.localeCompare(b.id));
  for (const e of byEmptiest) {
    if (excess <= 0) break;
    if (e.idle === e.ips && e.ips <= excess) {
      out.push({ kind: 'delete-eni', eniId: e.id });
      excess -= e.ips;
    }
  }
  const deleted = new Set(out.map((a) => (a.kind === 'delete-eni' ? a.eniId : '')));
  for (const e of byEmptiest) {
    if (excess <= 0) break;
    if (deleted.has(e.id)) continue;
    let can = Math.min(e.idleSecondary, excess);
    while (can > 0) {
      const count = Math.min(MAX_BATCH, can);
      out.push({ kind: 'unassign', eniId: e.id, count });
      can -= count;
      excess -= count;
    }
  }
  return out;
}
