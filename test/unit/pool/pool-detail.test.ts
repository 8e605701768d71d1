/** Pool.detail() (the operator's `pool` view) over the fake cloud: IPs by state per ENI, inhibits, the last cloud error. */
import { silentLogger } from '../../../src/lib/log.js';
import { Pool } from '../../../src/pool/pool.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { FakeFactory, MemoryJournal } from './fake-factory.js';

function setup(caps = { maxEnis: 2, ipsPerEni: 10 }) {
  const clock = new FakeClock();
  const factory = new FakeFactory(clock, caps);
  let n = 0;
  const pool = new Pool({ factory, journal: new MemoryJournal(), log: silentLogger, clock, newToken: () => `tok-${String(++n)}`, options: { minIdle: 2, maxIdle: 5, warmEnis: 0, retryMs: 10_000 } });
  return { clock, factory, pool };
}

describe('Pool.detail', () => {
  it('lists each ENI with its leased and idle IPs, agreeing with stats()', async () => {
    const t = setup();
    await t.pool.start(new Set());
    await t.clock.advance(3100);
    const a = await t.pool.acquire({ label: 'ns/a' });
    const d = t.pool.detail();
    expect(d.enis).toHaveLength(1);
    const eni = d.enis[0];
    expect(eni?.id).toBe(a.eni.id);
    expect(eni?.leased).toEqual([a.ip]);
    expect(new Set([...(eni?.leased ?? []), ...(eni?.idle ?? [])])).toEqual(new Set(eni?.ips));
    expect(eni?.idle.length).toBe(t.pool.stats().idle);
    expect(d.lastError).toBeUndefined();
    expect(d.pausedUntil).toBeUndefined();
    t.pool.release(a.ip);
    expect(t.pool.detail().enis[0]?.leased).toEqual([]);
  });

  it('shows the exhausted vSwitch inhibited and the last failed call; a transient failure pauses calls', async () => {
    const t = setup();
    t.factory.fail('create', 'vswitch-exhausted');
    await t.pool.start(new Set());
    await t.clock.advance(3100);
    const d = t.pool.detail();
    expect(d.inhibitedVSwitches.map((v) => v.vSwitchId)).toEqual(['vsw-a']);
    expect(Date.parse(d.inhibitedVSwitches[0]?.until ?? '')).toBeGreaterThan(t.clock.now());
    expect(d.lastError).toMatch(/^create-eni: /u);

    const u = setup();
    u.factory.fail('create', 'transient');
    await u.pool.start(new Set());
    await u.clock.advance(3100);
    expect(Date.parse(u.pool.detail().pausedUntil ?? '')).toBeGreaterThan(u.clock.now());
    await u.clock.advance(20_000);
    expect(u.pool.detail().pausedUntil).toBeUndefined();
  });
});
