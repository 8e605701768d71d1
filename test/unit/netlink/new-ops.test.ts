/** Ops the coming dataplanes need (ipvlan, exclusive ENI): rendering, inverses, tolerance, grouping, CHECK. */
import type { Cidr, IfName, MacAddr, NetnsPath } from '../../../src/lib/brand.js';
import { InvalidInputError } from '../../../src/lib/errors.js';
import { silentLogger } from '../../../src/lib/log.js';
import { diffPlan } from '../../../src/netlink/diff.js';
import { createExecutor, PlanError } from '../../../src/netlink/executor.js';
import { HOST, hostOnly, inverseOf, podNs, type Op } from '../../../src/netlink/ops.js';
import { describeOp, hostNetnsPath, ipTokens, planSteps, renderOp, tcTokens } from '../../../src/netlink/render.js';
import { parseFilters, type ObservedState } from '../../../src/netlink/state.js';
import { isTolerated } from '../../../src/netlink/tolerate.js';
import { FakeRunner, failLines } from './fake-runner.js';

const nm = (s: string): IfName => s as IfName;
const P = podNs('/run/netns/p1' as NetnsPath);
const NAMED = podNs('/var/run/netns/p2' as NetnsPath);
const SVC = '10.96.0.0/12' as Cidr;

const move: Extract<Op, { kind: 'link.move' }> = { kind: 'link.move', ns: HOST, name: nm('eth1'), to: P, newName: nm('eth0'), returnName: nm('eth1'), mac: 'ee:00:00:00:00:07' as MacAddr };
const ipvlanPod: Op = { kind: 'link.ipvlan', ns: HOST, parent: nm('eth1'), name: nm('eth0'), peerNs: P, mode: 'l2', mtu: 1500 };
const ipvlanHost: Op = { kind: 'link.ipvlan', ns: HOST, parent: nm('eth1'), name: nm('ipvl_3'), peerNs: HOST, mode: 'l2', mtu: 1500, ensure: true };
const redirect: Extract<Op, { kind: 'filter.u32-dst' }> = { kind: 'filter.u32-dst', ns: HOST, dev: nm('eth1'), hook: 'egress', pref: 40000, dst: SVC, target: nm('ipvl_3'), redirect: 'ingress' };

describe('link.move', () => {
  it('moves and renames in one line, into a pod netns by path or back into the executor\'s own netns', () => {
    expect(ipTokens(move).join(' ')).toBe('link set dev eth1 netns /run/netns/p1 name eth0');
    expect(ipTokens({ ...move, ns: P, name: nm('eth0'), to: HOST, newName: nm('eth1') }).join(' ')).toBe(`link set dev eth0 netns ${hostNetnsPath()} name eth1`);
    expect(hostNetnsPath()).toBe(`/proc/${String(process.pid)}/ns/net`);
  });
  it('refuses a move into the namespace the link is in', () => {
    expect(() => ipTokens({ ...move, to: HOST })).toThrow(InvalidInputError);
  });
  it('rolls back by moving the link back under the planner\'s neutral name, run from the target netns', () => {
    expect(inverseOf(move)).toEqual({ kind: 'link.move', ns: P, name: nm('eth0'), to: HOST, newName: nm('eth1'), returnName: nm('eth0') });
    expect(inverseOf({ ...move, returnName: nm('eni7') })).toMatchObject({ newName: 'eni7' });
  });
  it('counts as pod work (hostOnly drops it: a DEL without the netns must not touch it)', () => {
    expect(hostOnly([move, { ...move, ns: P, to: HOST }])).toEqual([{ ...move, ns: P, to: HOST }].filter((op) => op.ns.kind === 'host'));
    expect(hostOnly([move])).toEqual([]);
  });
  it('is a real failure when the link is missing (a re-applied plan must find it moved)', () => {
    expect(isTolerated(move, 'Cannot find device "eth1"')).toBe(false);
  });
  it('CHECK looks for the new name (and the planned MAC) in the target netns', () => {
    const state = (links: ObservedState['links']): ObservedState => ({ links, addrs: [], routes: [], rules: [], neighs: [] });
    const ok = state([{ name: 'eth0', mtu: 1500, mac: 'ee:00:00:00:00:07', up: false, operstate: 'DOWN' }]);
    expect(diffPlan([move], new Map([['pod:/run/netns/p1', ok]]))).toEqual([]);
    expect(diffPlan([move], new Map([['pod:/run/netns/p1', state([])]]))).toEqual(['link eth0 in netns /run/netns/p1 is missing']);
    const other = state([{ name: 'eth0', mtu: 1500, mac: 'ee:00:00:00:00:08', up: true, operstate: 'UP' }]);
    expect(diffPlan([move], new Map([['pod:/run/netns/p1', other]]))).toEqual(['link eth0 in netns /run/netns/p1 has address ee:00:00:00:00:08, want ee:00:00:00:00:07']);
  });
});

