import { createGarbageCollector, type GarbageCollectorDeps } from '../../../src/gc/collector.js';
import { confirmGoneVia } from '../../../src/gc/facts.js';
import type { HostView } from '../../../src/gc/types.js';
import type { Lease } from '../../../src/store/lease.js';
import type { PodInfo } from '../../../src/k8s/types.js';
import type { Cidr, IpAddr } from '../../../src/lib/brand.js';
import { silentLogger } from '../../../src/lib/log.js';
import { stableMac, vethName } from '../../../src/lib/veth-name.js';
import type { Plan } from '../../../src/netlink/ops.js';
import { describeOp } from '../../../src/netlink/render.js';
import type { ReleaseRequest } from '../../../src/rpc/protocol.js';
import { sleep } from '../../helpers/wait.js';

const NOW = new Date('2024-06-01T12:00:00.000Z');
function lease(id: string, ip: string, extra: Partial<Lease> = {}): Lease {
  return {
    containerId: id, ifName: 'eth0', podNamespace: 'default', podName: `pod-${id}`, infraContainerId: id, netns: `/netns/${id}`,
    allocation: { mode: 'vpc', ip: ip as IpAddr, subnet: '10.0.0.0/24' as Cidr, mtu: 1500 }, createdAt: '2024-06-01T10:00:00.000Z', ...extra,
  };
}
const pod = (name: string): PodInfo => ({ namespace: 'default', name, uid: 'u', nodeName: 'n', hostNetwork: false, annotations: {}, labels: {}, owners: [], resourceVersion: '1' });

function harness(initial: Lease[], over: Partial<GarbageCollectorDeps> = {}) {
  let leases = [...initial];
  const calls: string[] = [];
  const plans: Plan[] = [];
  const releases: ReleaseRequest[] = [];
  let host: HostView = { links: [], routes: [], rules: [] };
  const deps: GarbageCollectorDeps = {
    leases: () => {
      calls.push('leases');
      return leases;
    },
    release: (req) => {
      releases.push(req);
      const had = leases.some((l) => l.containerId === req.containerId);
      leases = leases.filter((l) => l.containerId !== req.containerId);
      return Promise.resolve({ released: had });
    },
    netnsExists: () => Promise.resolve(true),
    observeHost: () => {
      calls.push('observe');
      return Promise.resolve(host);
    },
    executor: { teardown: (plan) => (plans.push(plan), Promise.resolve({ errors: [] })) },
    log: silentLogger,
    node: { vethPrefix: 'cali' },
    now: () => NOW,
    orphanGraceMs: 0,
    ...over,
  };
  return {
    gc: createGarbageCollector(deps),
    calls,
    plans,
    releases,
    setHost: (h: HostView) => (host = h),
    setLeases: (l: Lease[]) => (leases = l),
  };
}

