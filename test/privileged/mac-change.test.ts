/**
 * A pod whose MAC is changed after the hub built it (issue 13 defect 1): tuning's `mac`, `podman run --mac-address`,
 * `podman network reload`. The kernel flushes the pod's neighbours (the PERMANENT 169.254.1.1 entry too) when the
 * link's address changes; the host veth's proxy ARP answers the re-resolution, so traffic goes on. CHECK compares
 * the pod link with prevResult, where the later plugin reported the change. Real plugin binary, real daemon, and
 * the real reference `tuning` plugin, both veth dataplanes.
 */
import { existsSync } from 'node:fs';
import { callPlugin, PLUGIN, pluginStdin, startDaemon, type RunningDaemon } from '../helpers/hub.js';
import { diffHost, snapshotHost, type HostState } from '../helpers/host-state.js';
import { createEniStandIn, type EniStandIn } from '../helpers/eni.js';
import { createNetns, type TestNetns } from '../helpers/netns.js';
import { sh, shTry } from '../helpers/exec.js';
import { rand, testSubnet } from '../helpers/names.js';
import { describePrivileged } from '../helpers/privilege.js';

const TUNING = '/usr/lib/cni/tuning';
const d = describePrivileged(
  'pod MAC change',
  [existsSync(PLUGIN), `plugin binary missing at ${PLUGIN}: run npm run build`],
  [existsSync(TUNING), `${TUNING} missing: apt-get install containernetworking-plugins`],
);

interface Pod {
  readonly id: string;
  readonly ns: TestNetns;
  ip: string;
  result: { ips: { address: string }[]; interfaces: { name: string; mac: string; sandbox?: string }[] } & Record<string, unknown>;
}

d.each(['vpc', 'veth-policy-routing'] as const)('pod MAC change on %s', (mode) => {
  const tag = rand();
  const subnet = testSubnet(mode === 'vpc' ? '10.216' : '10.217').subnet3;
  let eni: EniStandIn | undefined;
  let daemon: RunningDaemon;
  let before: HostState;
  const pods: Pod[] = [];

  const cni = (command: 'ADD' | 'DEL' | 'CHECK', p: Pod, prevResult?: Record<string, unknown>): ReturnType<typeof callPlugin> =>
    callPlugin(
      { command, containerId: p.id, netns: p.ns.path, ifName: 'eth0', args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${p.id}` },
      pluginStdin(daemon.conflist(), prevResult === undefined ? {} : { prevResult }),
    );
  const pod = (name: string): Pod => {
    const p: Pod = { id: `${name}${tag}`, ns: createNetns(`hmc-${tag}-${name}`), ip: '', result: { ips: [], interfaces: [] } };
    pods.push(p);
    const r = cni('ADD', p);
    expect({ code: r.code, out: r.stdout }).toMatchObject({ code: 0 });
    p.result = r.json as Pod['result'];
    p.ip = p.result.ips[0]?.address.split('/')[0] ?? '';
    return p;
  };
  const pings = (from: TestNetns, ip: string): boolean => from.tryExec(['ping', '-c', '2', '-W', '2', ip]).code === 0;
  const hostPings = (ip: string): boolean => shTry('ping', ['-c', '2', '-W', '2', ip]).code === 0;
  const gatewayNeigh = (p: Pod): { state: string[]; lladdr?: string }[] =>
    p.ns.ipJson<{ dst: string; state: string[]; lladdr?: string }[]>(['neigh', 'show', 'dev', 'eth0']).filter((n) => n.dst === '169.254.1.1');
  /** prevResult as a later plugin reports it: the pod interface with the new MAC. */
  const withPodMac = (p: Pod, mac: string): Record<string, unknown> => ({
    ...p.result,
    interfaces: p.result.interfaces.map((i) => (i.name === 'eth0' && i.sandbox !== undefined ? { ...i, mac } : i)),
  });

  beforeAll(async () => {
    if (mode === 'veth-policy-routing') eni = createEniStandIn(`hmce${tag}`, `hmcvs-${tag}`, subnet);
    daemon = await startDaemon(eni === undefined ? { mode, podCIDR: `${subnet}.0/24` } : { mode, eni: eni.eniConfig(20) });
    before = snapshotHost();
  });

  afterAll(async () => {
    for (const p of pods) {
      cni('DEL', p);
      p.ns.remove();
    }
    await daemon.stop();
    daemon.cleanup();
    eni?.remove();
  });

  it('keeps traffic after `ip link set address` and after the real tuning plugin changes the MAC; CHECK follows prevResult', () => {
    const a = pod('a');
    const b = pod('b');
    expect(pings(a.ns, b.ip)).toBe(true);
    expect(hostPings(a.ip)).toBe(true);
    expect(gatewayNeigh(a)).toEqual([expect.objectContaining({ state: ['PERMANENT'] })]);

    // 1. the address changed by hand (what podman --mac-address and a network reload do)
    const macA = '02:42:ac:11:00:0a';
    a.ns.exec(['ip', 'link', 'set', 'eth0', 'address', macA]);
    expect(gatewayNeigh(a)).toEqual([]); // the kernel flushed the PERMANENT entry: what cut pods off before
    expect(pings(a.ns, b.ip)).toBe(true);
    expect(pings(b.ns, a.ip)).toBe(true);
    expect(hostPings(a.ip)).toBe(true);
    const hostMac = a.result.interfaces[0]?.mac;
    expect(gatewayNeigh(a)).toEqual([expect.objectContaining({ lladdr: hostMac })]); // re-learned through proxy ARP
    // CHECK: honest about a change prevResult reports, and about one it does not
    expect(cni('CHECK', a, withPodMac(a, macA)).code).toBe(0);
    const stale = cni('CHECK', a, a.result);
    expect(stale.json).toMatchObject({ code: 101, details: expect.stringContaining(`has address ${macA}`) });

    // 2. the real tuning plugin after the hub, with `mac` in its config, as in a chain
    const macB = '02:42:ac:11:00:0b';
    const tuning = shTry(TUNING, [], {
      input: JSON.stringify({ cniVersion: '1.0.0', name: 'hubmac', type: 'tuning', mac: macB, prevResult: b.result }),
      env: { ...process.env, CNI_COMMAND: 'ADD', CNI_CONTAINERID: b.id, CNI_NETNS: b.ns.path, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' },
    });
    expect({ code: tuning.code, err: tuning.stderr }).toMatchObject({ code: 0 });
    const tuned = JSON.parse(tuning.stdout) as Record<string, unknown>;
    expect(JSON.stringify(tuned)).toContain(macB);
    expect(pings(b.ns, a.ip)).toBe(true);
    expect(pings(a.ns, b.ip)).toBe(true);
    expect(hostPings(b.ip)).toBe(true);
    expect(cni('CHECK', b, { ...tuned, cniVersion: '1.0.0' }).code).toBe(0);

    for (const p of [a, b]) expect(cni('DEL', p, p.result).code).toBe(0);
  });

  it('leaves the host as it was', () => {
    for (const p of pods) cni('DEL', p);
    expect(diffHost(before, snapshotHost())).toEqual({ added: [], removed: [] });
    expect(sh('ip', ['-j', 'link', 'show'])).not.toContain(pods[0]?.result.interfaces[0]?.name ?? 'none');
  });
});
