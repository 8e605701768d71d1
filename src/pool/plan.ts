/**
 * The warm pool's decisions, pure (Terway §7.2, with its refill made demand-aware): from a snapshot of the node's
 * ENIs, the allocations waiting, what is in flight and the recent demand, which cloud calls to make now. The pool
 * (./pool.ts) executes them and calls again when anything changes.
 *
 *  - target idle = clamp(max(min_pool_size, expected burst), 0, max_pool_size), where the expected burst is the most
 *    unannounced allocations seen within any `burstWindowMs` of the last `historyMs` (Terway fills to min_pool_size
 *    only, so a burst above it waits for the cloud pod by pod), capped by the pods the node can still run (its max
 *    pods minus those holding or awaiting an IP);
 *  - scheduled pods: pods bound to this node whose ADD has not come yet (the daemon learns them from its pod informer
 *    seconds before the kubelet's ADD). Each is a known allocation to come, so each counts in full on top of the
 *    target — NOT capped by max_pool_size — and the unleased IPs that cover them are "held for scheduled pods", not
 *    idle: the watermarks bound only the IPs no pod holds or awaits;
 *  - refill: waiting allocations + scheduled pods + target idle − (unleased + IPs being assigned), in batches of ≤ 10
 *    per call, first on
 *    ENIs with free slots (fullest first: whole ENIs stay free to release), then new ENIs on a vSwitch that is not
 *    inhibited (most free addresses first), while the instance type allows (maxEnis, ipsPerEni);
 *  - shrink: idle (unleased minus what scheduled pods will take) above max_pool_size (or above the target once idle
 *    reclaim is due) is the excess `idleExcess` that ./retire.ts retires at once and gives back (no hysteresis
 *    above max_pool_size);
 *  - warm ENIs (beyond Terway): the pool keeps `warmEniTarget` ENIs attached — with free slots, not pre-assigned IPs —
 *    so a burst is served by Assign (≈ 1 s, 10 IPs per call, one call per ENI in parallel) instead of waiting for
 *    Create + Attach + InUse (≥ 6 s). `auto`: the ENIs that cover max(the node's max pods, the demand peak of the
 *    history window), at least `min_eni`, at most the instance's maxEnis. The shrink never deletes them (their idle
 *    secondaries still go back above max_pool_size); a fully idle ENI above the warm count is deleted as before;
 *  - one cloud call per ENI at a time (ECS refuses concurrent operations on one ENI; Terway serialises per ENI): an
 *    ENI with a call in flight (`busy`) gets no action; the refill counts the free slots it leaves for later rounds
 *    (an Assign a second later beats a new ENI) and the release gives back at most one batch per ENI at a time;
 *  - idle reclaim (Terway's `idle_ip_reclaim_*`): once due, idle above the target (and within max_pool_size) goes back
 *    at most `reclaimBatch` IPs per plan; the pool offers a batch once per interval ± jitter.
 */

/** Terway's ECS limit: IPs per Assign/Create call. */
export const MAX_BATCH = 10;

/** How many ENIs the pool keeps attached with free slots (undefined or 0: none, Terway's behaviour). */
export interface WarmEniSettings {
  /** `auto`, or a fixed count (capped by maxEnis). */
  readonly warmEnis: 'auto' | number;
  /** The node's max pods (Node `status.capacity.pods`, else `pool.nodeMaxPods`); 0: unknown (auto uses the demand peak). */
  readonly nodeMaxPods: number;
  /** eni_conf `min_eni`: auto keeps at least this many. */
  readonly minEnis: number;
}

export interface PoolLimits {
  /** `min_pool_size`, `max_pool_size` (capped by capacity). */
  readonly minIdle: number;
  readonly maxIdle: number;
  /** Secondary ENIs this instance may have (maxENI = Adapters × eni_cap_ratio + eni_cap_shift − 1). */
  readonly maxEnis: number;
  /** Private IPs per ENI (EniPrivateIpAddressQuantity; a secondary ENI's primary IP is usable by pods). */
  readonly ipsPerEni: number;
  readonly warm?: WarmEniSettings;
}

