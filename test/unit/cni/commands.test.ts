/* eslint-disable @typescript-eslint/require-await -- the fakes implement async interfaces with synchronous bodies */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { invoke, type Invocation } from '../../../src/cni/commands.js';
import type { CniDeps } from '../../../src/cni/deps.js';
import type { NetworkConflist } from '../../../src/lib/conflist-file.js';
import type { Env } from '../../../src/cni/args.js';
import type { IfName, IpAddr, MacAddr, NetnsPath, Cidr } from '../../../src/lib/brand.js';
import { BusyError, ExecError, UnavailableError } from '../../../src/lib/errors.js';
import { MAX_PENDING_RELEASES, listPendingReleases, recordPendingRelease, type PendingRelease } from '../../../src/lib/pending-release.js';
import { silentLogger } from '../../../src/lib/log.js';
import type { Allocation, Dataplane, ModeName, NodeFacts, PodNetworkSpec, SetupOutcome } from '../../../src/modes/types.js';
import { HOST, podNs, type Plan } from '../../../src/netlink/ops.js';
import { PlanError } from '../../../src/netlink/plan-error.js';
import type {
  AllocateRequest,
  GcRequest,
  HubRpc,
  LookupReply,
  ReleaseRequest,
  StatusReply,
} from '../../../src/rpc/protocol.js';

class FakeHub implements HubRpc {
  readonly leases = new Map<string, { alloc: Allocation; netns: string; req: AllocateRequest }>();
  readonly released: ReleaseRequest[] = [];
  readonly gcCalls: GcRequest[] = [];
  failWith: Error | undefined;
  /** Attachments a newer sandbox of the same pod supersedes (Lookup says so). */
  readonly superseded = new Set<string>();
  statusReply: StatusReply = { ready: true, mode: 'vpc', reason: '' };
  gcErrors: string[] = [];
  /** Limits the daemon would derive from the pod's annotations (Allocation.bandwidth). */
  annotationBandwidth: Allocation['bandwidth'];
  private next = 10;

  private guard(): void {
    if (this.failWith !== undefined) throw this.failWith;
  }
  async allocate(req: AllocateRequest): Promise<{ allocation: Allocation }> {
    this.guard();
    const key = `${req.containerId}/${req.ifName}`;
    const existing = this.leases.get(key);
    if (existing !== undefined) return { allocation: existing.alloc };
    const alloc: Allocation = { mode: 'vpc', ip: `10.0.0.${String(this.next++)}` as IpAddr, subnet: '10.0.0.0/24' as Cidr, mtu: 1450, ...(this.annotationBandwidth !== undefined ? { bandwidth: this.annotationBandwidth } : {}) };
    this.leases.set(key, { alloc, netns: req.netns, req });
    return { allocation: alloc };
  }
  async lookup(req: { containerId: string; ifName: string }): Promise<LookupReply> {
    this.guard();
    const lease = this.leases.get(`${req.containerId}/${req.ifName}`);
    if (lease === undefined) return { found: false };
    const superseded = this.superseded.has(`${req.containerId}/${req.ifName}`);
    return { found: true, allocation: lease.alloc, netns: lease.netns, ...(superseded ? { superseded } : {}) };
  }
  async release(req: ReleaseRequest): Promise<{ released: boolean }> {
    this.guard();
    this.released.push(req);
    return { released: this.leases.delete(`${req.containerId}/${req.ifName}`) };
  }
  readonly confirmed: string[] = [];
  async confirm(req: { containerId: string; ifName: string }): Promise<{ confirmed: boolean }> {
    this.guard();
    this.confirmed.push(`${req.containerId}/${req.ifName}`);
    return { confirmed: this.leases.has(`${req.containerId}/${req.ifName}`) };
  }
  async status(): Promise<StatusReply> {
    this.guard();
    return this.statusReply;
  }
  async gc(req: GcRequest): Promise<{ released: []; errors: string[] }> {
    this.guard();
    this.gcCalls.push(req);
    return { released: [], errors: this.gcErrors };
  }
}

const hostName = (spec: PodNetworkSpec, node: NodeFacts): IfName => `${node.vethPrefix}-${spec.pod.name}`.slice(0, 15) as IfName;

