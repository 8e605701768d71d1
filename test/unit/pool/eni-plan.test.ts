/** The exclusive-ENI pool's pure decisions: refill to min idle + waiters within maxEnis, shrink above max idle. */
import { planEniRefill, planEniShrink, type EniPoolSnapshot } from '../../../src/pool/eni-plan.js';

const now = 1_000_000;
const snap = (s: Partial<EniPoolSnapshot>): EniPoolSnapshot => ({ now, enis: [], creating: 0, vSwitches: [{ id: 'vsw-a', available: 50 }, { id: 'vsw-b', available: 200 }], waiting: 0, reclaimDue: false, ...s });
const enis = (idle: number, leased: number) => [
  ...Array.from({ length: idle }, (_, i) => ({ id: `eni-i${String(i)}`, idle: true, idleSince: now - 1000 * (i + 1) })),
  ...Array.from({ length: leased }, (_, i) => ({ id: `eni-l${String(i)}`, idle: false })),
];

describe('exclusive-ENI pool plan', () => {
  it('refills to min idle plus what waits, one ENI (one IP) per call, on the vSwitch with the most free addresses', () => {
    expect(planEniRefill({ minIdle: 2, maxIdle: 5, maxEnis: 10 }, snap({ waiting: 1 }))).toEqual([
      { kind: 'create-eni', vSwitchId: 'vsw-b', count: 1 },
      { kind: 'create-eni', vSwitchId: 'vsw-b', count: 1 },
      { kind: 'create-eni', vSwitchId: 'vsw-b', count: 1 },
    ]);
    // idle and in-flight ENIs count
    expect(planEniRefill({ minIdle: 2, maxIdle: 5, maxEnis: 10 }, snap({ enis: enis(1, 3), creating: 1 }))).toEqual([]);
    expect(planEniRefill({ minIdle: 2, maxIdle: 5, maxEnis: 10 }, snap({ enis: enis(0, 3), creating: 1, waiting: 2 }))).toHaveLength(3);
  });

  it('never beyond the instance type\'s ENI capacity, nor on an inhibited or empty vSwitch', () => {
    expect(planEniRefill({ minIdle: 5, maxIdle: 5, maxEnis: 4 }, snap({ enis: enis(0, 3), waiting: 3 }))).toHaveLength(1);
    expect(planEniRefill({ minIdle: 0, maxIdle: 5, maxEnis: 4 }, snap({ enis: enis(0, 4), waiting: 3 }))).toEqual([]);
    const vSwitches = [{ id: 'vsw-a', available: 50 }, { id: 'vsw-b', available: 200, inhibitedUntil: now + 1 }, { id: 'vsw-c', available: 0 }];
    expect(planEniRefill({ minIdle: 1, maxIdle: 5, maxEnis: 4 }, snap({ vSwitches }))).toEqual([{ kind: 'create-eni', vSwitchId: 'vsw-a', count: 1 }]);
    expect(planEniRefill({ minIdle: 1, maxIdle: 5, maxEnis: 4 }, snap({ vSwitches: [] }))).toEqual([]);
    // min idle above max idle is capped
    expect(planEniRefill({ minIdle: 9, maxIdle: 2, maxEnis: 10 }, snap({}))).toHaveLength(2);
  });

  it('deletes idle ENIs above max idle (the most recently released first), none while anything waits or is created', () => {
    expect(planEniShrink({ minIdle: 0, maxIdle: 2, maxEnis: 10 }, snap({ enis: enis(4, 2) }))).toEqual([
      { kind: 'delete-eni', eniId: 'eni-i0' },
      { kind: 'delete-eni', eniId: 'eni-i1' },
    ]);
    expect(planEniShrink({ minIdle: 0, maxIdle: 2, maxEnis: 10 }, snap({ enis: enis(4, 2), waiting: 1 }))).toEqual([]);
    expect(planEniShrink({ minIdle: 0, maxIdle: 2, maxEnis: 10 }, snap({ enis: enis(4, 2), creating: 1 }))).toEqual([]);
    expect(planEniShrink({ minIdle: 0, maxIdle: 4, maxEnis: 10 }, snap({ enis: enis(4, 2) }))).toEqual([]);
    // idle reclaim: down to min idle
    expect(planEniShrink({ minIdle: 1, maxIdle: 4, maxEnis: 10 }, snap({ enis: enis(4, 0), reclaimDue: true }))).toHaveLength(3);
  });
});
