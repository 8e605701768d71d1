/** The periodic sync of the pool with the node's view (metadata service): the pure decision and the pool applying it. */
import type { IpAddr } from '../../../src/lib/brand.js';
import { silentLogger } from '../../../src/lib/log.js';
import { Pool } from '../../../src/pool/pool.js';
import { planSync } from '../../../src/pool/sync.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { FakeFactory, MemoryJournal } from './fake-factory.js';

const ip = (s: string) => s as IpAddr;

describe('planSync (pure)', () => {
  const eni = (id: string, ips: string[], leased: string[], busy = false) => ({ id, ips: ips.map(ip), leased: new Set(leased.map(ip)), busy });

  it('a leased IP no longer listed is invalid; an idle one dropped; an unknown one adopted', () => {
    const d = planSync([eni('e1', ['10.0.0.2', '10.0.0.3', '10.0.0.4'], ['10.0.0.3'])], new Map([['e1', [ip('10.0.0.2'), ip('10.0.0.9')]]]));
    expect(d).toEqual({
      invalid: [{ eniId: 'e1', ip: '10.0.0.3' }],
      dropped: [{ eniId: 'e1', ip: '10.0.0.4' }],
      adopted: [{ eniId: 'e1', ips: ['10.0.0.9'] }],
    });
  });

  it('an ENI with an operation under way is left alone; an ENI the node does not list: only its leases are invalid', () => {
    const d = planSync([eni('busy', ['10.0.0.2'], ['10.0.0.2'], true), eni('gone', ['10.0.1.2', '10.0.1.3'], ['10.0.1.3'])], new Map([['busy', []]]));
    expect(d).toEqual({ invalid: [{ eniId: 'gone', ip: '10.0.1.3' }], dropped: [], adopted: [] });
    expect(planSync([eni('e1', ['10.0.0.2'], ['10.0.0.2'])], new Map([['e1', [ip('10.0.0.2')]]]))).toEqual({ invalid: [], dropped: [], adopted: [] });
  });
});

describe('Pool.sync', () => {
  async function warm() {
    const clock = new FakeClock();
    const factory = new FakeFactory(clock);
    const journal = new MemoryJournal();
    let n = 0;
    const pool = new Pool({ factory, journal, log: silentLogger, clock, newToken: () => `tok-${String(++n)}`, options: { minIdle: 3, maxIdle: 5 } });
    await pool.start(new Set());
    await clock.advance(3100);
    return { clock, pool, journal };
  }

  it('adopts unknown IPs as idle (saved), drops idle IPs the node no longer lists, reports invalid leases', async () => {
    const { pool, journal } = await warm();
    const [e] = pool.enis();
    if (e === undefined) throw new Error('no ENI');
    const a = await pool.acquire({ label: 'ns/a' });
    const idle = e.ips.filter((x) => x !== a.ip);
    const seen = new Map([[e.id, [...idle.slice(1), ip('192.168.99.9')]]]);
    const d = pool.sync(pool.opSeq, seen);
    expect(d?.invalid).toEqual([{ eniId: e.id, ip: a.ip }]);
    expect(d?.adopted).toEqual([{ eniId: e.id, ips: ['192.168.99.9'] }]);
    expect(d?.dropped).toEqual([{ eniId: e.id, ip: idle[0] }]);
    expect(pool.eniOf(ip('192.168.99.9'))?.id).toBe(e.id);
    expect(pool.eniOf(idle[0] ?? ip(''))).toBeUndefined();
    expect(pool.eniOf(a.ip)?.id).toBe(e.id); // the lease stays until its DEL
    expect(journal.saved.flatMap((x) => x.ips)).toContain('192.168.99.9');
    await pool.stop(0);
  });

  it('a view read while a cloud operation started is void', async () => {
    const { clock, pool } = await warm();
    const seq = pool.opSeq;
    const [e] = pool.enis();
    if (e === undefined) throw new Error('no ENI');
    for (const label of ['a', 'b', 'c']) await pool.acquire({ label }); // below min idle: a refill starts
    await clock.advance(100);
    expect(pool.opSeq).toBeGreaterThan(seq);
    expect(pool.sync(seq, new Map([[e.id, []]]))).toBeUndefined();
    await pool.stop(0);
  });
});
