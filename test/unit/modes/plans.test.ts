import type { IpAddr } from '../../../src/lib/brand.js';
import { InternalError } from '../../../src/lib/errors.js';
import { stableMac } from '../../../src/lib/veth-name.js';
import { ifbName } from '../../../src/bandwidth/names.js';
import { hostVethName } from '../../../src/modes/common/veth.js';
import { dataplaneFor, planOrphanTeardown } from '../../../src/modes/registry.js';
import { HOST, inverseOf, podNs, type Op } from '../../../src/netlink/ops.js';
import { planSteps } from '../../../src/netlink/render.js';
import { node, spec, vpcAlloc, vprAlloc } from './fixtures.js';

const H = 'calic440f455693';
const IFB = ifbName('c0ffee', 'eth0');
const hostMac = stableMac(H, 'host');
const podMac = stableMac(H, 'pod');
const pod = podNs(spec.netns);

/** Host ops first (one ip batch), then the mode's host extras, then pod ops (one nsenter batch), then sysctls. */
const vethPart = (mtu: number, hostExtras: Op[] = []): Op[] => [
  { kind: 'link.del', ns: HOST, name: H as never },
  { kind: 'link.veth', ns: HOST, host: { name: H as never, mac: hostMac }, peer: { name: spec.ifName, mac: podMac }, peerNs: pod, mtu },
  { kind: 'link.up', ns: HOST, name: H as never },
  { kind: 'route.replace', ns: HOST, dst: '10.200.1.5/32' as never, dev: H as never, scope: 'link' },
  ...hostExtras,
  { kind: 'link.up', ns: pod, name: 'lo' as never },
  { kind: 'link.up', ns: pod, name: spec.ifName },
  { kind: 'addr.replace', ns: pod, dev: spec.ifName, cidr: '10.200.1.5/32' as never },
  { kind: 'neigh.replace', ns: pod, dev: spec.ifName, ip: '169.254.1.1' as never, lladdr: hostMac },
  { kind: 'route.replace', ns: pod, dst: 'default', via: '169.254.1.1' as never, dev: spec.ifName, onlink: true },
  { kind: 'sysctl.set', ns: HOST, key: `net.ipv4.conf.${H}.rp_filter`, value: '0' },
  { kind: 'sysctl.set', ns: HOST, key: `net.ipv4.conf.${H}.forwarding`, value: '1' },
  { kind: 'sysctl.set', ns: HOST, key: `net.ipv4.conf.${H}.proxy_arp`, value: '1' },
  { kind: 'sysctl.set', ns: HOST, key: `net.ipv4.neigh.${H}.proxy_delay`, value: '0' },
];

describe('vpc dataplane', () => {
  const dp = dataplaneFor('vpc');
  it('plans the Terway §2.1 setup', () => {
    expect(dp.mode).toBe('vpc');
    expect(dp.planSetup(spec, vpcAlloc, node).plan).toEqual(vethPart(1500));
  });
  it('plans teardown with and without the allocation', () => {
    expect(dp.planTeardown(spec, vpcAlloc, node)).toEqual([
      { kind: 'link.del', ns: HOST, name: IFB },
      { kind: 'route.del', ns: HOST, dst: '10.200.1.5/32', dev: H },
      { kind: 'link.del', ns: HOST, name: H },
    ]);
    expect(dp.planTeardown(spec, undefined, node)).toEqual([{ kind: 'link.del', ns: HOST, name: IFB }, { kind: 'link.del', ns: HOST, name: H }]);
  });
  it('teardown touches only the host (works without the pod netns)', () => {
    expect(dp.planTeardown(spec, vpcAlloc, node).every((op) => op.ns.kind === 'host')).toBe(true);
  });
});

