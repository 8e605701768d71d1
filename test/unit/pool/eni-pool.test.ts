/**
 * The exclusive-ENI pool over a fake cloud on a fake clock: warm-up in ENIs, whole ENIs handed out (the one idle
 * longest), waiting for a new ENI, release to idle and deletion above max idle, journalled calls, recovery of a
 * create cut short by a crash (same token: no second ENI), capacity, inhibit windows, the address source.
 */
import type { IfName, IpAddr, MacAddr } from '../../../src/lib/brand.js';
import { ExhaustedError } from '../../../src/lib/errors.js';
import { silentLogger } from '../../../src/lib/log.js';
import { EniPool, type EniPoolOptions } from '../../../src/pool/eni-pool.js';
import { EniSource } from '../../../src/pool/eni-source.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { FakeFactory, MemoryJournal } from './fake-factory.js';

function setup(options: Partial<EniPoolOptions> = {}, caps = { maxEnis: 3, ipsPerEni: 10 }, journal = new MemoryJournal(), factory?: FakeFactory) {
  const clock = factory?.clock instanceof FakeClock ? factory.clock : new FakeClock();
  const f = factory ?? new FakeFactory(clock, caps);
  let n = 0;
  const pool = new EniPool({ factory: f, journal, log: silentLogger, clock, newToken: () => `tok-${String(++n)}`, options: { minIdle: 1, maxIdle: 2, coalesceMs: 10, ...options } });
  return { clock, factory: f, journal, pool };
}

describe('EniPool', () => {
  it('keeps min idle in ENIs of one IP each, journals the create, hands out whole ENIs and pools them back', async () => {
    const t = setup();
    await t.pool.start(new Set());
    await t.clock.advance(0);
    expect(t.factory.calls).toEqual(['create vsw-a 1']);
    expect(t.journal.pending()).toEqual([expect.objectContaining({ kind: 'create-eni', vSwitchId: 'vsw-a', count: 1, token: expect.any(String) })]);
    await t.clock.advance(3000);
    expect(t.journal.pending()).toEqual([]);
    expect(t.pool.stats()).toMatchObject({ enis: 1, idle: 1, leased: 0 });
    const a = await t.pool.acquire({ label: 'ns/a' });
    expect(a.ips).toEqual([a.primaryIp]);
    // the refill brings the next idle ENI; a second pod gets it, a third waits for a new one and is told why
    await t.clock.advance(3100);
    const b = await t.pool.acquire({ label: 'ns/b' });
    expect(b.id).not.toBe(a.id);
    const notices: string[] = [];
    const c = t.pool.acquire({ label: 'ns/c', onWait: (w) => notices.push(w.what) });
    await t.clock.advance(3100);
    expect((await c).id).not.toBe(b.id);
    expect(notices[0]).toMatch(/waiting for a new ENI from fake-cloud|no idle ENI on this node: asking fake-cloud/u);
    // all 3 ENIs in use: the next pod fails, saying why
    const d = t.pool.acquire({ label: 'ns/d' }).then(() => 'served', (e: unknown) => e);
    await t.clock.advance(100);
    expect(await d).toBeInstanceOf(ExhaustedError);
    t.pool.release(a.primaryIp);
    t.pool.release(b.primaryIp);
    await t.clock.advance(100);
    expect(t.pool.stats()).toMatchObject({ enis: 3, idle: 2, leased: 1 });
    expect(t.journal.saved.map((e) => e.id).sort()).toEqual([...t.factory.enis.keys()].sort());
  });

  it('capacity: waiters fail with ExhaustedError naming the instance\'s ENI limit', async () => {
    const t = setup({ minIdle: 0 }, { maxEnis: 1, ipsPerEni: 10 });
    await t.pool.start(new Set());
    const first = t.pool.acquire({ label: 'ns/a' });
    await t.clock.advance(3100);
    await first;
    const second = t.pool.acquire({ label: 'ns/b' }).then(() => undefined, (e: unknown) => e);
    await t.clock.advance(100);
    const err = await second;
    expect(err).toBeInstanceOf(ExhaustedError);
    expect((err as Error).message).toMatch(/ns\/b: no exclusive ENI: this node holds all 1 secondary ENIs its instance type allows, every one in use/u);
    expect(t.pool.maxEnis).toBe(1);
  });

  it('deletes idle ENIs above max idle, journalled, the cloud and the pool agree', async () => {
    const t = setup({ minIdle: 0, maxIdle: 1 });
    await t.pool.start(new Set());
    const got = [t.pool.acquire({ label: 'a' }), t.pool.acquire({ label: 'b' }), t.pool.acquire({ label: 'c' })];
    await t.clock.advance(3100);
    const enis = await Promise.all(got);
    expect(new Set(enis.map((e) => e.id)).size).toBe(3);
    for (const e of enis) t.pool.release(e.primaryIp);
    await t.clock.advance(50);
    expect(t.journal.pending().filter((o) => o.kind === 'delete-eni')).toHaveLength(2);
    await t.clock.advance(2100);
    expect(t.factory.calls.filter((c) => c.startsWith('delete'))).toHaveLength(2);
    expect(t.pool.stats()).toMatchObject({ enis: 1, idle: 1 });
    expect([...t.factory.enis.keys()]).toEqual(t.journal.saved.map((e) => e.id));
    expect(t.journal.pending()).toEqual([]);
  });

  it('a crash during create: the journalled create is completed with its token at start (no second ENI), a leased ENI stays leased', async () => {
    const journal = new MemoryJournal();
    const t = setup({ minIdle: 0 }, undefined, journal);
    await t.pool.start(new Set());
    const a = t.pool.acquire({ label: 'a' });
    await t.clock.advance(3100);
    const leased = await a;
    const b = t.pool.acquire({ label: 'b' }).then(() => undefined, (e: unknown) => e); // its create is in flight when the daemon dies
    await t.clock.advance(100);
    const pending = journal.pending();
    expect(pending).toEqual([expect.objectContaining({ kind: 'create-eni' })]);
    const saved = journal.saved;
    await t.pool.stop(0);
    expect(String(await b)).toMatch(/stopping/u);
    await t.clock.advance(3000); // the cloud finishes the create the dead daemon asked for; the reply is lost
    expect(t.factory.enis.size).toBe(2);
    const after = new MemoryJournal(); // the database as the crash left it
    for (const op of pending) after.begin(op);
    after.saved = saved;
    const restarted = setup({ minIdle: 0, maxIdle: 5 }, undefined, after, t.factory);
    const report = await restarted.pool.start(new Set([leased.primaryIp]));
    expect(report.completed).toEqual([`create-eni ${pending[0]?.id ?? ''} completed (eni-2)`]);
    expect(after.pending()).toEqual([]);
    expect(t.factory.enis.size).toBe(2);
    expect(restarted.pool.stats()).toMatchObject({ enis: 2, leased: 1, idle: 1 });
    await expect(restarted.pool.acquire({ label: 'c', requested: leased.primaryIp })).rejects.toThrow(/already in use/u);
    expect((await restarted.pool.acquire({ label: 'c' })).id).toBe('eni-2');
    await restarted.pool.stop(0);
  });

  it('a vSwitch out of addresses is inhibited and the next ENI comes from the other one', async () => {
    const t = setup({ minIdle: 0 });
    t.factory.fail('create', 'vswitch-exhausted');
    t.factory.vsws = [{ id: 'vsw-a', available: 200 }, { id: 'vsw-b', available: 100 }];
    await t.pool.start(new Set());
    const a = t.pool.acquire({ label: 'a' });
    await t.clock.advance(3100);
    await t.clock.advance(3100);
    expect((await a).vSwitchId).toBe('vsw-b');
    expect(t.factory.calls).toEqual(['create vsw-a 1', 'create vsw-b 1']);
  });
});