describe('link.ipvlan', () => {
  it('creates the slave directly in the pod netns, or on the host; NOARP is a separate op after up', () => {
    expect(ipTokens(ipvlanPod as Parameters<typeof ipTokens>[0]).join(' ')).toBe('link add link eth1 name eth0 mtu 1500 netns /run/netns/p1 type ipvlan mode l2');
    expect(ipTokens(ipvlanHost as Parameters<typeof ipTokens>[0]).join(' ')).toBe('link add link eth1 name ipvl_3 mtu 1500 type ipvlan mode l2');
    expect(ipTokens({ kind: 'link.arp-off', ns: HOST, name: nm('ipvl_3') }).join(' ')).toBe('link set dev ipvl_3 arp off');
    expect(inverseOf({ kind: 'link.arp-off', ns: HOST, name: nm('ipvl_3') })).toBeUndefined();
  });
  it('an ensured slave (node state) that exists is success; a pod slave that exists is a failure', () => {
    expect(isTolerated(ipvlanHost, 'RTNETLINK answers: File exists')).toBe(true);
    expect(isTolerated(ipvlanPod, 'RTNETLINK answers: File exists')).toBe(false);
  });
  it('CHECK wants NOARP where the plan turned ARP off, and an address\'s planned scope', () => {
    const st = (noarp: boolean, scope: string): ObservedState => ({
      links: [{ name: 'ipvl_3', mtu: 1500, mac: 'ee:00:00:00:00:07', up: true, operstate: 'UNKNOWN', noarp }],
      addrs: [{ dev: 'ipvl_3', cidr: '172.31.5.10/32', scope }], routes: [], rules: [], neighs: [],
    });
    const plan: Op[] = [
      { kind: 'link.arp-off', ns: HOST, name: nm('ipvl_3') },
      { kind: 'addr.replace', ns: HOST, dev: nm('ipvl_3'), cidr: '172.31.5.10/32' as Cidr, scope: 'host' },
    ];
    expect(diffPlan(plan, new Map([['host', st(true, 'host')]]))).toEqual([]);
    expect(diffPlan(plan, new Map([['host', st(false, 'global')]]))).toEqual([
      'link ipvl_3 answers ARP, want NOARP',
      'address 172.31.5.10/32 on ipvl_3 has scope global, want host',
    ]);
    expect(ipTokens(plan[1] as Parameters<typeof ipTokens>[0]).join(' ')).toBe('addr replace 172.31.5.10/32 dev ipvl_3 scope host');
  });
  it('rolls back by deleting the slave where it was created (never an ensured node slave: pods route through it); counts as pod work when created in a pod', () => {
    expect(inverseOf(ipvlanPod)).toEqual({ kind: 'link.del', ns: P, name: 'eth0' });
    expect(inverseOf(ipvlanHost)).toBeUndefined();
    expect(inverseOf({ ...ipvlanHost, ensure: false })).toEqual({ kind: 'link.del', ns: HOST, name: 'ipvl_3' });
    expect(hostOnly([ipvlanPod, ipvlanHost])).toEqual([ipvlanHost]);
  });
  it('refuses an MTU out of range', () => {
    expect(() => renderOp({ ...(ipvlanPod), mtu: 10 })).toThrow(/mtu/u);
  });
});