/** A stand-in dataplane: a plan the fake executor records, and a result the plugin must print as given. */
const fakeDataplane: Dataplane = {
  mode: 'vpc',
  planSetup: (spec, alloc, node) => ({
    plan: [
      {
        kind: 'link.veth',
        ns: HOST,
        host: { name: hostName(spec, node), mac: 'ee:00:00:00:00:01' as MacAddr },
        peer: { name: spec.ifName, mac: 'ee:00:00:00:00:02' as MacAddr },
        peerNs: podNs(spec.netns),
        mtu: alloc.mtu,
      },
      { kind: 'addr.replace', ns: podNs(spec.netns), dev: spec.ifName, cidr: `${alloc.ip}/32` as Cidr },
      { kind: 'route.replace', ns: HOST, dst: `${alloc.ip}/32` as Cidr, dev: hostName(spec, node), scope: 'link' },
    ],
    result: {
      interfaces: [
        { name: hostName(spec, node), mac: 'ee:00:00:00:00:01' as MacAddr },
        { name: spec.ifName, mac: 'ee:00:00:00:00:02' as MacAddr, sandbox: spec.netns, mtu: alloc.mtu },
      ],
      ips: [{ interface: 1, address: `${alloc.ip}/32` as Cidr, gateway: '169.254.1.1' as IpAddr }],
      routes: [{ dst: '0.0.0.0/0' as Cidr, gw: '169.254.1.1' as IpAddr }],
    },
  }),
  planTeardown: (spec, alloc, node, hostNames = 'owned') => [
    { kind: 'link.del', ns: podNs(spec.netns), name: spec.ifName },
    ...(hostNames === 'owned' ? [{ kind: 'link.del' as const, ns: HOST, name: hostName(spec, node) }] : []),
    ...(alloc !== undefined ? [{ kind: 'route.del' as const, ns: HOST, dst: `${alloc.ip}/32` as Cidr }] : []),
  ],
  planOrphanTeardown: (spec) => [{ kind: 'link.del', ns: podNs(spec.netns), name: spec.ifName }],
  planNode: () => [],
  shapingTarget: (spec, node, alloc) => ({ kind: 'host-veth', hostIf: hostName(spec, node), ifb: 'hubb0123456789a' as IfName, mtu: alloc.mtu }),
  gc: { attachment: () => ({ links: [], routes: [], ruleIps: [] }), claimLink: () => undefined, claimRule: () => undefined },
};

interface World {
  hub: FakeHub;
  applied: Plan[];
  tornDown: Plan[];
  orphanIps: (readonly IpAddr[])[];
  pending: PendingRelease[];
  probeMissing: string[];
  applyError: Error | undefined;
  existingNetns: Set<string>;
  modes: ModeName[];
  /** Conflists the two-shaper check finds, by `${dir}|${name}`. */
  conflists: Map<string, NetworkConflist>;
  deps: CniDeps;
}

function world(): World {
  const w = {
    hub: new FakeHub(),
    applied: [],
    tornDown: [],
    orphanIps: [],
    pending: [],
    probeMissing: [],
    applyError: undefined,
    existingNetns: new Set(['/var/run/netns/p1']),
    modes: [],
    conflists: new Map(),
  } as Omit<World, 'deps'> & { deps?: CniDeps };
  w.deps = {
    rpc: w.hub,
    executor: {
      apply: async (plan) => {
        w.applied.push(plan);
        if (w.applyError !== undefined) throw w.applyError;
        return { applied: plan.length };
      },
      teardown: async (plan) => {
        w.tornDown.push(plan);
        return { errors: [] };
      },
    },
    probe: { missing: async () => w.probeMissing },
    dataplanes: (mode) => {
      w.modes.push(mode);
      return fakeDataplane;
    },
    planOrphanTeardown: (spec, node, ips) => {
      w.orphanIps.push(ips);
      return [
        { kind: 'link.del', ns: HOST, name: hostName(spec, node) },
        { kind: 'link.del', ns: podNs(spec.netns), name: spec.ifName },
      ];
    },
    pending: { record: async (rec) => void w.pending.push(rec) },
    netnsExists: async (p) => w.existingNetns.has(p),
    netnsProblem: async (p) => (w.existingNetns.has(p) ? undefined : 'CNI_NETNS does not exist'),
    readNetworkConflist: async (dir, name) => w.conflists.get(`${dir}|${name}`),
    log: silentLogger,
    now: () => new Date('2026-01-02T03:04:05Z'),
  };
  return w as World;
}

const baseEnv = (command: string, extra: Env = {}): Env => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: 'ctr1',
  CNI_NETNS: '/var/run/netns/p1',
  CNI_IFNAME: 'eth0',
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web',
  ...extra,
});

const conf = (version = '1.0.0', extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ cniVersion: version, name: 'hub', type: 'terway-hub', ...extra });

