/**
 * The pool when the cloud refuses (bad credentials, permissions: a fatal failure) or its start fails: allocations
 * fail at once with the reason, never wait until the plugin's deadline; a new config ends the pause.
 */
import { ExhaustedError, UnavailableError } from '../../../src/lib/errors.js';
import { silentLogger } from '../../../src/lib/log.js';
import { Pool } from '../../../src/pool/pool.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { FakeFactory, MemoryJournal } from './fake-factory.js';

function setup() {
  const clock = new FakeClock();
  const factory = new FakeFactory(clock);
  let n = 0;
  const pool = new Pool({ factory, journal: new MemoryJournal(), log: silentLogger, clock, newToken: () => `tok-${String(++n)}`, options: { minIdle: 0, maxIdle: 2, fatalRetryMs: 60_000 } });
  return { clock, factory, pool };
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
    t.pool.stop();
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
    t.pool.stop();
  });
});
