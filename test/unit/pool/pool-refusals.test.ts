/**
 * The pool when the cloud refuses (bad credentials, permissions: a fatal failure) or its start fails: allocations
 * fail at once with the reason, never wait until the plugin's deadline; a new config ends the pause.
 */
import { ExhaustedError, UnavailableError } from '../../../src/lib/errors.js';
import { silentLogger } from '../../../src/lib/log.js';
import { Pool } from '../../../src/pool/pool.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { FakeCloudError, FakeFactory, MemoryJournal } from './fake-factory.js';

function setup() {
  const clock = new FakeClock();
  const factory = new FakeFactory(clock);
  const journal = new MemoryJournal();
  let n = 0;
  const pool = new Pool({ factory, journal, log: silentLogger, clock, newToken: () => `tok-${String(++n)}`, options: { minIdle: 0, maxIdle: 2, fatalRetryMs: 60_000, warmEnis: 0 } }); // cold: one create at a time
  return { clock, factory, pool, journal };
}

describe('Pool under refusals', () => {
  it('after a fatal failure, allocations during the pause fail at once saying why; a new config ends the pause', async () => {
    const t = setup();
    await t.pool.start(new Set());
    t.factory.fail('create', 'fatal', 1);
    const first = t.pool.acquire({ label: 'ns/a' });
    const firstDone = first.then(() => 'ok', (e: unknown) => e);
    await t.clock.advance(3100);
    expect(await firstDone).toBeInstanceOf(ExhaustedError);
    // within the pause: rejected at the next plan (the coalescing window), not after 60 s
    const second = t.pool.acquire({ label: 'ns/b' }).then(() => 'ok', (e: unknown) => e);
    await t.clock.advance(100);
    const err = await second;
    expect(err).toBeInstanceOf(ExhaustedError);
    expect((err as Error).message).toMatch(/refused the last call .*injected fatal.*tries again in \d+ s/u);
    t.pool.configure({});
    const third = t.pool.acquire({ label: 'ns/c' });
    await t.clock.advance(3200);
    expect((await third).ip).toMatch(/^192\.168\./u);
    await t.pool.stop(0);
  });

  it('a pool whose start failed rejects allocations at once with the reason; a later start serves', async () => {
    const t = setup();
    const limits = t.factory.limits.bind(t.factory);
    t.factory.limits = () => Promise.reject(new Error('metadata unreachable'));
    await expect(t.pool.start(new Set())).rejects.toThrow('metadata unreachable');
    await expect(t.pool.acquire({ label: 'ns/a' })).rejects.toThrow(UnavailableError);
    await expect(t.pool.acquire({ label: 'ns/a' })).rejects.toThrow(/has not started: metadata unreachable/u);
    t.factory.limits = limits;
    await t.pool.start(new Set());
    const got = t.pool.acquire({ label: 'ns/a' });
    await t.clock.advance(3200);
    expect((await got).ip).toBeDefined();
    await t.pool.stop(0);
  });
});

describe('Pool: a create whose reply was lost', () => {
  it('is made again with the same token and parameters (one ENI in the cloud, journalled until done), even without new demand', async () => {
    const t = setup();
    const create = t.factory.createEni.bind(t.factory);
    const tokens: string[] = [];
    let lose = 1;
    t.factory.createEni = async (vsw, count, token) => {
      tokens.push(`${vsw}/${String(count)}/${token}`);
      const res = await create(vsw, count, token); // took effect in the cloud…
      if (lose-- > 0) throw new FakeCloudError('transient', 'socket hang up'); // …the reply was lost
      return res;
    };
    await t.pool.start(new Set());
    const a = t.pool.acquire({ label: 'ns/a' }).then((x) => x, (e: unknown) => e);
    await t.clock.advance(3100);
    expect(t.journal.pending().map((o) => o.kind)).toEqual(['create-eni']); // kept: its ENI may exist
    await t.clock.advance(10_000);
    expect(tokens).toHaveLength(2);
    expect(tokens[1]).toBe(tokens[0]);
    expect(t.factory.enis.size).toBe(1);
    expect(t.pool.stats().enis).toBe(1);
    expect(t.journal.pending()).toEqual([]);
    expect(await a).toMatchObject({ eni: { id: 'eni-1' } });
    await t.pool.stop(0);
  });
});
