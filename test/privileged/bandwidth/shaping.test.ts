/**
 * Bandwidth shaping on real namespaces through the REAL executor and planners, measured with iperf3: both veth
 * modes (host tbf + host ifb), the exclusive-ENI style (pod owns its link: tbf + ifb inside the pod netns), a live
 * update through the reconciler, teardown leaving no qdisc/ifb, and CHECK (probe) seeing a deleted qdisc.
 */
import { ifbName } from '../../../src/bandwidth/names.js';
import { BandwidthReconciler } from '../../../src/daemon/k8s/bandwidth-reconciler.js';
import type { BandwidthSpec } from '../../../src/bandwidth/types.js';
import { defaultBurstBits } from '../../../src/bandwidth/burst.js';
import { parseIfName } from '../../../src/lib/brand.js';
import { silentLogger } from '../../../src/lib/log.js';
import { hostVethTarget, planShapingSetup, podLinkTarget, planBandwidthUpdate } from '../../../src/modes/common/bandwidth.js';
import { parseAllocation } from '../../../src/modes/allocation.js';
import { hostVethName } from '../../../src/modes/common/veth.js';
import { dataplaneFor } from '../../../src/modes/registry.js';
import { ENI_TABLE_BASE, type Allocation, type ModeName, type NodeFacts, type PodNetworkSpec } from '../../../src/modes/types.js';
import { hasCommand, shAsync } from '../../helpers/exec.js';
import { ipJson } from '../../helpers/ip.js';
import { testSubnet } from '../../helpers/names.js';
import { createNetns, netnsPath, type TestNetns } from '../../helpers/netns.js';
import { describePrivileged } from '../../helpers/privilege.js';
import { executor, podSpec as netlinkPodSpec, probe, tag } from '../netlink/harness.js';
import { iperf } from './iperf.js';

const d = describePrivileged('privileged bandwidth tests', [hasCommand('iperf3'), 'iperf3 not installed (apt-get install -y iperf3)']);

const { subnet3, ip } = testSubnet('10.201');
const node: NodeFacts = { vethPrefix: 'hbw' };
const M = 1_000_000;
const SECONDS = 2;
const limit = (mbit: number): { rateBps: number; burstBits: number } => ({ rateBps: mbit * M, burstBits: defaultBurstBits(mbit * M) });

const podSpec = (netnsName: string, name: string): PodNetworkSpec => netlinkPodSpec(netnsName, name, `hbw-${tag}`);

/** Qdiscs on, and links named, any of `names` in the host. */
async function leftovers(names: readonly string[]): Promise<unknown[]> {
  const qd = JSON.parse((await shAsync('tc', '-j', 'qdisc', 'show')) || '[]') as { dev?: string }[];
  const links = (await ipJson('link', 'show')) as { ifname?: string }[];
  return [...qd.filter((q) => names.includes(q.dev ?? '')), ...links.filter((l) => names.includes(l.ifname ?? ''))];
}

function expectNear(measured: number, limitBps: number): void {
  expect(measured).toBeLessThanOrEqual(limitBps * 1.05);
  expect(measured).toBeGreaterThanOrEqual(limitBps * 0.5);
}

