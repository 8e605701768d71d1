/**
 * The exclusive-ENI dataplane (Terway §2.4): setup (the ENI moved in by name, guarded by its MAC; the side-car
 * veth), the rendered ip/tc lines, the CNI result, shaping both ways on the moved link, teardown (the ENI back under
 * its neutral name, the side-car per HostNames), orphan teardown, CHECK, GC, and the allocation's parser.
 */
import { ifbName } from '../../../src/bandwidth/names.js';
import type { Cidr, IfName, IpAddr, MacAddr } from '../../../src/lib/brand.js';
import { stableMac } from '../../../src/lib/veth-name.js';
import { parseAllocation } from '../../../src/modes/allocation.js';
import { hasSideCar, neutralName, SIDE_CAR_POD_END } from '../../../src/modes/eni/layout.js';
import { dataplaneFor, planOrphanTeardown } from '../../../src/modes/registry.js';
import type { EniAllocation, PodNetworkSpec } from '../../../src/modes/types.js';
import { diffPlan } from '../../../src/netlink/diff.js';
import { HOST, inverseOf, podNs, type Op } from '../../../src/netlink/ops.js';
import { nsKey, planSteps } from '../../../src/netlink/render.js';
import type { ObservedState } from '../../../src/netlink/state.js';
import { node, spec, vpcAlloc } from './fixtures.js';

const dp = dataplaneFor('eni');
const pod = podNs(spec.netns);
const IFB = ifbName(spec.containerId, spec.ifName);
const MAC = '00:16:3e:0a:1b:2c' as MacAddr;
const H = 'calic440f455693' as IfName; // default/nginx
const HMAC = stableMac(H, 'host');
const PMAC = stableMac(H, 'pod');
const alloc: EniAllocation = {
  mode: 'eni',
  ip: '192.168.0.10' as IpAddr,
  subnet: '192.168.0.0/24' as Cidr,
  mtu: 1500,
  eni: { id: 'eni-2ze0abc', mac: MAC, link: 'eth1' as IfName, gateway: '192.168.0.253' as IpAddr },
  hostIp: '172.31.5.10' as IpAddr,
  serviceCidrs: ['10.96.0.0/16' as Cidr],
  hostStackCidrs: ['169.254.20.10/32' as Cidr],
};
const mbit = (n: number) => ({ rateBps: n * 1_000_000, burstBits: 524_288 });
const shaped: EniAllocation = { ...alloc, bandwidth: { egress: mbit(10), ingress: mbit(6) } };

function rendered(plan: readonly Op[]): string[] {
  return planSteps(plan).map((st) =>
    st.kind === 'sysctl' ? `sysctl ${st.path}=${st.value}` : `${st.command.file} ${st.command.args.join(' ')}\n${st.command.stdin ?? ''}`.trim(),
  );
}

describe('eni names', () => {
  it('the neutral name is `eni` + the MAC\'s 12 hex digits: 15 bytes, deterministic, per ENI', () => {
    expect(neutralName(MAC)).toBe('eni00163e0a1b2c');
    expect(neutralName('00:16:3E:0A:1B:2C' as MacAddr)).toBe('eni00163e0a1b2c');
    expect(Buffer.byteLength(neutralName(MAC))).toBe(15);
    expect(neutralName('00:16:3e:0a:1b:2d' as MacAddr)).not.toBe(neutralName(MAC));
  });
  it('the side-car is eth0\'s only (Terway)', () => {
    expect(hasSideCar(spec)).toBe(true);
    expect(hasSideCar({ ...spec, ifName: 'eth1' as IfName })).toBe(false);
  });
});