export interface EniView {
  readonly id: string;
  readonly vSwitchId: string;
  /** Private IPs the ENI has (primary included). */
  readonly ips: number;
  /** IPs of it no pod holds and none is giving back (retired IPs excluded). */
  readonly idle: number;
  /** Idle IPs that are not its primary (what Unassign can take). */
  readonly idleSecondary: number;
  /** IPs of it pods hold. */
  readonly leased: number;
  /** Idle IPs retired above max_pool_size (or by reclaim), no call yet (./retire.ts): neither idle nor leased. */
  readonly retiring?: number;
  /** IPs being assigned to it now. */
  readonly assigning: number;
  /** Allocation to it inhibited until (epoch ms; EniPerInstanceLimitExceeded & co.). */
  readonly inhibitedUntil?: number;
  /** A cloud call on it is in flight: no other call until it ends (ECS refuses concurrent operations on one ENI). */
  readonly busy?: boolean;
  /** Being detached and deleted: its slots will not come back. */
  readonly deleting?: boolean;
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
  /** Once reclaim is due: idle above the target (within max_pool_size) that may go back now; undefined: all of it. */
  readonly reclaimBatch?: number;
  /** Pods that needed an IP (leased + waiting + scheduled), sampled over the history window: auto warm ENIs cover the peak. */
  readonly demandHistory?: readonly { readonly at: number; readonly pods: number }[];
}

export interface DemandSettings {
  /** Allocations within this window count as one burst. */
  readonly burstWindowMs: number;
  /** How far back bursts are remembered. */
  readonly historyMs: number;
  /** false: Terway's static watermarks (target = min_pool_size). */
  readonly demandAware: boolean;
}

export const DEFAULT_DEMAND: DemandSettings = { burstWindowMs: 10_000, historyMs: 600_000, demandAware: true };

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

/**
 * The idle stock to keep: clamp(max(min_pool_size, expected burst), 0, max_pool_size), and never more than the pods
 * the node can still run (its max pods − leased − waiting − scheduled; unknown max pods: no such cap): an IP stocked
 * for a pod the kubelet cannot admit is never used, and on a full node it would cost a new ENI.
 */
export function targetIdle(limits: PoolLimits, s: PoolSnapshot, d: DemandSettings = DEFAULT_DEMAND): number {
  const expected = d.demandAware ? peakBurst(s.recentAllocations, s.now, d) : 0;
  const target = Math.min(limits.maxIdle, Math.max(limits.minIdle, expected));
  const maxPods = limits.warm?.nodeMaxPods ?? 0;
  return maxPods > 0 ? Math.min(target, Math.max(0, maxPods - podsNow(s))) : target;
}

/** Unleased IPs split: those scheduled pods will take, and the rest (the idle the watermarks bound). */
export function heldForScheduled(s: Pick<PoolSnapshot, 'enis' | 'scheduled'>): { held: number; idle: number } {
  const unleased = s.enis.reduce((n, e) => n + e.idle, 0);
  const held = Math.min(unleased, s.scheduled ?? 0);
  return { held, idle: unleased - held };
}

/** Pods needing an IP now: leased + waiting + scheduled (IPs retired or being given back are no pods). */
export function podsNow(s: PoolSnapshot): number {
  return s.enis.reduce((n, e) => n + e.leased, 0) + s.waiting + (s.scheduled ?? 0);
}

/** The most pods that needed an IP at once within the history window (now included). */
export function peakDemand(s: PoolSnapshot, d: DemandSettings = DEFAULT_DEMAND): number {
  return (s.demandHistory ?? []).filter((x) => x.at > s.now - d.historyMs && x.at <= s.now).reduce((m, x) => Math.max(m, x.pods), podsNow(s));
}

/** ENIs kept attached with free slots: fixed, or auto = ⌈max(node max pods, demand peak) / IPs per ENI⌉ ≥ min_eni; ≤ maxEnis. */
export function warmEniTarget(limits: PoolLimits, s: PoolSnapshot, d: DemandSettings = DEFAULT_DEMAND): number {
  const w = limits.warm;
  if (w === undefined) return 0;
  if (w.warmEnis !== 'auto') return Math.max(0, Math.min(w.warmEnis, limits.maxEnis));
  const pods = Math.max(w.nodeMaxPods, peakDemand(s, d));
  const enis = limits.ipsPerEni > 0 ? Math.ceil(pods / limits.ipsPerEni) : 0;
  return Math.max(0, Math.min(limits.maxEnis, Math.max(w.minEnis, enis)));
}