async function run(w: World, env: Env, stdin: string): Promise<Invocation & { json: Record<string, unknown> | undefined }> {
  const out = await invoke(env, stdin, () => w.deps);
  return { ...out, json: out.stdout === '' ? undefined : (JSON.parse(out.stdout) as Record<string, unknown>) };
}

describe('ADD', () => {
  it.each(['0.3.1', '0.4.0', '1.0.0', '1.1.0'])('builds the network and prints a %s result', async (version) => {
    const w = world();
    const out = await run(w, baseEnv('ADD'), conf(version));
    expect(out.exitCode).toBe(0);
    const lease = w.hub.leases.get('ctr1/eth0');
    expect(lease?.req).toEqual({
      containerId: 'ctr1',
      ifName: 'eth0',
      netns: '/var/run/netns/p1',
      podNamespace: 'default',
      podName: 'web',
      infraContainerId: '',
    });
    expect(w.applied).toHaveLength(1);
    expect(w.applied[0]?.[0]).toMatchObject({ kind: 'link.veth', host: { name: 'cali-web' }, mtu: 1450 });
    expect(w.modes).toEqual(['vpc']);
    const ips = out.json?.ips as Record<string, unknown>[];
    expect(out.json?.cniVersion).toBe(version);
    expect(ips[0]?.address).toBe(`${lease?.alloc.ip ?? ''}/32`);
    expect('version' in (ips[0] ?? {})).toBe(version.startsWith('0.'));
    expect(out.json?.interfaces).toEqual([
      { name: 'cali-web', mac: 'ee:00:00:00:00:01' },
      { name: 'eth0', mac: 'ee:00:00:00:00:02', ...(version === '1.1.0' ? { mtu: 1450 } : {}), sandbox: '/var/run/netns/p1' },
    ]);
  });

  it('sends the runtimeConfig bandwidth to the daemon (recorded on the lease) and shapes with it', async () => {
    const w = world();
    const out = await run(w, baseEnv('ADD'), conf('1.0.0', { runtimeConfig: { bandwidth: { ingressRate: 8_000_000, ingressBurst: 1_000_000 } } }));
    expect(out.exitCode).toBe(0);
    expect(w.hub.leases.get('ctr1/eth0')?.req.runtimeBandwidth).toEqual({ ingress: { rateBps: 8_000_000, burstBits: 1_000_000 } });
  });

  it('prints the interfaces the dataplane reports, in its order (an ifb after the pod interface)', async () => {
    const w = world();
    const ifb = { name: 'hubb0123456789a' as IfName, mac: 'ee:11:22:33:44:55' as MacAddr };
    const withIfb = (s: PodNetworkSpec, a: Allocation, n: NodeFacts): SetupOutcome => {
      const base = fakeDataplane.planSetup(s, a, n);
      return { ...base, result: { ...base.result, interfaces: [...base.result.interfaces, ifb] } };
    };
    const deps: CniDeps = { ...w.deps, dataplanes: () => ({ ...fakeDataplane, planSetup: withIfb }) };
    const out = await invoke(baseEnv('ADD'), conf('1.0.0'), () => deps);
    const result = JSON.parse(out.stdout) as { interfaces: unknown[]; ips: { interface: number }[] };
    expect(result.interfaces).toEqual([
      { name: 'cali-web', mac: 'ee:00:00:00:00:01' },
      { name: 'eth0', mac: 'ee:00:00:00:00:02', sandbox: '/var/run/netns/p1' },
      { name: 'hubb0123456789a', mac: 'ee:11:22:33:44:55' },
    ]);
    expect(result.ips[0]?.interface).toBe(1);
  });

  it('sends no runtimeBandwidth without runtimeConfig limits', async () => {
    const w = world();
    await run(w, baseEnv('ADD'), conf('1.0.0', { runtimeConfig: { bandwidth: { ingressRate: 0 } } }));
    expect(w.hub.leases.get('ctr1/eth0')?.req).not.toHaveProperty('runtimeBandwidth');
  });

  it('uses the container id as pod name when the runtime gives no Kubernetes identity', async () => {
    const w = world();
    await run(w, baseEnv('ADD', { CNI_ARGS: '' }), conf());
    expect(w.hub.leases.get('ctr1/eth0')?.req).toMatchObject({ podNamespace: '', podName: '' });
    expect(w.applied[0]?.[0]).toMatchObject({ host: { name: 'cali-ctr1' } });
  });

  it('releases with a rollback reason and fails with 100 when the executor fails', async () => {
    const w = world();
    w.applyError = new ExecError(['ip', '-batch', '-'], 1, 'RTNETLINK answers: File exists');
    const out = await run(w, baseEnv('ADD'), conf());
    expect(out.exitCode).toBe(1);
    expect(out.json).toMatchObject({ cniVersion: '1.0.0', code: 100, msg: 'dataplane setup failed' });
    expect(String(out.json?.details)).toContain('File exists');
    expect(w.hub.released).toEqual([{ containerId: 'ctr1', ifName: 'eth0', reason: expect.stringMatching(/^rollback: .*File exists/) as unknown }]);
    expect(w.hub.leases.size).toBe(0);
  });

  it('keeps the lease (no release) when the rollback of a failed ADD failed too', async () => {
    const w = world();
    w.applyError = new PlanError({ kind: 'link.up', ns: HOST, name: 'x' as IfName }, 1, 'RTNETLINK answers: No such device', 1, ['rollback link.del x: Operation not permitted']);
    const out = await run(w, baseEnv('ADD'), conf());
    expect(out.json).toMatchObject({ code: 100 });
    expect(w.hub.released).toEqual([]);
    expect(w.hub.leases.size).toBe(1);
  });

  it('fails with 11 when the daemon is busy or unreachable, without touching the dataplane', async () => {
    for (const err of [new BusyError('in progress'), new UnavailableError('connect ENOENT')]) {
      const w = world();
      w.hub.failWith = err;
      const out = await run(w, baseEnv('ADD'), conf());
      expect(out.json).toMatchObject({ code: 11 });
      expect(w.applied).toHaveLength(0);
    }
  });
});

