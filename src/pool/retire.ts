/**
 * Giving idle IPs back, pure (the pool, ./pool.ts, applies it). Idle above max_pool_size is *retired* the moment it
 * appears (a DEL, a scheduled pod forgotten, IPs landing after demand went away): retired IPs are no longer idle (the
 * pool reports them as `releasing`), no refill counts them, and they go back in the next calls — one call per ENI at
 * a time, ≤ 10 IPs per Unassign (ECS's rules), so a mass release takes a few rounds while idle stays ≤ max_pool_size
 * from the first instant. Until its call starts a retired IP can come back: an ADD that finds nothing idle takes one
 * rather than wait for the cloud, and when demand appears (scheduled pods, waiters, the target) retired IPs return to
 * idle before any Assign is planned. Idle reclaim (Terway's idle_ip_reclaim_*: idle above the target, within
 * max_pool_size) retires its batch the same way. There is no hysteresis above max_pool_size; between the target and
 * max_pool_size only the reclaim gives IPs back.
 *
 * Which IPs: whole fully idle ENIs above the warm count first (one Detach + Delete for all of them), then secondary
 * IPs in chunks of 10 spread over the emptiest ENIs (each chunk is one Unassign; spreading lets the chunks go in
 * parallel, one per ENI), the remainder in as few calls as possible.
 */
import { MAX_BATCH, idleExcess, targetIdle, type DemandSettings, type PoolAction, type PoolLimits, type PoolSnapshot } from './plan.js';

/** How many more IPs to retire (> 0) or to bring back to idle (< 0) now. */
export function retireDelta(limits: PoolLimits, s: PoolSnapshot, d: DemandSettings): number {
  const excess = idleExcess(limits, s, d);
  if (excess > 0) return excess;
  const retiring = s.enis.reduce((n, e) => n + (e.retiring ?? 0), 0);
  if (retiring === 0) return 0;
  const idle = s.enis.reduce((n, e) => n + e.idle, 0);
  // demand the unretired stock does not cover: the retired IPs serve it before any Assign
  const short = s.waiting + (s.scheduled ?? 0) + targetIdle(limits, s, d) - idle;
  return short > 0 ? -Math.min(retiring, short) : 0;
}

/** An ENI as the retirement sees it: its IPs that no pod holds and no call is releasing (retired ones included). */
export interface RetireCandidate {
  readonly id: string;
  /** Private IPs it has (primary included). */
  readonly ips: number;
  /** Unleased IPs not in a call (the retired ones included). */
  readonly free: number;
  /** Of those, the non-primary ones (what Unassign can take). */
  readonly freeSecondary: number;
  /** IPs being assigned to it (it is not fully idle then). */
  readonly assigning: number;
  readonly busy: boolean;
  readonly deleting: boolean;
}

export interface RetireChoice {
  readonly count: number;
  /** The whole ENI (primary included) goes: one Detach + Delete. */
  readonly whole: boolean;
}

/**
 * Spreads `count` retired IPs over the ENIs: fully idle ENIs above the warm count whole (at most `deletable`, each
 * only if all its IPs fit), then chunks of 10 secondaries round-robin over the emptiest ENIs (not busy first), then
 * the remainder on the ENIs that take it in the fewest calls. Returns ENI id → its share; what no ENI can give
 * (primaries of ENIs that stay) is left out.
 */
export function spreadRetired(enis: readonly RetireCandidate[], count: number, deletable: number): ReadonlyMap<string, RetireChoice> {
  const out = new Map<string, RetireChoice>();
  let left = count;
  let canDelete = deletable;
  const used = (e: RetireCandidate): number => e.ips - e.free;
  const order = [...enis].filter((e) => !e.deleting).sort((a, b) => Number(a.busy) - Number(b.busy) || used(a) - used(b) || a.ips - b.ips || a.id.localeCompare(b.id));
  for (const e of order) {
    if (left <= 0 || canDelete <= 0) break;
    if (e.free === e.ips && e.assigning === 0 && e.ips <= left) {
      out.set(e.id, { count: e.ips, whole: true });
      left -= e.ips;
      canDelete--;
    }
  }
  const busy = new Set(order.filter((e) => e.busy).map((e) => e.id));
  const room = new Map(order.filter((e) => !out.has(e.id)).map((e) => [e.id, e.freeSecondary]));
  const give = (id: string, n: number): void => {
    out.set(id, { count: (out.get(id)?.count ?? 0) + n, whole: false });
    room.set(id, (room.get(id) ?? 0) - n);
    left -= n;
  };
  // full chunks, one per ENI per pass (they go in parallel)
  for (let progress = true; left >= MAX_BATCH && progress; ) {
    progress = false;
    for (const [id, r] of room) {
      if (left < MAX_BATCH) break;
      if (r >= MAX_BATCH) { give(id, MAX_BATCH); progress = true; }
    }
  }
  // the rest: an ENI that takes it all in one call if any (not busy first, then the least room), else the most room first
  while (left > 0) {
    const fits = [...room].filter(([, r]) => r >= Math.min(left, MAX_BATCH)).sort((a, b) => Number(busy.has(a[0])) - Number(busy.has(b[0])) || a[1] - b[1])[0];
    const most = [...room].filter(([, r]) => r > 0).sort((a, b) => b[1] - a[1])[0];
    const pick = fits ?? most;
    if (pick === undefined) break;
    give(pick[0], Math.min(left, pick[1], MAX_BATCH));
  }
  return out;
}

/** An ENI's retired IPs as the release calls see them. */
export interface RetiredView {
  readonly id: string;
  /** Retired IPs (no call yet). */
  readonly retired: number;
  /** All of its IPs are retired: it goes whole. */
  readonly whole: boolean;
  readonly busy: boolean;
  readonly deleting: boolean;
}

/** The calls that give retired IPs back now: per ENI with no call in flight, its Delete, or an Unassign of ≤ 10. */
export function planRelease(enis: readonly RetiredView[]): readonly PoolAction[] {
  return enis
    .filter((e) => e.retired > 0 && !e.busy && !e.deleting)
    .map((e): PoolAction => (e.whole ? { kind: 'delete-eni', eniId: e.id } : { kind: 'unassign', eniId: e.id, count: Math.min(MAX_BATCH, e.retired) }));
}