describe('EniSource', () => {
  it('grants the ENI\'s primary IP with its host link found by MAC; a missing link sets the ENI aside and takes another', async () => {
    const t = setup({ minIdle: 2, maxIdle: 2 });
    await t.pool.start(new Set());
    await t.clock.advance(3100);
    const links = new Map<string, string>();
    for (const e of t.factory.enis.values()) links.set(e.mac, `eni${e.mac.replaceAll(':', '')}`);
    const first = [...t.factory.enis.values()][0];
    if (first === undefined) throw new Error('no ENI');
    links.delete(first.mac); // still in a pod's netns
    const src = new EniSource(t.pool, (mac: MacAddr) => Promise.resolve(links.get(mac) as IfName | undefined));
    const g = await src.take({ label: 'ns/a', used: new Set() });
    expect(g.eni?.id).not.toBe(first.id);
    expect(g).toMatchObject({ ip: g.eni?.primaryIp, subnet: '192.168.0.0/16', eni: { link: `eni${(g.eni?.mac ?? '').replaceAll(':', '')}` } });
    expect(t.pool.stats()).toMatchObject({ leased: 1, idle: 0 }); // the other is set aside, not idle
    expect(src.has(first.primaryIp)).toBe(true);
    await expect(src.take({ label: 'ns/x', requested: '10.0.0.1' as IpAddr, used: new Set() })).rejects.toThrow(/requested IP 10\.0\.0\.1 is not the primary IP of an ENI of this node/u);
    src.returned(g.ip);
    expect(t.pool.stats()).toMatchObject({ leased: 0 });
  });
});
