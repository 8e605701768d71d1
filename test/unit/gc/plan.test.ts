import { ifbName } from '../../../src/bandwidth/names.js';
import type { Lease } from '../../../src/store/lease.js';
import { planGc } from '../../../src/gc/plan.js';
import type { GcInput, HostView, PodStatus } from '../../../src/gc/types.js';
import type { Cidr, IfName, IpAddr } from '../../../src/lib/brand.js';
import { stableMac, vethName } from '../../../src/lib/veth-name.js';
import { dataplaneFor } from '../../../src/modes/registry.js';
import type { Allocation, Dataplane } from '../../../src/modes/types.js';
import { describeOp } from '../../../src/netlink/render.js';
import type { ObservedLink, ObservedRoute, ObservedRule } from '../../../src/netlink/state.js';

const NOW = new Date('2024-06-01T12:00:00.000Z');
const OLD = '2024-06-01T11:00:00.000Z';
const node = { vethPrefix: 'cali' };
const eni = { link: 'eth1' as IfName, ifindex: 3, gateway: '10.0.0.1' as IpAddr, table: 1003 };

function alloc(ip: string): Allocation {
  return { mode: 'veth-policy-routing', ip: ip as IpAddr, subnet: '10.0.0.0/24' as Cidr, mtu: 1500, eni };
}
function lease(id: string, ip: string, extra: Partial<Lease> = {}): Lease {
  return { containerId: id, ifName: 'eth0', podNamespace: 'default', podName: `pod-${id}`, infraContainerId: id, netns: `/var/run/netns/${id}`, allocation: alloc(ip), createdAt: OLD, ...extra };
}
const veth = (podName: string): string => vethName('cali', { namespace: 'default', name: podName });
const hubLink = (name: string): ObservedLink => ({ name, mtu: 1500, mac: stableMac(name, 'host'), up: true, operstate: 'UP' });
const rule512 = (ip: string): ObservedRule => ({ priority: 512, to: `${ip}/32`, table: 'main' });
const rule2048 = (ip: string): ObservedRule => ({ priority: 2048, from: `${ip}/32`, table: '1003' });
const route = (ip: string, dev: string): ObservedRoute => ({ type: 'unicast', dst: `${ip}/32`, dev, table: 'main', scope: 'link', onlink: false });

function input(over: Partial<GcInput> & { status?: Record<string, PodStatus> } = {}): GcInput {
  const { status, ...rest } = over;
  const host: HostView = { links: [], routes: [], rules: [] };
  return {
    now: NOW,
    node,
    leases: [],
    podStatus: new Map(Object.entries(status ?? {})),
    netnsGone: new Set(),
    host,
    graceMs: 60_000,
    orphanSince: new Map(),
    orphanGraceMs: 0,
    ...rest,
  };
}
const ops = (i: GcInput): string[] => planGc(i).hostPlan.map(describeOp);

