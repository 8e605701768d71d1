/** The warm pool's pure decisions: target idle (static and demand-aware), refill and shrink plans. */
import { DEFAULT_DEMAND, heldForScheduled, idleExcess, peakBurst, planRefill, planShrink, targetIdle, type EniView, type PoolLimits, type PoolSnapshot } from '../../../src/pool/plan.js';

const LIMITS: PoolLimits = { minIdle: 2, maxIdle: 8, maxEnis: 3, ipsPerEni: 10 };
const NOW = 1_000_000;

function eni(id: string, ips: number, idle: number, extra: Partial<EniView> = {}): EniView {
  return { id, vSwitchId: 'vsw-a', ips, idle, idleSecondary: Math.min(idle, ips - 1), assigning: 0, ...extra };
}

function snap(o: Partial<PoolSnapshot> = {}): PoolSnapshot {
  return { now: NOW, enis: [], creating: [], vSwitches: [{ id: 'vsw-a', available: 100 }, { id: 'vsw-b', available: 200 }], waiting: 0, recentAllocations: [], reclaimDue: false, ...o };
}

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
    const s = snap({ enis: [eni('eni-1', 20, 20, { idleSecondary: 19 }), eni('eni-2', 10, 0)], scheduled: 15, shrinkDue: true });
    expect(idleExcess(LIMITS, s)).toBe(-3); // 20 unleased = 15 held + 5 idle ≤ 8
    expect(planShrink(LIMITS, s)).toEqual([]);
    expect(idleExcess(LIMITS, { ...s, scheduled: 2 })).toBe(10);
    expect(planShrink(LIMITS, { ...s, scheduled: 2 })).toEqual([{ kind: 'unassign', eniId: 'eni-1', count: 10 }]);
    // nor the target's reclaim
    expect(idleExcess(LIMITS, { ...s, reclaimDue: true })).toBe(3);
  });
});

describe('planShrink', () => {
  it('above max_pool_size: a fully idle ENI goes whole, then idle secondaries of the emptiest', () => {
    const s = snap({ enis: [eni('eni-1', 10, 9), eni('eni-2', 3, 3), eni('eni-3', 10, 1)], shrinkDue: true });
    // idle 13, keep 8: excess 5 → eni-2 (3) deleted, 2 secondaries of eni-1 (the emptiest left)
    expect(planShrink(LIMITS, s)).toEqual([{ kind: 'delete-eni', eniId: 'eni-2' }, { kind: 'unassign', eniId: 'eni-1', count: 2 }]);
  });
  it('hysteresis: an excess below a full batch waits until due; a full batch goes at once; shrinkMinExcess 1 turns it off', () => {
    const small = snap({ enis: [eni('eni-1', 20, 12, { idleSecondary: 12 })] }); // excess 4
    expect(planShrink(LIMITS, small)).toEqual([]);
    expect(planShrink(LIMITS, { ...small, shrinkDue: true })).toEqual([{ kind: 'unassign', eniId: 'eni-1', count: 4 }]);
    expect(planShrink(LIMITS, small, { ...DEFAULT_DEMAND, shrinkMinExcess: 1 })).toEqual([{ kind: 'unassign', eniId: 'eni-1', count: 4 }]);
    const big = snap({ enis: [eni('eni-1', 20, 19, { idleSecondary: 18 })] }); // excess 11
    expect(planShrink(LIMITS, big)).toEqual([{ kind: 'unassign', eniId: 'eni-1', count: 10 }, { kind: 'unassign', eniId: 'eni-1', count: 1 }]);
  });
  it('never while allocations wait or IPs are on their way; within max nothing', () => {
    const s = snap({ enis: [eni('eni-1', 10, 10)] });
    expect(planShrink(LIMITS, { ...s, waiting: 1 })).toEqual([]);
    expect(planShrink(LIMITS, { ...s, creating: [{ ips: 1 }] })).toEqual([]);
    expect(planShrink(LIMITS, snap({ enis: [eni('eni-1', 10, 8)] }))).toEqual([]);
  });
  it('idle reclaim due: down to the target, ≤ 10 per call; the primary IP of a used ENI stays', () => {
    const s = snap({ enis: [eni('eni-1', 10, 8)], reclaimDue: true });
    expect(planShrink(LIMITS, s)).toEqual([{ kind: 'unassign', eniId: 'eni-1', count: 6 }]);
    const big = snap({ enis: [eni('eni-1', 10, 9, { idleSecondary: 9 }), eni('eni-2', 10, 9, { idleSecondary: 9 })], reclaimDue: true });
    expect(planShrink({ ...LIMITS, maxIdle: 20 }, big)).toEqual([{ kind: 'unassign', eniId: 'eni-1', count: 9 }, { kind: 'unassign', eniId: 'eni-2', count: 7 }]);
  });
});
