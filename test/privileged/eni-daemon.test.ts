/**
 * Exclusive ENI end to end: the real daemon in `mode: eni` (the local provider's `local.enis`: veth ends with known
 * MACs standing in for secondary ENIs, their peers on a "vSwitch" bridge holding the gateway) and the real plugin
 * binary. Two pods get whole ENIs (their MACs, their primary IPs); pod A reaches pod B through the ENI links and the
 * vSwitch, and the node's IP through its side-car veth; DEL gives each link back to the host under its neutral name
 * and the daemon pools the ENI; a third pod's ADD reuses a pooled ENI (none created), shaped on the moved link.
 */
import { existsSync } from 'node:fs';
import { neutralName } from '../../src/modes/eni/layout.js';
import type { MacAddr } from '../../src/lib/brand.js';
import { callPlugin, PLUGIN, pluginStdin, startDaemon, type RunningDaemon } from '../helpers/hub.js';
import { sh, shTry } from '../helpers/exec.js';
import { ipRows } from '../helpers/ip.js';
import { rand, testSubnet } from '../helpers/names.js';
import { createNetns, type TestNetns } from '../helpers/netns.js';
import { describePrivileged } from '../helpers/privilege.js';
import { waitFor } from '../helpers/wait.js';

const d = describePrivileged('exclusive ENI through the real daemon and plugin', [existsSync(PLUGIN), `plugin binary missing at ${PLUGIN}: run npm run build`]);

const t = rand(4);
const vswitch = testSubnet('10.226'); // ENI IPs .10-.12, gateway .253
const hostNet = testSubnet('10.227'); // the node's IP .1; the service CIDR is this /24
const macs = [1, 2, 3].map((i) => `02:16:3e:${t.slice(0, 2).split('').map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join(':')}:0${String(i)}` as MacAddr);

interface Pod {
  readonly ns: TestNetns;
  readonly name: string;
  readonly containerId: string;
  result: Record<string, unknown>;
}

function cniArgs(p: Pod): string {
  return `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${p.name};K8S_POD_INFRA_CONTAINER_ID=${p.containerId}`;
}

function hostLinkByMac(mac: string): string | undefined {
  return (ipRows(['link', 'show']) as { ifname: string; address: string }[]).find((l) => l.address === mac)?.ifname;
}

