/** The warm pool's pure decisions: target idle (static and demand-aware), refill and shrink plans. */
import { DEFAULT_DEMAND, heldForScheduled, idleExcess, peakBurst, peakDemand, planRefill, reclaimShare, targetIdle, warmEniTarget, type EniView, type PoolAction, type PoolLimits, type PoolSnapshot } from '../../../src/pool/plan.js';

const LIMITS: PoolLimits = { minIdle: 2, maxIdle: 8, maxEnis: 3, ipsPerEni: 10 };
const NOW = 1_000_000;

function eni(id: string, ips: number, idle: number, extra: Partial<EniView> = {}): EniView {
  return { id, vSwitchId: 'vsw-a', ips, idle, idleSecondary: Math.min(idle, ips - 1), leased: ips - idle - (extra.retiring ?? 0), assigning: 0, ...extra };
}

function snap(o: Partial<PoolSnapshot> = {}): PoolSnapshot {
  return { now: NOW, enis: [], creating: [], vSwitches: [{ id: 'vsw-a', available: 100 }, { id: 'vsw-b', available: 200 }], waiting: 0, recentAllocations: [], reclaimDue: false, ...o };
}

const ipsOf = (actions: readonly PoolAction[]): number => actions.reduce((n, a) => n + ('count' in a ? a.count : 0), 0);

describe('target idle', () => {
  it('static watermarks: min_pool_size', () => {
    expect(targetIdle(LIMITS, snap(), { ...DEFAULT_DEMAND, demandAware: false })).toBe(2);
  });
  it('demand-aware: the biggest burst of the last 10 min, within min..max', () => {
    const burst = Array.from({ length: 6 }, (_, i) => NOW - 60_000 + i * 500); // 6 within 3 s, a minute ago
    expect(peakBurst(burst, NOW, DEFAULT_DEMAND)).toBe(6);
    expect(targetIdle(LIMITS, snap({ recentAllocations: burst }))).toBe(6);
    const huge = Array.from({ length: 40 }, (_, i) => NOW - 1000 - i);
    expect(targetIdle(LIMITS, snap({ recentAllocations: huge }))).toBe(8); // capped at max_pool_size
    const old = burst.map((t) => t - 700_000);
    expect(targetIdle(LIMITS, snap({ recentAllocations: old }))).toBe(2); // forgotten after the history window
    // spread out: never more than 2 within any 10 s
    expect(peakBurst([NOW - 50_000, NOW - 45_000, NOW - 30_000, NOW - 15_000], NOW, DEFAULT_DEMAND)).toBe(2);
  });
});

describe('target idle on a full node', () => {
  it('never more stock than the pods the node can still run (max pods − leased − waiting − scheduled)', () => {
    const L: PoolLimits = { ...LIMITS, maxEnis: 7, ipsPerEni: 20, warm: { warmEnis: 0, nodeMaxPods: 20, minEnis: 0 } };
    const burst = Array.from({ length: 6 }, (_, i) => NOW - 60_000 + i * 500);
    expect(targetIdle(L, snap({ recentAllocations: burst }))).toBe(6); // an empty node: the burst history
    // 17 leased: room for 3 more pods
    expect(targetIdle(L, snap({ enis: [eni('eni-1', 17, 0)], recentAllocations: burst }))).toBe(3);
    // 18 leased + 1 waiting + 1 scheduled: full; even min_pool_size is not stocked
    expect(targetIdle(L, snap({ enis: [eni('eni-1', 18, 0)], waiting: 1, scheduled: 1 }))).toBe(0);
    // a full node needs no new ENI for stock: the waiter and the scheduled pod only
    expect(ipsOf(planRefill(L, snap({ enis: [eni('eni-1', 20, 0)], waiting: 1, scheduled: 1, recentAllocations: burst })))).toBe(2);
    // IPs retired above max_pool_size (no call yet) are no pods: 10 leased + 7 retiring leaves room for 10, not 3
    expect(targetIdle(L, snap({ enis: [eni('eni-1', 17, 0, { retiring: 7 })], recentAllocations: burst }))).toBe(6);
    // max pods unknown: no cap
    expect(targetIdle({ ...L, warm: { warmEnis: 0, nodeMaxPods: 0, minEnis: 0 } }, snap({ enis: [eni('eni-1', 18, 0)], recentAllocations: burst }))).toBe(6);
  });
});

