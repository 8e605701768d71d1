import { readFile } from 'node:fs/promises';
import { hostVethName } from '../../../src/modes/common/veth.js';
import { dataplaneFor } from '../../../src/modes/registry.js';
import type { Allocation } from '../../../src/modes/types.js';
import { PlanError } from '../../../src/netlink/executor.js';
import { HOST, type Op } from '../../../src/netlink/ops.js';
import { stableMac } from '../../../src/lib/veth-name.js';
import { shAsync } from '../../helpers/exec.js';
import { hostSnapshotOf } from '../../helpers/host-state.js';
import { hostAddress, ipJson, nsJson } from '../../helpers/ip.js';
import { testSubnet } from '../../helpers/names.js';
import { createNetns, type TestNetns } from '../../helpers/netns.js';
import { describePrivileged } from '../../helpers/privilege.js';
import { executor, node, ping, podSpec, probe, tag } from './harness.js';

const d = describePrivileged('privileged netlink tests (vpc)');
const { subnet3, ip } = testSubnet('10.200');

d('vpc plan on a real netns', () => {
  const ns = `hubt-${tag}`;
  const spec = podSpec(ns, 'vpc');
  const dp = dataplaneFor('vpc');
  const hostVeth = hostVethName(spec, node);
  const alloc: Allocation = { mode: 'vpc', ip: ip(5), subnet: `${subnet3}.0/24` as never, mtu: 1400 };
  const needles = [hostVeth, `${subnet3}.`];
  let netns: TestNetns | undefined;

  beforeAll(async () => {
    netns = createNetns(ns, { lo: 'down' }); // the plan must bring lo up itself
    await executor.apply(dataplaneFor('vpc').planNode({ vethPrefix: 'cali' }, {}));
  });
  afterAll(async () => {
    await shAsync('ip', 'link', 'del', hostVeth).catch(() => undefined);
    netns?.remove();
  });

  it('applies, is observable, passes traffic, is probed, and tears down to the previous state', async () => {
    const before = hostSnapshotOf(needles);
    const plan = dp.planSetup(spec, alloc, node).plan;
    const report = await executor.apply(plan);
    expect(report.applied).toBe(plan.length - 1); // the stale-veth delete found nothing

    const [link] = (await ipJson('link', 'show', 'dev', hostVeth)) as { mtu: number; address: string; flags: string[] }[];
    expect(link).toMatchObject({ mtu: 1400, address: stableMac(hostVeth, 'host') });
    expect(link?.flags).toContain('UP');
    expect(await ipJson('-4', 'addr', 'show', 'dev', hostVeth)).toEqual([]); // no address on the host veth
    expect(await ipJson('route', 'show', `${alloc.ip}/32`)).toEqual([{ dst: alloc.ip, dev: hostVeth, scope: 'link', flags: [] }]);
    expect((await readFile(`/proc/sys/net/ipv4/conf/${hostVeth}/rp_filter`, 'utf8')).trim()).toBe('0');
    expect((await readFile(`/proc/sys/net/ipv4/conf/${hostVeth}/forwarding`, 'utf8')).trim()).toBe('1');

    const podLinks = (await nsJson(ns, 'link', 'show')) as { ifname: string; mtu: number; address: string; flags: string[] }[];
    expect(podLinks.map((l) => l.ifname).sort()).toEqual(['eth0', 'lo']);
    expect(podLinks.find((l) => l.ifname === 'eth0')).toMatchObject({ mtu: 1400, address: stableMac(hostVeth, 'pod') });
    expect(podLinks.every((l) => l.flags.includes('UP'))).toBe(true);
    const podAddrs = (await nsJson(ns, '-4', 'addr', 'show', 'dev', 'eth0')) as { addr_info: { local: string; prefixlen: number }[] }[];
    expect(podAddrs[0]?.addr_info.map((a) => `${a.local}/${String(a.prefixlen)}`)).toEqual([`${alloc.ip}/32`]);
    expect(await nsJson(ns, 'neigh', 'show')).toEqual([{ dst: '169.254.1.1', dev: 'eth0', lladdr: stableMac(hostVeth, 'host'), state: ['PERMANENT'] }]);
    expect(await nsJson(ns, 'route', 'show')).toEqual([{ dst: 'default', gateway: '169.254.1.1', dev: 'eth0', flags: ['onlink'] }]);

    const target = hostAddress();
    if (target === undefined) console.warn('no global host address: skipping the ping');
    else expect(await ping(ns, target)).toMatch(/1 received/u);

    expect(await probe.missing(plan)).toEqual([]);
    await shAsync('ip', '-n', ns, 'neigh', 'del', '169.254.1.1', 'dev', 'eth0');
    expect(await probe.missing(plan)).toEqual([`neighbour 169.254.1.1 dev eth0 in netns ${spec.netns} is missing`]);

    // re-applying the same plan (a repeated ADD) succeeds and repairs
    await executor.apply(plan);
    expect(await probe.missing(plan)).toEqual([]);

    expect(await executor.teardown(dp.planTeardown(spec, alloc, node))).toEqual({ errors: [] });
    expect(hostSnapshotOf(needles)).toEqual(before);
    expect((await nsJson(ns, 'link', 'show')).map((l) => (l as { ifname: string }).ifname)).toEqual(['lo']);
    // tearing down twice is fine
    expect(await executor.teardown(dp.planTeardown(spec, alloc, node))).toEqual({ errors: [] });
  });

  it('rolls back completely when the 4th op fails', async () => {
    const before = hostSnapshotOf(needles);
    const setup = dp.planSetup(spec, alloc, node).plan;
    const bad: Op = { kind: 'link.up', ns: HOST, name: `hubnx${tag}` as never };
    const plan = [...setup.slice(0, 3), bad, ...setup.slice(3)];
    const err: unknown = await executor.apply(plan).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanError);
    // applied: the veth and its link.up before the failure, and the host /32 route after it in the same
    // `ip -force -batch` (the stale-veth delete was tolerated, not applied); all three are rolled back
    expect(err).toMatchObject({ failedIndex: 3, failedOp: bad, applied: 3, rollbackErrors: [] });
    expect((err as PlanError).stderr).toMatch(/Cannot find device/u);
    expect(hostSnapshotOf(needles)).toEqual(before);
    expect((await nsJson(ns, 'link', 'show')).map((l) => (l as { ifname: string }).ifname)).toEqual(['lo']);
  });

  it('teardown skips a pod netns that is gone', async () => {
    const gone = podSpec(`hubgone-${tag}`, 'gone');
    const res = await executor.teardown([{ kind: 'link.del', ns: { kind: 'pod', path: gone.netns }, name: 'eth0' as never }]);
    expect(res).toEqual({ errors: [] });
  });
});
