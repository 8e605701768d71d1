/**
 * The ipvlan dataplane (Terway §2.3, its bugs fixed): pod setup, teardown, orphan teardown, the node plan, the
 * rendered ip/tc lines, the CNI result, shaping both ways and ingress only, CHECK of its layout, and GC's proof of
 * the host slave.
 */
import { ifbName } from '../../../src/bandwidth/names.js';
import type { Cidr, IfName, IpAddr, MacAddr } from '../../../src/lib/brand.js';
import { InvalidInputError } from '../../../src/lib/errors.js';
import { parseAllocation } from '../../../src/modes/allocation.js';
import { claimHostSlave } from '../../../src/modes/ipvlan/gc.js';
import { hostSlaveName, ifindexOfHostSlave } from '../../../src/modes/ipvlan/layout.js';
import { dataplaneFor } from '../../../src/modes/registry.js';
import type { Allocation, IpvlanAllocation, NodeLocalFacts } from '../../../src/modes/types.js';
import { diffPlan } from '../../../src/netlink/diff.js';
import { HOST, inverseOf, podNs, type Op } from '../../../src/netlink/ops.js';
import { nsKey, planSteps } from '../../../src/netlink/render.js';
import type { ObservedState } from '../../../src/netlink/state.js';
import { node, spec } from './fixtures.js';

const dp = dataplaneFor('ipvlan');
const pod = podNs(spec.netns);
const IFB = ifbName(spec.containerId, spec.ifName);
const MAC = '02:11:22:33:44:55' as MacAddr;
const eni = { link: 'eth1' as IfName, ifindex: 7, gateway: '192.168.0.253' as IpAddr, table: 1007 };
const alloc: IpvlanAllocation = { mode: 'ipvlan', ip: '192.168.0.10' as IpAddr, subnet: '192.168.0.0/24' as Cidr, mtu: 1500, eni, eniMac: MAC, hostIp: '172.31.5.10' as IpAddr };
const mbit = (n: number) => ({ rateBps: n * 1_000_000, burstBits: 524_288 });
const local: NodeLocalFacts = { eni, ipvlan: { eniMac: MAC, hostIp: '172.31.5.10' as IpAddr, redirectCidrs: ['10.96.0.0/16' as Cidr, '169.254.20.10/32' as Cidr], mtu: 1500 } };

/** Every step of a plan as its command lines (`ip -n pod1 …`, `tc …`, sysctl writes). */
function rendered(plan: readonly Op[]): string[] {
  return planSteps(plan).map((st) =>
    st.kind === 'sysctl' ? `sysctl ${st.path}=${st.value}` : `${st.command.file} ${st.command.args.join(' ')}\n${st.command.stdin ?? ''}`.trim(),
  );
}

