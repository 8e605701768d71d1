import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HubService } from '../../../src/daemon/service.js';
import { LeaseStore } from '../../../src/store/store.js';
import { BusyError, ConflictError, ExhaustedError, InvalidInputError } from '../../../src/lib/errors.js';
import type { IpAddr } from '../../../src/lib/brand.js';
import { pendingFileName, recordPendingRelease } from '../../../src/lib/pending-release.js';
import { FakeProvider, deferred, req } from './helpers/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';

function setup(ips?: readonly string[]): { svc: HubService; store: LeaseStore; provider: FakeProvider } {
  const store = LeaseStore.open(tempDir());
  const provider = new FakeProvider(ips);
  return { svc: new HubService({ store, provider, mtu: 1450, now: () => new Date('2024-05-01T00:00:00Z') }), store, provider };
}

describe('HubService.allocate', () => {
  it('allocates the lowest free IP with the ENI facts and persists the lease first', async () => {
    const { svc, store } = setup();
    const { allocation } = await svc.allocate(req('c1'));
    expect(allocation).toEqual({
      mode: 'veth-policy-routing',
      ip: '10.0.0.10',
      subnet: '10.0.0.0/24',
      mtu: 1450,
      eni: { link: 'eth1', ifindex: 3, gateway: '10.0.0.1', table: 1003 },
    });
    expect(store.get({ containerId: 'c1', ifName: 'eth0' })).toMatchObject({ podName: 'pod-c1', netns: '/var/run/netns/c1', createdAt: '2024-05-01T00:00:00.000Z' });
  });

  it('is idempotent for the same attachment', async () => {
    const { svc, store } = setup();
    const a = await svc.allocate(req('c1'));
    const b = await svc.allocate(req('c1'));
    expect(b).toEqual(a);
    expect(store.count()).toBe(1);
  });

  it('gives each attachment its own IP and fails with ExhaustedError when none is left', async () => {
    const { svc } = setup(['10.0.0.10-10.0.0.11']);
    expect((await svc.allocate(req('c1'))).allocation.ip).toBe('10.0.0.10');
    expect((await svc.allocate(req('c2'))).allocation.ip).toBe('10.0.0.11');
    await expect(svc.allocate(req('c3'))).rejects.toBeInstanceOf(ExhaustedError);
    expect(await svc.metrics.registry.getSingleMetricAsString('terway_hub_allocation_failures_total')).toMatch(/reason="exhausted"\} 1/u);
  });

  it('does not hand a just-released IP to the next pod', async () => {
    const { svc } = setup(['10.0.0.10-10.0.0.12']);
    await svc.allocate(req('c1'));
    await svc.release({ containerId: 'c1', ifName: 'eth0', reason: 'test' });
    expect((await svc.allocate(req('c2'))).allocation.ip).toBe('10.0.0.11');
  });
});