describe('DEL', () => {
  it('tears down, releases, and succeeds again on a second DEL', async () => {
    const w = world();
    await run(w, baseEnv('ADD'), conf());
    const first = await run(w, baseEnv('DEL'), conf());
    expect(first).toMatchObject({ exitCode: 0, stdout: '' });
    expect(w.tornDown).toHaveLength(1);
    expect(w.tornDown[0]?.some((op) => op.ns.kind === 'pod')).toBe(true);
    expect(w.hub.released).toEqual([{ containerId: 'ctr1', ifName: 'eth0', reason: 'CNI DEL' }]);
    const second = await run(w, baseEnv('DEL'), conf());
    expect(second).toMatchObject({ exitCode: 0, stdout: '' });
    expect(w.tornDown).toHaveLength(1);
  });

  it('succeeds for an unknown container without running anything', async () => {
    const w = world();
    const out = await run(w, baseEnv('DEL', { CNI_CONTAINERID: 'never-added' }), conf());
    expect(out.exitCode).toBe(0);
    expect(w.tornDown).toHaveLength(0);
    expect(w.hub.released).toHaveLength(0);
  });

  it('plans only host ops when the netns is gone or not given', async () => {
    for (const env of [baseEnv('DEL', { CNI_NETNS: '' }), baseEnv('DEL', { CNI_NETNS: '/var/run/netns/gone' })]) {
      const w = world();
      await run(w, baseEnv('ADD'), conf());
      w.existingNetns.clear();
      const out = await run(w, env, conf());
      expect(out.exitCode).toBe(0);
      expect(w.tornDown[0]?.length).toBeGreaterThan(0);
      expect(w.tornDown[0]?.every((op) => op.ns.kind === 'host')).toBe(true);
      expect(w.hub.released).toHaveLength(1);
    }
  });

  it('falls back to the recorded netns when CNI_NETNS is empty', async () => {
    const w = world();
    await run(w, baseEnv('ADD'), conf());
    await run(w, baseEnv('DEL', { CNI_NETNS: '' }), conf());
    expect(w.tornDown[0]).toContainEqual({ kind: 'link.del', ns: podNs('/var/run/netns/p1' as NetnsPath), name: 'eth0' });
  });

  it('daemon unreachable: orphan teardown with prevResult IPs, pending release, success', async () => {
    const w = world();
    w.hub.failWith = new UnavailableError('connect ENOENT /var/run/terway-hub/daemon.sock');
    const prevResult = { cniVersion: '1.0.0', ips: [{ address: '10.0.0.42/32', interface: 1 }] };
    const out = await run(w, baseEnv('DEL'), conf('1.0.0', { prevResult }));
    expect(out).toMatchObject({ exitCode: 0, stdout: '' });
    expect(w.orphanIps).toEqual([['10.0.0.42']]);
    expect(w.tornDown).toHaveLength(1);
    expect(w.pending).toEqual([
      {
        containerId: 'ctr1',
        ifName: 'eth0',
        podNamespace: 'default',
        podName: 'web',
        ips: ['10.0.0.42'],
        reason: expect.stringContaining('ENOENT') as unknown,
        at: '2026-01-02T03:04:05.000Z',
      },
    ]);
  });

  it('daemon unreachable and teardown failed: fails, records no pending release', async () => {
    const w = world();
    w.hub.failWith = new UnavailableError('down');
    const deps: CniDeps = { ...w.deps, executor: { ...w.deps.executor, teardown: async () => ({ errors: ['rule.del: Operation not permitted'] }) } };
    const out = await invoke(baseEnv('DEL'), conf(), () => deps);
    expect(JSON.parse(out.stdout)).toMatchObject({ code: 100, details: 'rule.del: Operation not permitted' });
    expect(w.pending).toEqual([]);
  });

  it('leaves the pod-named host veth alone when the daemon says a newer sandbox holds it', async () => {
    const w = world();
    await run(w, baseEnv('ADD'), conf());
    w.hub.superseded.add('ctr1/eth0');
    const out = await run(w, baseEnv('DEL'), conf());
    expect(out.exitCode).toBe(0);
    expect(w.tornDown[0]).toEqual([{ kind: 'link.del', ns: podNs('/var/run/netns/p1' as NetnsPath), name: 'eth0' }, { kind: 'route.del', ns: HOST, dst: expect.any(String) as unknown }]);
    expect(w.hub.released).toHaveLength(1);
  });

  it('goes through the old netns when it exists: no host object is removed by name, even when owned', async () => {
    const w = world();
    await run(w, baseEnv('ADD'), conf());
    const out = await run(w, baseEnv('DEL'), conf());
    expect(out.exitCode).toBe(0);
    expect(w.tornDown[0]).toContainEqual({ kind: 'link.del', ns: podNs('/var/run/netns/p1' as NetnsPath), name: 'eth0' });
    expect(w.tornDown[0]?.some((op) => op.kind === 'link.del' && op.ns.kind === 'host')).toBe(false);
  });

  it('removes the host veth by name only when the netns is gone and no newer sandbox holds it', async () => {
    const w = world();
    await run(w, baseEnv('ADD'), conf());
    w.existingNetns.clear();
    await run(w, baseEnv('DEL'), conf());
    expect(w.tornDown[0]?.some((op) => op.kind === 'link.del' && op.ns.kind === 'host')).toBe(true);
  });

  it("asks the daemon with intent 'delete' (live updates keep off until the Release)", async () => {
    const w = world();
    await run(w, baseEnv('ADD'), conf());
    const seen: unknown[] = [];
    const lookup = w.hub.lookup.bind(w.hub);
    w.hub.lookup = async (req) => (seen.push(req), lookup(req));
    await run(w, baseEnv('DEL'), conf());
    expect(seen).toEqual([{ containerId: 'ctr1', ifName: 'eth0', intent: 'delete' }]);
  });

  it('fails with 11 when the pending release cannot be recorded', async () => {
    const w = world();
    w.hub.failWith = new UnavailableError('down');
    const deps: CniDeps = { ...w.deps, pending: { record: () => Promise.reject(new Error('EROFS')) } };
    const out = await invoke(baseEnv('DEL'), conf(), () => deps);
    expect(JSON.parse(out.stdout)).toMatchObject({ code: 11 });
  });

  it('keeps the lease and fails with 100 when teardown reports errors', async () => {
    const w = world();
    await run(w, baseEnv('ADD'), conf());
    const deps: CniDeps = { ...w.deps, executor: { ...w.deps.executor, teardown: async () => ({ errors: ['link.del: Operation not permitted'] }) } };
    const out = await invoke(baseEnv('DEL'), conf(), () => deps);
    expect(JSON.parse(out.stdout)).toMatchObject({ code: 100, details: 'link.del: Operation not permitted' });
    expect(w.hub.leases.size).toBe(1);
  });
});

