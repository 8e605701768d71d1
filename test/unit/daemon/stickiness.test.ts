import { describe, expect, it } from '@jest/globals';
import { HubService } from '../../../src/daemon/service.js';
import { LeaseStore, SCHEMA_VERSION } from '../../../src/store/store.js';
import type { PodFacts, PodFactsSource } from '../../../src/daemon/k8s/hooks.js';
import { ConflictError, InvalidInputError } from '../../../src/lib/errors.js';
import { FakeProvider, lease, req } from './helpers/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';

class Facts implements PodFactsSource {
  readonly pods = new Map<string, PodFacts>();
  get(ns: string, name: string): Promise<PodFacts | undefined> {
    return Promise.resolve(this.pods.get(`${ns}/${name}`));
  }
  sticky(name: string): void {
    this.pods.set(`default/${name}`, { uid: `u-${name}`, hostNetwork: false, sticky: true });
  }
}

function setup(dir = tempDir(), facts = new Facts(), clock = { t: Date.parse('2024-05-01T00:00:00Z') }) {
  const store = LeaseStore.open(dir);
  const svc = new HubService({ store, provider: new FakeProvider(['10.0.0.10-10.0.0.14']), mtu: 1500, podFacts: facts, now: () => new Date(clock.t) });
  return { svc, store, facts, clock, dir };
}

const rel = (c: string) => ({ containerId: c, ifName: 'eth0', reason: 'test' });

describe('IP stickiness', () => {
  it('a re-created sticky pod gets its IP back within the TTL; the reservation blocks other pods', async () => {
    const { svc, store, facts, clock } = setup();
    facts.sticky('web-0');
    const first = await svc.allocate(req('c1', { podName: 'web-0' }));
    expect(store.get({ containerId: 'c1', ifName: 'eth0' })?.sticky).toBe(true);
    expect(first.allocation.ip).toBe('10.0.0.10');
    expect(await svc.release(rel('c1'))).toEqual({ released: true });
    expect(store.reservations()).toEqual([expect.objectContaining({ podNamespace: 'default', podName: 'web-0', ip: '10.0.0.10', expiresAt: '2024-05-01T00:05:00.000Z' })]);
    // another pod does not get the reserved IP
    expect((await svc.allocate(req('other'))).allocation.ip).toBe('10.0.0.11');
    clock.t += 4 * 60_000;
    const again = await svc.allocate(req('c2', { podName: 'web-0' }));
    expect(again.allocation.ip).toBe('10.0.0.10');
    expect(store.reservations()).toEqual([]);
  });

  it('an expired reservation frees the IP (it then cools down like any release)', async () => {
    const { svc, store, facts, clock } = setup();
    facts.sticky('web-0');
    await svc.allocate(req('c1', { podName: 'web-0' }));
    await svc.release(rel('c1'));
    clock.t += 5 * 60_000;
    expect(svc.purgeExpiredReservations()).toBe(1);
    expect(store.reservations()).toEqual([]);
    expect(svc.poolFree()).toBe(5);
    // the re-created pod after the TTL gets a fresh (lowest non-cooling) IP
    expect((await svc.allocate(req('c2', { podName: 'web-0' }))).allocation.ip).toBe('10.0.0.11');
  });

  it('survives a daemon restart (reservations live in SQLite)', async () => {
    const a = setup();
    a.facts.sticky('db-0');
    await a.svc.allocate(req('x1', { podName: 'pad' }));
    await a.svc.allocate(req('c1', { podName: 'db-0' }));
    await a.svc.release(rel('c1'));
    a.store.close();
    const b = setup(a.dir, a.facts, a.clock);
    expect(b.store.schemaVersion()).toBe(SCHEMA_VERSION);
    expect((await b.svc.allocate(req('c9', { podName: 'db-0' }))).allocation.ip).toBe('10.0.0.11');
    b.store.close();
  });

  it('non-sticky pods and pods without a Kubernetes identity release as before', async () => {
    const { svc, store } = setup();
    await svc.allocate(req('c1'));
    await svc.allocate(req('p1', { podName: '', podNamespace: '' }));
    await svc.release(rel('c1'));
    await svc.release(rel('p1'));
    expect(store.reservations()).toEqual([]);
    expect(store.count()).toBe(0);
  });

  it('a newer sandbox of the same pod holding the interface means no reservation for the old one', async () => {
    const { svc, store, facts } = setup();
    facts.sticky('web-0');
    await svc.allocate(req('old', { podName: 'web-0' }));
    await svc.allocate(req('new', { podName: 'web-0' }));
    await svc.release(rel('old'));
    expect(store.reservations()).toEqual([]);
  });

  it('refuses hostNetwork pods', async () => {
    const { svc, facts } = setup();
    facts.pods.set('default/h', { uid: 'u', hostNetwork: true, sticky: false });
    await expect(svc.allocate(req('c1', { podName: 'h' }))).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('the store keeps one IP per pod across leases and reservations', () => {
    const store = LeaseStore.open(tempDir());
    store.put(lease('c1', '10.0.0.10', { sticky: true, podName: 'web-0' }));
    const now = new Date('2024-01-01T00:00:00Z');
    expect(store.releaseToReservation({ containerId: 'c1', ifName: 'eth0' }, now, new Date(now.getTime() + 1000))?.ip).toBe('10.0.0.10');
    expect(() => { store.put(lease('c2', '10.0.0.10', { podName: 'other' })); }).toThrow(ConflictError);
    expect(() => { store.put(lease('c2', '10.0.0.10', { podName: '', podNamespace: '' })); }).toThrow(/reserved for pod default\/web-0/u);
    store.put(lease('c3', '10.0.0.10', { podName: 'web-0' })); // the same pod claims it
    expect(store.reservations()).toEqual([]);
    expect(store.purgeExpiredReservations(new Date('2030-01-01T00:00:00Z'))).toEqual([]);
    store.close();
  });
});