describe('eni setup', () => {
  it('moves the ENI in (by name, guarded by its MAC, with the MTU), builds the side-car, the pod side (Terway §2.4)', () => {
    expect(dp.planSetup(spec, alloc, node).plan).toEqual([
      { kind: 'link.move', ns: HOST, name: 'eth1', to: pod, newName: 'eth0', returnName: 'eth1', mac: MAC, mtu: 1500 },
      { kind: 'link.del', ns: HOST, name: H },
      { kind: 'link.veth', ns: HOST, host: { name: H, mac: HMAC }, peer: { name: 'veth1', mac: PMAC }, peerNs: pod, mtu: 1500 },
      { kind: 'link.up', ns: HOST, name: H },
      { kind: 'route.replace', ns: HOST, dst: '192.168.0.10/32', dev: H, scope: 'link' },
      { kind: 'link.up', ns: pod, name: 'lo' },
      { kind: 'link.up', ns: pod, name: 'eth0' },
      { kind: 'addr.replace', ns: pod, dev: 'eth0', cidr: '192.168.0.10/32' },
      { kind: 'route.replace', ns: pod, dst: 'default', via: '192.168.0.253', dev: 'eth0', onlink: true },
      { kind: 'link.up', ns: pod, name: 'veth1' },
      { kind: 'addr.replace', ns: pod, dev: 'veth1', cidr: '192.168.0.10/32' },
      { kind: 'route.replace', ns: pod, dst: '169.254.1.1/32', dev: 'veth1', scope: 'link' },
      { kind: 'neigh.replace', ns: pod, dev: 'veth1', ip: '169.254.1.1', lladdr: HMAC },
      { kind: 'route.replace', ns: pod, dst: '10.96.0.0/16', via: '169.254.1.1', dev: 'veth1', onlink: true },
      { kind: 'route.replace', ns: pod, dst: '172.31.5.10/32', via: '169.254.1.1', dev: 'veth1', onlink: true },
      { kind: 'route.replace', ns: pod, dst: '169.254.20.10/32', via: '169.254.1.1', dev: 'veth1', onlink: true },
      { kind: 'sysctl.set', ns: HOST, key: `net.ipv4.conf.${H}.rp_filter`, value: '0' },
      { kind: 'sysctl.set', ns: HOST, key: `net.ipv4.conf.${H}.forwarding`, value: '1' },
      { kind: 'sysctl.set', ns: HOST, key: `net.ipv4.conf.${H}.proxy_arp`, value: '1' },
      { kind: 'sysctl.set', ns: HOST, key: `net.ipv4.neigh.${H}.proxy_delay`, value: '0' },
    ]);
  });

  it('renders one host ip batch (the move first), one pod ip batch, then the host sysctl writes', () => {
    const lines = rendered(dp.planSetup(spec, alloc, node).plan);
    expect(lines[0]?.split('\n')).toEqual([
      'ip -force -batch -',
      'link set dev eth1 netns /var/run/netns/pod1 name eth0 mtu 1500',
      `link del dev ${H}`,
      `link add ${H} mtu 1500 address ${HMAC} type veth peer name veth1 mtu 1500 address ${PMAC} netns /var/run/netns/pod1`,
      `link set dev ${H} up`,
      `route replace 192.168.0.10/32 dev ${H} scope link`,
    ]);
    expect(lines[1]?.split('\n')).toEqual([
      'ip -n pod1 -force -batch -',
      'link set dev lo up',
      'link set dev eth0 up',
      'addr replace 192.168.0.10/32 dev eth0',
      'route replace default via 192.168.0.253 dev eth0 onlink',
      'link set dev veth1 up',
      'addr replace 192.168.0.10/32 dev veth1',
      'route replace 169.254.1.1/32 dev veth1 scope link',
      `neigh replace 169.254.1.1 lladdr ${HMAC} dev veth1 nud permanent`,
      'route replace 10.96.0.0/16 via 169.254.1.1 dev veth1 onlink',
      'route replace 172.31.5.10/32 via 169.254.1.1 dev veth1 onlink',
      'route replace 169.254.20.10/32 via 169.254.1.1 dev veth1 onlink',
    ]);
    expect(lines.slice(2)).toEqual([
      `sysctl /proc/sys/net/ipv4/conf/${H}/rp_filter=0`,
      `sysctl /proc/sys/net/ipv4/conf/${H}/forwarding=1`,
      `sysctl /proc/sys/net/ipv4/conf/${H}/proxy_arp=1`,
      `sysctl /proc/sys/net/ipv4/neigh/${H}/proxy_delay=0`,
    ]);
  });

  it('reports the ENI (its MAC, in the pod) first with podIP/32 and the vSwitch gateway, then the side-car ends, and the side-car routes', () => {
    expect(dp.planSetup(spec, alloc, node).result).toEqual({
      interfaces: [
        { name: 'eth0', mac: MAC, sandbox: spec.netns, mtu: 1500 },
        { name: H, mac: HMAC },
        { name: 'veth1', mac: PMAC, sandbox: spec.netns, mtu: 1500 },
      ],
      ips: [{ interface: 0, address: '192.168.0.10/32', gateway: '192.168.0.253' }],
      routes: [
        { dst: '0.0.0.0/0', gw: '192.168.0.253' },
        { dst: '10.96.0.0/16', gw: '169.254.1.1' },
        { dst: '172.31.5.10/32', gw: '169.254.1.1' },
        { dst: '169.254.20.10/32', gw: '169.254.1.1' },
      ],
    });
  });

  it('shapes both directions on the moved link inside the pod: tbf on eth0 (egress), ifb + tbf (ingress); the ifb is in the result', () => {
    const { plan, result } = dp.planSetup(spec, shaped, node);
    const tc = plan.filter((op) => op.kind.startsWith('qdisc') || op.kind.startsWith('filter'));
    expect(tc.map((op) => ({ kind: op.kind, ns: op.ns, dev: 'dev' in op ? op.dev : '' }))).toEqual([
      { kind: 'qdisc.replace', ns: pod, dev: 'eth0' }, // egress tbf
      { kind: 'qdisc.replace', ns: pod, dev: 'eth0' }, // ingress qdisc
      { kind: 'filter.redirect', ns: pod, dev: 'eth0' },
      { kind: 'qdisc.replace', ns: pod, dev: IFB }, // ingress tbf
    ]);
    expect(plan).toContainEqual({ kind: 'filter.redirect', ns: pod, dev: 'eth0', target: IFB });
    expect(plan.filter((op) => op.kind === 'link.ifb')).toEqual([{ kind: 'link.ifb', ns: pod, name: IFB, mtu: 1500, mac: stableMac(IFB, 'ifb') }]);
    expect(result.interfaces.at(-1)).toEqual({ name: IFB, mac: stableMac(IFB, 'ifb'), sandbox: spec.netns });
    const lines = rendered(plan);
    expect(lines).toContainEqual(expect.stringMatching(/^tc -n pod1 -force -batch -\nqdisc replace dev eth0 root handle 1: tbf rate 1250000bps/u));
    // shaping's ifb is created in the pod batch, before the ENI's own ops
    expect(lines[1]?.split('\n').slice(1, 4)).toEqual([`link del dev ${IFB}`, `link add ${IFB} address ${stableMac(IFB, 'ifb')} mtu 1500 txqueuelen 0 type ifb`, `link set dev ${IFB} up`]);
    expect(dp.shapingTarget(spec, node, shaped)).toEqual({ kind: 'pod-link', netns: spec.netns, podIf: 'eth0', ifb: IFB, mtu: 1500 });
  });

  it('a second network (not eth0) gets the ENI and no side-car', () => {
    const net1: PodNetworkSpec = { ...spec, ifName: 'net1' as IfName };
    const { plan, result } = dp.planSetup(net1, alloc, node);
    expect(plan.some((op) => op.kind === 'link.veth' || JSON.stringify(op).includes(SIDE_CAR_POD_END))).toBe(false);
    expect(plan[0]).toMatchObject({ kind: 'link.move', newName: 'net1' });
    expect(result.interfaces).toEqual([{ name: 'net1', mac: MAC, sandbox: spec.netns, mtu: 1500 }]);
    expect(result.routes).toEqual([{ dst: '0.0.0.0/0', gw: '192.168.0.253' }]);
  });

  it('a failed ADD moves the ENI back under the host name it had; refuses an allocation of another mode', () => {
    const [move] = dp.planSetup(spec, alloc, node).plan;
    expect(inverseOf(move as Op)).toEqual({ kind: 'link.move', ns: pod, name: 'eth0', to: HOST, newName: 'eth1', returnName: 'eth0' });
    expect(() => dp.planSetup(spec, vpcAlloc, node)).toThrow('a vpc allocation given to the eni dataplane');
  });
});

