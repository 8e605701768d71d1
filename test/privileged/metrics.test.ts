/**
 * /metrics after real traffic: the REAL daemon (veth-policy-routing on a stand-in ENI, the local provider's cloud
 * answering after a set latency, the builtin NetworkPolicy backend) and the REAL plugin binary ADD three pods and
 * DEL them; the metrics endpoint on a unix socket (never the network) is scraped before and after. Every ADD phase
 * histogram counts each ADD once (the first one waited for the cloud), Terway's rpc latency counts the calls, and
 * the gauges agree with each other and with the counters (IPs asked of the cloud − IPs given back = IPs held); the
 * GC component's first pass is counted.
 */
import { existsSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { callPluginAsync, PLUGIN, pluginStdin, startDaemon, type RunningDaemon } from '../helpers/hub.js';
import { createEniStandIn, type EniStandIn } from '../helpers/eni.js';
import { hasCommand } from '../helpers/exec.js';
import { rand, testSubnet } from '../helpers/names.js';
import { createNetns, type TestNetns } from '../helpers/netns.js';
import { describePrivileged } from '../helpers/privilege.js';
import { tempDir } from '../helpers/tmp.js';
import { eventually } from '../helpers/wait.js';

const d = describePrivileged('metrics after real ADD/DEL traffic (real daemon and plugin)', [existsSync(PLUGIN), `plugin binary missing at ${PLUGIN}: run npm run build`], [hasCommand('nft'), 'nft not installed (apt-get install -y nftables)']);

/** One sample: name, labels, value. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/u.exec(line);
    if (m === null) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/gu)) labels[l[1] ?? ''] = l[2] ?? '';
    out.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of the samples of `name` whose labels include `labels`. */
function value(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return hits.reduce((a, s) => a + s.value, 0);
}

function scrape(socketPath: string, path = '/metrics'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ socketPath, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }); });
    })
      .on('error', reject)
      .end();
  });
}

interface Pod {
  readonly ns: TestNetns;
  readonly name: string;
  readonly containerId: string;
  result: unknown;
}