describe('ipvlan setup', () => {
  it('plans the pod slave in the pod netns, the host /32 through ipvl_<ifindex>, the pod side (Terway §2.3)', () => {
    expect(dp.planSetup(spec, alloc, node).plan).toEqual([
      { kind: 'link.ipvlan', ns: HOST, parent: 'eth1', name: 'eth0', peerNs: pod, mode: 'l2', mtu: 1500, mac: MAC },
      { kind: 'route.replace', ns: HOST, dst: '192.168.0.10/32', dev: 'ipvl_7', scope: 'link' },
      { kind: 'link.up', ns: pod, name: 'lo' },
      { kind: 'link.up', ns: pod, name: 'eth0' },
      { kind: 'addr.replace', ns: pod, dev: 'eth0', cidr: '192.168.0.10/24' },
      { kind: 'route.replace', ns: pod, dst: 'default', via: '192.168.0.253', dev: 'eth0', onlink: true },
      { kind: 'route.replace', ns: pod, dst: '172.31.5.10/32', dev: 'eth0', scope: 'link' },
      { kind: 'neigh.replace', ns: pod, dev: 'eth0', ip: '172.31.5.10', lladdr: MAC },
    ]);
  });

  it('renders one host ip batch and one pod ip batch', () => {
    const lines = rendered(dp.planSetup(spec, alloc, node).plan);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\S*ip -force -batch -\n/u);
    expect(lines[0]?.split('\n').slice(1)).toEqual([
      'link add link eth1 name eth0 mtu 1500 netns /var/run/netns/pod1 type ipvlan mode l2',
      'route replace 192.168.0.10/32 dev ipvl_7 scope link',
    ]);
    expect(lines[1]?.split('\n').slice(1)).toEqual([
      'link set dev lo up',
      'link set dev eth0 up',
      'addr replace 192.168.0.10/24 dev eth0',
      'route replace default via 192.168.0.253 dev eth0 onlink',
      'route replace 172.31.5.10/32 dev eth0 scope link',
      'neigh replace 172.31.5.10 lladdr 02:11:22:33:44:55 dev eth0 nud permanent',
    ]);
  });

  it('reports the pod interface with the ENI\'s MAC, the address with the vSwitch prefix and the vSwitch gateway', () => {
    expect(dp.planSetup(spec, alloc, node).result).toEqual({
      interfaces: [{ name: 'eth0', mac: MAC, sandbox: spec.netns, mtu: 1500 }],
      ips: [{ interface: 0, address: '192.168.0.10/24', gateway: '192.168.0.253' }],
      routes: [{ dst: '0.0.0.0/0', gw: '192.168.0.253' }],
    });
  });

  it('shapes both directions inside the pod: tbf on eth0 (egress), ifb + tbf for ingress; the ifb is in the result', () => {
    const { plan, result } = dp.planSetup(spec, { ...alloc, bandwidth: { egress: mbit(10), ingress: mbit(6) } }, node);
    const podTc = plan.flatMap((op) =>
      op.ns.kind !== 'pod' ? [] : op.kind === 'link.ifb' ? [`${op.kind} ${op.name}`] : op.kind === 'qdisc.replace' || op.kind === 'filter.redirect' ? [`${op.kind} ${op.dev}`] : [],
    );
    expect(podTc).toEqual([
      `link.ifb ${IFB}`,
      'qdisc.replace eth0', // tbf root: egress
      'qdisc.replace eth0', // ingress qdisc
      'filter.redirect eth0', // → ifb
      `qdisc.replace ${IFB}`, // tbf root on the ifb: ingress
    ]);
    expect(plan.some((op) => op.ns.kind === 'host' && (op.kind === 'qdisc.replace' || op.kind === 'link.ifb'))).toBe(false);
    expect(result.interfaces.map((i) => i.name)).toEqual(['eth0', IFB]);
    const tbfs = plan.flatMap((op) => (op.kind === 'qdisc.replace' && op.qdisc.type === 'tbf' ? [[op.dev, op.qdisc.rateBytes]] : []));
    expect(tbfs).toEqual([['eth0', 1_250_000], [IFB, 750_000]]);
  });

  it('shapes ingress only (Terway failed with "invalid rate 0" there): the ifb and its tbf, no tbf on eth0', () => {
    const { plan } = dp.planSetup(spec, { ...alloc, bandwidth: { ingress: mbit(6) } }, node);
    const tbfDevs = plan.flatMap((op) => (op.kind === 'qdisc.replace' && op.qdisc.type === 'tbf' ? [op.dev] : []));
    expect(tbfDevs).toEqual([IFB]);
    const egressOnly = dp.planSetup(spec, { ...alloc, bandwidth: { egress: mbit(10) } }, node).plan;
    expect(egressOnly.flatMap((op) => (op.kind === 'qdisc.replace' && op.qdisc.type === 'tbf' ? [op.dev] : []))).toEqual(['eth0']);
    expect(egressOnly.some((op) => op.kind === 'link.ifb')).toBe(false);
  });

  it('refuses an allocation of another mode', () => {
    const vpc: Allocation = { mode: 'vpc', ip: alloc.ip, subnet: alloc.subnet, mtu: 1500 };
    expect(() => dp.planSetup(spec, vpc, node)).toThrow(/a vpc allocation given to the ipvlan dataplane/u);
  });

  it('the shaping target is the pod-owned link', () => {
    expect(dp.shapingTarget(spec, node, alloc)).toEqual({ kind: 'pod-link', netns: spec.netns, podIf: 'eth0', ifb: IFB, mtu: 1500 });
  });
});