describe('veth-policy-routing dataplane', () => {
  const dp = dataplaneFor('veth-policy-routing');
  it('plans the Terway §2.2 setup', () => {
    expect(dp.planSetup(spec, vprAlloc, node).plan).toEqual(
      vethPart(1450, [
        { kind: 'route.replace', ns: HOST, dst: 'default', via: '10.200.0.253' as never, dev: 'eth1' as never, onlink: true, table: 1007, shared: true },
        { kind: 'rule.add', ns: HOST, to: '10.200.1.5/32' as never, table: 'main', priority: 512 },
        { kind: 'rule.add', ns: HOST, from: '10.200.1.5/32' as never, table: 1007, priority: 2048 },
      ]),
    );
  });
  it('needs two processes: one host batch, one pod batch (ip -n for a /var/run/netns path, else nsenter)', () => {
    const files = (s: typeof spec): string[] =>
      planSteps(dp.planSetup(s, vprAlloc, node).plan)
        .filter((st) => st.kind === 'ip')
        .map((st) => (st.kind === 'ip' ? [st.command.file, ...st.command.args.slice(0, 2)].join(' ') : ''));
    expect(files(spec)).toEqual(['ip -force -batch', 'ip -n pod1']);
    expect(files({ ...spec, netns: '/run/netns/netns-1' as never })).toEqual(['ip -force -batch', 'nsenter --net=/run/netns/netns-1 ip']);
  });
  it('never rolls back the shared ENI table route', () => {
    const plan = dp.planSetup(spec, vprAlloc, node).plan;
    const eniRoute = plan.find((op) => op.kind === 'route.replace' && op.table === 1007);
    expect(eniRoute).toBeDefined();
    if (eniRoute) expect(inverseOf(eniRoute)).toBeUndefined();
  });
  it('refuses an allocation of another mode (the registry picks the dataplane by alloc.mode)', () => {
    expect(() => dp.planSetup(spec, vpcAlloc, node)).toThrow(InternalError);
  });
  it('plans teardown: rules, host route, host veth', () => {
    expect(dp.planTeardown(spec, vprAlloc, node)).toEqual([
      { kind: 'rule.del', ns: HOST, to: '10.200.1.5/32', table: 'main', priority: 512 },
      { kind: 'rule.del', ns: HOST, from: '10.200.1.5/32', table: 1007, priority: 2048 },
      { kind: 'link.del', ns: HOST, name: IFB },
      { kind: 'route.del', ns: HOST, dst: '10.200.1.5/32', dev: H },
      { kind: 'link.del', ns: HOST, name: H },
    ]);
    expect(dp.planTeardown(spec, undefined, node)).toEqual([{ kind: 'link.del', ns: HOST, name: IFB }, { kind: 'link.del', ns: HOST, name: H }]);
  });
});

describe('registry', () => {
  it('plans orphan teardown for unknown mode/allocation', () => {
    // the union of every registered mode's orphan plan, each op once, host ops first (one batch per namespace)
    expect(planOrphanTeardown(spec, node, ['10.200.1.5' as IpAddr, '10.200.1.6' as IpAddr])).toEqual([
      { kind: 'link.del', ns: HOST, name: IFB },
      { kind: 'rule.del', ns: HOST, to: '10.200.1.5/32', priority: 512 },
      { kind: 'rule.del', ns: HOST, from: '10.200.1.5/32', priority: 2048 },
      { kind: 'rule.del', ns: HOST, to: '10.200.1.6/32', priority: 512 },
      { kind: 'rule.del', ns: HOST, from: '10.200.1.6/32', priority: 2048 },
      // ipvlan's: the /32 routes of those IPs in main, whatever the device (its ENI is unknown here)
      { kind: 'route.del', ns: HOST, dst: '10.200.1.5/32', table: 254 },
      { kind: 'route.del', ns: HOST, dst: '10.200.1.6/32', table: 254 },
      { kind: 'link.del', ns: pod, name: spec.ifName },
      { kind: 'link.del', ns: pod, name: IFB }, // ipvlan's ingress ifb lives in the pod netns
      { kind: 'link.del', ns: pod, name: 'veth1' }, // exclusive ENI's side-car (its host end dies with it)
    ]);
    expect(planOrphanTeardown(spec, node, [])).toEqual([
      { kind: 'link.del', ns: HOST, name: IFB },
      { kind: 'link.del', ns: pod, name: spec.ifName },
      { kind: 'link.del', ns: pod, name: IFB },
      { kind: 'link.del', ns: pod, name: 'veth1' },
    ]);
  });
  it('never plans the pod-named host veth without the daemon saying it is this attachment\'s', () => {
    for (const mode of ['vpc', 'veth-policy-routing'] as const) {
      for (const hostNames of ['superseded', 'unknown'] as const) {
        const plan = dataplaneFor(mode).planTeardown(spec, mode === 'vpc' ? vpcAlloc : vprAlloc, node, hostNames);
        expect(plan.filter((op) => op.ns.kind === 'host' && JSON.stringify(op).includes(H))).toEqual([]);
        expect(plan).toContainEqual({ kind: 'link.del', ns: pod, name: spec.ifName });
        expect(plan).toContainEqual({ kind: 'link.del', ns: HOST, name: IFB });
      }
    }
    expect(planOrphanTeardown(spec, node, []).filter((op) => op.ns.kind === 'host' && JSON.stringify(op).includes(H))).toEqual([]);
  });
  it('plans the node sysctls', () => {
    expect(dataplaneFor('vpc').planNode({ vethPrefix: 'cali' }, {})).toEqual([
      { kind: 'sysctl.set', ns: HOST, key: 'net.ipv4.ip_forward', value: '1' },
      { kind: 'sysctl.set', ns: HOST, key: 'net.ipv4.conf.all.rp_filter', value: '0' },
      { kind: 'sysctl.set', ns: HOST, key: 'net.ipv4.conf.default.rp_filter', value: '0' },
    ]);
  });
  it('uses a different host veth for a second interface of the same pod', () => {
    const second = dataplaneFor('vpc').planSetup({ ...spec, ifName: 'eth1' as never }, vpcAlloc, node).plan;
    expect(second[0]).toEqual({ kind: 'link.del', ns: HOST, name: hostVethName({ ...spec, ifName: 'eth1' as never }, node) });
    expect(second[0]).not.toEqual({ kind: 'link.del', ns: HOST, name: H });
  });
});