describe('two shapers (issue 13)', () => {
  /** The allocations the dataplane was asked to plan with (what it shapes from). */
  function planned(w: World): { deps: CniDeps; allocs: Allocation[] } {
    const allocs: Allocation[] = [];
    return { allocs, deps: { ...w.deps, dataplanes: () => ({ ...fakeDataplane, planSetup: (s, a, n) => (allocs.push(a), fakeDataplane.planSetup(s, a, n)) }) } };
  }
  const rc = { runtimeConfig: { bandwidth: { ingressRate: 8_000_000, ingressBurst: 1_000_000 } } };
  const handBuilt = (hub: Record<string, unknown>): NetworkConflist => ({
    file: '/etc/cni/net.d/10-mine.conflist',
    plugins: [{ type: 'terway-hub', ...hub }, { type: 'portmap', capabilities: { portMappings: true } }, { type: 'bandwidth', capabilities: { bandwidth: true } }],
  });

  it('"shaping": false: no limits planned from runtimeConfig nor from the daemon, none sent, no conflist read', async () => {
    const w = world();
    w.hub.annotationBandwidth = { egress: { rateBps: 1_000_000, burstBits: 80_000 } };
    const reads: string[] = [];
    const p = planned(w);
    const deps: CniDeps = { ...p.deps, readNetworkConflist: async (d, n) => (reads.push(`${d}|${n}`), undefined) };
    const out = await invoke(baseEnv('ADD'), conf('1.0.0', { shaping: false, ...rc }), () => deps);
    expect(out.exitCode).toBe(0);
    expect(p.allocs[0]?.bandwidth).toBeUndefined();
    expect(w.hub.leases.get('ctr1/eth0')?.req).not.toHaveProperty('runtimeBandwidth');
    expect(reads).toEqual([]);
    // CHECK expects none of the hub's qdiscs either
    const check = await invoke(baseEnv('CHECK'), conf('1.0.0', { shaping: false, ...rc }), () => deps);
    expect(check.exitCode).toBe(0);
    expect(p.allocs[1]?.bandwidth).toBeUndefined();
  });

  it('shapes as before when no second shaper is in its conflist (default conf dir, the network name)', async () => {
    const w = world();
    w.conflists.set('/etc/cni/net.d|hub', { file: '/etc/cni/net.d/10-hub.conflist', plugins: [{ type: 'terway-hub' }, { type: 'portmap' }] });
    const p = planned(w);
    const out = await invoke(baseEnv('ADD'), conf('1.0.0', rc), () => p.deps);
    expect(out.exitCode).toBe(0);
    expect(p.allocs[0]?.bandwidth).toEqual({ ingress: { rateBps: 8_000_000, burstBits: 1_000_000 } });
  });

  it('a hand-built chain with a second shaper: runtimeConfig limits → code 7 naming both entries and the fix, before allocating', async () => {
    const w = world();
    w.conflists.set('/tmp/confs|hub', handBuilt({ capabilities: { bandwidth: true } }));
    const out = await run(w, baseEnv('ADD'), conf('1.0.0', { cniConfDir: '/tmp/confs', ...rc }));
    expect(out.exitCode).toBe(1);
    expect(out.json).toMatchObject({ code: 7, msg: 'two bandwidth shapers in one chain' });
    expect(String(out.json?.details)).toBe(
      'network "hub" in /etc/cni/net.d/10-mine.conflist: plugins[0] ("terway-hub") and plugins[2] ("bandwidth") both shape pod bandwidth; ' +
        'the second "tc qdisc add" would fail with "file exists". Keep one shaper: set "shaping": false on the terway-hub entry and drop its ' +
        '"capabilities": {"bandwidth": true} (the terway-hub daemon renders chains that way), or remove plugins[2] ("bandwidth")',
    );
    expect(w.hub.leases.size).toBe(0);
    expect(w.applied).toHaveLength(0);
  });

  it('a second shaper and limits from the daemon (annotations) → code 7 after allocating, the IP released', async () => {
    const w = world();
    w.hub.annotationBandwidth = { ingress: { rateBps: 1_000_000, burstBits: 80_000 } };
    w.conflists.set('/etc/cni/net.d|hub', handBuilt({}));
    const out = await run(w, baseEnv('ADD'), conf('1.0.0'));
    expect(out.json).toMatchObject({ code: 7 });
    expect(w.applied).toHaveLength(0);
    expect(w.hub.released).toEqual([expect.objectContaining({ containerId: 'ctr1', reason: expect.stringMatching(/^rollback: .*two bandwidth shapers/u) as unknown })]);
  });

  it('no limits → no check (the conflist is never read); a bad cniConfDir or shaping value is code 7', async () => {
    const w = world();
    const deps: CniDeps = { ...w.deps, readNetworkConflist: () => Promise.reject(new Error('must not be read')) };
    expect((await invoke(baseEnv('ADD'), conf('1.0.0'), () => deps)).exitCode).toBe(0);
    expect(JSON.parse((await invoke(baseEnv('ADD'), conf('1.0.0', { cniConfDir: 'rel' }), () => deps)).stdout)).toMatchObject({ code: 7, details: expect.stringMatching(/^cniConfDir: /u) as unknown });
    expect(JSON.parse((await invoke(baseEnv('ADD'), conf('1.0.0', { shaping: 'no' }), () => deps)).stdout)).toMatchObject({ code: 7, details: expect.stringMatching(/^shaping: must be true or false/u) as unknown });
  });
});