d('bandwidth shaping (iperf3)', () => {
  const eniLink = parseIfName(`hbwe${tag}`);
  const vsw = `hbwv-${tag}`;
  const namespaces: TestNetns[] = [];
  const hostLinks: string[] = [eniLink];
  let eniIndex = 0;

  beforeAll(async () => {
    await executor.apply(dataplaneFor('vpc').planNode({ vethPrefix: 'cali' }, {}));
    namespaces.push(createNetns(vsw, { lo: 'down' }));
    await shAsync('ip', 'link', 'add', eniLink, 'type', 'veth', 'peer', 'name', 'vsw0', 'netns', netnsPath(vsw));
    await shAsync('ip', 'link', 'set', eniLink, 'up');
    const [link] = (await ipJson('link', 'show', 'dev', eniLink)) as { ifindex: number }[];
    eniIndex = link?.ifindex ?? 0;
  });
  afterAll(async () => {
    for (const l of hostLinks) await shAsync('ip', 'link', 'del', l).catch(() => undefined);
    for (const n of namespaces) n.remove();
    for (const last of [11, 12, 21, 22]) {
      for (const [sel, prio] of [['to', '512'], ['from', '2048']] as const) await shAsync('ip', 'rule', 'del', sel, `${ip(last)}/32`, 'priority', prio).catch(() => undefined);
    }
  });

  async function pod(mode: ModeName, name: string, last: number, bandwidth?: BandwidthSpec): Promise<{ spec: PodNetworkSpec; alloc: Allocation; ns: string }> {
    const ns = `hbw-${tag}-${name}`;
    namespaces.push(createNetns(ns, { lo: 'down' }));
    const spec = podSpec(ns, name);
    const alloc: Allocation = parseAllocation({
      mode,
      ip: ip(last),
      subnet: `${subnet3}.0/24`,
      mtu: 1500,
      ...(mode === 'veth-policy-routing' ? { eni: { link: eniLink, ifindex: eniIndex, gateway: ip(253), table: ENI_TABLE_BASE + eniIndex } } : {}),
      ...(bandwidth !== undefined ? { bandwidth } : {}),
    });
    const dp = dataplaneFor(mode);
    hostLinks.push(hostVethName(spec, node), ifbName(spec.containerId, spec.ifName));
    await executor.apply(dp.planSetup(spec, alloc, node).plan);
    return { spec, alloc, ns };
  }

  for (const [mode, base] of [['vpc', 10], ['veth-policy-routing', 20]] as const) {
    it(`${mode}: ingress and egress limits hold; CHECK sees a deleted qdisc; teardown leaves nothing`, async () => {
      const bw: BandwidthSpec = { ingress: limit(20), egress: limit(10) };
      const a = await pod(mode, `${mode === 'vpc' ? 'v' : 'p'}a`, base + 1, bw);
      const b = await pod(mode, `${mode === 'vpc' ? 'v' : 'p'}b`, base + 2);
      const dp = dataplaneFor(mode);
      const hostIf = hostVethName(a.spec, node);
      const ifb = ifbName(a.spec.containerId, a.spec.ifName);

      const into = await iperf(a.ns, b.ns, a.alloc.ip, SECONDS); // b → a: into the pod
      const out = await iperf(a.ns, b.ns, a.alloc.ip, SECONDS, true); // a → b: out of the pod
      expectNear(into, 20 * M);
      expectNear(out, 10 * M);

      const setup = dp.planSetup(a.spec, a.alloc, node).plan;
      expect(await probe.missing(setup)).toEqual([]);
      await shAsync('tc', 'qdisc', 'del', 'dev', hostIf, 'root');
      expect(await probe.missing(setup)).toEqual([expect.stringContaining(`root qdisc tbf on ${hostIf} is missing`)]);

      const report = await executor.teardown(dp.planTeardown(a.spec, a.alloc, node));
      expect(report.errors).toEqual([]);
      expect(await leftovers([hostIf, ifb])).toEqual([]);
    });
  }

  it('exclusive-ENI style (the pod owns its link): egress tbf and ingress ifb inside the pod netns', async () => {
    const ns = `hbw-${tag}-x`;
    namespaces.push(createNetns(ns, { lo: 'down' }));
    const spec = podSpec(ns, 'x');
    // The pod's "ENI": a veth end moved into the pod, its peer in the vSwitch netns.
    await shAsync('ip', '-n', vsw, 'link', 'add', 'xsw0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', spec.netns);
    await shAsync('ip', '-n', vsw, 'addr', 'add', `${ip(31)}/24`, 'dev', 'xsw0');
    await shAsync('ip', '-n', vsw, 'link', 'set', 'xsw0', 'up');
    await shAsync('ip', '-n', ns, 'addr', 'add', `${ip(32)}/24`, 'dev', 'eth0');
    await shAsync('ip', '-n', ns, 'link', 'set', 'eth0', 'up');
    await shAsync('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    const target = podLinkTarget(spec, 1500);
    const s = planShapingSetup(target, { ingress: limit(20), egress: limit(10) });
    const plan = [...s.links, ...s.tc];
    expect(plan.every((op) => op.ns.kind === 'pod')).toBe(true);
    await executor.apply(plan);

    expectNear(await iperf(ns, vsw, ip(32), SECONDS), 20 * M);
    expectNear(await iperf(ns, vsw, ip(32), SECONDS, true), 10 * M);
    expect(await probe.missing(plan)).toEqual([]);

    // Removing the spec removes the shaping and the pod-side ifb.
    await executor.apply(planBandwidthUpdate(target, { ingress: limit(20), egress: limit(10) }, undefined));
    const qd = JSON.parse(await shAsync('ip', 'netns', 'exec', ns, 'tc', '-j', 'qdisc', 'show')) as { kind: string }[];
    expect(qd.filter((q) => q.kind === 'tbf' || q.kind === 'ingress')).toEqual([]);
    const links = (JSON.parse(await shAsync('ip', '-n', ns, '-j', 'link', 'show')) as { ifname: string }[]).map((l) => l.ifname);
    expect(links).not.toContain(target.ifb);
  });

  it('live update through the reconciler: the measured rate follows the annotation', async () => {
    const a = await pod('vpc', 'ua', 41, { ingress: limit(10) });
    const b = await pod('vpc', 'ub', 42);
    expectNear(await iperf(a.ns, b.ns, a.alloc.ip, SECONDS), 10 * M);
    const events: string[] = [];
    const rec = new BandwidthReconciler({ executor, node, log: silentLogger, emit: (_p, reason, m, type) => events.push(`${type}:${reason}${type === 'Warning' && reason !== 'ParseFailed' ? m : ''}`) });
    const lease = { podNamespace: a.spec.pod.namespace, podName: a.spec.pod.name, containerId: a.spec.containerId, ifName: a.spec.ifName, netns: a.spec.netns, createdAt: new Date().toISOString(), allocation: a.alloc };
    await rec.onPodAnnotations('hbw/ua', { 'kubernetes.io/ingress-bandwidth': '40M', 'kubernetes.io/egress-bandwidth': '15M' }, [lease]);
    expect(events).toEqual(['Normal:BandwidthUpdated']);
    expectNear(await iperf(a.ns, b.ns, a.alloc.ip, SECONDS), 40 * M);
    expectNear(await iperf(a.ns, b.ns, a.alloc.ip, SECONDS, true), 15 * M);
    await rec.onPodAnnotations('hbw/ua', { 'kubernetes.io/ingress-bandwidth': 'lots' }, [lease]);
    expect(events).toEqual(['Normal:BandwidthUpdated', 'Warning:ParseFailed']);
    // A bad value keeps the old shaping: the 40M qdisc is still there.
    const hostIf = hostVethName(a.spec, node);
    const target = hostVethTarget(a.spec, node, 1500);
    expect(await probe.missing(planBandwidthUpdate(target, undefined, { ingress: limit(40), egress: limit(15) }))).toEqual([]);
    await rec.onPodAnnotations('hbw/ua', {}, [lease]);
    expect(await leftovers([target.ifb])).toEqual([]);
    const qd = JSON.parse(await shAsync('tc', '-j', 'qdisc', 'show', 'dev', hostIf)) as { kind: string }[];
    expect(qd.map((q) => q.kind).filter((k) => k === 'tbf' || k === 'ingress')).toEqual([]);
  });
});