describe('ipvlan teardown', () => {
  const shaped: IpvlanAllocation = { ...alloc, bandwidth: { egress: mbit(10), ingress: mbit(6) } };

  it('removes the host /32 (by IP and device), the pod slave and the pod ifb', () => {
    expect(dp.planTeardown(spec, shaped, node)).toEqual([
      { kind: 'route.del', ns: HOST, dst: '192.168.0.10/32', dev: 'ipvl_7' },
      { kind: 'link.del', ns: pod, name: 'eth0' },
      { kind: 'link.del', ns: pod, name: IFB },
    ]);
  });

  it('is exactly the inverse of what setup created (no more, no less), whatever hostNames says', () => {
    for (const a of [alloc, shaped]) {
      // what setup created, as its inverses; the pod's own routes vanish with its slave
      const created = dp.planSetup(spec, a, node).plan.map(inverseOf).filter((op): op is Op => op !== undefined && (op.kind === 'link.del' || (op.kind === 'route.del' && op.ns.kind === 'host')));
      const key = (op: Op) => JSON.stringify(op);
      for (const hostNames of ['owned', 'via-netns', 'superseded', 'unknown'] as const) {
        const removed = dp.planTeardown(spec, a, node, hostNames);
        // the ifb of an unshaped pod is deleted too (a stale one of an earlier shaping; "missing" is success)
        const extra = removed.filter((op) => !created.some((c) => key(c) === key(op)));
        expect(extra).toEqual(a.bandwidth === undefined ? [{ kind: 'link.del', ns: pod, name: IFB }] : []);
        expect(created.filter((c) => !removed.some((op) => key(op) === key(c)))).toEqual([]);
      }
    }
  });

  it('without the allocation: only the pod side (the host /32 needs the IP)', () => {
    expect(dp.planTeardown(spec, undefined, node)).toEqual([
      { kind: 'link.del', ns: pod, name: 'eth0' },
      { kind: 'link.del', ns: pod, name: IFB },
    ]);
  });

  it('orphan teardown (daemon down): prevResult IPs\' /32 routes in main, the pod slave and ifb from inside the netns', () => {
    expect(dp.planOrphanTeardown(spec, node, ['192.168.0.10' as IpAddr])).toEqual([
      { kind: 'route.del', ns: HOST, dst: '192.168.0.10/32', table: 254 },
      { kind: 'link.del', ns: pod, name: 'eth0' },
      { kind: 'link.del', ns: pod, name: IFB },
    ]);
  });
});