const total = (s: PoolSnapshot): { idle: number; assigning: number; ips: number } => ({
  idle: s.enis.reduce((n, e) => n + e.idle, 0),
  assigning: s.enis.reduce((n, e) => n + e.assigning, 0) + s.creating.reduce((n, c) => n + c.ips, 0),
  ips: s.enis.reduce((n, e) => n + e.ips + e.assigning, 0) + s.creating.reduce((n, c) => n + c.ips, 0),
});

/** Free slots of an ENI (private IPs it may still get). */
const freeSlots = (limits: PoolLimits, e: EniView): number => Math.max(0, limits.ipsPerEni - e.ips - e.assigning);

/** The vSwitch a new ENI goes to: not inhibited, not known to be empty, most free addresses first (ties: id). */
export function pickVSwitch(vSwitches: readonly VSwitchView[], now: number): VSwitchView | undefined {
  return vSwitches
    .filter((v) => (v.inhibitedUntil ?? 0) <= now && v.available !== 0)
    .sort((a, b) => (b.available ?? Number.MAX_SAFE_INTEGER) - (a.available ?? Number.MAX_SAFE_INTEGER) || a.id.localeCompare(b.id))[0];
}

/**
 * Calls that bring IPs (assign, create-eni) for what waits and the target idle, one per ENI that has no call in
 * flight; then ENIs (with their primary only) up to the warm count.
 */
export function planRefill(limits: PoolLimits, s: PoolSnapshot, d: DemandSettings = DEFAULT_DEMAND): readonly PoolAction[] {
  const t = total(s);
  let need = s.waiting + (s.scheduled ?? 0) + targetIdle(limits, s, d) - t.idle - t.assigning;
  const capacity = limits.maxEnis * limits.ipsPerEni;
  need = Math.min(need, capacity - t.ips);
  const out: PoolAction[] = [];
  const open = s.enis
    .filter((e) => (e.inhibitedUntil ?? 0) <= s.now && e.deleting !== true && freeSlots(limits, e) > 0)
    .sort((a, b) => b.ips + b.assigning - (a.ips + a.assigning) || a.id.localeCompare(b.id));
  let later = 0;
  for (const e of open) {
    const free = freeSlots(limits, e);
    const count = e.busy === true ? 0 : Math.min(MAX_BATCH, Math.max(0, need), free);
    if (count > 0) {
      out.push({ kind: 'assign', eniId: e.id, count });
      need -= count;
    }
    later += free - count;
  }
  // slots on attached ENIs are filled by the next rounds (an Assign ≈ 1 s) rather than by a new ENI (≥ 6 s)
  need -= later;
  let enis = s.enis.length + s.creating.length;
  const vsw = pickVSwitch(s.vSwitches, s.now);
  while (need > 0 && enis < limits.maxEnis && vsw !== undefined) {
    const count = Math.min(MAX_BATCH, need, limits.ipsPerEni);
    out.push({ kind: 'create-eni', vSwitchId: vsw.id, count });
    need -= count;
    enis++;
  }
  const warm = warmEniTarget(limits, s, d);
  while (enis < warm && vsw !== undefined) {
    out.push({ kind: 'create-eni', vSwitchId: vsw.id, count: 1 });
    enis++;
  }
  return out;
}

/**
 * Unleased IPs to give back: those above max_pool_size plus the scheduled pods, and once reclaim is due those above
 * the target as well — at most `reclaimBatch` of these beyond the max_pool_size excess.
 */
export function idleExcess(limits: PoolLimits, s: PoolSnapshot, d: DemandSettings = DEFAULT_DEMAND): number {
  const free = total(s).idle - (s.scheduled ?? 0);
  const overMax = free - limits.maxIdle;
  const aboveTarget = free - Math.min(targetIdle(limits, s, d), limits.maxIdle);
  if (!s.reclaimDue || aboveTarget <= 0) return overMax;
  const base = Math.max(overMax, 0);
  return base + Math.min(s.reclaimBatch ?? Number.POSITIVE_INFINITY, aboveTarget - base);
}

/** Of the excess, what reclaim adds (idle above the target within max_pool_size): the pool then waits an interval. */
export function reclaimShare(limits: PoolLimits, s: PoolSnapshot, d: DemandSettings = DEFAULT_DEMAND): number {
  if (!s.reclaimDue) return 0;
  const overMax = total(s).idle - (s.scheduled ?? 0) - limits.maxIdle;
  return Math.max(0, idleExcess(limits, s, d) - Math.max(overMax, 0));
}