describe('eni teardown', () => {
  const eth0 = 'eth0' as IfName;
  const eniOut: Op = { kind: 'link.move', ns: pod, name: eth0, to: HOST, newName: 'eni00163e0a1b2c' as IfName, returnName: eth0, mac: MAC };

  it('owned host names: the ENI out under its neutral name (guarded by its MAC), the side-car by name, the ifb', () => {
    expect(dp.planTeardown(spec, shaped, node)).toEqual([
      eniOut,
      { kind: 'route.del', ns: HOST, dst: '192.168.0.10/32', dev: H },
      { kind: 'link.del', ns: HOST, name: H },
      { kind: 'link.del', ns: pod, name: IFB },
    ]);
  });

  it('any other HostNames: the side-car from inside the pod netns; nothing named after the pod on the host', () => {
    for (const hostNames of ['via-netns', 'superseded', 'unknown'] as const) {
      const plan = dp.planTeardown(spec, alloc, node, hostNames);
      expect(plan).toEqual([eniOut, { kind: 'link.del', ns: pod, name: 'veth1' }, { kind: 'link.del', ns: pod, name: IFB }]);
      expect(plan.filter((op) => op.ns.kind === 'host')).toEqual([]);
    }
  });

  it('renders one pod ip batch moving the ENI into this process\'s netns (its qdiscs do not follow it)', () => {
    const lines = rendered(dp.planTeardown(spec, alloc, node, 'via-netns'));
    expect(lines).toEqual([
      `ip -n pod1 -force -batch -\nlink set dev eth0 netns /proc/${String(process.pid)}/ns/net name eni00163e0a1b2c\nlink del dev veth1\nlink del dev ${IFB}`,
    ]);
  });

  it('undoes everything setup created (the ENI out of the pod, veth, /32, ifb), whatever hostNames says', () => {
    const key = (op: Op): string => JSON.stringify(op);
    for (const a of [alloc, shaped]) {
      // what setup created, as its inverses; the pod's own routes go with its links (veth1 deleted, the ENI moved out)
      const created = dp.planSetup(spec, a, node).plan
        .map(inverseOf)
        .filter((op): op is Op => op !== undefined && (op.kind === 'link.del' || op.kind === 'link.move' || (op.kind === 'route.del' && op.ns.kind === 'host')));
      expect(created.map((op) => op.kind).sort()).toEqual(a.bandwidth === undefined ? ['link.del', 'link.move', 'route.del'] : ['link.del', 'link.del', 'link.move', 'route.del']);
      const removed = dp.planTeardown(spec, a, node, 'owned');
      for (const c of created) {
        if (c.kind === 'link.move') {
          // out of the pod by the same name, with the ENI's MAC checked; to its neutral name, not its pre-ADD one
          expect(removed).toContainEqual({ ...c, newName: neutralName(MAC), mac: MAC });
        } else {
          expect(removed.map(key)).toContain(key(c));
        }
      }
      // and the pod end of the side-car (the host end's peer) when host names are not ours
      expect(dp.planTeardown(spec, a, node, 'via-netns')).toContainEqual({ kind: 'link.del', ns: pod, name: 'veth1' });
    }
  });

  it('without the allocation: the side-car and the ifb; the ENI stays (its neutral name needs its MAC)', () => {
    expect(dp.planTeardown(spec, undefined, node)).toEqual([{ kind: 'link.del', ns: HOST, name: H }, { kind: 'link.del', ns: pod, name: IFB }]);
  });

  it('orphan teardown (daemon down): only veth1 and the pod ifb, from inside the netns: harmless for other modes', () => {
    expect(dp.planOrphanTeardown(spec, node, ['192.168.0.10' as IpAddr])).toEqual([
      { kind: 'link.del', ns: pod, name: 'veth1' },
      { kind: 'link.del', ns: pod, name: IFB },
    ]);
    // never the pod's eth0 (another mode's veth end) nor anything on the host named after the pod
    const all = planOrphanTeardown(spec, node, ['192.168.0.10' as IpAddr]);
    expect(all.filter((op) => op.kind === 'link.move')).toEqual([]);
    expect(all.filter((op) => op.ns.kind === 'host' && JSON.stringify(op).includes(H))).toEqual([]);
    expect(dp.planOrphanTeardown({ ...spec, ifName: 'net1' as IfName }, node, [])).toEqual([{ kind: 'link.del', ns: pod, name: ifbName(spec.containerId, 'net1') }]);
  });
});

