/**
 * The ops the coming dataplanes need, on this kernel (no ipvlan here: link.ipvlan is exercised in the VM suite;
 * its rendering is tested in test/unit/netlink/new-ops.test.ts): a link moved into a netns and renamed (traffic
 * through it, CHECK, moved back, rollback under the neutral name), a clsact egress u32 redirect on a veth (packet
 * counters, CHECK, exact deletion by pref), and pod-netns sysctls.
 */
import type { Cidr, IfName, MacAddr, NetnsPath } from '../../../src/lib/brand.js';
import { PlanError } from '../../../src/netlink/executor.js';
import { HOST, inverseOf, podNs, type Op } from '../../../src/netlink/ops.js';
import { sh, shTry } from '../../helpers/exec.js';
import { ipRows } from '../../helpers/ip.js';
import { rand, testSubnet } from '../../helpers/names.js';
import { createNetns, type TestNetns } from '../../helpers/netns.js';
import { describePrivileged } from '../../helpers/privilege.js';
import { executor, probe } from './harness.js';

const d = describePrivileged('privileged netlink tests (new ops: link move, clsact/u32, pod sysctls)');
const { ip } = testSubnet('10.203');
const t = rand(5);
const nm = (s: string): IfName => s as IfName;

function linkOf(args: readonly string[], name: string): { ifname: string; address: string; stats64?: { rx: { packets: number } } } | undefined {
  return (ipRows([...args, 'link', 'show']) as { ifname: string; address: string }[]).find((l) => l.ifname === name);
}

function rxPackets(dev: string): number {
  const [row] = ipRows(['-s', 'link', 'show', 'dev', dev]) as { stats64: { rx: { packets: number } } }[];
  return row?.stats64.rx.packets ?? -1;
}

d('link.move into a netns (path, rename) and back', () => {
  const hostEnd = `smh${t}`;
  const moving = `smm${t}`;
  const neutral = `smr${t}`;
  let ns: TestNetns;
  let path: NetnsPath;

  beforeAll(() => {
    ns = createNetns(`sm-${t}-mv`);
    // podman's form of the path (/run/netns/NAME): not `ip -n`'s, so the pod batch goes through nsenter
    path = `/run/netns/${ns.name}` as NetnsPath;
    sh('ip', ['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', moving]);
  });
  afterAll(() => {
    shTry('ip', ['link', 'del', hostEnd]);
    ns.remove();
  });

  it('moves and renames in one step; traffic flows through the moved link; CHECK sees it; it moves back', async () => {
    const mac = linkOf([], moving)?.address as MacAddr;
    const pod = podNs(path);
    const move: Op = { kind: 'link.move', ns: HOST, name: nm(moving), to: pod, newName: nm('eth7'), returnName: nm(moving), mac };
    const setup: Op[] = [
      move,
      { kind: 'link.up', ns: pod, name: nm('eth7') },
      { kind: 'addr.replace', ns: pod, dev: nm('eth7'), cidr: `${ip(2)}/30` as Cidr },
      { kind: 'link.up', ns: HOST, name: nm(hostEnd) },
      { kind: 'addr.replace', ns: HOST, dev: nm(hostEnd), cidr: `${ip(1)}/30` as Cidr },
    ];
    await executor.apply(setup);
    expect(linkOf([], moving)).toBeUndefined();
    expect(linkOf(['-n', ns.name], 'eth7')?.address).toBe(mac);
    expect(await probe.missing(setup)).toEqual([]);
    expect(ns.tryExec(['ping', '-c', '1', '-W', '3', ip(1)]).code).toBe(0);

    // CHECK names a missing moved link
    expect(await probe.missing([{ ...move, newName: nm('eth8') }])).toEqual([`link eth8 in netns ${path} is missing`]);

    const back = inverseOf(move);
    expect(back).toBeDefined();
    await executor.apply([back as Op]);
    expect(linkOf(['-n', ns.name], 'eth7')).toBeUndefined();
    expect(linkOf([], moving)?.address).toBe(mac);
  });

  it('a failing plan rolls the move back: the link returns to the host under the planner\'s neutral name', async () => {
    const pod = podNs(path);
    const plan: Op[] = [
      { kind: 'link.move', ns: HOST, name: nm(moving), to: pod, newName: nm('eth7'), returnName: nm(neutral) },
      { kind: 'addr.replace', ns: pod, dev: nm('nosuch0'), cidr: `${ip(2)}/30` as Cidr },
    ];
    const err = await executor.apply(plan).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanError);
    expect((err as PlanError).rollbackErrors).toEqual([]);
    expect(linkOf(['-n', ns.name], 'eth7')).toBeUndefined();
    expect(linkOf([], neutral)).toBeDefined();
    sh('ip', ['link', 'set', 'dev', neutral, 'name', moving]);
  });
});

