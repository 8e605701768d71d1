/**
 * The exclusive-ENI dataplane on this kernel, through the REAL planner, executor and probe (src/netlink), with
 * traffic. A veth pair plays the ENI: its host end (a known MAC) is the "ENI", its peer sits in a "vSwitch" netns
 * holding the gateway and another "pod" address. The pod reaches that address through its ENI, and the node's IP, a
 * service-CIDR address and a host-stack address (all answered on the host, on a dummy) through the side-car veth;
 * both bandwidth directions are measured with iperf3 on the moved link; CHECK passes and names drift; the MAC guard
 * refuses a link of another MAC; DEL gives the ENI back to the host under its neutral name (its MAC, down, no
 * address, no qdisc) and removes the side-car; a second DEL succeeds.
 */
import { randomBytes } from 'node:crypto';
import { defaultBurstBits } from '../../src/bandwidth/burst.js';
import type { IfName, MacAddr } from '../../src/lib/brand.js';
import { parseAllocation } from '../../src/modes/allocation.js';
import { neutralName } from '../../src/modes/eni/layout.js';
import { dataplaneFor } from '../../src/modes/registry.js';
import type { EniAllocation, NodeFacts, PodNetworkSpec } from '../../src/modes/types.js';
import { PlanError } from '../../src/netlink/executor.js';
import { hasCommand, sh, shTry } from '../helpers/exec.js';
import { ipRows } from '../helpers/ip.js';
import { rand, testSubnet } from '../helpers/names.js';
import { createNetns, netnsPath, type TestNetns } from '../helpers/netns.js';
import { describePrivileged } from '../helpers/privilege.js';
import { iperf } from './bandwidth/iperf.js';
import { executor, probe } from './netlink/harness.js';

const d = describePrivileged('privileged exclusive-ENI dataplane (real executor, traffic, iperf3)', [hasCommand('iperf3'), 'iperf3 not installed (apt-get install -y iperf3)']);

const t = rand(5);
const vswitch = testSubnet('10.224'); // the ENI's vSwitch: pod .10, other pod .20, gateway .253
const hostNet = testSubnet('10.225'); // the node's IP .1, a service address .10 (service CIDR = this /24)
const HOST_STACK = '169.254.20.10'; // a node-local DNS style host-stack address
const M = 1_000_000;
const EGRESS_MBIT = 30;
const INGRESS_MBIT = 18;
const SECONDS = 3;
const limit = (mbit: number): { rateBps: number; burstBits: number } => ({ rateBps: mbit * M, burstBits: defaultBurstBits(mbit * M) });
const node: NodeFacts = { vethPrefix: 'exs' };
const dp = dataplaneFor('eni');

interface LinkRow {
  ifname: string;
  address: string;
  mtu: number;
  flags: string[];
  stats64?: { rx: { packets: number }; tx: { packets: number } };
}

function hostLink(name: string): LinkRow | undefined {
  return (ipRows(['-s', 'link', 'show']) as unknown as LinkRow[]).find((l) => l.ifname === name);
}
function podLink(ns: TestNetns, name: string): LinkRow | undefined {
  return (ipRows(['-n', ns.name, '-s', 'link', 'show']) as unknown as LinkRow[]).find((l) => l.ifname === name);
}
/** The device `ip route get DST` picks in the pod. */
function routeDev(ns: TestNetns, dst: string): string {
  const [r] = ipRows(['-n', ns.name, 'route', 'get', dst]) as { dev?: string }[];
  return r?.dev ?? '';
}
function ping(ns: TestNetns, dst: string): number {
  return ns.tryExec(['ping', '-c', '2', '-i', '0.2', '-W', '3', dst]).code;
}