describe('CHECK', () => {
  it('passes when nothing is missing', async () => {
    const w = world();
    await run(w, baseEnv('ADD'), conf());
    const out = await run(w, baseEnv('CHECK'), conf('0.4.0'));
    expect(out).toMatchObject({ exitCode: 0, stdout: '' });
  });

  it('fails with 101 listing what is missing', async () => {
    const w = world();
    await run(w, baseEnv('ADD'), conf());
    w.probeMissing = ['host: route 10.0.0.10/32 dev cali-web', 'pod: address 10.0.0.10/32 on eth0'];
    const out = await run(w, baseEnv('CHECK'), conf());
    expect(out.json).toMatchObject({ code: 101, msg: 'CHECK failed', details: w.probeMissing.join('; ') });
  });

  it('fails with 3 (UNKNOWN_CONTAINER, not 101) naming an attachment the daemon does not know', async () => {
    const w = world();
    const out = await run(w, baseEnv('CHECK'), conf());
    expect(out.json).toMatchObject({ code: 3, msg: 'unknown container' });
    expect(String(out.json?.details)).toContain('ctr1');
  });

  it('fails with 101 when prevResult names another IP', async () => {
    const w = world();
    await run(w, baseEnv('ADD'), conf());
    const out = await run(w, baseEnv('CHECK'), conf('1.0.0', { prevResult: { ips: [{ address: '10.9.9.9/32' }] } }));
    expect(out.json).toMatchObject({ code: 101 });
  });
});

