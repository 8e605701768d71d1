/**
 * End to end in real network namespaces: the real daemon + the real standalone plugin binary, both dataplanes.
 * Asserts the exact Terway layout, real traffic between pods and to the host, CHECK drift detection, and that DEL
 * leaves the host exactly as it was.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { callPlugin, PLUGIN, pluginStdin, startDaemon, type RunningDaemon } from '../helpers/hub.js';
import { diffHost, snapshotHost, type HostState } from '../helpers/host-state.js';
import { createEniStandIn, type EniStandIn } from '../helpers/eni.js';
import { createNetns, addrsOf, type TestNetns } from '../helpers/netns.js';
import { sh } from '../helpers/exec.js';
import { hostAddress } from '../helpers/ip.js';
import { rand, testSubnet } from '../helpers/names.js';
import { describePrivileged } from '../helpers/privilege.js';

const d = describePrivileged('end-to-end dataplane tests', [existsSync(PLUGIN), `plugin binary missing at ${PLUGIN}: run npm run build`]);

function expectedVeth(ns: string, pod: string): string {
  return `cali${createHash('sha1').update(`${ns}.${pod}`).digest('hex').slice(0, 11)}`;
}

/** The host's own primary IPv4 (an address of this machine: traffic to it never leaves the host). */
function hostIp(): string {
  const addr = hostAddress();
  if (!addr) throw new Error('no global IPv4 address on the host');
  return addr;
}

interface Pod {
  readonly ns: TestNetns;
  readonly name: string;
  readonly containerId: string;
  ip: string;
  result: Record<string, unknown>;
}

function cniArgs(pod: Pod): string {
  return `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod.name};K8S_POD_INFRA_CONTAINER_ID=${pod.containerId}`;
}

function add(daemon: RunningDaemon, pod: Pod): ReturnType<typeof callPlugin> {
  return callPlugin({ command: 'ADD', containerId: pod.containerId, netns: pod.ns.path, ifName: 'eth0', args: cniArgs(pod) }, pluginStdin(daemon.conflist()));
}

function del(daemon: RunningDaemon, pod: Pod): ReturnType<typeof callPlugin> {
  return callPlugin(
    { command: 'DEL', containerId: pod.containerId, netns: pod.ns.path, ifName: 'eth0', args: cniArgs(pod) },
    pluginStdin(daemon.conflist(), { prevResult: pod.result }),
  );
}

function check(daemon: RunningDaemon, pod: Pod): ReturnType<typeof callPlugin> {
  return callPlugin(
    { command: 'CHECK', containerId: pod.containerId, netns: pod.ns.path, ifName: 'eth0', args: cniArgs(pod) },
    pluginStdin(daemon.conflist(), { prevResult: pod.result }),
  );
}

function ping(from: TestNetns, ip: string): number {
  return from.tryExec(['ping', '-c', '1', '-W', '2', ip]).code;
}

interface ModeCase {
  readonly mode: 'vpc' | 'veth-policy-routing';
}