describe('planGc: leases', () => {
  const l1 = lease('c1', '10.0.0.11');

  it.each<[string, PodStatus | undefined, boolean]>([
    ['pod confirmed gone → release', 'gone', true],
    ['pod present → keep', 'present', false],
    ['pod gone but not confirmed (API error) → keep', 'unknown', false],
    ['pod not checked → keep', undefined, false],
  ])('%s', (_name, status, released) => {
    const p = planGc(input({ leases: [l1], ...(status ? { status: { 'c1/eth0': status } } : {}) }));
    expect(p.release).toEqual(released ? [{ containerId: 'c1', ifName: 'eth0' }] : []);
    if (released) {
      // The dataplane's own teardown (bandwidth: it may also delete the attachment's ifb), host ops only, in order.
      expect(p.hostPlan.map(describeOp).filter((op) => !op.includes(ifbName('c1', 'eth0')))).toEqual([
        'ip rule del to 10.0.0.11/32 lookup main priority 512',
        'ip rule del from 10.0.0.11/32 lookup 1003 priority 2048',
        `ip route del 10.0.0.11/32 dev ${veth('pod-c1')}`,
        `ip link del dev ${veth('pod-c1')}`,
      ]);
      expect(p.counts).toMatchObject({ released: 1, podGone: 1 });
    } else {
      expect(p.hostPlan).toEqual([]);
    }
    if (status === 'unknown') expect(p.counts.keptUnconfirmed).toBe(1);
  });

  it('netns vanished → host teardown + release, even with the pod present', () => {
    const p = planGc(input({ leases: [l1], status: { 'c1/eth0': 'present' }, netnsGone: new Set(['c1/eth0']) }));
    expect(p.release).toEqual([{ containerId: 'c1', ifName: 'eth0' }]);
    expect(p.hostPlan.map(describeOp)).toContain('ip rule del from 10.0.0.11/32 lookup 1003 priority 2048');
    expect(p.counts).toMatchObject({ netnsGone: 1, released: 1 });
    expect(p.reasons.find((r) => r.action === 'release')?.why).toMatch(/netns .* vanished/u);
  });

  it('young lease → skipped, and its host objects count as explained', () => {
    const young = lease('c2', '10.0.0.12', { createdAt: '2024-06-01T11:59:50.000Z' });
    const name = veth('pod-c2');
    const p = planGc(input({
      leases: [young],
      status: { 'c2/eth0': 'gone' },
      netnsGone: new Set(['c2/eth0']),
      host: { links: [hubLink(name)], routes: [route('10.0.0.12', name)], rules: [rule512('10.0.0.12'), rule2048('10.0.0.12')] },
    }));
    expect(p.release).toEqual([]);
    expect(p.hostPlan).toEqual([]);
    expect(p.counts.skippedYoung).toBe(1);
  });

  it('an unparseable creation time counts as young', () => {
    expect(planGc(input({ leases: [lease('c3', '10.0.0.13', { createdAt: 'garbage' })], status: { 'c3/eth0': 'gone' } })).release).toEqual([]);
  });

  it('released lease whose veth name belongs to a new sandbox of the same pod: the veth is kept', () => {
    const oldSandbox = lease('old', '10.0.0.14', { podName: 'web-0' });
    const newSandbox = lease('new', '10.0.0.15', { podName: 'web-0' });
    const p = planGc(input({ leases: [oldSandbox, newSandbox], netnsGone: new Set(['old/eth0']), status: { 'new/eth0': 'present' } }));
    expect(p.release).toEqual([{ containerId: 'old', ifName: 'eth0' }]);
    const plan = p.hostPlan.map(describeOp);
    expect(plan).not.toContain(`ip link del dev ${veth('web-0')}`);
    expect(plan).toContain('ip rule del to 10.0.0.14/32 lookup main priority 512');
  });

  it("a released lease's ifb is deleted when present", () => {
    const ifb = ifbName('c1', 'eth0');
    const p = planGc(input({ leases: [l1], status: { 'c1/eth0': 'gone' }, host: { links: [{ name: ifb, mtu: 1500, mac: 'aa:bb:cc:dd:ee:ff', up: true, operstate: 'UNKNOWN' }], routes: [], rules: [] } }));
    expect(p.hostPlan.map(describeOp)).toContain(`ip link del dev ${ifb}`);
  });
});