d('metrics after real ADD/DEL', () => {
  const tag = rand(4);
  const subnet = testSubnet('10.241').subnet3;
  const metricsSocket = join(tempDir('hub-metrics-'), 'metrics.sock');
  let daemon: RunningDaemon;
  let eni: EniStandIn;
  const pods: Pod[] = [];
  const args = (p: Pod): string => `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${p.name};K8S_POD_INFRA_CONTAINER_ID=${p.containerId}`;
  const metrics = async (): Promise<Sample[]> => {
    const r = await scrape(metricsSocket);
    expect(r.status).toBe(200);
    return parseExposition(r.body);
  };

  beforeAll(async () => {
    eni = createEniStandIn(`mte${tag}`, `mtvs-${tag}`, subnet);
    daemon = await startDaemon({
      mode: 'veth-policy-routing',
      eni: eni.eniConfig(),
      extra: {
        httpListen: metricsSocket,
        vethPrefix: `mt${tag.slice(0, 2)}`,
        // a cold pool (no idle IP kept) whose cloud answers after 300 ms: the first ADD waits for it
        pool: { minIdle: 0, maxIdle: 1, localLatencyMs: { create: 300, assign: 300, unassign: 50 } },
        policy: { backend: 'builtin' },
      },
    });
    for (const n of ['a', 'b', 'c']) pods.push({ ns: createNetns(`mtp-${tag}-${n}`), name: `pod-${n}-${tag}`, containerId: `ctr${n}${tag}`, result: {} });
  }, 60_000);

  afterAll(async () => {
    for (const p of pods) {
      await callPluginAsync({ command: 'DEL', containerId: p.containerId, netns: p.ns.path, ifName: 'eth0', args: args(p) }, pluginStdin(daemon.conflist()));
      p.ns.remove();
    }
    await daemon.stop();
    daemon.cleanup();
    eni.remove();
  });

  it('serves on its unix socket only, mode 0600; /healthz and /readyz answer 200 once serving', async () => {
    expect(statSync(metricsSocket).isSocket()).toBe(true);
    expect(statSync(metricsSocket).mode & 0o777).toBe(0o600);
    await eventually(async () => {
      expect((await scrape(metricsSocket, '/readyz')).status).toBe(200);
    }, 10_000, 100);
    const health = await scrape(metricsSocket, '/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toMatch(/^ok\npolicy: builtin enforcing/u);
    // the GC component's pass at start reached its counters (src/main wires the collector's onResult): nothing to reclaim
    await eventually(async () => {
      expect(value(await metrics(), 'terway_hub_gc_passes_total', { result: 'ok' })).toBeGreaterThanOrEqual(1);
    }, 10_000, 100);
    const m = await metrics();
    expect(['lease', 'veth', 'rule', 'route', 'ifb'].map((kind) => value(m, 'terway_hub_gc_reclaimed_total', { kind }))).toEqual([0, 0, 0, 0, 0]);
    expect(value(m, 'terway_hub_config_error')).toBe(0);
  });

  it('ADD: every phase histogram counts each ADD once; the cold pool made the first wait for the cloud', async () => {
    const before = await metrics();
    expect(value(before, 'terway_hub_add_phase_seconds_count')).toBe(0);
    for (const p of pods) {
      const r = await callPluginAsync({ command: 'ADD', containerId: p.containerId, netns: p.ns.path, ifName: 'eth0', args: args(p) }, pluginStdin(daemon.conflist()));
      expect({ code: r.code, stderr: r.stderr, out: r.json }).toMatchObject({ code: 0 });
      p.result = r.json;
    }
    const m = await metrics();
    const count = (phase: string): number => value(m, 'terway_hub_add_phase_seconds_count', { phase });
    const sum = (phase: string): number => value(m, 'terway_hub_add_phase_seconds_sum', { phase });
    // the address came either from the pool as it was or after the pool's cloud call: one of the two per ADD
    expect(count('pool') + count('cloud')).toBe(3);
    expect(count('cloud')).toBeGreaterThanOrEqual(1);
    // the first ADD waited for a whole 300 ms call (a later one may have found its refill already under way)
    expect(sum('cloud')).toBeGreaterThanOrEqual(0.25);
    for (const phase of ['node_facts', 'policy', 'store', 'netlink', 'plugin']) expect({ phase, n: count(phase) }).toEqual({ phase, n: 3 });
    expect(sum('netlink')).toBeGreaterThan(0);
    expect(sum('policy')).toBeGreaterThan(0);
    // the plugin's whole ADD includes its netlink phase and its wait for the daemon's reply
    expect(sum('plugin')).toBeGreaterThan(sum('netlink') + sum('cloud'));
    expect(count('pod_facts')).toBe(0); // no Kubernetes here: no pod lookup
    const mean = (phase: string): string => (count(phase) === 0 ? '-' : ((1000 * sum(phase)) / count(phase)).toFixed(2));
    console.log(`metrics: ADD phase means (ms) over 3 ADDs: ${['node_facts', 'pool', 'cloud', 'policy', 'store', 'netlink', 'plugin'].map((p) => `${p} ${mean(p)} (n=${String(count(p))})`).join(', ')}`);

    expect(value(m, 'terway_rpc_latency_count', { rpc_api: 'AllocIP', error: 'false' })).toBe(3);
    expect(value(m, 'terway_rpc_latency_sum', { rpc_api: 'AllocIP' })).toBeGreaterThanOrEqual(250); // milliseconds
    expect(value(m, 'terway_hub_rpc_duration_seconds_count', { method: 'allocate', result: 'ok' })).toBe(3);
    expect(value(m, 'terway_hub_rpc_duration_seconds_count', { method: 'confirm', result: 'ok' })).toBe(3);
    expect(value(m, 'terway_hub_pool_cloud_call_seconds_count', { result: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(value(m, 'terway_eniip_factory_ip_alloc_count', { status: 'succeed' })).toBeGreaterThanOrEqual(3);

    // gauges: three leases, each holding an address of the pool
    expect(value(m, 'terway_hub_leases')).toBe(3);
    expect(value(m, 'terway_hub_pool_size')).toBeGreaterThanOrEqual(3);
    expect(value(m, 'terway_resource_pool_total_count', { type: 'LocalIP', ipStack: 'IPv4' })).toBe(value(m, 'terway_hub_pool_size'));
    expect(value(m, 'terway_resource_pool_idle_count')).toBe(value(m, 'terway_hub_pool_free'));
    expect(value(m, 'terway_eniip_factory_eni_count', { name: 'local' })).toBe(1);
    expect(value(m, 'terway_eniip_factory_ip_count', { name: 'local' })).toBe(value(m, 'terway_hub_pool_size'));
  }, 60_000);

  it('DEL: leases go, the pool gives IPs above max_pool_size back (disposed), and the counters still add up', async () => {
    for (const p of pods) {
      const r = await callPluginAsync({ command: 'DEL', containerId: p.containerId, netns: p.ns.path, ifName: 'eth0', args: args(p) }, pluginStdin(daemon.conflist(), { prevResult: p.result }));
      expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    }
    let m: Sample[] = [];
    await eventually(async () => {
      m = await metrics();
      expect(value(m, 'terway_hub_leases')).toBe(0);
      // max_pool_size 1: all but one idle IP go back to the cloud
      expect(value(m, 'terway_hub_pool_size')).toBe(1);
    }, 15_000, 200);
    expect(value(m, 'terway_rpc_latency_count', { rpc_api: 'ReleaseIP', error: 'false' })).toBe(3);
    expect(value(m, 'terway_rpc_latency_count', { rpc_api: 'GetIPInfo' })).toBeGreaterThanOrEqual(3); // DEL looks the lease up first
    const asked = value(m, 'terway_eniip_factory_ip_alloc_count', { status: 'succeed' });
    const disposed = value(m, 'terway_resource_pool_disposed_count', { type: 'LocalIP', ipStack: 'IPv4' });
    expect(disposed).toBeGreaterThanOrEqual(2);
    expect(asked - disposed).toBe(value(m, 'terway_hub_pool_size'));
    expect(value(m, 'terway_hub_pool_cloud_call_seconds_count', { call: 'unassign', result: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(value(m, 'terway_resource_pool_idle_count')).toBe(1);
    expect(value(m, 'terway_eniip_factory_ip_count', { name: 'local' })).toBe(1);
  }, 60_000);
});