describe('HubService.allocate with a requested IP (CNI_ARGS IP=, runtimeConfig ips)', () => {
  const ip = (v: string): IpAddr => v as IpAddr;

  it('gives the requested IP, even one in release cool-down (podman network reload re-ADDs it after its DEL)', async () => {
    const { svc } = setup(['10.0.0.10-10.0.0.12']);
    expect((await svc.allocate({ ...req('c1'), requestedIp: ip('10.0.0.12') })).allocation.ip).toBe('10.0.0.12');
    await svc.release({ containerId: 'c1', ifName: 'eth0', reason: 'reload' });
    expect((await svc.allocate({ ...req('c1'), requestedIp: ip('10.0.0.12') })).allocation.ip).toBe('10.0.0.12');
  });

  it('refuses an IP outside the pool, naming the IP and the pool', async () => {
    const { svc, store } = setup(['10.0.0.10-10.0.0.12']);
    const p = svc.allocate({ ...req('c1'), requestedIp: ip('10.0.0.99') });
    await expect(p).rejects.toBeInstanceOf(InvalidInputError);
    await expect(svc.allocate({ ...req('c1'), requestedIp: ip('10.0.0.99') })).rejects.toThrow(/requested IP 10\.0\.0\.99 is not in this node's pool \(10\.0\.0\.0\/24/u);
    expect(store.count()).toBe(0);
  });

  it('refuses an IP another attachment holds, naming the holder', async () => {
    const { svc, store } = setup(['10.0.0.10-10.0.0.12']);
    await svc.allocate(req('c1'));
    const p = svc.allocate({ ...req('c2'), requestedIp: ip('10.0.0.10') });
    await expect(p).rejects.toBeInstanceOf(ConflictError);
    await expect(svc.allocate({ ...req('c2'), requestedIp: ip('10.0.0.10') })).rejects.toThrow(/held by container c1 interface eth0 \(pod default\/pod-c1\)/u);
    expect(store.count()).toBe(1);
  });

  it('refuses a different IP for an attachment that already has a lease', async () => {
    const { svc } = setup(['10.0.0.10-10.0.0.12']);
    await svc.allocate(req('c1'));
    await expect(svc.allocate({ ...req('c1'), requestedIp: ip('10.0.0.11') })).rejects.toThrow(/already holds 10\.0\.0\.10/u);
    expect((await svc.allocate({ ...req('c1'), requestedIp: ip('10.0.0.10') })).allocation.ip).toBe('10.0.0.10');
  });
});

describe('per-pod serialization', () => {
  it('two concurrent allocates for the same pod: one succeeds, one gets BusyError', async () => {
    const { svc, provider, store } = setup();
    const gate = deferred();
    provider.gate = gate.promise;
    const first = svc.allocate(req('c1'));
    const second = svc.allocate(req('c2', { podName: 'pod-c1' })); // same pod, new sandbox
    const sameAttachment = svc.allocate(req('c1', { podName: 'other' }));
    await expect(second).rejects.toBeInstanceOf(BusyError);
    await expect(sameAttachment).rejects.toThrow(BusyError);
    await expect(svc.lookup({ containerId: 'c1', ifName: 'eth0' })).rejects.toThrow(/in progress/u);
    gate.resolve();
    expect((await first).allocation.ip).toBe('10.0.0.10');
    expect(store.count()).toBe(1);
    // after the first finished, the pod can be handled again
    expect((await svc.allocate(req('c2', { podName: 'pod-c1' }))).allocation.ip).toBe('10.0.0.11');
  });

  it('different pods proceed concurrently; pods without a name are keyed by attachment only', async () => {
    const { svc, provider } = setup();
    const gate = deferred();
    provider.gate = gate.promise;
    const all = Promise.all([svc.allocate(req('c1')), svc.allocate(req('c2', { podName: '', podNamespace: '' })), svc.allocate(req('c3', { podName: '', podNamespace: '' }))]);
    gate.resolve();
    expect(new Set((await all).map((r) => r.allocation.ip)).size).toBe(3);
  });

  it('release while the same pod is allocating fails with BusyError', async () => {
    const { svc, provider } = setup();
    await svc.allocate(req('old'));
    const gate = deferred();
    provider.gate = gate.promise;
    const p = svc.allocate(req('new', { podName: 'pod-old' }));
    await expect(svc.release({ containerId: 'old', ifName: 'eth0', reason: 'x' })).rejects.toBeInstanceOf(BusyError);
    gate.resolve();
    await p;
    expect(await svc.release({ containerId: 'old', ifName: 'eth0', reason: 'x' })).toEqual({ released: true });
  });
});

describe('lookup, release, status, gc', () => {
  it('lookup finds the lease with its netns', async () => {
    const { svc } = setup();
    const { allocation } = await svc.allocate(req('c1'));
    expect(await svc.lookup({ containerId: 'c1', ifName: 'eth0' })).toEqual({ found: true, allocation, netns: '/var/run/netns/c1' });
    expect(await svc.lookup({ containerId: 'c1', ifName: 'eth1' })).toEqual({ found: false });
  });

  it('lookup says when a newer sandbox of the same pod holds the interface (not for other pods or podman)', async () => {
    const store = LeaseStore.open(tempDir());
    let t = Date.parse('2024-05-01T00:00:00Z');
    const svc = new HubService({ store, provider: new FakeProvider(['10.0.0.10-10.0.0.20']), mtu: 1450, now: () => new Date((t += 1000)) });
    await svc.allocate(req('old', { podName: 'web' }));
    await svc.allocate(req('other', { podName: 'db' }));
    await svc.allocate(req('pm1', { podName: '', podNamespace: '' }));
    expect((await svc.lookup({ containerId: 'old', ifName: 'eth0' })).superseded).toBeUndefined();
    await svc.allocate(req('new', { podName: 'web' }));
    await svc.allocate(req('pm2', { podName: '', podNamespace: '' }));
    expect((await svc.lookup({ containerId: 'old', ifName: 'eth0' })).superseded).toBe(true);
    expect((await svc.lookup({ containerId: 'new', ifName: 'eth0' })).superseded).toBeUndefined();
    expect((await svc.lookup({ containerId: 'other', ifName: 'eth0' })).superseded).toBeUndefined();
    expect((await svc.lookup({ containerId: 'pm1', ifName: 'eth0' })).superseded).toBeUndefined();
  });

  it('live updates wait for the ADD: building from Allocate until Confirm, run under the in-flight key, same generation only', async () => {
    const settled: string[] = [];
    const store = LeaseStore.open(tempDir());
    const svc = new HubService({ store, provider: new FakeProvider(), mtu: 1450, onSettled: (l) => settled.push(l.containerId) });
    await svc.allocate(req('c1'));
    const lease = store.get({ containerId: 'c1', ifName: 'eth0' })!;
    expect(svc.busyUntil(lease)).toBeGreaterThan(Date.now());
    await expect(svc.withSettledLease(lease, () => Promise.resolve('ran'))).rejects.toBeInstanceOf(BusyError);
    expect(await svc.confirm({ containerId: 'c1', ifName: 'eth0' })).toEqual({ confirmed: true });
    expect(settled).toEqual(['c1']);
    expect(svc.busyUntil(lease)).toBeUndefined();
    // while it runs, the attachment is claimed: a DEL's Lookup is told to retry
    const gate = deferred();
    const running = svc.withSettledLease(lease, async () => { await gate.promise; return 'ran'; });
    await expect(svc.lookup({ containerId: 'c1', ifName: 'eth0' })).rejects.toBeInstanceOf(BusyError);
    gate.resolve();
    await expect(running).resolves.toBe('ran');
    // another generation of the same attachment (DEL + re-ADD): the stale update is refused
    await svc.release({ containerId: 'c1', ifName: 'eth0', reason: 'test' });
    await expect(svc.withSettledLease(lease, () => Promise.resolve('ran'))).resolves.toBeUndefined();
    await svc.allocate(req('c1'));
    await svc.confirm({ containerId: 'c1', ifName: 'eth0' });
    await expect(svc.withSettledLease({ ...lease, createdAt: '2000-01-01T00:00:00.000Z' }, () => Promise.resolve('ran'))).rejects.toBeInstanceOf(BusyError);
    expect(await svc.confirm({ containerId: 'gone', ifName: 'eth0' })).toEqual({ confirmed: false });
  });

  it("a DEL's Lookup (intent 'delete') keeps live updates off until the Release; a CHECK's does not", async () => {
    const store = LeaseStore.open(tempDir());
    const svc = new HubService({ store, provider: new FakeProvider(), mtu: 1450 });
    await svc.allocate(req('c1'));
    await svc.confirm({ containerId: 'c1', ifName: 'eth0' });
    const lease = store.get({ containerId: 'c1', ifName: 'eth0' })!;
    await svc.lookup({ containerId: 'c1', ifName: 'eth0' });
    await expect(svc.withSettledLease(lease, () => Promise.resolve('ran'))).resolves.toBe('ran');
    await svc.lookup({ containerId: 'c1', ifName: 'eth0', intent: 'delete' });
    expect(svc.busyUntil(lease)).toBeGreaterThan(Date.now());
    await expect(svc.withSettledLease(lease, () => Promise.resolve('ran'))).rejects.toBeInstanceOf(BusyError);
    await svc.release({ containerId: 'c1', ifName: 'eth0', reason: 'test' });
    expect(svc.busyUntil(lease)).toBeUndefined();
  });

  it("a DEL's Lookup is answered under the pod's key: an Allocate of another sandbox of the pod half-way → BusyError", async () => {
    const store = LeaseStore.open(tempDir());
    const provider = new FakeProvider();
    let t = Date.parse('2024-05-01T00:00:00Z');
    const svc = new HubService({ store, provider, mtu: 1450, now: () => new Date((t += 1000)) });
    await svc.allocate(req('old', { podName: 'web' }));
    const gate = deferred();
    provider.gate = gate.promise;
    const pending = svc.allocate(req('new', { podName: 'web' }));
    await expect(svc.lookup({ containerId: 'old', ifName: 'eth0', intent: 'delete' })).rejects.toBeInstanceOf(BusyError);
    await expect(svc.lookup({ containerId: 'old', ifName: 'eth0' })).resolves.toMatchObject({ found: true });
    gate.resolve();
    await pending;
    await expect(svc.lookup({ containerId: 'old', ifName: 'eth0', intent: 'delete' })).resolves.toMatchObject({ found: true, superseded: true });
  });

  it('of two sandboxes of a pod leased at the same instant, exactly one is the newer (ordered by container id)', async () => {
    const { svc } = setup();
    await svc.allocate(req('aaa', { podName: 'web' }));
    await svc.allocate(req('bbb', { podName: 'web' }));
    const a = await svc.lookup({ containerId: 'aaa', ifName: 'eth0' });
    const b = await svc.lookup({ containerId: 'bbb', ifName: 'eth0' });
    expect([a.superseded === true, b.superseded === true]).toEqual([true, false]);
  });

  it('an ADD that never confirms stops blocking live updates at the build deadline; leases of an earlier daemon count as building until theirs', async () => {
    let now = Date.parse('2024-05-01T00:00:00Z');
    const store = LeaseStore.open(tempDir());
    const svc = new HubService({ store, provider: new FakeProvider(), mtu: 1450, now: () => new Date(now), buildDeadlineMs: 1000 });
    await svc.allocate(req('c1'));
    const lease = store.get({ containerId: 'c1', ifName: 'eth0' })!;
    expect(svc.busyUntil(lease)).toBe(now + 1000);
    now += 1001;
    expect(svc.busyUntil(lease)).toBeUndefined();
    const restarted = new HubService({ store, provider: new FakeProvider(), mtu: 1450, now: () => new Date(now), buildDeadlineMs: 5000 });
    expect(restarted.busyUntil(lease)).toBe(Date.parse(lease.createdAt) + 5000);
  });

  it('release of an unknown attachment is released:false, not an error', async () => {
    const { svc } = setup();
    expect(await svc.release({ containerId: 'nope', ifName: 'eth0', reason: 'x' })).toEqual({ released: false });
  });

  it('status reports readiness and the mode', async () => {
    const { svc } = setup();
    expect(await svc.status()).toEqual({ ready: false, mode: 'veth-policy-routing', reason: 'starting' });
    svc.setReady(true);
    expect(await svc.status()).toEqual({ ready: true, mode: 'veth-policy-routing', reason: '' });
  });

  it('gc releases leases that are not valid any more', async () => {
    const { svc, store } = setup();
    await svc.allocate(req('c1'));
    await svc.allocate(req('c2'));
    await svc.allocate(req('c3'));
    const res = await svc.gc({ validAttachments: [{ containerId: 'c2', ifName: 'eth0' }] });
    expect(res).toEqual({ released: [{ containerId: 'c1', ifName: 'eth0' }, { containerId: 'c3', ifName: 'eth0' }], errors: [] });
    expect(store.list().map((l) => l.containerId)).toEqual(['c2']);
  });

  it('gc releases an old sandbox lease while the new sandbox of the pod is being allocated', async () => {
    const { svc, provider } = setup();
    await svc.allocate(req('c1'));
    const gate = deferred();
    provider.gate = gate.promise;
    const p = svc.allocate(req('c1b', { podName: 'pod-c1' }));
    const res = await svc.gc({ validAttachments: [] });
    expect(res.released).toEqual([{ containerId: 'c1', ifName: 'eth0' }]);
    gate.resolve();
    await p;
  });

  it('exposes pool gauges', async () => {
    const { svc } = setup();
    await svc.allocate(req('c1'));
    const text = await svc.metrics.registry.metrics();
    expect(text).toMatch(/terway_hub_leases 1/u);
    expect(text).toMatch(/terway_hub_pool_size 3/u);
    expect(text).toMatch(/terway_hub_pool_free 2/u);
  });
});

describe('pending releases', () => {
  it('drains recorded releases: lease gone, file removed; unknown ones are just removed', async () => {
    const { svc, store } = setup();
    await svc.allocate(req('c1'));
    const dir = join(tempDir(), 'pending-release');
    const rec = { ifName: 'eth0', podNamespace: 'default', podName: 'p', ips: ['10.0.0.10'], reason: 'daemon down', at: new Date().toISOString() };
    await recordPendingRelease(dir, { ...rec, containerId: 'c1' });
    await recordPendingRelease(dir, { ...rec, containerId: 'ghost' });
    const res = await svc.drainPending(dir);
    expect(res.released).toHaveLength(2);
    expect(store.count()).toBe(0);
    expect(existsSync(join(dir, pendingFileName('c1', 'eth0')))).toBe(false);
    expect(existsSync(join(dir, pendingFileName('ghost', 'eth0')))).toBe(false);
    expect(await svc.drainPending(join(tempDir(), 'absent'))).toEqual({ released: [], skipped: [] });
  });

  it('keeps a lease written after the record (same attachment added again) and drops the stale record', async () => {
    const { svc, store } = setup(); // leases are written at 2024-05-01T00:00:00Z
    await svc.allocate(req('c1'));
    await svc.allocate(req('c2'));
    const dir = join(tempDir(), 'pending-release');
    const rec = { ifName: 'eth0', podNamespace: 'default', podName: 'p', ips: [], reason: 'daemon down' };
    await recordPendingRelease(dir, { ...rec, containerId: 'c1', at: '2024-04-30T23:59:00.000Z' }); // DEL, then ADD again
    await recordPendingRelease(dir, { ...rec, containerId: 'c2', at: '2024-05-01T00:01:00.000Z' }); // DEL after the ADD
    const res = await svc.drainPending(dir);
    expect(res.released).toEqual([{ containerId: 'c2', ifName: 'eth0' }]);
    expect(store.get({ containerId: 'c1', ifName: 'eth0' })?.allocation.ip).toBe('10.0.0.10');
    expect(store.get({ containerId: 'c2', ifName: 'eth0' })).toBeUndefined();
    expect(existsSync(join(dir, pendingFileName('c1', 'eth0')))).toBe(false);
  });

  it('skips an attachment that is in flight and keeps its file', async () => {
    const { svc, provider } = setup();
    const gate = deferred();
    provider.gate = gate.promise;
    const p = svc.allocate(req('c1'));
    const dir = join(tempDir(), 'pending-release');
    await recordPendingRelease(dir, { containerId: 'c1', ifName: 'eth0', podNamespace: '', podName: '', ips: [], reason: 'x', at: new Date().toISOString() });
    expect((await svc.drainPending(dir)).skipped).toEqual([{ containerId: 'c1', ifName: 'eth0' }]);
    expect(existsSync(join(dir, pendingFileName('c1', 'eth0')))).toBe(true);
    gate.resolve();
    await p;
  });
});

describe('HubService: runtimeConfig bandwidth and release notifications', () => {
  it('records the request runtimeBandwidth on the lease (not in the allocation the annotations own)', async () => {
    const { svc, store } = setup();
    const runtimeBandwidth = { ingress: { rateBps: 8_000_000, burstBits: 524_288 } };
    const { allocation } = await svc.allocate(req('c1', { runtimeBandwidth }));
    expect(allocation).not.toHaveProperty('bandwidth');
    expect(store.get({ containerId: 'c1', ifName: 'eth0' })?.runtimeBandwidth).toEqual(runtimeBandwidth);
    await svc.allocate(req('c2'));
    expect(store.get({ containerId: 'c2', ifName: 'eth0' })).not.toHaveProperty('runtimeBandwidth');
  });

  it('tells onReleased about every released lease (DEL and GC); a throwing listener does not fail the release', async () => {
    const store = LeaseStore.open(tempDir());
    const seen: string[] = [];
    const svc = new HubService({
      store,
      provider: new FakeProvider(),
      mtu: 1450,
      onReleased: (l) => {
        seen.push(`${l.containerId}/${l.ifName}`);
        if (l.containerId === 'c2') throw new Error('listener bug');
      },
    });
    await svc.allocate(req('c1'));
    await svc.allocate(req('c2'));
    expect(await svc.release({ containerId: 'c1', ifName: 'eth0', reason: 'CNI DEL' })).toEqual({ released: true });
    expect(await svc.release({ containerId: 'c1', ifName: 'eth0', reason: 'CNI DEL' })).toEqual({ released: false });
    expect((await svc.gc({ validAttachments: [] })).released).toEqual([{ containerId: 'c2', ifName: 'eth0' }]);
    expect(seen).toEqual(['c1/eth0', 'c2/eth0']);
  });

  it('an ADD whose NetworkPolicy isolation fails: no lease, the IP goes back, and onReleased hears of it (no phantom pod)', async () => {
    const store = LeaseStore.open(tempDir());
    const seen: string[] = [];
    const svc = new HubService({
      store,
      provider: new FakeProvider(['10.0.0.10-10.0.0.11']),
      mtu: 1450,
      isolate: (l) => Promise.reject(new Error(`nft: cannot program ${l.allocation.ip}`)),
      onReleased: (l) => { seen.push(`${l.containerId} ${l.allocation.ip}`); },
    });
    await expect(svc.allocate(req('c1'))).rejects.toThrow(/nft: cannot program 10\.0\.0\.10/u);
    expect(store.count()).toBe(0);
    expect(seen).toEqual(['c1 10.0.0.10']);
  });
});
