/**
 * Stopping a pool with cloud calls under way (the daemon's shutdown): stop resolves only once they have landed and
 * been journaled, so the store can be closed after it; past the grace nothing more is written and the journal still
 * lists the call for the next start to reconcile. (CI once failed with "The database connection is not open": an
 * Assign landed after the daemon had closed its store.)
 */
import { silentLogger } from '../../../src/lib/log.js';
import { Pool } from '../../../src/pool/pool.js';
import type { PoolOperation } from '../../../src/pool/types.js';
import { FakeClock, flushAsync } from '../../helpers/fake-clock.js';
import { FakeFactory, MemoryJournal } from './fake-factory.js';

/** A journal that throws once closed, as the SQLite store does. */
class ClosableJournal extends MemoryJournal {
  closed = false;
  override begin(op: PoolOperation): void { this.#open(); super.begin(op); }
  override end(id: string): void { this.#open(); super.end(id); }
  override saveEnis(...a: Parameters<MemoryJournal['saveEnis']>): void { this.#open(); super.saveEnis(...a); }
  #open(): void { if (this.closed) throw new TypeError('The database connection is not open'); }
}

function setup() {
  const clock = new FakeClock();
  const factory = new FakeFactory(clock);
  const journal = new ClosableJournal();
  let n = 0;
  const pool = new Pool({ factory, journal, log: silentLogger, clock, newToken: () => `tok-${String(++n)}`, options: { minIdle: 2, maxIdle: 4, warmEnis: 0 } });
  return { clock, factory, journal, pool };
}

describe('Pool#stop', () => {
  it('waits for the calls under way and journals their end before resolving', async () => {
    const t = setup();
    await t.pool.start(new Set());
    await t.clock.advance(100); // the first create is under way (it takes 3 s)
    expect(t.journal.pending().length).toBe(1);
    let stopped = false;
    const stopping = t.pool.stop().then(() => { stopped = true; });
    await flushAsync();
    expect(stopped).toBe(false);
    await t.clock.advance(3000);
    await stopping;
    expect(t.journal.pending()).toEqual([]);
    t.journal.closed = true; // the store closes after stop: nothing may write any more
    await t.clock.advance(60_000);
    expect(t.pool.stats().inFlight).toBe(0);
  });

  it('past the grace resolves anyway; the late landing writes nothing and the call stays journaled for the next start', async () => {
    const t = setup();
    t.factory.latency.create = 30_000;
    await t.pool.start(new Set());
    await t.clock.advance(100);
    const stopping = t.pool.stop(5_000);
    await t.clock.advance(5_000);
    await stopping;
    t.journal.closed = true;
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => { unhandled.push(e); };
    process.on('unhandledRejection', onUnhandled);
    await t.clock.advance(30_000); // the create lands now
    await flushAsync();
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
    expect(t.journal.pending().map((op) => op.kind)).toEqual(['create-eni']);
  });
});
