/** The pool over a fake cloud on a fake clock: warm-up, waiting and coalescing, failover, inhibit windows, shrink, reclaim. */
import type { IpAddr } from '../../../src/lib/brand.js';
import { ConflictError, ExhaustedError } from '../../../src/lib/errors.js';
import { silentLogger } from '../../../src/lib/log.js';
import { Pool, type PoolOptions } from '../../../src/pool/pool.js';
import { FakeClock, flushAsync } from '../../helpers/fake-clock.js';
import { FakeFactory, MemoryJournal } from './fake-factory.js';

/** Warm ENIs off unless a test turns them on (these tests count the calls the watermarks make). */
function setup(options: Partial<PoolOptions> = {}, caps = { maxEnis: 2, ipsPerEni: 10 }, random = () => 0.5) {
  const clock = new FakeClock();
  const factory = new FakeFactory(clock, caps);
  const journal = new MemoryJournal();
  let n = 0;
  const pool = new Pool({ factory, journal, log: silentLogger, clock, random, newToken: () => `tok-${String(++n)}`, options: { minIdle: 2, maxIdle: 5, warmEnis: 0, ...options } });
  return { clock, factory, journal, pool };
}

describe('Pool', () => {
  it('warms up to min_pool_size with one ENI, journals the call and saves the ENI', async () => {
    const t = setup();
    await t.pool.start(new Set());
    await t.clock.advance(100);
    expect(t.factory.calls).toEqual(['create vsw-a 2']);
    expect(t.journal.pending()).toHaveLength(1);
    expect(t.journal.pending()[0]).toMatchObject({ kind: 'create-eni', vSwitchId: 'vsw-a', count: 2, token: expect.any(String) });
    await t.clock.advance(3000);
    expect(t.pool.stats()).toMatchObject({ enis: 1, ips: 2, idle: 2, leased: 0, inFlight: 0 });
    expect(t.journal.pending()).toEqual([]);
    expect(t.journal.saved.map((e) => e.id)).toEqual(['eni-1']);
  });

  it('idle IPs are served at once; a burst beyond them waits, coalesced into one assign, FIFO; waiters are told why', async () => {
    const t = setup();
    await t.pool.start(new Set());
    await t.clock.advance(3100);
    const a = await t.pool.acquire({ label: 'ns/a' });
    const b = await t.pool.acquire({ label: 'ns/b' });
    expect(a.eni.id).toBe('eni-1');
    expect(a.ip).not.toBe(b.ip);
    const notices: string[] = [];
    const waiting = ['c', 'd', 'e'].map((p) => t.pool.acquire({ label: `ns/${p}`, onWait: (w) => notices.push(w.what) }));
    await t.clock.advance(0);
    expect(t.pool.stats().waiting).toBeGreaterThan(0);
    await t.clock.advance(5000);
    const got = await Promise.all(waiting);
    expect(new Set([a.ip, b.ip, ...got.map((g) => g.ip)]).size).toBe(5);
    // one assign carried the whole burst (3 waiting + the target idle), not one call per pod; the next one is the
    // demand-aware refill keeping a burst of 5 warm
    expect(t.factory.calls.filter((c) => c.startsWith('assign'))).toEqual(['assign eni-1 5', 'assign eni-1 3']);
    expect(notices[0]).toMatch(/waiting for|asking fake-cloud/u);
  });

  it('a requested IP must be idle in the pool; never two holders of one IP', async () => {
    const t = setup();
    await t.pool.start(new Set());
    await t.clock.advance(3100);
    const a = await t.pool.acquire({ label: 'ns/a' });
    await expect(t.pool.acquire({ label: 'ns/b', requested: a.ip })).rejects.toBeInstanceOf(ConflictError);
    t.pool.release(a.ip);
    expect((await t.pool.acquire({ label: 'ns/b', requested: a.ip })).ip).toBe(a.ip);
    await expect(t.pool.acquire({ label: 'ns/c', requested: '10.9.9.9' as IpAddr })).rejects.toThrow(/not on any of this node's ENIs/u);
  });

  it('IpNotEnough on a vSwitch: inhibited, the next vSwitch serves; the capacity limit fails waiters with the reason', async () => {
    const t = setup({ minIdle: 0 }, { maxEnis: 1, ipsPerEni: 3 });
    t.factory.fail('create', 'vswitch-exhausted');
    await t.pool.start(new Set());
    const first = t.pool.acquire({ label: 'ns/a' });
    await t.clock.advance(3100);
    await t.clock.advance(3100);
    expect((await first).eni.vSwitchId).toBe('vsw-b');
    expect(t.factory.calls.slice(0, 2)).toEqual(['create vsw-a 1', 'create vsw-b 1']);
    await Promise.all([t.pool.acquire({ label: 'ns/b' }), t.pool.acquire({ label: 'ns/c' })].map(async (p) => { await t.clock.advance(2000); return p; }));
    const over = t.pool.acquire({ label: 'ns/d' });
    const caught = over.catch((e: unknown) => e);
    await t.clock.advance(100);
    expect(await caught).toBeInstanceOf(ExhaustedError);
    expect(String(await caught)).toMatch(/ns\/d: no IP: this node holds all 3 IPs it may have \(1 ENIs × 3 IPs\)/u);
  });

  it('a transient failure pauses new calls for retryMs, then the pool tries again and serves the waiter', async () => {
    const t = setup({ minIdle: 0, retryMs: 10_000 });
    t.factory.fail('create', 'transient');
    await t.pool.start(new Set());
    const p = t.pool.acquire({ label: 'ns/a' });
    await t.clock.advance(3100);
    expect(t.factory.calls).toEqual(['create vsw-a 1']);
    await t.clock.advance(5000);
    expect(t.factory.calls).toHaveLength(1); // paused
    await t.clock.advance(9000);
    expect((await p).eni.id).toBe('eni-1');
    expect(t.factory.calls.slice(0, 2)).toEqual(['create vsw-a 1', 'create vsw-a 1']);
  });

  it('above max_pool_size idle IPs go back; a fully idle ENI is deleted; nothing is released while allocations wait', async () => {
    const t = setup({ minIdle: 0, maxIdle: 2 });
    await t.pool.start(new Set());
    const held = [];
    for (let i = 0; i < 6; i++) {
      const p = t.pool.acquire({ label: `ns/p${String(i)}` });
      await t.clock.advance(3100);
      held.push(await p);
    }
    expect(t.pool.stats().leased).toBe(6);
    const before = t.factory.calls.length;
    for (const h of held) {
      t.pool.release(h.ip);
      // above max_pool_size the excess is retired at once: never idle, reported as releasing
      expect(t.pool.stats().idle).toBeLessThanOrEqual(2);
    }
    const st = t.pool.stats();
    expect(st).toMatchObject({ idle: 2, leased: 0 });
    expect(st.releasing).toBe(st.ips - 2);
    expect(t.factory.calls.slice(before)).toEqual([]); // the calls wait for the coalescing window
    await t.clock.advance(100);
    // no hysteresis above max_pool_size: the excess (< a batch of 10) goes now, not after a shrink delay
    expect(t.factory.calls.slice(before).length).toBeGreaterThan(0);
    expect(t.factory.calls.slice(before).every((c) => c.startsWith('unassign') || c.startsWith('delete'))).toBe(true);
    await t.clock.advance(3000);
    expect(t.pool.stats()).toMatchObject({ idle: 2, releasing: 0, inFlight: 0 });
    const inCloud = [...t.factory.enis.values()].reduce((n, e) => n + e.ips.length, 0);
    expect(inCloud).toBe(t.pool.stats().ips); // the pool and the cloud agree: nothing leaked
  });

  it.each([
    ['low', 0, 80_000],
    ['high', 0.999, 120_000],
  ])('idle reclaim: after reclaimAfterMs without changes, batches of reclaimBatch every interval ± jitter (%s draw) down to the target', async (_name, draw, gap) => {
    const t = setup(
      { minIdle: 1, maxIdle: 20, reclaimAfterMs: 60_000, reclaimIntervalMs: 100_000, reclaimJitter: 0.2, reclaimBatch: 2, syncIntervalMs: 1000, demand: { burstWindowMs: 10_000, historyMs: 30_000, demandAware: true } },
      undefined,
      () => draw,
    );
    await t.pool.start(new Set());
    const burst = ['a', 'b', 'c', 'd', 'e', 'f'].map((p) => t.pool.acquire({ label: p }));
    await t.clock.advance(3100);
    await t.clock.advance(3100);
    const got = await Promise.all(burst);
    for (const g of got) t.pool.release(g.ip);
    const releasedAt = t.clock.now();
    await t.clock.advance(5000);
    const start = t.pool.stats().idle;
    expect(start).toBeGreaterThanOrEqual(6); // the burst is remembered: kept warm (within max_pool_size)
    const drops: { at: number; by: number }[] = [];
    let last = start;
    for (let i = 0; i < 900 && last > 1; i++) {
      await t.clock.advance(1000);
      const now = t.pool.stats().idle;
      if (now < last) drops.push({ at: t.clock.now(), by: last - now });
      last = now;
    }
    expect(last).toBe(1); // down to the target (min_pool_size; the burst is out of the 30 s history)
    expect(drops.length).toBe(Math.ceil((start - 1) / 2));
    expect(drops.every((d) => d.by <= 2)).toBe(true);
    expect(t.factory.calls.filter((c) => c.startsWith('unassign')).every((c) => c.endsWith(' 1') || c.endsWith(' 2'))).toBe(true);
    // the first batch once reclaim is due (60 s after the last change), then one per interval × (1 ± jitter): the
    // pool's own releases do not reset the reclaim clock
    expect((drops[0]?.at ?? 0) - releasedAt).toBeGreaterThanOrEqual(60_000);
    expect((drops[0]?.at ?? 0) - releasedAt).toBeLessThanOrEqual(62_000);
    for (let i = 1; i < drops.length; i++) {
      const d = (drops[i]?.at ?? 0) - (drops[i - 1]?.at ?? 0);
      expect(d).toBeGreaterThanOrEqual(gap - 1000);
      expect(d).toBeLessThanOrEqual(gap + 1000);
    }
    // a change (an allocation) stops the reclaim: nothing goes back for reclaimAfterMs after it
    t.pool.release((await t.pool.acquire({ label: 'z' })).ip);
    expect(t.pool.stats().idle).toBe(1);
  });
});

describe('Pool: warm ENIs and one call per ENI', () => {
  it('auto warm ENIs cover the node max pods: a burst is served by parallel Assigns on them, never two calls on one ENI; a mass deletion keeps them', async () => {
    // 4 ENIs × 20 IPs may be attached; node max pods 40 → 2 warm ENIs
    const t = setup({ minIdle: 0, maxIdle: 4, warmEnis: 'auto', nodeMaxPods: 40 }, { maxEnis: 4, ipsPerEni: 20 });
    await t.pool.start(new Set());
    await t.clock.advance(3100);
    expect(t.factory.calls).toEqual(['create vsw-a 1', 'create vsw-a 1']);
    expect(t.pool.stats()).toMatchObject({ enis: 2, ips: 2, idle: 2, warmEnis: 2 });
    // 25 pods bound at once: one Assign on each warm ENI in parallel, the rest in the next round; no new ENI
    for (let i = 0; i < 25; i++) t.pool.expect(`ns/p${String(i)}`);
    await t.clock.advance(100);
    expect(t.factory.calls.slice(2)).toEqual(['assign eni-1 10', 'assign eni-2 10']);
    await t.clock.advance(1000);
    expect(t.factory.calls.slice(4)).toEqual(['assign eni-1 3']);
    await t.clock.advance(1000);
    expect(t.pool.stats()).toMatchObject({ ips: 25, heldForScheduled: 25, enis: 2 });
    const got = [];
    for (let i = 0; i < 25; i++) got.push(await t.pool.acquire({ label: `ns/p${String(i)}`, pod: `ns/p${String(i)}` }));
    await t.clock.advance(5000);
    // ADDs nobody announced outrun the stock: they wait for more Assigns, still one call per ENI at a time
    const more = Array.from({ length: 10 }, (_, i) => t.pool.acquire({ label: `ns/q${String(i)}` }));
    await t.clock.advance(5000);
    got.push(...(await Promise.all(more)));
    expect(t.factory.calls.filter((c) => c.startsWith('create'))).toHaveLength(2); // 35 pods + a target of 4 fit the 40 slots
    // mass deletion: idle goes back to max_pool_size by unassigns; the warm ENIs stay attached
    for (const g of got) t.pool.release(g.ip);
    await t.clock.advance(60_000);
    expect(t.pool.stats()).toMatchObject({ enis: 2, inFlight: 0 });
    expect(t.pool.stats().idle).toBeLessThanOrEqual(4);
    expect(t.factory.calls.filter((c) => c.startsWith('delete'))).toEqual([]);
    expect(t.factory.overlaps).toEqual([]);
    expect([...t.factory.enis.values()].reduce((n, e) => n + e.ips.length, 0)).toBe(t.pool.stats().ips);
  });

  it('without warm ENIs a fully idle ENI is deleted as before', async () => {
    const t = setup({ minIdle: 0, maxIdle: 2, warmEnis: 0 }, { maxEnis: 2, ipsPerEni: 10 });
    await t.pool.start(new Set());
    const got = await Promise.all(Array.from({ length: 14 }, async (_, i) => { const p = t.pool.acquire({ label: `ns/p${String(i)}` }); await t.clock.advance(3100); return p; }));
    expect(t.pool.stats().enis).toBe(2);
    for (const g of got) t.pool.release(g.ip);
    await t.clock.advance(30_000);
    expect(t.factory.calls.filter((c) => c.startsWith('delete'))).toHaveLength(1);
    expect(t.pool.stats()).toMatchObject({ enis: 1, inFlight: 0 });
    expect(t.factory.overlaps).toEqual([]);
  });

  it('a mass release: idle never above max_pool_size, the rest retired and unassigned round after round (≤ 10 per ENI per call)', async () => {
    const t = setup({ minIdle: 0, maxIdle: 4, warmEnis: 2 }, { maxEnis: 2, ipsPerEni: 20 });
    await t.pool.start(new Set());
    await t.clock.advance(3100);
    const pending = Array.from({ length: 26 }, (_, i) => t.pool.acquire({ label: `ns/p${String(i)}` }));
    await t.clock.advance(10_000);
    const got = await Promise.all(pending);
    await t.clock.advance(40_000);
    const before = t.factory.calls.length;
    for (const g of got) {
      t.pool.release(g.ip);
      expect(t.pool.stats().idle).toBeLessThanOrEqual(4);
    }
    const st = t.pool.stats();
    // everything above max_pool_size is retired at once (the primaries of the warm ENIs stay: they are never unassigned)
    expect(st).toMatchObject({ idle: 4, leased: 0 });
    expect(st.releasing).toBe(st.ips - 4);
    expect(st.releasing).toBeGreaterThan(10);
    // one Unassign of ≤ 10 per ENI per round, rounds back to back (0.5 s each), in the fewest calls
    for (let i = 0; i < 30; i++) {
      await t.clock.advance(100);
      expect(t.pool.stats().idle).toBeLessThanOrEqual(4);
    }
    const calls = t.factory.calls.slice(before);
    expect(calls.every((c) => c.startsWith('unassign'))).toBe(true);
    expect(calls.reduce((n, c) => n + Number(c.split(' ')[2]), 0)).toBe(st.releasing);
    expect(calls).toHaveLength(Math.ceil(st.releasing / 10));
    expect(t.pool.stats()).toMatchObject({ idle: 4, releasing: 0, inFlight: 0, ips: 4 });
    expect(t.factory.overlaps).toEqual([]);
  });

  it('a retired IP whose call has not started serves an ADD that finds nothing idle, without a cloud call', async () => {
    const t = setup({ minIdle: 0, maxIdle: 0, coalesceMs: 50 });
    await t.pool.start(new Set());
    const a = t.pool.acquire({ label: 'ns/a' });
    await t.clock.advance(3100);
    const got = await a;
    await t.clock.advance(5000);
    const before = t.factory.calls.length;
    t.pool.release(got.ip);
    expect(t.pool.stats()).toMatchObject({ idle: 0, releasing: 1 });
    const notices: string[] = [];
    const b = await t.pool.acquire({ label: 'ns/b', onWait: (w) => notices.push(w.what) });
    expect(notices).toEqual([]);
    expect(b.ip).toBe(got.ip);
    expect(t.pool.stats()).toMatchObject({ idle: 0, releasing: 0, leased: 1 });
    await t.clock.advance(5000);
    expect(t.factory.calls.slice(before)).toEqual([]);
  });

  it('churn at the watermark: a DEL above max_pool_size retires an IP, a binding within the coalescing window brings it back (no call)', async () => {
    const t = setup({ minIdle: 0, maxIdle: 2, coalesceMs: 50 });
    await t.pool.start(new Set());
    const p = ['a', 'b', 'c'].map((x) => t.pool.acquire({ label: `ns/${x}` }));
    await t.clock.advance(3100);
    const got = await Promise.all(p);
    await t.clock.advance(5000);
    expect(t.pool.stats()).toMatchObject({ idle: 2, leased: 3 });
    const before = t.factory.calls.length;
    t.pool.release(got[0]?.ip as IpAddr); // one pod deleted: 3 unleased > max 2
    expect(t.pool.stats()).toMatchObject({ idle: 2, releasing: 1 });
    await t.clock.advance(10);
    t.pool.expect('ns/d'); // a pod bound 10 ms later: its IP is the retired one
    expect(t.pool.stats()).toMatchObject({ idle: 2, heldForScheduled: 1, releasing: 0 });
    await t.clock.advance(5000);
    expect(t.factory.calls.slice(before)).toEqual([]);
    // without the binding the retired IP goes back in the next plan: a single Unassign of 1
    t.pool.forget('ns/d');
    await t.clock.advance(5000);
    expect(t.factory.calls.slice(before)).toEqual(['unassign eni-1 1']);
    expect(t.pool.stats()).toMatchObject({ idle: 2, releasing: 0, inFlight: 0 });
  });

  it('a fixed warmEnis count; configure() changes it (nodeMaxPods from the Node) and the pool follows', async () => {
    const t = setup({ minIdle: 0, maxIdle: 5, warmEnis: 2 }, { maxEnis: 4, ipsPerEni: 10 });
    await t.pool.start(new Set());
    await t.clock.advance(3100);
    expect(t.pool.stats()).toMatchObject({ enis: 2, warmEnis: 2 });
    t.pool.configure({ warmEnis: 'auto', nodeMaxPods: 35 });
    await t.clock.advance(3100);
    expect(t.pool.stats()).toMatchObject({ enis: 4, warmEnis: 4 });
  });
});

describe('Pool: schedule-time demand', () => {
  it('an expected pod gets its IP before its ADD, beyond max_pool_size; the ADD consumes the expectation; held vs idle reported apart', async () => {
    const t = setup({ minIdle: 0, maxIdle: 1 });
    await t.pool.start(new Set());
    for (const p of ['a', 'b', 'c']) t.pool.expect(`ns/${p}`);
    t.pool.expect('ns/a'); // repeated: counted once
    await t.clock.advance(100);
    expect(t.factory.calls).toEqual(['create vsw-a 3']);
    await t.clock.advance(3000);
    expect(t.pool.stats()).toMatchObject({ ips: 3, idle: 0, heldForScheduled: 3, expected: 3, leased: 0 });
    const notices: string[] = [];
    const a = await t.pool.acquire({ label: 'ns/a', pod: 'ns/a', onWait: (w) => notices.push(w.what) });
    expect(notices).toEqual([]); // served without waiting for the cloud
    expect(t.pool.stats()).toMatchObject({ idle: 0, heldForScheduled: 2, expected: 2, leased: 1 });
    t.pool.expect('ns/a'); // its ADD came: a repeated expect does not revive it
    expect(t.pool.stats().expected).toBe(2);
    // an unannounced ADD takes any unleased IP (not earmarked); the refill brings one back for the pods still expected,
    // and one for the (demand-aware) target: an unannounced allocation is burst history
    await t.pool.acquire({ label: 'ns/x' });
    await t.clock.advance(100);
    expect(t.factory.calls.slice(1)).toEqual(['assign eni-1 2']);
    await t.clock.advance(1000);
    expect(t.pool.stats()).toMatchObject({ ips: 5, heldForScheduled: 2, expected: 2, idle: 1, leased: 2 });
    t.pool.release(a.ip);
    // idle would be 2 > max_pool_size 1: one is retired at once (releasing, not idle)
    expect(t.pool.stats()).toMatchObject({ idle: 1, releasing: 1, heldForScheduled: 2 });
  });

  it('a pod deleted before its ADD, or whose ADD never comes, stops being expected; the IPs go back above max_pool_size', async () => {
    const t = setup({ minIdle: 0, maxIdle: 1, scheduledTtlMs: 120_000 });
    await t.pool.start(new Set());
    for (let i = 0; i < 4; i++) t.pool.expect(`ns/p${String(i)}`);
    await t.clock.advance(3100);
    expect(t.pool.stats()).toMatchObject({ ips: 4, heldForScheduled: 4, idle: 0 });
    t.pool.forget('ns/p0'); // deleted before ADD
    await t.clock.advance(100);
    expect(t.pool.stats()).toMatchObject({ expected: 3, heldForScheduled: 3, idle: 1 }); // within max_pool_size: kept
    await t.clock.advance(120_000); // the others never came to ADD
    expect(t.pool.stats()).toMatchObject({ expected: 0, heldForScheduled: 0 });
    await t.clock.advance(20_000);
    await flushAsync();
    expect(t.pool.stats()).toMatchObject({ idle: 1, releasing: 0, inFlight: 0 }); // the excess went back at the next plan
    expect(t.factory.calls.slice(1)).toEqual(['unassign eni-1 3']);
    // expired is not revived by a repeated expect; forget clears it so a pod can be expected again
    t.pool.expect('ns/p1');
    expect(t.pool.stats().expected).toBe(0);
    t.pool.forget('ns/p1');
    t.pool.expect('ns/p1');
    expect(t.pool.stats().expected).toBe(1);
  });

  it('an announced ADD served from its held IP is not part of the burst history; one that had to wait is', async () => {
    const t = setup({ minIdle: 0, maxIdle: 10 });
    await t.pool.start(new Set());
    for (let i = 0; i < 5; i++) t.pool.expect(`ns/p${String(i)}`);
    await t.clock.advance(3100);
    for (let i = 0; i < 5; i++) await t.pool.acquire({ label: `ns/p${String(i)}`, pod: `ns/p${String(i)}` });
    await t.clock.advance(100);
    expect(t.pool.stats()).toMatchObject({ idle: 0, leased: 5, inFlight: 0 }); // no refill for a burst history
    const late = ['q0', 'q1', 'q2'].map((p) => t.pool.acquire({ label: `ns/${p}`, pod: `ns/${p}` }));
    await t.clock.advance(1100);
    await Promise.all(late);
    await t.clock.advance(3100); // the third IP needs a second ENI (10 IPs per ENI)
    expect(t.pool.stats()).toMatchObject({ idle: 3, leased: 8 }); // 3 that waited, in one burst: kept warm
  });
});

describe('Pool recovery at start', () => {
  it('a create cut short is completed with its token (no second ENI); a cut unassign is redone; invalid leases and unknown IPs are reported', async () => {
    const t = setup({ minIdle: 0, maxIdle: 10 });
    // the "previous daemon": an ENI the cloud created for token tok-crash, its operation still journalled
    const made = t.factory.createEni('vsw-a', 3, 'tok-crash');
    await t.clock.advance(3000);
    const eni = await made;
    t.journal.begin({ id: 'op-1', kind: 'create-eni', vSwitchId: 'vsw-a', count: 3, token: 'tok-crash', startedAt: 0 });
    const [, second, third] = eni.ips as [IpAddr, IpAddr, IpAddr];
    t.journal.begin({ id: 'op-2', kind: 'unassign', eniId: eni.id, ips: [third], startedAt: 1 });
    const started = t.pool.start(new Set([second, '10.1.1.1' as IpAddr]));
    await t.clock.advance(1000);
    const report = await started;
    expect(t.factory.enis.size).toBe(1); // the create was not made twice
    expect(report.completed).toEqual([`create-eni op-1 completed (${eni.id})`, 'unassign op-2 redone']);
    expect(report.invalidLeases).toEqual(['10.1.1.1']);
    expect(report.adopted).toEqual([eni.primaryIp]);
    expect(t.journal.pending()).toEqual([]);
    expect(t.pool.stats()).toMatchObject({ enis: 1, ips: 2, leased: 1, idle: 1 });
  });
});