describe('planRefill', () => {
  it('first ENI: created on the vSwitch with the most free addresses, the waiters plus the target', () => {
    expect(planRefill(LIMITS, snap({ waiting: 3 }))).toEqual([{ kind: 'create-eni', vSwitchId: 'vsw-b', count: 5 }]);
  });
  it('fills the fullest open ENI first, in batches of ≤ 10, then creates ENIs up to maxEnis', () => {
    const s = snap({ enis: [eni('eni-1', 4, 0), eni('eni-2', 8, 0)], waiting: 25 });
    expect(planRefill(LIMITS, s)).toEqual([
      { kind: 'assign', eniId: 'eni-2', count: 2 },
      { kind: 'assign', eniId: 'eni-1', count: 6 },
      { kind: 'create-eni', vSwitchId: 'vsw-b', count: 10 },
    ]); // 27 wanted; capacity 30 − 12 held = 18
  });
  it('counts what is already on its way; nothing when idle covers the target', () => {
    expect(planRefill(LIMITS, snap({ enis: [eni('eni-1', 4, 1, { assigning: 1 })] }))).toEqual([]);
    expect(planRefill(LIMITS, snap({ enis: [eni('eni-1', 4, 0)], creating: [{ ips: 2 }] }))).toEqual([]);
    expect(planRefill(LIMITS, snap({ enis: [eni('eni-1', 5, 3)] }))).toEqual([]);
  });
  it('skips inhibited ENIs and vSwitches; an exhausted vSwitch is not used; no vSwitch left → nothing to create', () => {
    const s = snap({
      enis: [eni('eni-1', 4, 0, { inhibitedUntil: NOW + 60_000 })],
      vSwitches: [{ id: 'vsw-a', available: 100, inhibitedUntil: NOW + 600_000 }, { id: 'vsw-b', available: 0 }, { id: 'vsw-c' }],
      waiting: 1,
    });
    expect(planRefill(LIMITS, s)).toEqual([{ kind: 'create-eni', vSwitchId: 'vsw-c', count: 3 }]);
    expect(planRefill(LIMITS, { ...s, vSwitches: [{ id: 'vsw-a', inhibitedUntil: NOW + 1 }] })).toEqual([]);
  });
});

describe('scheduled pods (schedule-time demand)', () => {
  it('each counts in full on top of the target, beyond max_pool_size, up to capacity', () => {
    // 2 idle on one ENI, 25 pods bound to the node: 25 + target 2 − 2 = 25 more (max_pool_size 8 does not cap them)
    const s = snap({ enis: [eni('eni-1', 4, 2)], scheduled: 25 });
    expect(planRefill(LIMITS, s)).toEqual([
      { kind: 'assign', eniId: 'eni-1', count: 6 },
      { kind: 'create-eni', vSwitchId: 'vsw-b', count: 10 },
      { kind: 'create-eni', vSwitchId: 'vsw-b', count: 9 },
    ]);
    // the instance holds at most 30: the rest cannot come
    expect(planRefill(LIMITS, { ...s, scheduled: 100 }).reduce((n, a) => n + ('count' in a ? a.count : 0), 0)).toBe(26);
  });
  it('unleased IPs are held for them first; the rest is idle', () => {
    expect(heldForScheduled(snap({ enis: [eni('eni-1', 10, 7)], scheduled: 5 }))).toEqual({ held: 5, idle: 2 });
    expect(heldForScheduled(snap({ enis: [eni('eni-1', 10, 3)], scheduled: 5 }))).toEqual({ held: 3, idle: 0 });
    expect(heldForScheduled(snap({ enis: [eni('eni-1', 10, 3)] }))).toEqual({ held: 0, idle: 3 });
  });
  it('shrink never gives back what they will take: idle above max_pool_size only', () => {
    const s = snap({ enis: [eni('eni-1', 20, 20, { idleSecondary: 19 }), eni('eni-2', 10, 0)], scheduled: 15 });
    expect(idleExcess(LIMITS, s)).toBe(-3); // 20 unleased = 15 held + 5 idle ≤ 8
    expect(idleExcess(LIMITS, { ...s, scheduled: 2 })).toBe(10);
    // nor the target's reclaim
    expect(idleExcess(LIMITS, { ...s, reclaimDue: true })).toBe(3);
  });
});


