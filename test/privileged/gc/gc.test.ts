/**
 * GC on real host state: leases through the real service and store, pods wired by the real veth-policy-routing
 * planner + executor (a veth "ENI" into a vSwitch netns), then GC with a fake pod source. The host view GC gets is
 * the real `ip -j` state filtered to this test's own names and subnet (other suites run on this host meanwhile);
 * the foreign `cali*` veth IS in that view, so the MAC proof is what keeps it.
 */
import { rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { ifbName } from '../../../src/bandwidth/names.js';
import { createGarbageCollector, type GarbageCollector } from '../../../src/gc/collector.js';
import type { HostView } from '../../../src/gc/types.js';
import { HubService } from '../../../src/daemon/service.js';
import { LeaseStore } from '../../../src/store/store.js';
import type { CloudProvider } from '../../../src/cloud/types.js';
import { setFromCidr } from '../../../src/ipam/range.js';
import type { PodInfo } from '../../../src/k8s/types.js';
import { parseIfName, type Cidr, type IfName } from '../../../src/lib/brand.js';
import { silentLogger } from '../../../src/lib/log.js';
import { stableMac, vethName } from '../../../src/lib/veth-name.js';
import { dataplaneFor } from '../../../src/modes/registry.js';
import { ENI_TABLE_BASE, type EniFacts, type NodeFacts, type PodNetworkSpec } from '../../../src/modes/types.js';
import { createExecutor } from '../../../src/netlink/executor.js';
import { observeState } from '../../../src/netlink/observe.js';
import { HOST } from '../../../src/netlink/ops.js';
import { runner, shAsync } from '../../helpers/exec.js';
import { hostSnapshotOf, type OwnedHostState } from '../../helpers/host-state.js';
import { ipJson } from '../../helpers/ip.js';
import { rand, testSubnet } from '../../helpers/names.js';
import { createNetns, netnsPath, type TestNetns } from '../../helpers/netns.js';
import { describePrivileged } from '../../helpers/privilege.js';
import { tempDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

const d = describePrivileged('privileged GC tests');

const executor = createExecutor({ runner, log: silentLogger, writeSysctl: (p, v) => writeFile(p, v) });

const tag = rand(6);
const { subnet3, ip } = testSubnet('10.203');
const subnet = `${subnet3}.0/24` as Cidr;
const node: NodeFacts = { vethPrefix: 'cali' };
const podNamespace = `gc-${tag}`;

function pod(name: string): PodInfo {
  return { namespace: podNamespace, name, uid: name, nodeName: 'n', hostNetwork: false, annotations: {}, labels: {}, owners: [], resourceVersion: '1' };
}

d('GC on a real host', () => {
  const vsw = `gcv-${tag}`;
  const eniLink = parseIfName(`gce${tag}`);
  const stateDir = tempDir('hub-gc-');
  const netnsCreated: TestNetns[] = [];
  const linksCreated: string[] = [];
  const rulesAdded: string[][] = [];
  let eni: EniFacts;
  let store: LeaseStore;
  let service: HubService;
  let gc: GarbageCollector;
  const podCache = new Map<string, PodInfo>();
  const deletedPods = new Set<string>();

  /** Names this test owns: every veth name of its pods, its leak/foreign links, its ifbs, its ENI. */
  const ownNames = new Set<string>();
  const own = (name: string): string => (ownNames.add(name), name);

  const observeHost = async (): Promise<HostView> => {
    const s = await observeState(runner, HOST);
    const mine = (x: string | undefined): boolean => x !== undefined && (x.startsWith(`${subnet3}.`) || ownNames.has(x));
    return {
      links: s.links.filter((l) => ownNames.has(l.name)),
      routes: s.routes.filter((r) => r.table === 'main' && mine(r.dst.split('/')[0]) && r.dev !== undefined && ownNames.has(r.dev)),
      rules: s.rules.filter((r) => mine(r.from?.split('/')[0]) || mine(r.to?.split('/')[0])),
    };
  };

  /** Host links/routes/rules mentioning this test's names or subnet (the ENI table's shared default route left out). */
  const snapshot = (): OwnedHostState => {
    const s = hostSnapshotOf([...ownNames].filter((n) => n !== eniLink).concat([`${subnet3}.`]));
    return { ...s, route: s.route.filter((r) => r.table !== String(eni.table)) };
  };

  async function addPod(name: string): Promise<{ spec: PodNetworkSpec; containerId: string; ns: string }> {
    const ns = `gcp-${tag}-${name}`;
    netnsCreated.push(createNetns(ns, { lo: 'down' }));
    const containerId = `c-${tag}-${name}`;
    const spec: PodNetworkSpec = { pod: { namespace: podNamespace, name }, containerId, netns: netnsPath(ns), ifName: 'eth0' as IfName };
    own(vethName(node.vethPrefix, spec.pod));
    own(ifbName(containerId, 'eth0'));
    const { allocation } = await service.allocate({ containerId, ifName: 'eth0', netns: spec.netns, podNamespace, podName: name, infraContainerId: containerId });
    await executor.apply(dataplaneFor('veth-policy-routing').planSetup(spec, allocation, node).plan);
    podCache.set(name, pod(name));
    return { spec, containerId, ns };
  }

  beforeAll(async () => {
    netnsCreated.push(createNetns(vsw, { lo: 'down' }));
    await shAsync('ip', 'link', 'add', own(eniLink), 'type', 'veth', 'peer', 'name', 'vsw0', 'netns', netnsPath(vsw));
    linksCreated.push(eniLink);
    await shAsync('ip', 'link', 'set', eniLink, 'up');
    const [link] = (await ipJson('link', 'show', 'dev', eniLink)) as { ifindex: number }[];
    if (!link) throw new Error('ENI link missing');
    eni = { link: eniLink, ifindex: link.ifindex, gateway: ip(1), table: ENI_TABLE_BASE + link.ifindex };
    const provider: CloudProvider = {
      name: 'gc-test',
      mode: 'veth-policy-routing',
      localFacts: () => Promise.resolve({ eni }),
      verify: () => Promise.resolve(),
      ipSource: () => ({ subnet, addresses: setFromCidr(`${subnet3}.0/26` as Cidr) }),
    };
    store = LeaseStore.open(stateDir);
    service = new HubService({ store, provider, mtu: 1500 });
    gc = createGarbageCollector({
      leases: () => store.list(),
      release: (req) => service.release(req),
      pods: { get: (ns, name) => (ns === podNamespace ? podCache.get(name) : undefined) },
      confirmGone: (_ns, name) => Promise.resolve(deletedPods.has(name)),
      netnsExists: (p) => shAsync('test', '-e', p).then(() => true, () => false),
      observeHost,
      executor,
      log: silentLogger,
      node,
      leaseGraceMs: 0,
      orphanGraceMs: 0,
      podCidrs: () => [subnet],
    });
  });

  afterAll(async () => {
    for (const l of [...ownNames]) await shAsync('ip', 'link', 'del', l).catch(() => undefined);
    for (const r of rulesAdded) await shAsync('ip', 'rule', 'del', ...r).catch(() => undefined);
    for (const last of Array.from({ length: 64 }, (_, i) => i)) {
      for (const [sel, prio] of [['to', '512'], ['from', '2048']] as const) await shAsync('ip', 'rule', 'del', sel, `${ip(last)}/32`, 'priority', prio).catch(() => undefined);
    }
    for (const ns of netnsCreated) ns.remove();
    store.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('(a) pod kept while present; pod deleted → GC tears down and releases, host as before', async () => {
    const before = snapshot();
    const a = await addPod('a');
    const lease = store.get({ containerId: a.containerId, ifName: 'eth0' });
    expect(lease).toBeDefined();
    const podIp = lease?.allocation.ip ?? '';
    expect(await ipJson('rule', 'show')).toEqual(expect.arrayContaining([expect.objectContaining({ priority: 512, dst: podIp }), expect.objectContaining({ priority: 2048, src: podIp })]));

    const kept = await gc.runOnce();
    expect(kept.released).toEqual([]);
    expect(kept.hostOps).toBe(0);
    expect(store.get({ containerId: a.containerId, ifName: 'eth0' })).toBeDefined();

    podCache.delete('a'); // informer delete event
    deletedPods.add('a'); // the API says 404
    const r = await gc.runOnce();
    expect(r.errors).toEqual([]);
    expect(r.released).toEqual([{ containerId: a.containerId, ifName: 'eth0' }]);
    expect(r.counts).toMatchObject({ podGone: 1, released: 1 });
    expect(store.get({ containerId: a.containerId, ifName: 'eth0' })).toBeUndefined();
    expect(snapshot()).toEqual(before);
  });

  it('(b) netns deleted without DEL → GC removes the leftover rules and releases; the /32 route went with the link', async () => {
    const before = snapshot();
    const b = await addPod('b');
    const podIp = store.get({ containerId: b.containerId, ifName: 'eth0' })?.allocation.ip ?? '';
    const veth = vethName(node.vethPrefix, b.spec.pod);
    await shAsync('ip', 'netns', 'del', b.ns);
    // Kernel: the veth pair dies with the netns, and its /32 route with it; the policy rules stay.
    await waitFor(async () => (await ipJson('link', 'show')).every((l) => (l as { ifname: string }).ifname !== veth));
    expect(await ipJson('route', 'show', `${podIp}/32`)).toEqual([]);
    expect((await ipJson('rule', 'show')).filter((x) => JSON.stringify(x).includes(`"${podIp}"`))).toHaveLength(2);

    const r = await gc.runOnce(); // pod 'b' is still in the cache: the netns is what matters
    expect(r.errors).toEqual([]);
    expect(r.released).toEqual([{ containerId: b.containerId, ifName: 'eth0' }]);
    expect(r.counts).toMatchObject({ netnsGone: 1 });
    expect(store.count()).toBe(0);
    expect(snapshot()).toEqual(before);
  });

  it('(c) a leaked hub veth, its /32 route, rules and ifb without lease are removed; a foreign cali* veth is untouched', async () => {
    const before = snapshot();
    const leaked = own(vethName(node.vethPrefix, { namespace: podNamespace, name: 'leaked' }));
    const foreign = own(vethName(node.vethPrefix, { namespace: podNamespace, name: 'foreign' }));
    const leakedPeer = own(`gcl${tag}`);
    const foreignPeer = own(`gcf${tag}`);
    const ifb = own(ifbName(`leak-${tag}`, 'eth0'));
    const leakIp = ip(60);
    await shAsync('ip', 'link', 'add', leaked, 'address', stableMac(leaked, 'host'), 'type', 'veth', 'peer', 'name', leakedPeer);
    await shAsync('ip', 'link', 'add', foreign, 'address', 'ee:00:00:12:34:56', 'type', 'veth', 'peer', 'name', foreignPeer);
    await shAsync('ip', 'link', 'add', ifb, 'type', 'ifb');
    await shAsync('ip', 'link', 'set', leaked, 'up');
    await shAsync('ip', 'link', 'set', foreign, 'up');
    await shAsync('ip', 'route', 'replace', `${leakIp}/32`, 'dev', leaked, 'scope', 'link');
    await shAsync('ip', 'route', 'replace', `${ip(61)}/32`, 'dev', foreign, 'scope', 'link');
    rulesAdded.push(['to', `${leakIp}/32`, 'priority', '512'], ['from', `${leakIp}/32`, 'priority', '2048']);
    await shAsync('ip', 'rule', 'add', 'to', `${leakIp}/32`, 'lookup', 'main', 'priority', '512');
    await shAsync('ip', 'rule', 'add', 'from', `${leakIp}/32`, 'lookup', String(eni.table), 'priority', '2048');
    const foreignState = (await ipJson('link', 'show', 'dev', foreign))[0];

    const r = await gc.runOnce();
    expect(r.errors).toEqual([]);
    expect(r.released).toEqual([]);
    expect(r.counts).toMatchObject({ veths: 1, rules: 2, ifbs: 1, routes: 0 });
    const names = (await ipJson('link', 'show')).map((l) => (l as { ifname: string }).ifname);
    expect(names).not.toContain(leaked);
    expect(names).not.toContain(leakedPeer);
    expect(names).not.toContain(ifb);
    expect(names).toContain(foreign);
    expect((await ipJson('link', 'show', 'dev', foreign))[0]).toEqual(foreignState);
    expect(await ipJson('route', 'show', `${ip(61)}/32`)).toEqual([expect.objectContaining({ dev: foreign })]);
    expect(await ipJson('route', 'show', `${leakIp}/32`)).toEqual([]);
    expect((await ipJson('rule', 'show')).filter((x) => JSON.stringify(x).includes(`"${leakIp}"`))).toEqual([]);

    await shAsync('ip', 'link', 'del', foreign);
    expect(snapshot()).toEqual(before);
  });

  it('CNI GC verb: gcAttachments tears down and releases attachments not in the valid list', async () => {
    const before = snapshot();
    const keep = await addPod('keep');
    const drop = await addPod('drop');
    const dropVeth = vethName(node.vethPrefix, drop.spec.pod);
    const reply = await gc.gcAttachments([{ containerId: keep.containerId, ifName: 'eth0' }]);
    expect(reply).toEqual({ released: [{ containerId: drop.containerId, ifName: 'eth0' }], errors: [] });
    const names = (await ipJson('link', 'show')).map((l) => (l as { ifname: string }).ifname);
    expect(names).not.toContain(dropVeth);
    expect(names).toContain(vethName(node.vethPrefix, keep.spec.pod));
    // The kept pod's own DEL, as the plugin does it: teardown, then release.
    const keptLease = store.get({ containerId: keep.containerId, ifName: 'eth0' });
    expect(keptLease).toBeDefined();
    expect((await executor.teardown(dataplaneFor('veth-policy-routing').planTeardown(keep.spec, keptLease?.allocation, node))).errors).toEqual([]);
    await service.release({ containerId: keep.containerId, ifName: 'eth0', reason: 'test' });
    expect(snapshot()).toEqual(before);
  });
});