describe('eni CHECK', () => {
  const hostState = (over: Partial<ObservedState> = {}): ObservedState => ({
    links: [{ name: H, mtu: 1500, mac: HMAC, up: true, operstate: 'UP' }],
    addrs: [],
    routes: [{ type: 'unicast', dst: '192.168.0.10/32', dev: H, table: 'main', scope: 'link', onlink: false }],
    rules: [],
    neighs: [],
    ...over,
  });
  const podState = (over: Partial<ObservedState> = {}): ObservedState => ({
    links: [
      { name: 'lo', mtu: 65536, mac: '00:00:00:00:00:00', up: true, operstate: 'UNKNOWN' },
      { name: 'eth0', mtu: 1500, mac: MAC, up: true, operstate: 'UP' },
      { name: 'veth1', mtu: 1500, mac: PMAC, up: true, operstate: 'UP' },
    ],
    addrs: [
      { dev: 'eth0', cidr: '192.168.0.10/32', scope: 'global' },
      { dev: 'veth1', cidr: '192.168.0.10/32', scope: 'global' },
    ],
    routes: [
      { type: 'unicast', dst: 'default', gateway: '192.168.0.253', dev: 'eth0', table: 'main', onlink: true },
      { type: 'unicast', dst: '169.254.1.1/32', dev: 'veth1', table: 'main', scope: 'link', onlink: false },
      { type: 'unicast', dst: '10.96.0.0/16', gateway: '169.254.1.1', dev: 'veth1', table: 'main', onlink: true },
      { type: 'unicast', dst: '172.31.5.10/32', gateway: '169.254.1.1', dev: 'veth1', table: 'main', onlink: true },
      { type: 'unicast', dst: '169.254.20.10/32', gateway: '169.254.1.1', dev: 'veth1', table: 'main', onlink: true },
    ],
    rules: [],
    neighs: [{ dev: 'veth1', ip: '169.254.1.1', lladdr: HMAC, state: ['PERMANENT'] }],
    ...over,
  });
  const setup = dp.planSetup(spec, alloc, node).plan;
  const observed = (h: ObservedState, p: ObservedState) => new Map([[nsKey(HOST), h], [nsKey(pod), p]]);

  it('a pod as planned passes', () => {
    expect(diffPlan(setup, observed(hostState(), podState()))).toEqual([]);
  });

  it('reports a pod eth0 that is not the ENI (MAC), a wrong MTU, a missing side-car route and neighbour', () => {
    const p = podState();
    const other = { ...p, links: p.links.map((l) => (l.name === 'eth0' ? { ...l, mac: 'ee:00:00:00:00:99', mtu: 1400 } : l)) };
    expect(diffPlan(setup, observed(hostState(), other))).toEqual([
      `link eth0 in netns ${spec.netns} has mtu 1400, want 1500`,
      `link eth0 in netns ${spec.netns} has address ee:00:00:00:00:99, want ${MAC}`,
    ]);
    expect(diffPlan(setup, observed(hostState({ routes: [] }), podState({ neighs: [] })))).toEqual([
      `route 192.168.0.10/32 dev ${H} table main is missing`,
      `neighbour 169.254.1.1 dev veth1 in netns ${spec.netns} is missing`,
    ]);
    expect(diffPlan(setup, observed(hostState(), podState({ routes: p.routes.filter((r) => r.dst !== '10.96.0.0/16') })))).toEqual([
      `route 10.96.0.0/16 via 169.254.1.1 dev veth1 table main in netns ${spec.netns} is missing`,
    ]);
  });

  it('takes a later plugin\'s MTU on the ENI from prevResult (a link override), not a MAC', () => {
    const p = podState();
    const tuned = { ...p, links: p.links.map((l) => (l.name === 'eth0' ? { ...l, mtu: 1400 } : l)) };
    expect(diffPlan(setup, observed(hostState(), tuned), [{ ns: pod, name: 'eth0', mtu: 1400 }])).toEqual([]);
    expect(diffPlan(setup, observed(hostState(), tuned))).toEqual([`link eth0 in netns ${spec.netns} has mtu 1400, want 1500`]);
  });

  it('reports an ENI still on the host (not moved)', () => {
    const p = podState();
    expect(diffPlan(setup, observed(hostState(), { ...p, links: p.links.filter((l) => l.name !== 'eth0') }))).toContain(`link eth0 in netns ${spec.netns} is missing`);
  });
});