d('exclusive ENI: the ENI moved into the pod by MAC, the side-car, shaping, CHECK, DEL', () => {
  const eniLink = `ex${t}e` as IfName; // the "ENI"'s host name before the pod
  const wrongLink = `ex${t}w`; // a link of another MAC the guard must refuse to move
  const hostAddrs = [`${hostNet.ip(1)}/32`, `${hostNet.ip(10)}/32`, `${HOST_STACK}/32`];
  const eniMac = `02:16:3e:${[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0')).join(':')}` as MacAddr;
  const neutral = neutralName(eniMac);
  let vsw: TestNetns;
  let podNs: TestNetns;
  const podNsName = `ex${t}-pod`;
  const spec: PodNetworkSpec = { pod: { namespace: `ex-${t}`, name: 'web' }, containerId: `c-ex${t}`, netns: netnsPath(podNsName), ifName: 'eth0' as IfName };
  const alloc = parseAllocation({
    mode: 'eni',
    ip: vswitch.ip(10),
    subnet: `${vswitch.subnet3}.0/24`,
    mtu: 1500,
    eni: { id: `eni-ex${t}`, mac: eniMac, link: eniLink, gateway: vswitch.ip(253) },
    hostIp: hostNet.ip(1),
    serviceCidrs: [`${hostNet.subnet3}.0/24`],
    hostStackCidrs: [`${HOST_STACK}/32`],
    bandwidth: { egress: limit(EGRESS_MBIT), ingress: limit(INGRESS_MBIT) },
  }) as EniAllocation;

  beforeAll(() => {
    vsw = createNetns(`ex${t}-vsw`);
    podNs = createNetns(podNsName, { lo: 'down' });
    // the ENI: MTU 1400 on the host (the pod's 1500 is set by the move), its peer the vSwitch with the gateway and another pod
    sh('ip', ['link', 'add', eniLink, 'mtu', '1400', 'address', eniMac, 'type', 'veth', 'peer', 'name', 'vsw0', 'netns', vsw.path]);
    sh('ip', ['link', 'set', eniLink, 'up']);
    vsw.exec(['ip', 'addr', 'add', `${vswitch.ip(253)}/24`, 'dev', 'vsw0']);
    vsw.exec(['ip', 'addr', 'add', `${vswitch.ip(20)}/24`, 'dev', 'vsw0']);
    vsw.exec(['ip', 'link', 'set', 'vsw0', 'up']);
    sh('ip', ['link', 'add', wrongLink, 'type', 'veth', 'peer', 'name', `ex${t}x`]);
    // the host stack (on lo: this kernel has no dummy driver): the node's IP, a service address, a host-stack address
    for (const a of hostAddrs) sh('ip', ['addr', 'add', a, 'dev', 'lo']);
  });

  afterAll(async () => {
    await executor.teardown(dp.planTeardown(spec, alloc, node, 'owned')).catch(() => undefined);
    for (const l of [eniLink, neutral, wrongLink]) shTry('ip', ['link', 'del', l]);
    for (const a of hostAddrs) shTry('ip', ['addr', 'del', a, 'dev', 'lo']);
    podNs.remove();
    vsw.remove();
  });

  it('refuses to move a link whose MAC is not the ENI\'s: nothing is built, the link stays on the host', async () => {
    const wrong = { ...alloc, eni: { ...alloc.eni, link: wrongLink as IfName } };
    const err = await executor.apply(dp.planSetup(spec, wrong, node).plan).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanError);
    expect((err as PlanError).message).toContain(`link ${wrongLink} (host) has MAC`);
    expect((err as PlanError).message).toContain(`not ${eniMac}: not moved (wrong link)`);
    expect(hostLink(wrongLink)).toBeDefined();
    expect(podLink(podNs, 'eth0')).toBeUndefined();
    expect(podLink(podNs, 'veth1')).toBeUndefined();
  });

  it('ADD: the ENI is the pod\'s eth0 (its MAC, the pod MTU, podIP/32, default via the gateway), the side-car is built; CHECK passes', async () => {
    const { plan } = dp.planSetup(spec, alloc, node);
    await executor.apply(plan);
    expect(hostLink(eniLink)).toBeUndefined();
    const eth0 = podLink(podNs, 'eth0');
    expect(eth0).toMatchObject({ address: eniMac, mtu: 1500 });
    expect(eth0?.flags).toContain('UP');
    expect(podNs.exec(['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).toContain(`${vswitch.ip(10)}/32`);
    expect(podNs.exec(['ip', 'route', 'show', 'default'])).toContain(`default via ${vswitch.ip(253)} dev eth0 onlink`);
    expect(podNs.exec(['ip', 'neigh', 'show', '169.254.1.1', 'dev', 'veth1'])).toContain('PERMANENT');
    const hostEnd = hostEndOf();
    expect(hostEnd).toMatch(/^exs[0-9a-f]{11}$/u);
    expect(sh('ip', ['route', 'show', `${vswitch.ip(10)}/32`])).toContain(`dev ${hostEnd} scope link`);
    expect(await probe.missing(plan)).toEqual([]);
  });

  it('the pod reaches the other pod through its ENI, and the node, a service and a host-stack address through the side-car', () => {
    expect(routeDev(podNs, vswitch.ip(20))).toBe('eth0');
    for (const dst of [hostNet.ip(1), hostNet.ip(10), HOST_STACK]) expect(routeDev(podNs, dst)).toBe('veth1');
    const before = podLink(podNs, 'eth0')?.stats64?.tx.packets ?? 0;
    expect(ping(podNs, vswitch.ip(20))).toBe(0);
    expect((podLink(podNs, 'eth0')?.stats64?.tx.packets ?? 0) - before).toBeGreaterThanOrEqual(2);
    const sideBefore = podLink(podNs, 'veth1')?.stats64?.tx.packets ?? 0;
    for (const dst of [hostNet.ip(1), hostNet.ip(10), HOST_STACK]) expect(ping(podNs, dst)).toBe(0);
    expect((podLink(podNs, 'veth1')?.stats64?.tx.packets ?? 0) - sideBefore).toBeGreaterThanOrEqual(6);
  });

  it('shapes both directions on the moved link (iperf3 to the other pod over the ENI)', async () => {
    // A run below the rate can be a CPU-starved sender on this shared 2-core host, not the shaper: such a direction is
    // measured again (up to 3 runs, the best kept). A shaper never lets a run exceed its rate, so every run must stay
    // within the upper bound.
    const measure = async (reverse: boolean, mbit: number): Promise<number> => {
      let best = 0;
      for (let run = 0; run < 3; run++) {
        const bps = await iperf(vsw.name, podNs.name, vswitch.ip(20), SECONDS, reverse);
        expect(bps / (mbit * M)).toBeLessThanOrEqual(1.1);
        best = Math.max(best, bps);
        if (best / (mbit * M) >= 0.9) break;
      }
      return best;
    };
    const egress = await measure(false, EGRESS_MBIT);
    const ingress = await measure(true, INGRESS_MBIT);
    const ratios = { egress: egress / (EGRESS_MBIT * M), ingress: ingress / (INGRESS_MBIT * M) };
    process.stdout.write(`eni-mode iperf3: egress ${(egress / M).toFixed(2)} Mbit/s of ${String(EGRESS_MBIT)} (ratio ${ratios.egress.toFixed(3)}), ingress ${(ingress / M).toFixed(2)} Mbit/s of ${String(INGRESS_MBIT)} (ratio ${ratios.ingress.toFixed(3)})\n`);
    for (const r of Object.values(ratios)) {
      expect(r).toBeGreaterThanOrEqual(0.9);
      expect(r).toBeLessThanOrEqual(1.1);
    }
  }, 60_000);

  it('CHECK names drift: the ENI\'s MTU changed, the side-car neighbour gone', async () => {
    const { plan } = dp.planSetup(spec, alloc, node);
    podNs.exec(['ip', 'link', 'set', 'eth0', 'mtu', '1450']);
    podNs.exec(['ip', 'neigh', 'del', '169.254.1.1', 'dev', 'veth1']);
    const missing = await probe.missing(plan);
    expect(missing).toContain(`link eth0 in netns ${podNs.path} has mtu 1450, want 1500`);
    expect(missing.some((m) => m.startsWith('neighbour 169.254.1.1 dev veth1') && m.includes('missing'))).toBe(true);
    podNs.exec(['ip', 'link', 'set', 'eth0', 'mtu', '1500']);
    podNs.exec(['ip', 'neigh', 'replace', '169.254.1.1', 'lladdr', hostLink(hostEndOf())?.address ?? '', 'dev', 'veth1', 'nud', 'permanent']);
    expect(await probe.missing(plan)).toEqual([]);
  });

  function hostEndOf(): string {
    return dp.planSetup(spec, alloc, node).result.interfaces[1]?.name ?? '';
  }

  /** The ENI back on the host: under its neutral name, its MAC, down, no address, none of the pod's qdiscs. */
  function expectReturned(): void {
    expect(hostLink(eniLink)).toBeUndefined();
    const back = hostLink(neutral);
    expect(back).toMatchObject({ address: eniMac });
    expect(back?.flags).not.toContain('UP');
    expect(sh('ip', ['-4', '-o', 'addr', 'show', 'dev', neutral]).trim()).toBe('');
    const qdiscs = JSON.parse(sh('tc', ['-j', 'qdisc', 'show', 'dev', neutral]) || '[]') as { kind: string }[];
    expect(qdiscs.filter((q) => q.kind === 'tbf' || q.kind === 'ingress')).toEqual([]);
    expect(podLink(podNs, 'eth0')).toBeUndefined();
    expect(podLink(podNs, 'veth1')).toBeUndefined();
    expect((ipRows(['-n', podNs.name, 'link', 'show']) as { ifname: string }[]).map((l) => l.ifname)).toEqual(['lo']);
    expect(hostLink(hostEndOf())).toBeUndefined();
    expect(sh('ip', ['route', 'show', `${vswitch.ip(10)}/32`]).trim()).toBe('');
  }

  it('DEL (netns still there) gives the ENI back under its neutral name and removes the side-car; a second DEL succeeds', async () => {
    expect(neutral).toBe(`eni${eniMac.replaceAll(':', '')}`);
    expect(await executor.teardown(dp.planTeardown(spec, alloc, node, 'via-netns'))).toEqual({ errors: [] });
    expectReturned();
    expect(await executor.teardown(dp.planTeardown(spec, alloc, node, 'via-netns'))).toEqual({ errors: [] });
    expectReturned();
  });

  it('the returned ENI serves the next pod under its neutral name (the pool\'s reuse), and is returned again', async () => {
    const next = { ...alloc, eni: { ...alloc.eni, link: neutral } };
    await executor.apply(dp.planSetup(spec, next, node).plan);
    expect(podLink(podNs, 'eth0')).toMatchObject({ address: eniMac, mtu: 1500 });
    expect(ping(podNs, vswitch.ip(20))).toBe(0);
    expect(ping(podNs, hostNet.ip(10))).toBe(0);
    expect(await executor.teardown(dp.planTeardown(spec, next, node, 'owned'))).toEqual({ errors: [] });
    expectReturned();
  });
});