describe('ipvlan node plan', () => {
  const plan = dp.planNode(node, local);
  const stalePrefs = Array.from({ length: 16 }, (_, i) => 40000 + i);

  it('builds the host slave (up, THEN NOARP), its /32 scope host, clsact, stale prefs removed, one redirect per CIDR', () => {
    expect(plan).toEqual([
      { kind: 'link.up', ns: HOST, name: 'eth1' },
      { kind: 'link.ipvlan', ns: HOST, parent: 'eth1', name: 'ipvl_7', peerNs: HOST, mode: 'l2', mtu: 1500, ensure: true, mac: MAC },
      { kind: 'link.up', ns: HOST, name: 'ipvl_7' },
      { kind: 'link.arp-off', ns: HOST, name: 'ipvl_7' },
      { kind: 'addr.replace', ns: HOST, dev: 'ipvl_7', cidr: '172.31.5.10/32', scope: 'host' },
      { kind: 'qdisc.replace', ns: HOST, dev: 'eth1', qdisc: { type: 'clsact' } },
      ...stalePrefs.map((pref) => ({ kind: 'filter.del', ns: HOST, dev: 'eth1', hook: 'egress', pref })),
      { kind: 'filter.u32-dst', ns: HOST, dev: 'eth1', hook: 'egress', pref: 40000, dst: '10.96.0.0/16', target: 'ipvl_7', redirect: 'ingress' },
      { kind: 'filter.u32-dst', ns: HOST, dev: 'eth1', hook: 'egress', pref: 40001, dst: '169.254.20.10/32', target: 'ipvl_7', redirect: 'ingress' },
      { kind: 'sysctl.set', ns: HOST, key: 'net.ipv4.ip_forward', value: '1' },
      { kind: 'sysctl.set', ns: HOST, key: 'net.ipv4.conf.ipvl_7.rp_filter', value: '0' },
    ]);
  });

  it('deletes at the same prefs it adds at (Terway cleaned 4000 and added 40000): every added pref is in the deleted range', () => {
    const deleted = plan.flatMap((op) => (op.kind === 'filter.del' ? [op.pref] : []));
    const added = plan.flatMap((op) => (op.kind === 'filter.u32-dst' ? [op.pref] : []));
    for (const p of added) expect(deleted).toContain(p);
    // and the deletes come first
    const firstAdd = plan.findIndex((op) => op.kind === 'filter.u32-dst');
    expect(plan.map((op) => op.kind).lastIndexOf('filter.del')).toBeLessThan(firstAdd);
  });

  it('renders the ip batch, the tc batch (skbedit ptype host + mirred ingress redirect) and the sysctls', () => {
    const lines = rendered(plan);
    expect(lines[0]?.split('\n').slice(1)).toEqual([
      'link set dev eth1 up',
      'link add link eth1 name ipvl_7 mtu 1500 type ipvlan mode l2',
      'link set dev ipvl_7 up',
      'link set dev ipvl_7 arp off',
      'addr replace 172.31.5.10/32 dev ipvl_7 scope host',
    ]);
    const tc = lines[1]?.split('\n') ?? [];
    expect(tc[0]).toMatch(/\btc -force -batch -$/u);
    expect(tc.slice(1, 3)).toEqual(['qdisc replace dev eth1 clsact', 'filter del dev eth1 egress pref 40000 protocol ip u32']);
    expect(tc.slice(-2)).toEqual([
      'filter add dev eth1 egress pref 40000 protocol ip u32 match ip dst 10.96.0.0/16 action skbedit ptype host pipe action mirred ingress redirect dev ipvl_7',
      'filter add dev eth1 egress pref 40001 protocol ip u32 match ip dst 169.254.20.10/32 action skbedit ptype host pipe action mirred ingress redirect dev ipvl_7',
    ]);
    expect(lines.slice(2)).toEqual(['sysctl /proc/sys/net/ipv4/ip_forward=1', 'sysctl /proc/sys/net/ipv4/conf/ipvl_7/rp_filter=0']);
  });

  it('a failed node setup rolls back nothing that pods depend on (the ensured slave, clsact)', () => {
    expect(plan.filter((op) => op.kind === 'link.ipvlan' || op.kind === 'qdisc.replace').map(inverseOf)).toEqual([undefined, undefined]);
  });

  it('refuses what it lacks, naming it', () => {
    expect(() => dp.planNode(node, {})).toThrow(InvalidInputError);
    expect(() => dp.planNode(node, { eni })).toThrow(/ipvlan: .*host IP/u);
    const many = Array.from({ length: 17 }, (_, i) => `10.${String(i)}.0.0/16` as Cidr);
    expect(() => dp.planNode(node, { eni, ipvlan: { ...local.ipvlan!, redirectCidrs: many } })).toThrow(/at most 16 CIDRs/u);
  });
});