describe('createGarbageCollector', () => {
  it('reads the host before the leases, confirms a cache miss, tears down then releases', async () => {
    const asked: string[] = [];
    const getPod = (_ns: string, name: string): Promise<PodInfo | undefined> => (asked.push(name), Promise.resolve(name === 'pod-b' ? pod('pod-b') : undefined));
    const h = harness([lease('a', '10.0.0.2'), lease('b', '10.0.0.3'), lease('c', '10.0.0.4')], {
      pods: { get: (_ns, name) => (name === 'pod-c' ? pod('pod-c') : undefined) },
      confirmGone: confirmGoneVia({ getPod }),
    });
    const r = await h.gc.runOnce();
    expect(h.calls.slice(0, 2)).toEqual(['observe', 'leases']);
    expect(asked.sort()).toEqual(['pod-a', 'pod-b']); // pod-c is in the cache
    expect(h.releases).toEqual([{ containerId: 'a', ifName: 'eth0', reason: 'gc' }]);
    expect(h.plans[0]?.map(describeOp).filter((op) => !op.includes('dev hubb'))).toEqual([`ip route del 10.0.0.2/32 dev ${vethName('cali', { namespace: 'default', name: 'pod-a' })}`, `ip link del dev ${vethName('cali', { namespace: 'default', name: 'pod-a' })}`]);
    expect(r.counts).toMatchObject({ released: 1, podGone: 1 });
  });

  it("a lease whose own teardown failed is kept; the others' are released (never an IP while its host state remains)", async () => {
    const vethA = vethName('cali', { namespace: 'default', name: 'pod-a' });
    const h = harness([lease('a', '10.0.0.2'), lease('b', '10.0.0.3')], {
      netnsExists: () => Promise.resolve(false),
      executor: { teardown: (plan) => Promise.resolve({ errors: plan.some((op) => op.kind === 'link.del' && op.name === vethA) ? ['link.del: Operation not permitted'] : [] }) },
    });
    const r = await h.gc.runOnce();
    expect(r.released).toEqual([{ containerId: 'b', ifName: 'eth0' }]);
    expect(h.releases.map((x) => x.containerId)).toEqual(['b']);
    expect(r.errors).toEqual(expect.arrayContaining(['link.del: Operation not permitted', 'a/eth0: host teardown failed, lease kept']));
  });

  it('an API error keeps the lease; without confirmGone a cache miss never releases', async () => {
    const failing = harness([lease('a', '10.0.0.2')], { pods: { get: () => undefined }, confirmGone: () => Promise.reject(new Error('503')) });
    expect((await failing.gc.runOnce()).counts).toMatchObject({ released: 0, keptUnconfirmed: 1 });
    const noConfirm = harness([lease('a', '10.0.0.2')], { pods: { get: () => undefined } });
    expect((await noConfirm.gc.runOnce()).released).toEqual([]);
    expect(failing.releases).toEqual([]);
  });

  it('a finished pod (phase Succeeded) is gone', async () => {
    const h = harness([lease('a', '10.0.0.2')], { pods: { get: () => undefined }, confirmGone: confirmGoneVia({ getPod: () => Promise.resolve({ ...pod('pod-a'), phase: 'Succeeded' }) }) });
    expect((await h.gc.runOnce()).released).toHaveLength(1);
  });

  it('vanished netns → released', async () => {
    const h = harness([lease('a', '10.0.0.2'), lease('b', '10.0.0.3')], { netnsExists: (p) => Promise.resolve(p !== '/netns/a') });
    expect((await h.gc.runOnce()).released).toEqual([{ containerId: 'a', ifName: 'eth0' }]);
  });

  it('guard: a lease written after planning protects its IP and veth', async () => {
    const orphanVeth = vethName('cali', { namespace: 'default', name: 'pod-new' });
    const h = harness([]);
    h.setHost({ links: [{ name: orphanVeth, mtu: 1500, mac: stableMac(orphanVeth, 'host'), up: true, operstate: 'UP' }], routes: [], rules: [{ priority: 512, to: '10.0.0.9/32', table: 'main' }] });
    let n = 0;
    const inner = h.gc;
    // Second leases() read (the guard) sees a new ADD's lease.
    const g = harness([], {
      leases: () => (++n === 1 ? [] : [lease('new', '10.0.0.9', { createdAt: NOW.toISOString() })]),
      observeHost: () => Promise.resolve({ links: [{ name: orphanVeth, mtu: 1500, mac: stableMac(orphanVeth, 'host'), up: true, operstate: 'UP' }], routes: [], rules: [{ priority: 512, to: '10.0.0.9/32', table: 'main' }] }),
    });
    const r = await g.gc.runOnce();
    expect(r.hostOps).toBe(0);
    expect(g.plans).toEqual([]);
    expect((await inner.runOnce()).hostOps).toBe(2); // same host, no lease: both go
  });

  it('guard: an attachment leased again since planning (DEL + ADD of the same container) is neither released nor torn down', async () => {
    let n = 0;
    const old = lease('a', '10.0.0.2');
    const again = lease('a', '10.0.0.5', { createdAt: NOW.toISOString() });
    const releases: ReleaseRequest[] = [];
    const h = harness([], {
      leases: () => (++n === 1 ? [old] : [again]),
      netnsExists: () => Promise.resolve(false), // the old sandbox's netns is gone
      release: (r) => (releases.push(r), Promise.resolve({ released: true })),
    });
    const r = await h.gc.runOnce();
    expect(releases).toEqual([]);
    expect(r.released).toEqual([]);
    const veth = vethName('cali', { namespace: 'default', name: 'pod-a' });
    expect(h.plans.flat().map(describeOp)).not.toContain(`ip link del dev ${veth}`);
  });

  it('orphans wait out orphanGraceMs across passes', async () => {
    let t = NOW.getTime();
    const h = harness([], { orphanGraceMs: 10_000, now: () => new Date(t) });
    h.setHost({ links: [], routes: [], rules: [{ priority: 512, to: '10.0.0.9/32', table: 'main' }] });
    expect((await h.gc.runOnce()).counts.orphansWaiting).toBe(1);
    t += 11_000;
    expect((await h.gc.runOnce()).counts.rules).toBe(1);
  });

  it('gcAttachments: tears down and releases leases not in the valid list; young leases stay', async () => {
    const h = harness([lease('a', '10.0.0.2'), lease('b', '10.0.0.3'), lease('y', '10.0.0.4', { createdAt: NOW.toISOString() })]);
    const reply = await h.gc.gcAttachments([{ containerId: 'b', ifName: 'eth0' }]);
    expect(reply).toEqual({ released: [{ containerId: 'a', ifName: 'eth0' }], errors: [] });
    expect(h.releases.map((r) => r.reason)).toEqual(['cni gc']);
    expect(h.plans[0]?.map(describeOp)).toEqual(expect.arrayContaining([expect.stringMatching(/^ip route del 10\.0\.0\.2\/32/u), expect.stringMatching(/^ip link del dev hubb/u)]));
  });

  it('start runs a pass at once and periodically; stop waits for the pass', async () => {
    const results: number[] = [];
    const h = harness([], { intervalMs: 20, onResult: (r) => results.push(r.hostOps) });
    await h.gc.start();
    await sleep(70);
    await h.gc.stop();
    const n = results.length;
    expect(n).toBeGreaterThanOrEqual(2);
    await sleep(50);
    expect(results.length).toBe(n);
    expect(h.gc.lastResult).toBeDefined();
  });
});