describe('planGc: host orphans', () => {
  const kept = lease('k1', '10.0.0.21');
  const keptVeth = veth('pod-k1');

  it('foreign cali* veth with another MAC → untouched; orphan hub veth → deleted; live veth kept', () => {
    const orphan = veth('gone-pod');
    const foreign = veth('calico-owned');
    const p = planGc(input({
      leases: [kept],
      status: { 'k1/eth0': 'present' },
      host: { links: [hubLink(keptVeth), hubLink(orphan), { ...hubLink(foreign), mac: 'ee:00:00:00:00:01' }, { name: 'eth0', mtu: 1500, mac: '02:00:00:00:00:01', up: true, operstate: 'UP' }], routes: [], rules: [] },
    }));
    expect(p.hostPlan.map(describeOp)).toEqual([`ip link del dev ${orphan}`]);
    expect(p.counts.veths).toBe(1);
  });

  it('a link with the prefix but not prefix+11 hex is not ours', () => {
    const name = 'calixyz';
    expect(ops(input({ host: { links: [hubLink(name)], routes: [], rules: [] } }))).toEqual([]);
  });

  it('stale 512/2048 rules → deleted; rules of leased IPs and other priorities kept', () => {
    const p = ops(input({
      leases: [kept],
      status: { 'k1/eth0': 'present' },
      host: {
        links: [],
        routes: [],
        rules: [rule512('10.0.0.21'), rule2048('10.0.0.21'), rule512('10.0.0.99'), rule2048('10.0.0.99'), { priority: 1000, from: '10.0.0.98/32', table: '5' }, { priority: 512, to: '10.1.0.0/16', table: 'main' }],
      },
    }));
    expect(p).toEqual(['ip rule del to 10.0.0.99/32 lookup main priority 512', 'ip rule del from 10.0.0.99/32 lookup 1003 priority 2048']);
  });

  it('rules outside podCidrs are never touched', () => {
    expect(ops(input({ podCidrs: ['10.9.0.0/16'], host: { links: [], routes: [], rules: [rule512('10.0.0.99')] } }))).toEqual([]);
  });

  it('ifb leak → deleted; ifb of a lease kept; foreign ifb untouched', () => {
    const leaked = ifbName('ghost', 'eth0');
    const mine = ifbName('k1', 'eth0');
    const link = (name: string): ObservedLink => ({ name, mtu: 1500, mac: '5a:00:00:00:00:01', up: true, operstate: 'UNKNOWN' });
    const p = ops(input({ leases: [kept], status: { 'k1/eth0': 'present' }, host: { links: [link(leaked), link(mine), link('ifb0'), link('hubbnothex!!!')], routes: [], rules: [] } }));
    expect(p).toEqual([`ip link del dev ${leaked}`]);
  });

  it('/32 route without a lease via a live hub veth → deleted; via a foreign device → untouched', () => {
    const p = ops(input({
      leases: [kept],
      status: { 'k1/eth0': 'present' },
      host: { links: [hubLink(keptVeth)], routes: [route('10.0.0.21', keptVeth), route('10.0.0.77', keptVeth), route('10.0.0.78', 'eth0')], rules: [] },
    }));
    expect(p).toEqual([`ip route del 10.0.0.77/32 dev ${keptVeth}`]);
  });

  it('a route through an orphan veth is not planned separately (it vanishes with the link)', () => {
    const orphan = veth('gone-pod');
    expect(ops(input({ host: { links: [hubLink(orphan)], routes: [route('10.0.0.50', orphan)], rules: [] } }))).toEqual([`ip link del dev ${orphan}`]);
  });

  it('orphans seen for less than orphanGraceMs wait; then they go', () => {
    const orphan = veth('gone-pod');
    const host = { links: [hubLink(orphan)], routes: [], rules: [rule512('10.0.0.99')] };
    const first = planGc(input({ host, orphanGraceMs: 10_000 }));
    expect(first.hostPlan).toEqual([]);
    expect(first.counts.orphansWaiting).toBe(2);
    const since = new Map(first.orphans.map((o) => [o.key, NOW.getTime() - 11_000]));
    expect(planGc(input({ host, orphanGraceMs: 10_000, orphanSince: since })).hostPlan).toHaveLength(2);
  });
});