describe('ipvlan CHECK', () => {
  const host = (over: Partial<ObservedState> = {}): ObservedState => ({
    links: [
      { name: 'eth1', mtu: 1500, mac: MAC, up: true, operstate: 'UP', ifindex: 7 },
      { name: 'ipvl_7', mtu: 1500, mac: MAC, up: true, operstate: 'UNKNOWN', noarp: true, ifindex: 9, parent: 'eth1' },
    ],
    addrs: [{ dev: 'ipvl_7', cidr: '172.31.5.10/32', scope: 'host' }],
    routes: [{ type: 'unicast', dst: '192.168.0.10/32', dev: 'ipvl_7', table: 'main', scope: 'link', onlink: false }],
    rules: [],
    neighs: [],
    qdiscs: [{ dev: 'eth1', kind: 'clsact', handle: 'ffff:', root: false }],
    filters: [
      { dev: 'eth1', hook: 'egress', pref: 40000, kind: 'u32', dst: '10.96.0.0/16', mirred: { direction: 'ingress', target: 'ipvl_7' }, actions: ['skbedit'] },
      { dev: 'eth1', hook: 'egress', pref: 40001, kind: 'u32', dst: '169.254.20.10/32', mirred: { direction: 'ingress', target: 'ipvl_7' }, actions: ['skbedit'] },
    ],
    ...over,
  });
  const podState = (over: Partial<ObservedState> = {}): ObservedState => ({
    links: [
      { name: 'lo', mtu: 65536, mac: '00:00:00:00:00:00', up: true, operstate: 'UNKNOWN' },
      { name: 'eth0', mtu: 1500, mac: MAC, up: true, operstate: 'UNKNOWN' },
    ],
    addrs: [{ dev: 'eth0', cidr: '192.168.0.10/24', scope: 'global' }],
    routes: [
      { type: 'unicast', dst: 'default', gateway: '192.168.0.253', dev: 'eth0', table: 'main', onlink: true },
      { type: 'unicast', dst: '172.31.5.10/32', dev: 'eth0', table: 'main', scope: 'link', onlink: false },
    ],
    rules: [],
    neighs: [{ dev: 'eth0', ip: '172.31.5.10', lladdr: MAC, state: ['PERMANENT'] }],
    ...over,
  });
  const setup = dp.planSetup(spec, alloc, node).plan;
  const nodePlan = dp.planNode(node, local);
  const observed = (h: ObservedState, p: ObservedState) => new Map([[nsKey(HOST), h], [nsKey(pod), p]]);

  it('a pod and node as planned pass', () => {
    expect(diffPlan(setup, observed(host(), podState()))).toEqual([]);
    expect(diffPlan(nodePlan, observed(host(), podState()))).toEqual([]);
  });

  it('reports a pod slave whose MAC is not the ENI\'s, a missing host /32 route, a wrong neighbour', () => {
    const p = podState();
    const wrongMac = { ...p, links: p.links.map((l) => (l.name === 'eth0' ? { ...l, mac: '02:00:00:00:00:99' } : l)) };
    expect(diffPlan(setup, observed(host(), wrongMac))).toEqual([`link eth0 in netns ${spec.netns} has address 02:00:00:00:00:99, want ${MAC}`]);
    expect(diffPlan(setup, observed(host({ routes: [] }), podState()))).toEqual(['route 192.168.0.10/32 dev ipvl_7 table main is missing']);
    expect(diffPlan(setup, observed(host(), podState({ neighs: [{ dev: 'eth0', ip: '172.31.5.10', lladdr: MAC, state: ['REACHABLE'] }]})))).toEqual([
      `neighbour 172.31.5.10 dev eth0 in netns ${spec.netns} is REACHABLE, want PERMANENT`,
    ]);
  });

  it('reports a host slave that answers ARP, an address of the wrong scope, a missing redirect', () => {
    const h = host();
    const arp = { ...h, links: h.links.map((l) => (l.name === 'ipvl_7' ? { ...l, noarp: false } : l)) };
    expect(diffPlan(nodePlan, observed(arp, podState()))).toEqual(['link ipvl_7 answers ARP, want NOARP']);
    expect(diffPlan(nodePlan, observed(host({ addrs: [{ dev: 'ipvl_7', cidr: '172.31.5.10/32', scope: 'global' }] }), podState()))).toEqual([
      'address 172.31.5.10/32 on ipvl_7 has scope global, want host',
    ]);
    expect(diffPlan(nodePlan, observed(host({ filters: h.filters?.slice(0, 1) ?? [] }), podState()))).toEqual([
      'egress filter pref 40001 on eth1 (to 169.254.20.10/32, ingress redirect to ipvl_7) is missing',
    ]);
  });
});

