/**
 * The policy decision (resolvePolicy) and the daemon's PolicyController over the real Supervisor with a fake
 * clock, spawner and prober: activation order, the chain entry gated on readiness and withdrawn after a long outage,
 * the swap, events and status. The real-process, real-kernel version is test/privileged/policy-swap.test.ts.
 */
import { DEFAULT_POLICY_CONFIG, type PolicyConfig } from '../../../src/config/policy-config.js';
import { PolicyController } from '../../../src/daemon/policy/controller.js';
import { ConfigError } from '../../../src/lib/errors.js';
import type { CleanupReport } from '../../../src/policy/cleanup/clean.js';
import { resolvePolicy, type PolicyInput } from '../../../src/policy/resolve.js';
import { Supervisor } from '../../../src/policy/supervisor.js';
import type { Residue } from '../../../src/policy/types.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { CILIUM, FELIX, TERWAY_IPVLAN } from './fixtures.js';
import { captureLog, FakeProber, FakeSpawner, OK, UNAVAILABLE } from './supervisor-fakes.js';

function input(o: Partial<Omit<PolicyInput, 'policy'>> & { policy?: Partial<PolicyConfig> } = {}): PolicyInput {
  return {
    mode: 'veth-policy-routing',
    disableNetworkPolicy: false,
    nodeName: 'node-1',
    vethPrefix: 'cali',
    networkName: 'terway-hub',
    serviceCidrs: ['172.21.0.0/20'],
    hostStackCidrs: [],
    runDir: '/var/lib/terway-hub/policy',
    kube: { serviceHost: '10.96.0.1', servicePort: '443', namespace: 'kube-system' },
    node: { iptablesBackend: 'nft' },
    ...o,
    policy: { ...DEFAULT_POLICY_CONFIG, felix: FELIX, cilium: CILIUM, ...o.policy },
  };
}

