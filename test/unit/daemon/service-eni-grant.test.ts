/**
 * The service over the warm pool: a grant whose ENI cannot be found on the host (by MAC) or set up there goes back to
 * the pool (the ADD fails, nothing leaks); once the ENI is found and set up, the allocation carries its host facts.
 */
import { describe, expect, it } from '@jest/globals';
import type { EniResource } from '../../../src/pool/types.js';
import type { EniFacts } from '../../../src/modes/types.js';
import type { IfName } from '../../../src/lib/brand.js';
import { UnavailableError } from '../../../src/lib/errors.js';
import { realClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/log.js';
import { HubService } from '../../../src/daemon/service.js';
import { Pool } from '../../../src/pool/pool.js';
import { PoolSource } from '../../../src/pool/source.js';
import { LeaseStore } from '../../../src/store/store.js';
import { FakeFactory, MemoryJournal } from '../pool/fake-factory.js';
import { tempDir } from '../../helpers/tmp.js';
import { FakeProvider, req } from './helpers/fixtures.js';

class CloudProvider extends FakeProvider {
  linkMissing = true;
  eniFactsOf(eni: EniResource): Promise<EniFacts> {
    if (this.linkMissing) return Promise.reject(new UnavailableError(`ENI ${eni.mac}: no host link with this MAC`));
    return Promise.resolve({ link: 'eth9' as IfName, ifindex: 9, gateway: eni.gateway, table: 1009 });
  }
}

describe('HubService over the pool: ENI host facts and setup', () => {
  it('a grant whose ENI is not found or not set up goes back to the pool; then the allocation carries the ENI', async () => {
    const factory = new FakeFactory(realClock);
    factory.latency = { create: 0, assign: 0, unassign: 0, delete: 0 };
    const pool = new Pool({ factory, journal: new MemoryJournal(), log: silentLogger, newToken: () => Math.random().toString(36), options: { minIdle: 2, maxIdle: 4, coalesceMs: 1 } });
    await pool.start(new Set());
    const provider = new CloudProvider();
    let setupFails = 1;
    const prepared: string[] = [];
    const svc = new HubService({
      store: LeaseStore.open(tempDir()),
      provider,
      source: new PoolSource(pool, factory.name),
      mtu: 1500,
      prepareEni: (_p, _l, eni) => {
        if (setupFails-- > 0) return Promise.reject(new UnavailableError(`ENI ${eni.id}: host setup failed`));
        prepared.push(eni.id);
        return Promise.resolve();
      },
    });
    try {
      await expect(svc.allocate(req('c1'))).rejects.toThrow(/no host link/u);
      expect(pool.stats().leased).toBe(0);
      provider.linkMissing = false;
      await expect(svc.allocate(req('c1'))).rejects.toThrow(/host setup failed/u);
      expect(pool.stats().leased).toBe(0);
      const { allocation } = await svc.allocate(req('c1'));
      expect(allocation).toMatchObject({ mode: 'veth-policy-routing', eni: { link: 'eth9', ifindex: 9, table: 1009 } });
      expect(pool.stats().leased).toBe(1);
      expect(prepared).toHaveLength(1);
    } finally {
      await pool.stop();
    }
  });
});
