/** Giving idle IPs back, pure: how many to retire or bring back, which ENIs give them, and the calls that release them. */
import { DEFAULT_DEMAND, type EniView, type PoolLimits, type PoolSnapshot } from '../../../src/pool/plan.js';
import { planRelease, retireDelta, spreadRetired, type RetireCandidate } from '../../../src/pool/retire.js';

const LIMITS: PoolLimits = { minIdle: 2, maxIdle: 8, maxEnis: 7, ipsPerEni: 20 };
const NOW = 1_000_000;

function eni(id: string, ips: number, idle: number, extra: Partial<EniView> = {}): EniView {
  return { id, vSwitchId: 'vsw-a', ips, idle, idleSecondary: Math.min(idle, ips - 1), leased: ips - idle - (extra.retiring ?? 0), assigning: 0, ...extra };
}

function snap(o: Partial<PoolSnapshot> = {}): PoolSnapshot {
  return { now: NOW, enis: [], creating: [], vSwitches: [], waiting: 0, recentAllocations: [], reclaimDue: false, ...o };
}

function cand(id: string, ips: number, free: number, extra: Partial<RetireCandidate> = {}): RetireCandidate {
  return { id, ips, free, freeSecondary: Math.min(free, ips - 1), assigning: 0, busy: false, deleting: false, ...extra };
}

const total = (m: ReadonlyMap<string, { count: number }>): number => [...m.values()].reduce((n, x) => n + x.count, 0);

describe('retireDelta', () => {
  it('idle above max_pool_size is retired at once, whatever its size (no hysteresis above max)', () => {
    expect(retireDelta(LIMITS, snap({ enis: [eni('eni-1', 20, 9)] }), DEFAULT_DEMAND)).toBe(1);
    expect(retireDelta(LIMITS, snap({ enis: [eni('eni-1', 20, 20), eni('eni-2', 20, 19)] }), DEFAULT_DEMAND)).toBe(31);
    // within max_pool_size nothing (reclaim not due)
    expect(retireDelta(LIMITS, snap({ enis: [eni('eni-1', 20, 8)] }), DEFAULT_DEMAND)).toBe(0);
    // already retired IPs are not idle: only what is still above max
    expect(retireDelta(LIMITS, snap({ enis: [eni('eni-1', 20, 8, { retiring: 5 })] }), DEFAULT_DEMAND)).toBe(0);
  });
  it('demand brings retired IPs back before any Assign: waiters, scheduled pods, the target', () => {
    const s = snap({ enis: [eni('eni-1', 20, 8, { retiring: 5 })] });
    expect(retireDelta(LIMITS, { ...s, scheduled: 3 }, DEFAULT_DEMAND)).toBe(0); // 8 idle − 3 held still cover the target 2
    expect(retireDelta(LIMITS, { ...s, scheduled: 9 }, DEFAULT_DEMAND)).toBe(-3); // 9 pods + target 2 − 8 idle: 3 back
    expect(retireDelta(LIMITS, { ...s, scheduled: 20 }, DEFAULT_DEMAND)).toBe(-5); // all of them
    expect(retireDelta(LIMITS, snap({ enis: [eni('eni-1', 20, 0, { retiring: 4 })], waiting: 1 }), DEFAULT_DEMAND)).toBe(-3); // 1 waiter + target 2
  });
  it('reclaim due: its batch of the idle above the target joins the retired', () => {
    const s = snap({ enis: [eni('eni-1', 20, 7)], reclaimDue: true, reclaimBatch: 3 });
    expect(retireDelta(LIMITS, s, DEFAULT_DEMAND)).toBe(3);
    expect(retireDelta(LIMITS, { ...s, reclaimBatch: 0 }, DEFAULT_DEMAND)).toBe(0);
  });
});

describe('spreadRetired', () => {
  it('chunks of 10 over the emptiest ENIs (one call each, in parallel), the remainder where one call takes it', () => {
    // 6 warm ENIs after a mass deletion (none deletable): 62 to give back
    const enis = Array.from({ length: 6 }, (_, i) => cand(`eni-${String(i + 1)}`, 20, i === 0 ? 12 : 20 - i));
    const m = spreadRetired(enis, 62, 0);
    expect(total(m)).toBe(62);
    const calls = [...m.values()].reduce((n, x) => n + Math.ceil(x.count / 10), 0);
    expect(calls).toBe(7); // ⌈62 / 10⌉: no call of a few IPs that a fuller chunk could have taken
    expect([...m.values()].every((x) => !x.whole)).toBe(true);
    // every ENI gives at most its free secondaries (the primary stays)
    for (const e of enis) expect(m.get(e.id)?.count ?? 0).toBeLessThanOrEqual(e.freeSecondary);
    // one chunk per ENI before any ENI gets a second: six ENIs give 10 each, one gives the last 2
    expect([...m.values()].filter((x) => x.count >= 10)).toHaveLength(6);
  });
  it('fully idle ENIs above the warm count go whole (primary included), only when all their IPs fit', () => {
    const enis = [cand('eni-1', 20, 5), cand('eni-2', 6, 6), cand('eni-3', 12, 12)];
    expect(spreadRetired(enis, 8, 1).get('eni-2')).toEqual({ count: 6, whole: true });
    expect(total(spreadRetired(enis, 8, 1))).toBe(8);
    expect([...spreadRetired(enis, 8, 0).values()].some((x) => x.whole)).toBe(false); // warm: never deleted
    expect(spreadRetired(enis, 5, 1).get('eni-2')?.whole ?? false).toBe(false); // 6 IPs do not fit an excess of 5
    // an ENI with IPs being assigned is not fully idle
    expect([...spreadRetired([cand('eni-2', 6, 6, { assigning: 2 })], 6, 1).values()].some((x) => x.whole)).toBe(false);
  });
  it('what no ENI can give is left out; busy ENIs come last; ENIs being deleted give nothing', () => {
    expect(total(spreadRetired([cand('eni-1', 3, 3), cand('eni-2', 4, 4)], 20, 0))).toBe(5); // primaries stay
    const m = spreadRetired([cand('eni-1', 20, 15, { busy: true }), cand('eni-2', 20, 8)], 5, 0);
    expect([...m]).toEqual([['eni-2', { count: 5, whole: false }]]); // both take it in one call: the one not busy
    // one call on a busy ENI rather than two calls
    expect([...spreadRetired([cand('eni-1', 20, 15, { busy: true }), cand('eni-2', 20, 3)], 5, 0)]).toEqual([['eni-1', { count: 5, whole: false }]]);
    expect(spreadRetired([cand('eni-1', 20, 20, { deleting: true })], 5, 1).size).toBe(0);
  });
});

describe('planRelease', () => {
  it('one call per ENI with no call in flight: its Delete when all its IPs are retired, else an Unassign of ≤ 10', () => {
    expect(planRelease([
      { id: 'eni-1', retired: 14, whole: false, busy: false, deleting: false },
      { id: 'eni-2', retired: 6, whole: true, busy: false, deleting: false },
      { id: 'eni-3', retired: 3, whole: false, busy: true, deleting: false },
      { id: 'eni-4', retired: 0, whole: false, busy: false, deleting: false },
    ])).toEqual([{ kind: 'unassign', eniId: 'eni-1', count: 10 }, { kind: 'delete-eni', eniId: 'eni-2' }]);
  });
});