d('exclusive ENI: real daemon (mode eni) + real plugin', () => {
  let daemon: RunningDaemon;
  let vsw: TestNetns;
  const pods: Pod[] = [];
  const hostAddr = `${hostNet.ip(1)}/32`;
  const eniLinks = macs.map((_, i) => `xe${t}e${String(i)}`);

  const add = (p: Pod, extra: Record<string, unknown> = {}) => callPlugin({ command: 'ADD', containerId: p.containerId, netns: p.ns.path, ifName: 'eth0', args: cniArgs(p) }, pluginStdin(daemon.conflist(), extra));
  const del = (p: Pod) => callPlugin({ command: 'DEL', containerId: p.containerId, netns: p.ns.path, ifName: 'eth0', args: cniArgs(p) }, pluginStdin(daemon.conflist(), { prevResult: p.result }));
  const ipOf = (p: Pod): string => ((p.result.ips as { address: string }[] | undefined)?.[0]?.address ?? '').split('/')[0] ?? '';
  const created = (): number => daemon.logs().match(/exclusive-ENI pool: ENI created/gu)?.length ?? 0;
  const macOf = (p: Pod): string => (p.result.interfaces as { name: string; mac: string; sandbox?: string }[]).find((i) => i.name === 'eth0' && i.sandbox !== undefined)?.mac ?? '';

  beforeAll(async () => {
    vsw = createNetns(`xe${t}vsw`);
    vsw.exec(['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    vsw.exec(['ip', 'addr', 'add', `${vswitch.ip(253)}/24`, 'dev', 'br0']);
    vsw.exec(['ip', 'link', 'set', 'br0', 'up']);
    vsw.exec(['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.br0.send_redirects=0']);
    macs.forEach((mac, i) => {
      const link = eniLinks[i] ?? '';
      sh('ip', ['link', 'add', link, 'address', mac, 'type', 'veth', 'peer', 'name', `p${String(i)}`, 'netns', vsw.path]);
      vsw.exec(['ip', 'link', 'set', `p${String(i)}`, 'master', 'br0', 'up']);
    });
    sh('ip', ['addr', 'add', hostAddr, 'dev', 'lo']);
    daemon = await startDaemon({
      mode: 'eni',
      extra: {
        local: { enis: macs.map((mac, i) => ({ mac, ip: vswitch.ip(10 + i), subnet: `${vswitch.subnet3}.0/24`, gateway: vswitch.ip(253) })) },
        eni: { hostIp: hostNet.ip(1), serviceCidr: `${hostNet.subnet3}.0/24` },
        pool: { minIdle: 0, maxIdle: 3 },
      },
    });
    for (const n of ['a', 'b', 'c']) pods.push({ ns: createNetns(`xe${t}p${n}`), name: `pod-${n}-${t}`, containerId: `ctr${n}${t}`, result: {} });
  });

  afterAll(async () => {
    for (const p of pods) {
      del(p);
      p.ns.remove();
    }
    await daemon.stop();
    daemon.cleanup();
    for (const [i, mac] of macs.entries()) {
      shTry('ip', ['link', 'del', eniLinks[i] ?? '']);
      shTry('ip', ['link', 'del', neutralName(mac)]);
    }
    shTry('ip', ['addr', 'del', hostAddr, 'dev', 'lo']);
    vsw.remove();
  });

  it('ADD: each pod gets a whole ENI (its MAC as eth0, its primary IP), moved off the host', async () => {
    for (const p of pods.slice(0, 2)) {
      const r = add(p);
      expect({ code: r.code, stderr: r.stderr, out: r.json }).toMatchObject({ code: 0 });
      p.result = r.json as Record<string, unknown>;
      const mac = macOf(p);
      expect(macs).toContain(mac);
      expect(hostLinkByMac(mac)).toBeUndefined(); // in the pod now
      const eth0 = p.ns.ipJson<{ ifname: string; address: string }[]>(['link', 'show', 'eth0']);
      expect(eth0[0]?.address).toBe(mac);
      expect(p.ns.exec(['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).toContain(`${ipOf(p)}/32`);
      expect(p.ns.exec(['ip', 'route', 'show', 'default'])).toContain(`default via ${vswitch.ip(253)} dev eth0 onlink`);
      expect(p.ns.exec(['ip', 'route', 'show', `${hostNet.subnet3}.0/24`])).toContain('via 169.254.1.1 dev veth1 onlink');
    }
    const [a, b] = pods as [Pod, Pod];
    expect(macOf(a)).not.toBe(macOf(b));
    expect(new Set([ipOf(a), ipOf(b)]).size).toBe(2);
    // the daemon's log is read between the (synchronous) plugin calls: wait for it
    await waitFor(() => created() >= 2, { timeoutMs: 5000, what: () => `2 ENIs created; daemon logs:\n${daemon.logs()}` });
    expect(created()).toBe(2);
  });

  it('pod A reaches pod B through the ENI links, and the node through its side-car veth', () => {
    const [a, b] = pods as [Pod, Pod];
    const tx = (p: Pod, dev: string): number => (p.ns.ipJson<{ ifname: string; stats64?: { tx: { packets: number } } }[]>(['-s', 'link', 'show', dev])[0]?.stats64?.tx.packets ?? 0);
    const eth0Before = tx(a, 'eth0');
    expect(a.ns.tryExec(['ping', '-c', '2', '-i', '0.2', '-W', '3', ipOf(b)]).code).toBe(0);
    expect(tx(a, 'eth0') - eth0Before).toBeGreaterThanOrEqual(2);
    const sideBefore = tx(a, 'veth1');
    expect(a.ns.tryExec(['ping', '-c', '2', '-i', '0.2', '-W', '3', hostNet.ip(1)]).code).toBe(0);
    expect(tx(a, 'veth1') - sideBefore).toBeGreaterThanOrEqual(2);
    expect(b.ns.tryExec(['ping', '-c', '1', '-W', '3', ipOf(a)]).code).toBe(0);
  });

  it('DEL gives each ENI back to the host under its neutral name; the daemon pools it; the next ADD reuses one, shaped', async () => {
    const [a, b, c] = pods as [Pod, Pod, Pod];
    const returned = [macOf(a), macOf(b)];
    for (const p of [a, b]) {
      const r = del(p);
      expect({ code: r.code, out: r.stdout, err: r.stderr }).toMatchObject({ code: 0, out: '' });
      expect(del(p).code).toBe(0); // idempotent
      expect(p.ns.ipJson<{ ifname: string }[]>(['link', 'show']).map((l) => l.ifname)).toEqual(['lo']);
    }
    for (const mac of returned) expect(hostLinkByMac(mac)).toBe(neutralName(mac as MacAddr));
    const r = add(c, { runtimeConfig: { bandwidth: { egressRate: 20_000_000, egressBurst: 400_000 } } });
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    c.result = r.json as Record<string, unknown>;
    expect(returned).toContain(macOf(c)); // a pooled ENI, found under its neutral name
    await waitFor(() => daemon.logs().includes(c.containerId), { timeoutMs: 5000, what: () => `the lease of ${c.containerId} in the daemon's log` });
    expect(created()).toBe(2); // none created for it
    expect(c.ns.exec(['tc', 'qdisc', 'show', 'dev', 'eth0'])).toMatch(/qdisc tbf .*rate 20Mbit/u);
    expect(c.ns.tryExec(['ping', '-c', '1', '-W', '3', hostNet.ip(1)]).code).toBe(0);
  });
});