d('clsact + u32 egress redirect of a destination (veth), its exact deletion, and pod-netns sysctls', () => {
  const a1 = `sma${t}`; // host ends
  const b1 = `smb${t}`;
  let ns: TestNetns;
  let pod: ReturnType<typeof podNs>;
  const filter = (pref: number, dst: string): Extract<Op, { kind: 'filter.u32-dst' }> => ({
    kind: 'filter.u32-dst', ns: pod, dev: nm('p1'), hook: 'egress', pref, dst: dst as Cidr, target: nm('q1'), redirect: 'egress',
  });

  beforeAll(async () => {
    ns = createNetns(`sm-${t}-tc`);
    pod = podNs(ns.path);
    sh('ip', ['link', 'add', a1, 'type', 'veth', 'peer', 'name', 'p1', 'netns', ns.path]);
    sh('ip', ['link', 'add', b1, 'type', 'veth', 'peer', 'name', 'q1', 'netns', ns.path]);
    // pod-netns sysctls through the executor: no IPv6 chatter on the pod links, so host counters count our pings only
    await executor.apply([
      { kind: 'sysctl.set', ns: pod, key: 'net.ipv6.conf.p1.disable_ipv6', value: '1' },
      { kind: 'sysctl.set', ns: pod, key: 'net.ipv6.conf.q1.disable_ipv6', value: '1' },
      { kind: 'sysctl.set', ns: HOST, key: `net.ipv6.conf.${a1}.disable_ipv6`, value: '1' },
      { kind: 'sysctl.set', ns: HOST, key: `net.ipv6.conf.${b1}.disable_ipv6`, value: '1' },
      { kind: 'link.up', ns: pod, name: nm('p1') },
      { kind: 'link.up', ns: pod, name: nm('q1') },
      { kind: 'addr.replace', ns: pod, dev: nm('p1'), cidr: `${ip(6)}/29` as Cidr },
      { kind: 'link.up', ns: HOST, name: nm(a1) },
      { kind: 'link.up', ns: HOST, name: nm(b1) },
      { kind: 'addr.replace', ns: HOST, dev: nm(a1), cidr: `${ip(1)}/29` as Cidr },
    ]);
  });
  afterAll(() => {
    shTry('ip', ['link', 'del', a1]);
    shTry('ip', ['link', 'del', b1]);
    ns.remove();
  });

  it('set the pod sysctls in the pod netns (not the host\'s)', () => {
    expect(ns.exec(['cat', '/proc/sys/net/ipv6/conf/p1/disable_ipv6']).trim()).toBe('1');
    expect(shTry('cat', ['/proc/sys/net/ipv6/conf/p1/disable_ipv6']).code).not.toBe(0); // no p1 on the host
  });

  it('a failing pod sysctl fails its op, named', async () => {
    const err = await executor.apply([{ kind: 'sysctl.set', ns: pod, key: 'net.ipv4.conf.nosuch0.rp_filter', value: '0' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanError);
    expect((err as PlanError).message).toMatch(/nosuch0\/rp_filter/u);
  });

  it('redirects what p1 sends to the destination out of q1; CHECK sees it; deleting its pref removes exactly it', async () => {
    expect(ns.tryExec(['ping', '-c', '1', '-W', '3', ip(1)]).code).toBe(0); // baseline: through p1 → a1
    const setup: Op[] = [
      { kind: 'qdisc.replace', ns: pod, dev: nm('p1'), qdisc: { type: 'clsact' } },
      { kind: 'filter.del', ns: pod, dev: nm('p1'), hook: 'egress', pref: 40000 },
      filter(40000, `${ip(1)}/32`),
      { kind: 'filter.del', ns: pod, dev: nm('p1'), hook: 'egress', pref: 40001 },
      filter(40001, '192.0.2.0/24'),
    ];
    await executor.apply(setup);
    await executor.apply(setup); // re-applying (delete-then-add per pref) leaves one filter per pref
    expect(await probe.missing(setup)).toEqual([]);
    const tcRows = JSON.parse(ns.exec(['tc', '-j', 'filter', 'show', 'dev', 'p1', 'egress'])) as { pref: number; options?: { actions?: unknown[] } }[];
    expect(tcRows.filter((r) => r.options?.actions !== undefined).map((r) => r.pref)).toEqual([40000, 40001]);

    const a0 = rxPackets(a1);
    const b0 = rxPackets(b1);
    // echo requests leave p1 for a1's address: redirected out of q1, they reach b1 (whose MAC they do not carry: no reply)
    expect(ns.tryExec(['ping', '-c', '3', '-i', '0.2', '-W', '1', ip(1)]).code).not.toBe(0);
    expect(rxPackets(b1) - b0).toBeGreaterThanOrEqual(3);
    expect(rxPackets(a1) - a0).toBe(0);

    // CHECK notices a filter that points elsewhere
    expect((await probe.missing([{ ...filter(40000, `${ip(1)}/32`), target: nm('p1') }]))[0]).toMatch(/differs/u);

    // the delete of pref 40000 (the inverse of its add) removes exactly that filter
    await executor.apply([inverseOf(filter(40000, `${ip(1)}/32`)) as Op]);
    const left = JSON.parse(ns.exec(['tc', '-j', 'filter', 'show', 'dev', 'p1', 'egress'])) as { pref: number }[];
    expect([...new Set(left.map((r) => r.pref))]).toEqual([40001]);
    expect(ns.tryExec(['ping', '-c', '1', '-W', '3', ip(1)]).code).toBe(0);
    expect(await probe.missing([filter(40000, `${ip(1)}/32`)])).toEqual([
      `egress filter pref 40000 on p1 in netns ${ns.path} (to ${ip(1)}/32, egress redirect to q1) is missing`,
    ]);

    // teardown: deleting a gone filter and the clsact twice is success
    const teardown: Op[] = [
      { kind: 'filter.del', ns: pod, dev: nm('p1'), hook: 'egress', pref: 40000 },
      { kind: 'qdisc.del', ns: pod, dev: nm('p1'), slot: 'clsact' },
      { kind: 'filter.del', ns: pod, dev: nm('p1'), hook: 'egress', pref: 40001 },
      { kind: 'qdisc.del', ns: pod, dev: nm('p1'), slot: 'clsact' },
    ];
    expect(await executor.teardown(teardown)).toEqual({ errors: [] });
    expect(JSON.parse(ns.exec(['tc', '-j', 'qdisc', 'show', 'dev', 'p1'])).some((q: { kind: string }) => q.kind === 'clsact')).toBe(false);
  });
});