describe('resolvePolicy', () => {
  it('auto in a veth mode: felix with its files, process, ClusterInformation; cilium and builtin residue to clean', () => {
    const d = resolvePolicy(input());
    expect(d.backend).toBe('felix');
    expect(d.process?.name).toBe('felix');
    expect(d.kubeObjects.map((o) => o.kind)).toEqual(['ClusterInformation']);
    expect(d.chainEntries).toEqual([]);
    expect(d.cleanup.map((r) => r.backend)).toEqual(['cilium', 'builtin']);
    expect(d.responder).toBeUndefined();
  });

  it('disable_network_policy: none, every residue, a responder; the same input gives the same fingerprint', () => {
    const d = resolvePolicy(input({ disableNetworkPolicy: true }));
    expect(d.backend).toBe('none');
    expect(d.cleanup.map((r) => r.backend)).toEqual(['felix', 'cilium', 'builtin']);
    expect(d.responder).toMatchObject({ host: '127.0.0.1', port: FELIX.healthPort });
    expect(d.warnings.join()).toMatch(/NOT enforced/u);
    expect(resolvePolicy(input({ disableNetworkPolicy: true })).fingerprint).toBe(d.fingerprint);
    expect(resolvePolicy(input()).fingerprint).not.toBe(d.fingerprint);
  });

  it('auto without Felix or Cilium configured: builtin, but it neither cleans other agents\' rules nor takes their health port', () => {
    const bare = { felix: { healthPort: 9099 }, cilium: { cniBinary: 'cilium-cni', build: 'upstream', healthPort: 9879, chainingMode: 'generic-veth' } } as const;
    for (const mode of ['vpc', 'veth-policy-routing', 'ipvlan', 'eni'] as const) {
      const d = resolvePolicy(input({ mode, policy: bare }));
      expect(d.backend).toBe('builtin');
      expect(d.process).toBeUndefined();
      expect(d.cleanup).toEqual([]);
      expect(d.responder).toBeUndefined();
      expect(d.warnings).toEqual([]);
    }
    const explicit = resolvePolicy(input({ policy: { backend: 'builtin' } }));
    expect(explicit.cleanup.map((r) => r.backend)).toEqual(['felix', 'cilium']);
    expect(explicit.responder).toBeDefined();
    const none = resolvePolicy(input({ policy: { backend: 'none' } }));
    expect(none.cleanup.map((r) => r.backend)).toEqual(['felix', 'cilium', 'builtin']);
    expect(none.cleanup.find((r) => r.backend === 'builtin')?.nftTables).toEqual([{ family: 'inet', name: 'terway-hub' }]);
    expect(resolvePolicy(input({ disableNetworkPolicy: true, policy: { backend: 'builtin' } })).backend).toBe('none');
  });

  it('cilium: the cilium-cni entry to splice, felix residue to clean', () => {
    const d = resolvePolicy(input({ policy: { backend: 'cilium' } }));
    expect(d.chainEntries).toEqual([expect.objectContaining({ type: 'cilium-cni', 'chaining-mode': 'generic-veth' })]);
    expect(d.cleanup.map((r) => r.backend)).toEqual(['felix', 'builtin']);
  });

  it('refusals are one ConfigError on policy.backend naming the mode and every reason', () => {
    const felixIpvlan = (): unknown => resolvePolicy(input({ mode: 'ipvlan', policy: { backend: 'felix' } }));
    expect(felixIpvlan).toThrow(ConfigError);
    expect(felixIpvlan).toThrow(/^policy\.backend: felix refused in ipvlan mode \(policy\.backend is felix\): .*no host-side veth/u);
    expect(() => resolvePolicy(input({ mode: 'ipvlan', policy: { backend: 'cilium' } }))).toThrow(/cilium refused in ipvlan mode/u);
    expect(() => resolvePolicy(input({ mode: 'ipvlan', policy: { backend: 'cilium', cilium: TERWAY_IPVLAN } }))).toThrow(/networkName is "terway-hub" but cilium-cni before 1\.14/u);
    expect(resolvePolicy(input({ mode: 'ipvlan', networkName: 'terway-chainer', policy: { backend: 'cilium', cilium: TERWAY_IPVLAN } })).backend).toBe('cilium');
    expect(() => resolvePolicy(input({ policy: { felix: { ...FELIX, version: '3.20.0' } } }))).toThrow(/felix refused in veth-policy-routing mode .*3\.20\.0/u);
  });
});

function harness() {
  const clock = new FakeClock();
  const spawner = new FakeSpawner();
  const prober = new FakeProber();
  const { log } = captureLog();
  const supervisor = new Supervisor({
    spawner, prober, clock, log, random: () => 0.5,
    options: { probeIntervalMs: 1000, probeTimeoutMs: 500, startupGraceMs: 10_000, livenessFailureMs: 60_000, unhealthyGraceMs: 30_000, backoff: { baseMs: 1000, capMs: 4000, jitter: 0 } },
  });
  const steps: string[] = [];
  const events: string[] = [];
  const cleaned: Residue[][] = [];
  let responders = 0;
  const controller = new PolicyController({
    supervisor,
    cleanResidue: (r): Promise<CleanupReport> => {
      cleaned.push([...r]);
      steps.push(`clean ${r.map((x) => x.backend).join('+')}`);
      return Promise.resolve({ removed: r.length > 0 ? [`${r[0]?.backend ?? ''} chain`] : [], failures: [] });
    },
    writeFile: (f) => { steps.push(`write ${f.path}`); return Promise.resolve(); },
    ensureObject: (o) => { steps.push(`ensure ${o.kind}/${o.metadata.name}`); return Promise.resolve('created'); },
    startResponder: (r) => {
      responders++;
      steps.push(`responder ${r.host}:${String(r.port)}`);
      return Promise.resolve({ address: `${r.host}:${String(r.port)}`, close: () => { responders--; steps.push('responder closed'); return Promise.resolve(); } });
    },
    event: (type, reason, message) => { events.push(`${type} ${reason}: ${message}`); },
    chainChanged: () => { steps.push(`conflist ${JSON.stringify(controller.chainEntries().map((e) => e.type))}`); return Promise.resolve(); },
    log,
  });
  return { clock, spawner, prober, supervisor, controller, steps, events, cleaned, responders: () => responders };
}