describe('warm ENIs', () => {
  const WIDE: PoolLimits = { minIdle: 2, maxIdle: 30, maxEnis: 7, ipsPerEni: 20 };
  const auto = (nodeMaxPods: number, minEnis = 0): PoolLimits => ({ ...WIDE, warm: { warmEnis: 'auto', nodeMaxPods, minEnis } });

  it('auto: the ENIs that cover max(node max pods, the demand peak of the history window), at least min_eni, at most maxEnis', () => {
    expect(warmEniTarget(WIDE, snap())).toBe(0); // not configured: Terway's behaviour
    expect(warmEniTarget(auto(110), snap())).toBe(6); // ⌈110 / 20⌉
    expect(warmEniTarget(auto(0), snap())).toBe(0); // max pods unknown, no demand yet
    expect(warmEniTarget(auto(0, 2), snap())).toBe(2); // min_eni
    expect(warmEniTarget(auto(500), snap())).toBe(7); // capped by the instance type
    // the demand peak: 45 pods needed an IP 5 min ago (now 3 leased + 2 waiting + 4 scheduled = 9)
    const s = snap({ enis: [eni('eni-1', 5, 2)], waiting: 2, scheduled: 4, demandHistory: [{ at: NOW - 300_000, pods: 45 }, { at: NOW - 700_000, pods: 130 }] });
    expect(peakDemand(s)).toBe(45); // the 130 is older than the history window
    expect(warmEniTarget(auto(0), s)).toBe(3);
    expect(warmEniTarget(auto(30), s)).toBe(3);
    expect(warmEniTarget(auto(0), { ...s, demandHistory: [] })).toBe(1); // now: 9 pods
    // a fixed count, capped by maxEnis
    expect(warmEniTarget({ ...WIDE, warm: { warmEnis: 4, nodeMaxPods: 110, minEnis: 0 } }, snap())).toBe(4);
    expect(warmEniTarget({ ...WIDE, warm: { warmEnis: 0, nodeMaxPods: 110, minEnis: 3 } }, snap())).toBe(0);
    expect(warmEniTarget({ ...WIDE, warm: { warmEnis: 40, nodeMaxPods: 0, minEnis: 0 } }, snap())).toBe(7);
  });

  it('refill: ENIs with their primary only up to the warm count, after what the demand needs', () => {
    // a cold node: 2 IPs for min_pool_size on a first ENI, 5 more ENIs with one IP each
    expect(planRefill(auto(110), snap())).toEqual([
      { kind: 'create-eni', vSwitchId: 'vsw-b', count: 2 },
      ...Array.from({ length: 5 }, () => ({ kind: 'create-eni', vSwitchId: 'vsw-b', count: 1 })),
    ]);
    // ENIs being created count; nothing more once the warm count is reached
    expect(planRefill(auto(110), snap({ enis: [eni('eni-1', 2, 2)], creating: [{ ips: 1 }, { ips: 1 }, { ips: 1 }, { ips: 1 }, { ips: 1 }] }))).toEqual([]);
    expect(planRefill(auto(110), snap({ enis: [eni('eni-1', 2, 2)], vSwitches: [] }))).toEqual([]); // no vSwitch usable
  });

  it('a burst on warm ENIs: one Assign per ENI in parallel, no new ENI while attached ENIs have free slots', () => {
    const warm = Array.from({ length: 6 }, (_, i) => eni(`eni-${String(i + 1)}`, 1, 1, { idleSecondary: 0 }));
    const s = snap({ enis: warm, scheduled: 110 });
    const plan = planRefill(auto(110), s);
    // 110 scheduled + target 2 − 6 idle = 106: 6 × 10 now, the other 46 in the next rounds on the same ENIs
    expect(plan).toEqual(warm.map((e) => ({ kind: 'assign', eniId: e.id, count: 10 })));
    expect(new Set(plan.map((a) => ('eniId' in a ? a.eniId : ''))).size).toBe(plan.length);
    // without warm ENIs the same burst on one ENI: one Assign on it, and new ENIs for what its slots cannot take
    const cold = planRefill(WIDE, snap({ enis: [eni('eni-1', 1, 1, { idleSecondary: 0 })], scheduled: 110 }));
    expect(cold[0]).toEqual({ kind: 'assign', eniId: 'eni-1', count: 10 });
    expect(cold.slice(1).every((a) => a.kind === 'create-eni')).toBe(true);
    // 111 wanted: 10 now on eni-1, its other 9 free slots in its next rounds, 6 new ENIs of ≤ 10 IPs each (maxEnis 7)
    expect(cold).toHaveLength(7);
    expect(ipsOf(cold)).toBe(10 + 6 * 10);
  });

});