describe('STATUS and GC', () => {
  const status = { CNI_COMMAND: 'STATUS' };
  it('STATUS succeeds when the daemon is ready', async () => {
    expect(await run(world(), status, conf('1.1.0'))).toMatchObject({ exitCode: 0, stdout: '' });
  });
  it('STATUS unreachable → 50', async () => {
    const w = world();
    w.hub.failWith = new UnavailableError('connect ECONNREFUSED');
    expect((await run(w, status, conf('1.1.0'))).json).toMatchObject({ code: 50, details: expect.stringContaining('ECONNREFUSED') as unknown });
  });
  it('STATUS not ready → 50 with the reason', async () => {
    const w = world();
    w.hub.statusReply = { ready: false, mode: 'vpc', reason: 'warming the IP pool' };
    expect((await run(w, status, conf('1.1.0'))).json).toMatchObject({ code: 50, details: 'warming the IP pool' });
  });
  it('STATUS busy → 11', async () => {
    const w = world();
    w.hub.failWith = new BusyError('busy');
    expect((await run(w, status, conf('1.1.0'))).json).toMatchObject({ code: 11 });
  });

  const gcConf = conf('1.1.0', { 'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'eth0' }] });
  it('GC passes the valid attachments to the daemon', async () => {
    const w = world();
    expect(await run(w, { CNI_COMMAND: 'GC' }, gcConf)).toMatchObject({ exitCode: 0 });
    expect(w.hub.gcCalls).toEqual([{ validAttachments: [{ containerId: 'keep', ifName: 'eth0' }] }]);
  });
  it('GC reports daemon errors (105), unreachable (11), missing list (7)', async () => {
    const w = world();
    w.hub.gcErrors = ['release x: boom'];
    expect((await run(w, { CNI_COMMAND: 'GC' }, gcConf)).json).toMatchObject({ code: 105, details: 'release x: boom' });
    w.hub.failWith = new UnavailableError('down');
    expect((await run(w, { CNI_COMMAND: 'GC' }, gcConf)).json).toMatchObject({ code: 11 });
    expect((await run(world(), { CNI_COMMAND: 'GC' }, conf('1.1.0'))).json).toMatchObject({ code: 7 });
  });
});

describe('invoke', () => {
  it('prints the about text on stderr when CNI_COMMAND is unset', async () => {
    const out = await invoke({}, '', () => {
      throw new Error('no deps needed');
    });
    expect(out).toEqual({ stdout: '', stderr: 'terway-hub CNI plugin\nCNI protocol versions supported: 0.3.1, 0.4.0, 1.0.0, 1.1.0\n', exitCode: 0 });
  });
  it('VERSION prints one JSON line', async () => {
    const out = await run(world(), { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.3.1"}');
    expect(out.json).toEqual({ cniVersion: '0.3.1', supportedVersions: ['0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  });
  it('env errors print error JSON with the input version', async () => {
    const out = await run(world(), { CNI_COMMAND: 'ADD' }, conf('0.4.0'));
    expect(out.exitCode).toBe(1);
    expect(out.json).toEqual({ cniVersion: '0.4.0', code: 4, msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing' });
  });
});

describe('malformed input is refused before any RPC (issue 7)', () => {
  it.each(['ADD', 'CHECK'])('%s with a missing or non-namespace CNI_NETNS → code 4, nothing allocated', async (verb) => {
    for (const problem of ['CNI_NETNS does not exist', 'CNI_NETNS is not a namespace file (a regular file)']) {
      const w = world();
      const calls: string[] = [];
      const deps: CniDeps = { ...w.deps, netnsProblem: async (p) => (calls.push(p), problem) };
      const out = await invoke(baseEnv(verb, { CNI_NETNS: '/var/run/netns/gone' }), conf(), () => deps);
      expect(JSON.parse(out.stdout)).toMatchObject({ code: 4, msg: problem, details: '"/var/run/netns/gone"' });
      expect(calls).toEqual(['/var/run/netns/gone']);
      expect(w.hub.leases.size).toBe(0);
      expect(w.applied).toHaveLength(0);
    }
  });

  it('DEL with a missing netns still succeeds (no netns check; host ops only)', async () => {
    const w = world();
    await run(w, baseEnv('ADD'), conf());
    const deps: CniDeps = { ...w.deps, netnsProblem: () => Promise.reject(new Error('DEL must not ask')) };
    w.existingNetns.clear();
    const out = await invoke(baseEnv('DEL', { CNI_NETNS: '/var/run/netns/gone' }), conf(), () => deps);
    expect(out).toMatchObject({ exitCode: 0, stdout: '' });
    expect(w.hub.released).toHaveLength(1);
  });

  it('ADD with CNI_IFNAME éééééééé (16 bytes) → code 4, no allocation', async () => {
    const w = world();
    const out = await run(w, baseEnv('ADD', { CNI_IFNAME: 'éééééééé' }), conf());
    expect(out.json).toMatchObject({ code: 4 });
    expect(w.hub.leases.size).toBe(0);
  });

  it('ADD with CNI_IFNAME eth\\xff (decoded as eth\\ufffd) → code 4, no interface renamed behind the runtime', async () => {
    const w = world();
    const out = await run(w, baseEnv('ADD', { CNI_IFNAME: Buffer.from([0x65, 0x74, 0x68, 0xff]).toString('utf8') }), conf());
    expect(out.json).toMatchObject({ code: 4 });
    expect(w.hub.leases.size).toBe(0);
  });

  it('a 10 MB vethPrefix gives a short error on stdout', async () => {
    const out = await run(world(), baseEnv('ADD'), conf('1.0.0', { vethPrefix: 'v'.repeat(10 * 1024 * 1024) }));
    expect(out.json).toMatchObject({ code: 7 });
    expect(out.stdout.length).toBeLessThan(400);
  });
});

describe('DEL with the daemon down and the real pending-release queue', () => {
  const realQueue = (w: World, dir: string): CniDeps => ({ ...w.deps, pending: { record: (rec) => recordPendingRelease(dir, rec) } });

  it('succeeds for a legal 300-character container id (was ENAMETOOLONG, code 11)', async () => {
    const w = world();
    w.hub.failWith = new UnavailableError('down');
    const dir = join(mkdtempSync(join(tmpdir(), 'hub-del-')), 'pending-release');
    const id = 'a'.repeat(300);
    const out = await invoke(baseEnv('DEL', { CNI_CONTAINERID: id }), conf(), () => realQueue(w, dir));
    expect(out).toMatchObject({ exitCode: 0, stdout: '' });
    expect((await listPendingReleases(dir)).map((r) => r.containerId)).toEqual([id]);
  });

  it('fails with the retryable code 11 when the queue is full', async () => {
    const w = world();
    w.hub.failWith = new UnavailableError('down');
    const dir = join(mkdtempSync(join(tmpdir(), 'hub-del-')), 'pending-release');
    for (let i = 0; i < MAX_PENDING_RELEASES; i++) {
      await recordPendingRelease(dir, { containerId: `c${String(i)}`, ifName: 'eth0', podNamespace: '', podName: '', ips: [], reason: 'x', at: new Date().toISOString() });
    }
    const out = await invoke(baseEnv('DEL'), conf(), () => realQueue(w, dir));
    expect(JSON.parse(out.stdout)).toMatchObject({ code: 11, details: expect.stringContaining('is full') as unknown });
  });
});