describe('eni GC', () => {
  it('owns the side-car host end and its /32; no rule', () => {
    expect(dp.gc.attachment(spec, node, alloc)).toEqual({ links: [H], routes: [{ dst: '192.168.0.10/32', dev: H }], ruleIps: [] });
    expect(dp.gc.attachment({ ...spec, ifName: 'net1' as IfName }, node, alloc)).toEqual({ links: [], routes: [], ruleIps: [] });
    expect(dp.gc.claimRule({ priority: 512, to: '192.168.0.10/32', table: 'main' })).toBeUndefined();
  });
  it('claims a side-car host end (name AND name-derived MAC); never an ENI under its neutral name', () => {
    expect(dp.gc.claimLink({ name: H, mac: HMAC }, node)).toEqual({ role: 'attachment', kind: 'veth' });
    expect(dp.gc.claimLink({ name: H, mac: MAC }, node)).toBeUndefined();
    expect(dp.gc.claimLink({ name: neutralName(MAC), mac: MAC }, node)).toBeUndefined();
    expect(dp.gc.claimLink({ name: 'eth1', mac: MAC }, node)).toBeUndefined();
  });
});

describe('the eni allocation', () => {
  const raw = {
    mode: 'eni', ip: '192.168.0.10', subnet: '192.168.0.0/24', mtu: 1500,
    eni: { id: 'eni-2ze0abc', mac: '00:16:3E:0A:1B:2C', link: 'eth1', gateway: '192.168.0.253' },
    hostIp: '172.31.5.10', serviceCidrs: ['10.96.0.0/16'], hostStackCidrs: ['169.254.20.10/32'],
  };
  it('round-trips (MAC lower-cased); hostStackCidrs may be absent', () => {
    expect(parseAllocation(raw)).toEqual(alloc);
    expect(parseAllocation(JSON.parse(JSON.stringify(alloc)))).toEqual(alloc);
    const noStack = Object.fromEntries(Object.entries(raw).filter(([k]) => k !== 'hostStackCidrs'));
    expect(parseAllocation(noStack)).toEqual({ ...alloc, hostStackCidrs: [] });
    expect(parseAllocation({ ...raw, bandwidth: { egress: mbit(10) } })).toEqual({ ...alloc, bandwidth: { egress: mbit(10) } });
  });
  it('names what is missing or bad', () => {
    for (const k of ['eni', 'hostIp', 'serviceCidrs'] as const) {
      const rest = Object.fromEntries(Object.entries(raw).filter(([key]) => key !== k));
      expect(() => parseAllocation(rest)).toThrow(new RegExp(`^allocation\\.${k}: required in eni mode`, 'u'));
    }
    const bad = (eni: Record<string, unknown>) => parseAllocation({ ...raw, eni: { ...raw.eni, ...eni } });
    expect(() => bad({ id: '' })).toThrow(/^allocation\.eni\.id: not an ENI id: ""/u);
    expect(() => bad({ id: 'eni 1' })).toThrow(/^allocation\.eni\.id: not an ENI id/u);
    expect(() => bad({ mac: 'zz' })).toThrow(/^allocation\.eni\.mac: not a MAC/u);
    expect(() => bad({ mac: undefined })).toThrow(/^allocation\.eni\.mac: must be a string/u);
    expect(() => bad({ link: 'a-very-long-link-name' })).toThrow(/^allocation\.eni\.link/u);
    expect(() => bad({ gateway: '192.168.0' })).toThrow(/^allocation\.eni\.gateway/u);
    expect(() => parseAllocation({ ...raw, eni: 'eth1' })).toThrow(/^allocation\.eni: must be an object/u);
    expect(() => parseAllocation({ ...raw, hostIp: '1.2.3' })).toThrow(/^allocation\.hostIp/u);
    expect(() => parseAllocation({ ...raw, serviceCidrs: '10.96.0.0/16' })).toThrow(/^allocation\.serviceCidrs: must be an array/u);
    expect(() => parseAllocation({ ...raw, serviceCidrs: ['10.96.0.0/16', '10.97.0.0'] })).toThrow(/^allocation\.serviceCidrs\[1\]/u);
    expect(() => parseAllocation({ ...raw, hostStackCidrs: [7] })).toThrow(/^allocation\.hostStackCidrs\[0\]: must be a string/u);
    expect(() => parseAllocation({ ...raw, hostStackCidrs: Array.from({ length: 65 }, () => '10.0.0.0/8') })).toThrow(/^allocation\.hostStackCidrs: at most 64/u);
  });
});