d.each<ModeCase>([{ mode: 'vpc' }, { mode: 'veth-policy-routing' }])('dataplane $mode through the real plugin and daemon', ({ mode }) => {
  const tag = rand();
  const subnet = testSubnet(mode === 'vpc' ? '10.211' : '10.212').subnet3;
  let daemon: RunningDaemon;
  let before: HostState;
  let eni: EniStandIn | undefined;
  const eniLink = `hube${tag}`;
  let eniTable = 0;
  const pods: Pod[] = [];

  beforeAll(async () => {
    if (mode === 'veth-policy-routing') {
      eni = createEniStandIn(eniLink, `hubvs-${tag}`, subnet);
      eniTable = eni.table;
    }
    daemon = await startDaemon(eni === undefined ? { mode, podCIDR: `${subnet}.0/24` } : { mode, eni: eni.eniConfig() });
    // after the daemon started: it owns node state (sysctls, the ENI table route) that outlives every pod
    before = snapshotHost();
    for (const n of ['a', 'b']) {
      pods.push({ ns: createNetns(`hubp-${tag}-${n}`), name: `pod-${n}-${tag}`, containerId: `ctr${n}${tag}`, ip: '', result: {} });
    }
  });

  afterAll(async () => {
    for (const p of pods) {
      del(daemon, p);
      p.ns.remove();
    }
    await daemon.stop();
    daemon.cleanup();
    eni?.remove();
  });

  it('ADD gives each pod the exact Terway layout', () => {
    for (const pod of pods) {
      const r = add(daemon, pod);
      expect({ code: r.code, stderr: r.stderr, out: r.json }).toMatchObject({ code: 0 });
      pod.result = r.json as Record<string, unknown>;
      const ips = pod.result.ips as { address: string; interface: number }[];
      expect(ips).toHaveLength(1);
      pod.ip = (ips[0]?.address ?? '').split('/')[0] ?? '';
      const veth = expectedVeth('default', pod.name);
      expect(pod.result.interfaces).toEqual([
        expect.objectContaining({ name: veth }),
        expect.objectContaining({ name: 'eth0', sandbox: pod.ns.path }),
      ]);
      expect((pod.result.interfaces as Record<string, unknown>[])[0]).not.toHaveProperty('sandbox');
      expect(ips[0]?.interface).toBe(1);

      // pod side: only lo and eth0; address /32; default via 169.254.1.1 onlink; PERMANENT neighbour = host veth MAC
      const links = pod.ns.ipJson<{ ifname: string; address: string; mtu: number }[]>(['link', 'show']);
      expect(links.map((l) => l.ifname).sort()).toEqual(['eth0', 'lo']);
      expect(addrsOf(pod.ns, 'eth0')).toEqual([`${pod.ip}/32`]);
      const routes = pod.ns.ipJson<{ dst: string; gateway?: string; dev: string; flags: string[] }[]>(['route', 'show']);
      expect(routes).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '169.254.1.1', dev: 'eth0', flags: ['onlink'] }));
      const hostLink = JSON.parse(sh('ip', ['-j', 'link', 'show', 'dev', veth])) as { address: string; operstate: string; mtu: number }[];
      expect(hostLink[0]?.mtu).toBe(1500);
      const neigh = pod.ns.ipJson<{ dst: string; lladdr: string; state: string[] }[]>(['neigh', 'show', 'dev', 'eth0']);
      expect(neigh).toEqual([{ dst: '169.254.1.1', lladdr: hostLink[0]?.address, state: ['PERMANENT'] }]);

      // host side: /32 route to the veth, no address on it
      const hostRoutes = JSON.parse(sh('ip', ['-j', 'route', 'show', `${pod.ip}/32`])) as Record<string, unknown>[];
      expect(hostRoutes).toEqual([expect.objectContaining({ dst: pod.ip, dev: veth, scope: 'link' })]);
      expect(JSON.parse(sh('ip', ['-j', '-4', 'addr', 'show', 'dev', veth]))).toEqual([]);

      const rules = (JSON.parse(sh('ip', ['-j', 'rule', 'show'])) as Record<string, unknown>[]).filter((x) => x.src === pod.ip || x.dst === pod.ip);
      if (mode === 'veth-policy-routing') {
        expect(rules).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ priority: 512, dst: pod.ip, table: 'main' }),
            expect.objectContaining({ priority: 2048, src: pod.ip, table: String(eniTable) }),
          ]),
        );
        expect(rules).toHaveLength(2);
        const table = JSON.parse(sh('ip', ['-j', 'route', 'show', 'table', String(eniTable)])) as Record<string, unknown>[];
        expect(table).toContainEqual(expect.objectContaining({ dst: 'default', gateway: `${subnet}.1`, dev: eniLink }));
      } else {
        expect(rules).toEqual([]);
      }
    }
    expect(new Set(pods.map((p) => p.ip)).size).toBe(2);
  });

  it('pods reach each other and the host with real traffic', () => {
    const [a, b] = pods as [Pod, Pod];
    expect(ping(a.ns, b.ip)).toBe(0);
    expect(ping(b.ns, a.ip)).toBe(0);
    expect(ping(a.ns, hostIp())).toBe(0);
    if (mode === 'veth-policy-routing' && eni) {
      // through the ENI table to the vSwitch gateway
      expect(ping(b.ns, `${subnet}.1`)).toBe(0);
    }
  });

  it('CHECK passes, then detects injected drift', () => {
    const pod = pods[0] as Pod;
    const ok = check(daemon, pod);
    expect({ code: ok.code, out: ok.stdout, err: ok.stderr }).toMatchObject({ code: 0, out: '' });
    pod.ns.exec(['ip', 'neigh', 'del', '169.254.1.1', 'dev', 'eth0']);
    const bad = check(daemon, pod);
    expect(bad.code).not.toBe(0);
    const err = bad.json as { code: number; msg: string; details?: string };
    expect(err.code).toBeGreaterThanOrEqual(100);
    expect(`${err.msg} ${err.details ?? ''}`).toMatch(/169\.254\.1\.1/u);
  });

  it('DEL removes everything ADD created and is idempotent', () => {
    for (const pod of pods) {
      const r = del(daemon, pod);
      expect({ code: r.code, out: r.stdout, err: r.stderr }).toMatchObject({ code: 0, out: '' });
      expect(del(daemon, pod).code).toBe(0);
    }
    expect(diffHost(before, snapshotHost())).toEqual({ added: [], removed: [] });
    for (const pod of pods) {
      expect(pod.ns.ipJson<{ ifname: string }[]>(['link', 'show']).map((l) => l.ifname)).toEqual(['lo']);
    }
  });

  it('a failed ADD leaves nothing behind and releases its IP', () => {
    const pod = pods[0] as Pod;
    // eth0 already exists in the netns: the spec says ADD must fail
    pod.ns.exec(['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'spare0']);
    const snap = snapshotHost();
    const r = add(daemon, pod);
    expect(r.code).not.toBe(0);
    expect((r.json as { code: number }).code).toBeGreaterThanOrEqual(100);
    expect(diffHost(snap, snapshotHost())).toEqual({ added: [], removed: [] });
    pod.ns.exec(['ip', 'link', 'del', 'eth0']);
    // the IP went back: a fresh ADD succeeds and DEL cleans up again
    const again = add(daemon, pod);
    expect(again.code).toBe(0);
    pod.result = again.json as Record<string, unknown>;
    expect(del(daemon, pod).code).toBe(0);
    expect(diffHost(before, snapshotHost())).toEqual({ added: [], removed: [] });
  });

  it('DEL succeeds when the netns is already gone', () => {
    const pod = pods[1] as Pod;
    const r = add(daemon, pod);
    expect(r.code).toBe(0);
    pod.result = r.json as Record<string, unknown>;
    pod.ns.remove();
    const gone = del(daemon, pod);
    expect({ code: gone.code, out: gone.stdout, err: gone.stderr }).toMatchObject({ code: 0, out: '' });
    expect(diffHost(before, snapshotHost())).toEqual({ added: [], removed: [] });
  });
});