describe('clsact + u32 destination redirect', () => {
  it('renders clsact and its removal; a rollback keeps it', () => {
    expect(tcTokens({ kind: 'qdisc.replace', ns: HOST, dev: nm('eth1'), qdisc: { type: 'clsact' } }).join(' ')).toBe('qdisc replace dev eth1 clsact');
    expect(tcTokens({ kind: 'qdisc.del', ns: HOST, dev: nm('eth1'), slot: 'clsact' }).join(' ')).toBe('qdisc del dev eth1 clsact');
    // clsact is node state: a failed node setup does not take the redirect filters down with it
    expect(inverseOf({ kind: 'qdisc.replace', ns: HOST, dev: nm('eth1'), qdisc: { type: 'clsact' } })).toBeUndefined();
  });
  it('renders the filter (egress redirect, or ingress redirect with ptype host) and a delete with the SAME pref', () => {
    expect(tcTokens({ ...redirect, redirect: 'egress', target: nm('veth9') }).join(' ')).toBe(
      'filter add dev eth1 egress pref 40000 protocol ip u32 match ip dst 10.96.0.0/12 action mirred egress redirect dev veth9',
    );
    expect(tcTokens(redirect).join(' ')).toBe(
      'filter add dev eth1 egress pref 40000 protocol ip u32 match ip dst 10.96.0.0/12 action skbedit ptype host pipe action mirred ingress redirect dev ipvl_3',
    );
    const del = inverseOf(redirect);
    expect(del).toEqual({ kind: 'filter.del', ns: HOST, dev: 'eth1', hook: 'egress', pref: 40000 });
    expect(tcTokens(del as Extract<Op, { kind: 'filter.del' }>).join(' ')).toBe('filter del dev eth1 egress pref 40000 protocol ip u32');
  });
  it('refuses a pref tc cannot hold', () => {
    expect(() => tcTokens({ ...redirect, pref: 0 })).toThrow(/pref/u);
    expect(() => tcTokens({ ...redirect, pref: 65536 })).toThrow(/pref/u);
  });
  it('a delete that finds no filter, or no clsact, is success (tc\'s exact words)', () => {
    const del: Op = { kind: 'filter.del', ns: HOST, dev: nm('eth1'), hook: 'egress', pref: 40000 };
    expect(isTolerated(del, 'Error: Filter with specified priority/protocol not found.\nWe have an error talking to the kernel')).toBe(true);
    expect(isTolerated(del, "Error: Parent Qdisc doesn't exists.\nWe have an error talking to the kernel")).toBe(true);
    expect(isTolerated(del, 'Cannot find device "eth1"')).toBe(true);
    expect(isTolerated(del, 'RTNETLINK answers: Operation not permitted')).toBe(false);
    expect(isTolerated({ kind: 'qdisc.del', ns: HOST, dev: nm('eth1'), slot: 'clsact' }, 'Error: Invalid handle.')).toBe(true);
  });
  it('goes into the tc batch of its namespace', () => {
    const steps = planSteps([{ kind: 'qdisc.replace', ns: HOST, dev: nm('eth1'), qdisc: { type: 'clsact' } }, { ...redirect, kind: 'filter.del' } as never, redirect]);
    expect(steps).toHaveLength(1);
    expect(steps[0]?.kind).toBe('tc');
  });

  /** `tc -j filter show dev smv0 egress` of iproute2 6.1 (captured on this kernel) for two filters. */
  const TC_JSON = [
    { protocol: 'ip', pref: 40000, kind: 'u32', chain: 0 },
    { protocol: 'ip', pref: 40000, kind: 'u32', chain: 0, options: { fh: '800:', ht_divisor: 1 } },
    {
      protocol: 'ip', pref: 40000, kind: 'u32', chain: 0,
      options: {
        fh: '800::800', order: 2048, key_ht: '800', bkt: '0', not_in_hw: true,
        match: { value: 'a600000', mask: 'fff00000', offmask: '', off: 16 },
        actions: [{ order: 1, kind: 'mirred', mirred_action: 'redirect', direction: 'egress', to_dev: 'smback', control_action: { type: 'stolen' }, index: 1, ref: 1, bind: 1 }],
      },
    },
    { protocol: 'ip', pref: 40001, kind: 'u32', chain: 0 },
    { protocol: 'ip', pref: 40001, kind: 'u32', chain: 0, options: { fh: '801:', ht_divisor: 1 } },
    {
      protocol: 'ip', pref: 40001, kind: 'u32', chain: 0,
      options: {
        fh: '801::1', order: 1, key_ht: '801', bkt: '0', not_in_hw: true,
        match: { value: 'a610000', mask: 'ffff0000', offmask: '', off: 16 },
        actions: [{ order: 1, kind: 'mirred', mirred_action: 'redirect', direction: 'egress', to_dev: 'smback', control_action: { type: 'stolen' }, index: 2, ref: 1, bind: 1 }],
      },
    },
  ];

  it('parses tc\'s filter listing: one entry per filter, its destination and its mirred', () => {
    expect(parseFilters(TC_JSON, 'smv0', 'egress')).toEqual([
      { dev: 'smv0', hook: 'egress', pref: 40000, kind: 'u32', dst: '10.96.0.0/12', mirred: { direction: 'egress', target: 'smback' }, actions: [] },
      { dev: 'smv0', hook: 'egress', pref: 40001, kind: 'u32', dst: '10.97.0.0/16', mirred: { direction: 'egress', target: 'smback' }, actions: [] },
    ]);
  });

  it('CHECK: present, missing, different, or not observed', () => {
    const want: Op = { ...redirect, dev: nm('smv0'), redirect: 'egress', target: nm('smback') };
    const st = (filters?: ObservedState['filters']): ObservedState => ({ links: [], addrs: [], routes: [], rules: [], neighs: [], ...(filters ? { filters } : {}) });
    const seen = parseFilters(TC_JSON, 'smv0', 'egress');
    expect(diffPlan([want], new Map([['host', st(seen)]]))).toEqual([]);
    expect(diffPlan([{ ...want, pref: 40002 }], new Map([['host', st(seen)]]))).toEqual([
      'egress filter pref 40002 on smv0 (to 10.96.0.0/12, egress redirect to smback) is missing',
    ]);
    expect(diffPlan([{ ...want, target: nm('other') }], new Map([['host', st(seen)]]))[0]).toMatch(/differs: found u32 10.96.0.0\/12 → egress smback/u);
    expect(diffPlan([want], new Map([['host', st()]]))).toEqual(['filters on smv0 were not observed']);
  });
});

