/**
 * The pod pairs bench:dataplane measures between: for each dataplane two network namespaces ADDed through the REAL
 * plugin binary and daemon (test/helpers/hub.ts), the way kubelet's runtime would, on the node stand-ins the
 * privileged suites use (a veth "ENI" into a vSwitch namespace for veth-policy-routing and ipvlan, veth ENIs with
 * their own MACs on a vSwitch bridge for exclusive ENI); and the reference, Debian's `ptp` + `host-local`.
 *
 * Everything created is pushed on a `Cleanups` stack the moment it exists, so a failure half-way through a setup is
 * cleaned up too (run the stack in a `finally`). Names start with `bd` (plus a per-run tag).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callPluginAsync, pluginStdin, startDaemon, type DaemonOptions } from '../../test/helpers/hub.js';
import { createEniStandIn } from '../../test/helpers/eni.js';
import { sh, shTry } from '../../test/helpers/exec.js';
import { createNetns, type TestNetns } from '../../test/helpers/netns.js';
import { refExec } from '../ref-cni.js';

export interface PodEnd {
  readonly ns: string;
  readonly ip: string;
}

/** A dataplane under test: client pod `a`, server pod `b`, on the same node. */
export interface PodPair {
  readonly key: string;
  readonly label: string;
  readonly a: PodEnd;
  readonly b: PodEnd;
}

/** Undo steps, run last-in first-out; one failing step does not stop the others. */
export class Cleanups {
  private readonly steps: (() => unknown)[] = [];
  push(step: () => unknown): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (e) {
        console.error(`cleanup step failed: ${(e as Error).message}`);
      }
    }
  }
}


function ipOf(result: unknown): string {
  const ip = ((result as { ips?: { address?: string }[] } | undefined)?.ips?.[0]?.address ?? '').split('/')[0] ?? '';
  if (ip === '') throw new Error(`no IP in the CNI result ${JSON.stringify(result)}`);
  return ip;
}

function netns(c: Cleanups, name: string): TestNetns {
  const ns = createNetns(name);
  c.push(() => { ns.remove(); });
  return ns;
}

/** The reference chain: /usr/lib/cni/ptp with host-local, as bench:cni and bench:bandwidth run it. */
export function refPair(c: Cleanups, tag: string, subnet: string): PodPair {
  const ipamDir = mkdtempSync(join(tmpdir(), 'bd-ipam-'));
  c.push(() => { rmSync(ipamDir, { recursive: true, force: true }); });
  const conf = { cniVersion: '1.0.0', name: `bd${tag}ref`, type: 'ptp', ipMasq: false, mtu: 1500, ipam: { type: 'host-local', subnet, dataDir: ipamDir } };
  const pod = (n: string): PodEnd => {
    const ns = netns(c, `bd${tag}r${n}`);
    const env = { CNI_CONTAINERID: `bd${tag}r${n}`, CNI_NETNS: ns.path, CNI_IFNAME: 'eth0' };
    const result = refExec('ptp', 'ADD', env, conf);
    c.push(() => { try { refExec('ptp', 'DEL', env, { ...conf, prevResult: result }); } catch { /* best effort on the way out */ } });
    return { ns: ns.name, ip: ipOf(result) };
  };
  return { key: 'ref', label: 'reference ptp+host-local', a: pod('a'), b: pod('b') };
}

