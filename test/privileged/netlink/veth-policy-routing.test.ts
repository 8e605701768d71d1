import { parseIfName, parseIp } from '../../../src/lib/brand.js';
import { hostVethName } from '../../../src/modes/common/veth.js';
import { dataplaneFor, planOrphanTeardown } from '../../../src/modes/registry.js';
import { ENI_TABLE_BASE, type Allocation, type EniFacts } from '../../../src/modes/types.js';
import { PlanError } from '../../../src/netlink/executor.js';
import { HOST, type Op } from '../../../src/netlink/ops.js';
import { stableMac } from '../../../src/lib/veth-name.js';
import { shAsync } from '../../helpers/exec.js';
import { hostSnapshotOf, type OwnedHostState } from '../../helpers/host-state.js';
import { hostAddress, ipJson, nsJson } from '../../helpers/ip.js';
import { testSubnet } from '../../helpers/names.js';
import { createNetns, netnsPath, type TestNetns } from '../../helpers/netns.js';
import { describePrivileged } from '../../helpers/privilege.js';
import { executor, node, ping, podSpec, probe, tag } from './harness.js';

const d = describePrivileged('privileged netlink tests (veth-policy-routing)');
const { subnet3, ip } = testSubnet('100.64');

d('veth-policy-routing plan on a real netns with a veth "ENI"', () => {
  const ns = `hubt-${tag}-p`;
  const vsw = `hubv-${tag}`;
  const eniLink = parseIfName(`hube${tag}`);
  const spec = podSpec(ns, 'vpr');
  const dp = dataplaneFor('veth-policy-routing');
  const hostVeth = hostVethName(spec, node);
  const gw = ip(253);
  let eni: EniFacts;
  let alloc: Allocation;
  let needles: string[];
  const namespaces: TestNetns[] = [];

  beforeAll(async () => {
    namespaces.push(createNetns(ns, { lo: 'down' }), createNetns(vsw, { lo: 'down' }));
    await executor.apply(dataplaneFor('vpc').planNode({ vethPrefix: 'cali' }, {}));
    // The "vSwitch": the ENI is a veth whose peer sits in a netns that owns the gateway IP.
    await shAsync('ip', 'link', 'add', eniLink, 'type', 'veth', 'peer', 'name', 'vsw0', 'netns', netnsPath(vsw));
    await shAsync('ip', 'link', 'set', eniLink, 'up');
    await shAsync('ip', '-n', vsw, 'link', 'set', 'vsw0', 'up');
    await shAsync('ip', '-n', vsw, 'addr', 'add', `${gw}/24`, 'dev', 'vsw0');
    const [link] = (await ipJson('link', 'show', 'dev', eniLink)) as { ifindex: number; address: string }[];
    if (!link) throw new Error('ENI link missing');
    eni = { link: eniLink, ifindex: link.ifindex, gateway: gw, table: ENI_TABLE_BASE + link.ifindex };
    alloc = { mode: 'veth-policy-routing', ip: ip(7), subnet: `${subnet3}.0/24` as never, mtu: 1450, eni };
    // The VPC fabric knows which ENI owns the pod IP (the SDN's job): a static entry in the vSwitch.
    await shAsync('ip', '-n', vsw, 'neigh', 'replace', alloc.ip, 'lladdr', link.address, 'dev', 'vsw0', 'nud', 'permanent');
    needles = [hostVeth, `${subnet3}.`, `"${String(eni.table)}"`];
  });
  afterAll(async () => {
    await shAsync('ip', 'link', 'del', hostVeth).catch(() => undefined);
    for (const [sel, prio] of [['to', '512'], ['from', '2048']] as const) {
      await shAsync('ip', 'rule', 'del', sel, `${alloc.ip}/32`, 'priority', prio).catch(() => undefined);
    }
    await shAsync('ip', 'link', 'del', eniLink).catch(() => undefined);
    for (const n of namespaces) n.remove();
  });

  /** The ENI table's default route is shared by every pod on the ENI: it outlives a pod's teardown/rollback. */
  const withoutEniTable = (snap: OwnedHostState): OwnedHostState => ({
    ...snap,
    route: snap.route.filter((r) => (r as { table?: string }).table !== String(eni.table)),
  });

  it('applies, routes through the ENI table, is probed, and tears down', async () => {
    const before = hostSnapshotOf(needles);
    const plan = dp.planSetup(spec, alloc, node).plan;
    await executor.apply(plan);

    expect(await ipJson('rule', 'show')).toEqual(
      expect.arrayContaining([
        { priority: 512, src: 'all', dst: alloc.ip, table: 'main' },
        { priority: 2048, src: alloc.ip, table: String(eni.table) },
      ]),
    );
    expect(await ipJson('route', 'show', 'table', String(eni.table))).toEqual([{ dst: 'default', gateway: gw, dev: eniLink, flags: ['onlink'] }]);
    expect(await ipJson('route', 'show', `${alloc.ip}/32`)).toEqual([{ dst: alloc.ip, dev: hostVeth, scope: 'link', flags: [] }]);
    expect(await nsJson(ns, 'neigh', 'show')).toEqual([{ dst: '169.254.1.1', dev: 'eth0', lladdr: stableMac(hostVeth, 'host'), state: ['PERMANENT'] }]);
    expect(await nsJson(ns, 'route', 'show')).toEqual([{ dst: 'default', gateway: '169.254.1.1', dev: 'eth0', flags: ['onlink'] }]);
    const [eth0] = (await nsJson(ns, 'link', 'show', 'dev', 'eth0')) as { mtu: number }[];
    expect(eth0?.mtu).toBe(1450);

    expect(await ping(ns, gw)).toMatch(/1 received/u); // pod → host veth → rule 2048 → table → ENI → gateway
    const target = hostAddress();
    if (target === undefined) console.warn('no global host address: skipping the ping to the host');
    else expect(await ping(ns, target)).toMatch(/1 received/u);

    expect(await probe.missing(plan)).toEqual([]);
    await shAsync('ip', '-n', ns, 'neigh', 'del', '169.254.1.1', 'dev', 'eth0');
    await shAsync('ip', 'rule', 'del', 'from', `${alloc.ip}/32`, 'priority', '2048');
    expect(await probe.missing(plan)).toEqual([
      `rule 2048: from ${alloc.ip}/32 lookup ${String(eni.table)} is missing`,
      `neighbour 169.254.1.1 dev eth0 in netns ${spec.netns} is missing`,
    ]);
    await executor.apply(plan); // re-ADD repairs
    expect(await probe.missing(plan)).toEqual([]);

    expect(await executor.teardown(dp.planTeardown(spec, alloc, node))).toEqual({ errors: [] });
    expect(withoutEniTable(hostSnapshotOf(needles))).toEqual(withoutEniTable(before));
    expect(await ipJson('route', 'show', 'table', String(eni.table))).toHaveLength(1); // shared route kept
  });

  it('rolls back the rules and routes applied after a failure inside the same batch', async () => {
    const before = hostSnapshotOf(needles);
    const setup = dp.planSetup(spec, alloc, node).plan;
    const bad: Op = { kind: 'route.replace', ns: HOST, dst: `${subnet3}.64/26` as never, via: parseIp(gw), dev: parseIfName(`hubnx${tag}`) };
    // after the host /32 route, before the ENI table route and both rules (all in the same host batch)
    const at = setup.findIndex((op) => op.kind === 'route.replace' && op.ns.kind === 'host' && op.table === undefined) + 1;
    expect(setup[at]).toMatchObject({ kind: 'route.replace', table: eni.table });
    const plan = [...setup.slice(0, at), bad, ...setup.slice(at)];
    const err: unknown = await executor.apply(plan).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanError);
    expect(err).toMatchObject({ failedIndex: at, rollbackErrors: [] });
    expect(withoutEniTable(hostSnapshotOf(needles))).toEqual(withoutEniTable(before));
    expect((await nsJson(ns, 'link', 'show')).map((l) => (l as { ifname: string }).ifname)).toEqual(['lo']);
  });

  it('orphan teardown removes the host veth and the rules without knowing mode or table', async () => {
    const before = hostSnapshotOf(needles);
    await executor.apply(dp.planSetup(spec, alloc, node).plan);
    expect(await executor.teardown(planOrphanTeardown(spec, node, [alloc.ip]))).toEqual({ errors: [] });
    expect(withoutEniTable(hostSnapshotOf(needles))).toEqual(withoutEniTable(before));
  });
});