describe('one cloud call per ENI at a time', () => {
  it('a busy ENI gets no action; its free slots are left for later rather than a new ENI', () => {
    const s = snap({ enis: [eni('eni-1', 4, 0, { busy: true, assigning: 2 }), eni('eni-2', 3, 0)], waiting: 12 });
    // 12 waiting + 2 target − 2 on their way = 12: eni-2 takes 7 now, eni-1's 4 free slots later; 1 needs a new ENI
    expect(planRefill(LIMITS, s)).toEqual([{ kind: 'assign', eniId: 'eni-2', count: 7 }, { kind: 'create-eni', vSwitchId: 'vsw-b', count: 1 }]);
    // an ENI being deleted is no open ENI
    expect(planRefill(LIMITS, snap({ enis: [eni('eni-1', 2, 0, { deleting: true, busy: true })], waiting: 1 }))).toEqual([{ kind: 'create-eni', vSwitchId: 'vsw-b', count: 3 }]);
  });
});

describe('idle reclaim in batches', () => {
  it('once due: the max_pool_size excess at once, plus at most reclaimBatch of the idle above the target', () => {
    const s = snap({ enis: [eni('eni-1', 20, 14, { idleSecondary: 13 })], reclaimDue: true });
    const L: PoolLimits = { ...LIMITS, maxIdle: 10, ipsPerEni: 20 };
    // idle 14, max 10, target 2: 4 above max, 8 more above the target
    expect(idleExcess(L, { ...s, reclaimDue: false })).toBe(4);
    expect(idleExcess(L, s)).toBe(12); // no batch: all of it (unbounded)
    expect(idleExcess(L, { ...s, reclaimBatch: 3 })).toBe(7);
    expect(reclaimShare(L, { ...s, reclaimBatch: 3 })).toBe(3);
    expect(idleExcess(L, { ...s, reclaimBatch: 0 })).toBe(4); // between intervals: only the max excess
    expect(reclaimShare(L, { ...s, reclaimBatch: 0 })).toBe(0);
    // within max_pool_size, a batch of 5 goes back per plan
    const within = snap({ enis: [eni('eni-1', 20, 9)], reclaimDue: true, reclaimBatch: 5 });
    expect(idleExcess(L, within)).toBe(5);
    expect(idleExcess(L, { ...within, reclaimBatch: 0 })).toBe(0); // between intervals: nothing
  });
});
