/**
 * Kubelet re-creates a pod's sandbox: ADD of container `old` for pod default/web in netns 1, ADD of container `new`
 * for the same pod in netns 2 (the host veth has the same name: it is named after the pod), then DEL of `old` with
 * its prevResult. The new sandbox must keep its eth0, its host veth and /32 route, and its traffic; the old IP is
 * released, the new one kept. Black box: the real daemon and the real plugin binary, both veth dataplanes, with the
 * daemon up and with the daemon down during the old DEL (the pending release is drained when it comes back).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, NODE, callPlugin, PLUGIN, pluginStdin, startDaemon, type RunningDaemon } from '../helpers/hub.js';
import { diffHost, snapshotHost, type HostState } from '../helpers/host-state.js';
import { createEniStandIn, type EniStandIn } from '../helpers/eni.js';
import { createNetns, type TestNetns } from '../helpers/netns.js';
import { sh, shTry } from '../helpers/exec.js';
import { rand } from '../helpers/names.js';
import { describePrivileged } from '../helpers/privilege.js';

const d = describePrivileged('sandbox re-creation', [existsSync(PLUGIN), `plugin binary missing at ${PLUGIN}: run npm run build`]);

interface Sandbox {
  readonly ns: TestNetns;
  readonly pod: string;
  readonly containerId: string;
  ip: string;
  result: Record<string, unknown>;
}

const veth = (pod: string): string => `cali${createHash('sha1').update(`default.${pod}`).digest('hex').slice(0, 11)}`;
const args = (s: Sandbox): string => `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${s.pod};K8S_POD_INFRA_CONTAINER_ID=${s.containerId}`;

function cni(daemon: RunningDaemon, command: 'ADD' | 'DEL', s: Sandbox): ReturnType<typeof callPlugin> {
  const overrides = command === 'DEL' ? { prevResult: s.result } : {};
  return callPlugin({ command, containerId: s.containerId, netns: s.ns.path, ifName: 'eth0', args: args(s) }, pluginStdin(daemon.conflist(), overrides));
}

function add(daemon: RunningDaemon, s: Sandbox): void {
  const r = cni(daemon, 'ADD', s);
  expect({ code: r.code, out: r.stdout, err: r.stderr }).toMatchObject({ code: 0 });
  s.result = r.json as Record<string, unknown>;
  s.ip = ((s.result.ips as { address: string }[])[0]?.address ?? '').split('/')[0] ?? '';
}

function leasedIps(daemon: RunningDaemon): string[] {
  const out = sh(NODE, [CLI, 'leases', '--state-dir', join(daemon.dir, 'state'), '--json']);
  return (JSON.parse(out) as { allocation: { ip: string } }[]).map((l) => l.allocation.ip).sort();
}

const pings = (from: TestNetns, ip: string): boolean => from.tryExec(['ping', '-c', '1', '-W', '2', ip]).code === 0;

interface Case {
  readonly mode: 'vpc' | 'veth-policy-routing';
  readonly daemonDown: boolean;
}

d.each<Case>([
  { mode: 'vpc', daemonDown: false },
  { mode: 'veth-policy-routing', daemonDown: false },
  { mode: 'vpc', daemonDown: true },
  { mode: 'veth-policy-routing', daemonDown: true },
])('sandbox re-creation on $mode (daemon down during the old DEL: $daemonDown)', ({ mode, daemonDown }) => {
  const tag = rand();
  const subnet = `10.${mode === 'vpc' ? 213 : 214}.${String(Math.floor(Math.random() * 200) + 20)}`;
  const hostAddr = `${subnet}.254`; // a host-owned address (on lo) the pods must reach
  const eniLink = `hsre${tag}`;
  let eni: EniStandIn | undefined;
  let daemon: RunningDaemon;
  let before: HostState;
  const sandboxes: Sandbox[] = [];
  const sandbox = (pod: string, id: string): Sandbox => {
    const s: Sandbox = { ns: createNetns(`hsr-${tag}-${id}`), pod, containerId: `${id}${tag}`, ip: '', result: {} };
    sandboxes.push(s);
    return s;
  };

  beforeAll(async () => {
    if (mode === 'veth-policy-routing') eni = createEniStandIn(eniLink, `hsrvs-${tag}`, subnet);
    sh('ip', ['addr', 'add', `${hostAddr}/32`, 'dev', 'lo']);
    daemon = await startDaemon(eni === undefined ? { mode, podCIDR: `${subnet}.0/24` } : { mode, eni: eni.eniConfig(40) });
    before = snapshotHost();
  });

  afterAll(async () => {
    await daemon.restart().catch(() => undefined);
    for (const s of sandboxes) {
      cni(daemon, 'DEL', s);
      s.ns.remove();
    }
    await daemon.stop();
    daemon.cleanup();
    shTry('ip', ['addr', 'del', `${hostAddr}/32`, 'dev', 'lo']);
    eni?.remove();
  });

  it('the old sandbox DEL leaves the new sandbox working and releases only the old IP', async () => {
    const peer = sandbox(`peer-${tag}`, 'peer');
    const old = sandbox(`web-${tag}`, 'old');
    const fresh = sandbox(`web-${tag}`, 'new');
    add(daemon, peer);
    add(daemon, old);
    expect(pings(old.ns, peer.ip)).toBe(true);
    add(daemon, fresh);
    expect(fresh.ip).not.toBe(old.ip);
    expect(pings(fresh.ns, peer.ip)).toBe(true);
    expect(pings(fresh.ns, hostAddr)).toBe(true);

    if (daemonDown) await daemon.stop();
    const r = cni(daemon, 'DEL', old);
    expect({ code: r.code, out: r.stdout, err: r.stderr }).toMatchObject({ code: 0, out: '' });

    // the new sandbox is intact: its eth0, its host veth and /32 route, its traffic
    expect(fresh.ns.ipJson<{ ifname: string }[]>(['link', 'show']).map((l) => l.ifname).sort()).toEqual(['eth0', 'lo']);
    expect(shTry('ip', ['link', 'show', 'dev', veth(fresh.pod)]).code).toBe(0);
    expect(JSON.parse(sh('ip', ['-j', 'route', 'show', `${fresh.ip}/32`]))).toEqual([expect.objectContaining({ dst: fresh.ip, dev: veth(fresh.pod) })]);
    expect(pings(fresh.ns, peer.ip)).toBe(true);
    expect(pings(fresh.ns, hostAddr)).toBe(true);
    // the old sandbox has no pod link left, and no host state for its IP
    expect(old.ns.ipJson<{ ifname: string }[]>(['link', 'show']).map((l) => l.ifname)).toEqual(['lo']);
    expect(JSON.parse(sh('ip', ['-j', 'route', 'show', 'table', 'all', `${old.ip}/32`]) || '[]')).toEqual([]);
    expect((JSON.parse(sh('ip', ['-j', 'rule', 'show'])) as Record<string, unknown>[]).filter((x) => x.src === old.ip || x.dst === old.ip)).toEqual([]);

    if (daemonDown) await daemon.restart(); // drains the pending release at start
    expect(leasedIps(daemon)).toEqual([fresh.ip, peer.ip].sort());
    expect(pings(fresh.ns, peer.ip)).toBe(true);

    for (const s of [fresh, peer]) expect(cni(daemon, 'DEL', s).code).toBe(0);
    expect(leasedIps(daemon)).toEqual([]);
    expect(diffHost(before, snapshotHost())).toEqual({ added: [], removed: [] });
  });
});