describe('planGc: proofs come from the dataplanes', () => {
  /** A stand-in mode with a node-level host link (as ipvlan's `ipvl_<ifindex>`): never deleted, its /32 routes are the mode's. */
  const nodeLinkMode: Dataplane = {
    ...dataplaneFor('vpc'),
    gc: {
      attachment: () => ({ links: [], routes: [], ruleIps: [] }),
      claimLink: (l) => (l.name === 'ipvl_3' ? { role: 'node', kind: 'link' } : undefined),
      claimRule: () => undefined,
    },
  };
  const ipvl: ObservedLink = { name: 'ipvl_3', mtu: 1500, mac: '00:16:3e:00:00:01', up: true, operstate: 'UNKNOWN' };

  it('a node link is kept; an unexplained /32 route through it is deleted, a leased IP\'s is kept', () => {
    const i = input({
      leases: [lease('c1', '10.0.0.11')],
      host: { links: [ipvl], routes: [route('10.0.0.11', 'ipvl_3'), route('10.0.0.12', 'ipvl_3')], rules: [] },
      dataplanes: [nodeLinkMode],
    });
    expect(ops(i)).toEqual(['ip route del 10.0.0.12/32 dev ipvl_3']);
  });

  it('without the mode that claims it, the same link and routes are foreign: untouched', () => {
    const i = input({ host: { links: [ipvl], routes: [route('10.0.0.12', 'ipvl_3')], rules: [] } });
    expect(ops(i)).toEqual([]);
  });
});

describe('planGc: ipvlan (host slave, /32 routes through it)', () => {
  const MAC = '02:aa:bb:cc:dd:ee';
  const ipvlanAlloc = (ip: string): Allocation => ({ mode: 'ipvlan', ip: ip as IpAddr, subnet: '10.0.0.0/24' as Cidr, mtu: 1500, eni: { ...eni, ifindex: 7, table: 1007 }, eniMac: MAC as never, hostIp: '172.31.5.10' as IpAddr });
  const eth1: ObservedLink = { name: 'eth1', mtu: 1500, mac: MAC, up: true, operstate: 'UP', ifindex: 7 };
  const slave: ObservedLink = { name: 'ipvl_7', mtu: 1500, mac: MAC, up: true, operstate: 'UNKNOWN', noarp: true, ifindex: 9, parent: 'eth1' };
  const kept = lease('k1', '10.0.0.21', { allocation: ipvlanAlloc('10.0.0.21') });

  it('a /32 through ipvl_<ifindex> without a lease → deleted; the leased one kept; the host slave itself never (node state)', () => {
    const p = planGc(input({
      leases: [kept],
      status: { 'k1/eth0': 'present' },
      host: { links: [eth1, slave], routes: [route('10.0.0.21', 'ipvl_7'), route('10.0.0.77', 'ipvl_7'), route('10.0.0.78', 'eth1')], rules: [] },
    }));
    expect(p.hostPlan.map(describeOp)).toEqual(['ip route del 10.0.0.77/32 dev ipvl_7']);
  });

  it('the lease of a gone pod is torn down by its mode: its /32 via the host slave, its pod slave from inside the netns', () => {
    const gone = lease('g1', '10.0.0.31', { allocation: ipvlanAlloc('10.0.0.31') });
    const plan = planGc(input({ leases: [gone], status: { 'g1/eth0': 'gone' }, host: { links: [eth1, slave], routes: [route('10.0.0.31', 'ipvl_7')], rules: [] } }));
    expect(plan.hostPlan.map(describeOp)).toContain('ip route del 10.0.0.31/32 dev ipvl_7');
    expect(plan.hostPlan.map(describeOp).some((d) => d.includes('link del dev ipvl_7'))).toBe(false);
  });

  it('an ipvl_7 that is not provably the hub\'s (another lower device index, its own MAC, no lower device): its routes untouched', () => {
    for (const impostor of [
      { ...slave, parent: 'eth2' }, // eth2 has ifindex 8
      { ...slave, mac: '02:00:00:00:00:01' }, // a macvlan named like it
      { name: slave.name, mtu: slave.mtu, mac: slave.mac, up: true, operstate: 'UP' }, // a dummy: no lower device
    ]) {
      const eth2: ObservedLink = { ...eth1, name: 'eth2', ifindex: 8 };
      expect(ops(input({ host: { links: [eth1, eth2, impostor], routes: [route('10.0.0.77', 'ipvl_7')], rules: [] } }))).toEqual([]);
    }
  });
});