describe('pod-netns sysctls', () => {
  const key = 'net.ipv4.conf.eth0.rp_filter';
  const plan: Op[] = [
    { kind: 'sysctl.set', ns: P, key, value: '0' },
    { kind: 'sysctl.set', ns: P, key: 'net.ipv4.conf.eth0/5.forwarding', value: '1' },
    { kind: 'sysctl.set', ns: HOST, key: 'net.ipv4.ip_forward', value: '1' },
    { kind: 'sysctl.set', ns: NAMED, key, value: '2' },
  ];

  it('groups consecutive sysctls of one pod netns into one `nsenter … sysctl -q -w` with /proc/sys-relative paths', () => {
    const steps = planSteps(plan);
    expect(steps.map((s) => s.kind)).toEqual(['pod-sysctl', 'sysctl', 'pod-sysctl']);
    expect(steps[0]).toMatchObject({
      command: { file: 'nsenter', args: ['--net=/run/netns/p1', 'sysctl', '-q', '-w', 'net/ipv4/conf/eth0/rp_filter=0', 'net/ipv4/conf/eth0.5/forwarding=1'] },
    });
    // a named netns too: iproute2 has no sysctl, so nsenter it is
    expect(steps[2]).toMatchObject({ command: { file: 'nsenter', args: ['--net=/var/run/netns/p2', 'sysctl', '-q', '-w', 'net/ipv4/conf/eth0/rp_filter=2'] } });
    expect(describeOp(plan[0] as Op)).toBe('sysctl net.ipv4.conf.eth0.rp_filter=0 (in netns /run/netns/p1)');
  });

  it('runs them through the runner, never a shell; a failing key is charged to its op only', async () => {
    const runner = new FakeRunner((cmd) =>
      cmd.file === 'nsenter' ? { exitCode: 1, stderr: 'sysctl: cannot stat /proc/sys/net/ipv4/conf/eth0.5/forwarding: No such file or directory\n' } : {},
    );
    const written: string[] = [];
    const ex = createExecutor({ runner, log: silentLogger, writeSysctl: (p) => { written.push(p); return Promise.resolve(); } });
    const err = await ex.apply(plan.slice(0, 2)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanError);
    expect((err as PlanError).failedIndex).toBe(1);
    expect((err as PlanError).message).toMatch(/eth0\.5\/forwarding: No such file/u);
    expect(runner.calls).toHaveLength(1); // sysctls have no inverse: nothing to roll back
    expect(written).toEqual([]);
  });

  it('a failure naming no key (nsenter could not enter) fails the first op of the run', async () => {
    const runner = new FakeRunner(() => ({ exitCode: 1, stderr: 'nsenter: cannot open /run/netns/p1: No such file or directory\n' }));
    const ex = createExecutor({ runner, log: silentLogger });
    const err = (await ex.apply(plan.slice(0, 2)).catch((e: unknown) => e)) as PlanError;
    expect(err.failedIndex).toBe(0);
    expect(err.message).toMatch(/cannot open/u);
  });

  it('teardown skips them when the pod netns is gone', async () => {
    const runner = new FakeRunner(() => failLines({}));
    const ex = createExecutor({ runner, log: silentLogger, netnsExists: () => Promise.resolve(false) });
    expect(await ex.teardown(plan.slice(0, 2))).toEqual({ errors: [] });
    expect(runner.calls).toHaveLength(0);
  });
});