describe('PolicyController', () => {
  it('felix: residue cleaned, files written, ClusterInformation ensured, then the process; ready reported; unchanged decision is a no-op', async () => {
    const h = harness();
    const d = resolvePolicy(input());
    await h.controller.activate(d);
    expect(h.steps[0]).toBe('clean cilium+builtin');
    expect(h.steps.slice(1, -1).every((s) => s.startsWith('write '))).toBe(true);
    expect(h.steps.at(-1)).toBe('ensure ClusterInformation/default');
    expect(h.spawner.procs).toHaveLength(1);
    expect(h.controller.notReadyReason()).toBe('policy backend felix is starting');
    h.prober.set('/liveness', OK);
    h.prober.set('/readiness', OK);
    await h.clock.advance(1000);
    expect(h.controller.status()).toMatchObject({ backend: 'felix', state: 'ready', restarts: 0, chainEntryActive: false });
    expect(h.controller.notReadyReason()).toBeUndefined();
    expect(h.events).toContainEqual(expect.stringMatching(/^Normal PolicyBackendReady: felix is ready/u));
    await h.controller.activate(resolvePolicy(input()));
    expect(h.spawner.procs).toHaveLength(1);
  });

  it('cilium: the chain entry joins only once ready, leaves after a long outage, comes back when ready again', async () => {
    const h = harness();
    await h.controller.activate(resolvePolicy(input({ policy: { backend: 'cilium' } })));
    expect(h.controller.chainEntries()).toEqual([]);
    h.prober.set('/healthz', OK);
    await h.clock.advance(1000);
    expect(h.controller.chainEntries().map((e) => e.type)).toEqual(['cilium-cni']);
    expect(h.steps).toContain('conflist ["cilium-cni"]');
    h.prober.set('/healthz', UNAVAILABLE);
    await h.clock.advance(29_000);
    expect(h.controller.chainEntries()).toHaveLength(1); // within the grace
    await h.clock.advance(3000);
    expect(h.controller.chainEntries()).toEqual([]);
    expect(h.steps.at(-1)).toBe('conflist []');
    expect(h.events).toContainEqual(expect.stringMatching(/^Warning PolicyBackendUnhealthy: cilium-agent has not been ready for 3\d s; its CNI plugin is out of the conflist/u));
    h.prober.set('/healthz', OK);
    await h.clock.advance(1000);
    expect(h.controller.chainEntries()).toHaveLength(1);
  });

  it('swap cilium → none: entry out of the conflist first, agent stopped, every residue cleaned, responder up; none → felix closes it', async () => {
    const h = harness();
    await h.controller.activate(resolvePolicy(input({ policy: { backend: 'cilium' } })));
    h.prober.set('/healthz', OK);
    await h.clock.advance(1000);
    const agent = h.spawner.last;
    h.steps.length = 0;
    const swapped = h.controller.activate(resolvePolicy(input({ disableNetworkPolicy: true, policy: { backend: 'cilium' } })));
    await h.clock.advance(0);
    agent.exit(0, null); // the agent obeys SIGTERM
    await swapped;
    expect(agent.signals).toContain('SIGTERM');
    expect(h.steps).toEqual(['conflist []', 'clean felix+cilium+builtin', `responder 127.0.0.1:${String(FELIX.healthPort)}`]);
    expect(h.controller.status()).toMatchObject({ backend: 'none', state: 'responding', chainEntryActive: false });
    expect(h.events).toContainEqual(expect.stringMatching(/^Normal PolicyBackend: NetworkPolicy backend none \(was cilium\)/u));
    expect(h.events).toContainEqual(expect.stringMatching(/^Warning PolicyNotEnforced: /u));
    await h.controller.activate(resolvePolicy(input()));
    expect(h.responders()).toBe(0);
    expect(h.controller.status().backend).toBe('felix');
  });
});