/** The real daemon in `opts.mode` and two pods ADDed through the real plugin (DELed through it on cleanup). */
async function hubPair(c: Cleanups, tag: string, key: string, label: string, opts: DaemonOptions): Promise<PodPair> {
  const daemon = await startDaemon({ startTimeoutMs: 120_000, ...opts });
  c.push(() => { daemon.cleanup(); });
  c.push(() => daemon.stop());
  const pod = async (n: string): Promise<PodEnd> => {
    const ns = netns(c, `bd${tag}${key}${n}`);
    const call = { containerId: `bd${tag}${key}${n}`, netns: ns.path, ifName: 'eth0', args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=bd${tag}${key}${n}` };
    const r = await callPluginAsync({ command: 'ADD', ...call }, pluginStdin(daemon.conflist()));
    if (r.code !== 0) throw new Error(`${label} ADD failed: ${r.stdout} ${r.stderr}\n--- daemon log ---\n${daemon.logs().slice(-3000)}`);
    c.push(() => callPluginAsync({ command: 'DEL', ...call }, pluginStdin(daemon.conflist(), { prevResult: r.json })));
    return { ns: ns.name, ip: ipOf(r.json) };
  };
  const a = await pod('a');
  const b = await pod('b');
  // The pods' dataplane is kernel state: the daemon is stopped while traffic is measured, so its background work
  // (GC, pool keeper, JIT) does not compete with it for the CPU (one vCPU in the VM), and started again for the DELs.
  await daemon.stop();
  c.push(() => daemon.restart());
  return { key, label, a, b };
}

export function vpcPair(c: Cleanups, tag: string, podCIDR: string): Promise<PodPair> {
  return hubPair(c, tag, 'vpc', 'hub vpc', { mode: 'vpc', podCIDR });
}

/** veth-policy-routing on a veth stand-in ENI (test/helpers/eni.ts), pod IPs from `<subnet3>.10`. */
export function vprPair(c: Cleanups, tag: string, subnet3: string): Promise<PodPair> {
  const eni = createEniStandIn(`bd${tag}v`, `bd${tag}vsw`, subnet3);
  c.push(() => { eni.remove(); });
  return hubPair(c, tag, 'vpr', 'hub veth-policy-routing', { mode: 'veth-policy-routing', eni: eni.eniConfig() });
}

/** ipvlan (kernels with ipvlan only: the VM) on a veth stand-in ENI, the node's IP `<hostNet3>.1`. */
export function ipvlanPair(c: Cleanups, tag: string, subnet3: string, hostNet3: string): Promise<PodPair> {
  const eni = createEniStandIn(`bd${tag}i`, `bd${tag}isw`, subnet3);
  c.push(() => { eni.remove(); });
  return hubPair(c, tag, 'ipvlan', 'hub ipvlan', { mode: 'ipvlan', eni: eni.eniConfig(), extra: { ipvlan: { hostIp: `${hostNet3}.1`, serviceCidr: `${hostNet3}.0/24` } } });
}

/**
 * Exclusive ENI: two veth "ENIs" with their own MACs whose peers sit on a vSwitch bridge holding the gateway
 * `<subnet3>.253` (test/privileged/eni-daemon.test.ts's layout); each pod gets a whole one, pod↔pod crosses the vSwitch.
 */
export function eniPair(c: Cleanups, tag: string, subnet3: string, hostNet3: string): Promise<PodPair> {
  const vsw = netns(c, `bd${tag}esw`);
  vsw.exec(['ip', 'link', 'add', 'br0', 'type', 'bridge']);
  vsw.exec(['ip', 'addr', 'add', `${subnet3}.253/24`, 'dev', 'br0']);
  vsw.exec(['ip', 'link', 'set', 'br0', 'up']);
  vsw.exec(['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.br0.send_redirects=0']);
  const hex = Buffer.from(tag.slice(0, 2)).toString('hex').padStart(4, '0');
  const macs = [1, 2].map((i) => `02:bd:${hex.slice(0, 2)}:${hex.slice(2, 4)}:00:0${String(i)}`);
  macs.forEach((mac, i) => {
    const link = `bd${tag}e${String(i)}`;
    sh('ip', ['link', 'add', link, 'address', mac, 'type', 'veth', 'peer', 'name', `p${String(i)}`, 'netns', vsw.path]);
    // the ENI moves into the pod and back under a neutral name on DEL: delete it by MAC, wherever it is then
    c.push(() => {
      const rows = JSON.parse(sh('ip', ['-j', 'link', 'show'])) as { ifname: string; address: string }[];
      const name = rows.find((r) => r.address === mac)?.ifname;
      if (name !== undefined) shTry('ip', ['link', 'del', name]);
    });
    vsw.exec(['ip', 'link', 'set', `p${String(i)}`, 'master', 'br0', 'up']);
  });
  return hubPair(c, tag, 'eni', 'hub eni (exclusive)', {
    mode: 'eni',
    extra: {
      local: { enis: macs.map((mac, i) => ({ mac, ip: `${subnet3}.${String(10 + i)}`, subnet: `${subnet3}.0/24`, gateway: `${subnet3}.253` })) },
      eni: { hostIp: `${hostNet3}.1`, serviceCidr: `${hostNet3}.0/24` },
      pool: { minIdle: 0, maxIdle: 2 },
    },
  });
}