describe('ipvlan GC', () => {
  it('owns the /32 route through the host slave; no host link, no rule', () => {
    expect(dp.gc.attachment(spec, node, alloc)).toEqual({ links: [], routes: [{ dst: '192.168.0.10/32', dev: 'ipvl_7' }], ruleIps: [] });
    expect(dp.gc.claimRule({ priority: 512, to: '192.168.0.10/32', table: 'main' })).toBeUndefined();
  });

  it('claims ipvl_<N> as node state only when its lower device has ifindex N and the same MAC', () => {
    const parent = { ifindex: 7, mac: MAC };
    expect(claimHostSlave({ name: 'ipvl_7', mac: MAC, parent })).toEqual({ role: 'node', kind: 'link' });
    expect(dp.gc.claimLink({ name: 'ipvl_7', mac: MAC, parent }, node)).toEqual({ role: 'node', kind: 'link' });
    expect(claimHostSlave({ name: 'ipvl_7', mac: MAC })).toBeUndefined(); // no lower device: not an ipvlan slave
    expect(claimHostSlave({ name: 'ipvl_7', mac: MAC, parent: { ifindex: 8, mac: MAC } })).toBeUndefined(); // another ENI's index
    expect(claimHostSlave({ name: 'ipvl_7', mac: '02:00:00:00:00:01', parent })).toBeUndefined(); // a macvlan: own MAC
    expect(claimHostSlave({ name: 'ipvl_7', mac: '', parent: { ifindex: 7, mac: '' } })).toBeUndefined();
    expect(claimHostSlave({ name: 'ipvlan7', mac: MAC, parent })).toBeUndefined();
  });

  it('names: ipvl_<ifindex> fits 15 bytes for any ifindex; only that form parses back', () => {
    expect(hostSlaveName({ ifindex: 4294967295 })).toBe('ipvl_4294967295');
    expect(ifindexOfHostSlave('ipvl_42')).toBe(42);
    for (const n of ['ipvl_', 'ipvl_042', 'ipvl_1x', 'xipvl_1']) expect(ifindexOfHostSlave(n)).toBeUndefined();
  });
});

describe('the ipvlan allocation', () => {
  const raw = { mode: 'ipvlan', ip: '192.168.0.10', subnet: '192.168.0.0/24', mtu: 1500, eni, eniMac: '02:11:22:33:44:55', hostIp: '172.31.5.10' };
  it('round-trips; the MAC is lower-cased', () => {
    expect(parseAllocation(raw)).toEqual(alloc);
    expect(parseAllocation({ ...raw, eniMac: '02:11:22:33:44:55'.toUpperCase() })).toEqual(alloc);
  });
  it('names what is missing or bad', () => {
    for (const k of ['eni', 'eniMac', 'hostIp'] as const) {
      const rest = Object.fromEntries(Object.entries(raw).filter(([key]) => key !== k));
      expect(() => parseAllocation(rest)).toThrow(new RegExp(`^allocation\\.${k}: required in ipvlan mode`, 'u'));
    }
    expect(() => parseAllocation({ ...raw, eniMac: '03:11:22:33:44:55' })).toThrow(/allocation\.eniMac: a multicast MAC/u);
    expect(() => parseAllocation({ ...raw, eniMac: 'zz' })).toThrow(/allocation\.eniMac: not a MAC/u);
    expect(() => parseAllocation({ ...raw, hostIp: '1.2.3' })).toThrow(/allocation\.hostIp/u);
  });
});
