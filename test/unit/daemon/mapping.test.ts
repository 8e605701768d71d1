/**
 * The mapping comparison (src/daemon/mapping.ts) on the views the daemon gathers: a host view built from the
 * leases' own footprints (the dataplane's naming, not hard-coded), pools holding ENIs — each mismatch kind named.
 */
import { compareMapping } from '../../../src/daemon/mapping.js';
import { leaseFootprint } from '../../../src/gc/lease-host.js';
import type { HostView } from '../../../src/gc/types.js';
import { stableMac } from '../../../src/lib/veth-name.js';
import type { PoolEntryReply } from '../../../src/rpc/operator-protocol.js';
import { parseMappingReply } from '../../../src/rpc/operator-messages.js';
import type { Lease } from '../../../src/store/lease.js';

const node = { vethPrefix: 'cali' };

function lease(name: string, ip: string, containerId = `ctr-${name}`): Lease {
  return {
    containerId,
    ifName: 'eth0',
    podNamespace: 'default',
    podName: name,
    infraContainerId: containerId,
    netns: `/var/run/netns/${name}`,
    createdAt: '2026-01-01T00:00:00Z',
    allocation: { mode: 'veth-policy-routing', ip, subnet: '10.0.0.0/24', mtu: 1500, eni: { link: 'eth1', ifindex: 3, gateway: '10.0.0.1', table: 1003 } },
  } as Lease;
}

/** The kernel as the dataplane leaves it for `leases`: each route's link (a hub veth) and the route. */
function hostOf(leases: readonly Lease[]): HostView {
  const fps = leases.map((l) => leaseFootprint(l, node));
  const devs = [...new Set(fps.flatMap((f) => f.routes.map((r) => r.dev)))];
  return {
    links: devs.map((name) => ({ name, mtu: 1500, mac: stableMac(name, 'host'), up: true, operstate: 'UP' })),
    routes: fps.flatMap((f) => f.routes.map((r) => ({ type: 'unicast', dst: r.dst, dev: r.dev, table: 'main', onlink: false }))),
    rules: [],
  };
}

function pool(ips: readonly string[]): PoolEntryReply {
  return { key: 'local', stats: {}, enis: [{ id: 'eni-1', vSwitchId: 'vsw-1', ips, leased: [], idle: [], retiring: [], releasing: [], assigning: 0, busy: false, deleting: false }], creating: 0, inhibitedVSwitches: [] };
}

describe('compareMapping', () => {
  const a = lease('a', '10.0.0.10');
  const b = lease('b', '10.0.0.11');

  it('agrees when store, kernel and pool agree (and the reply parses back)', () => {
    const r = compareMapping({ leases: [a, b], host: hostOf([a, b]), pools: [pool(['10.0.0.10', '10.0.0.11'])], node });
    expect(r.mismatches).toEqual([]);
    expect(r.entries.map((e) => [e.pod, e.ip, e.eni, e.kernel])).toEqual([['default/a', '10.0.0.10', 'eni-1', true], ['default/b', '10.0.0.11', 'eni-1', true]]);
    expect(parseMappingReply(JSON.parse(JSON.stringify(r)))).toEqual(r);
  });

  it('names an IP leased but on no ENI', () => {
    const r = compareMapping({ leases: [a, b], host: hostOf([a, b]), pools: [pool(['10.0.0.10'])], node });
    expect(r.mismatches).toEqual([{ kind: 'ip-not-on-eni', detail: 'pod default/b leases 10.0.0.11, which is on no ENI of the pool' }]);
  });

  it('names an IP leased twice', () => {
    const twin = lease('c', '10.0.0.10');
    const r = compareMapping({ leases: [a, twin], host: hostOf([a, twin]), pools: [pool(['10.0.0.10'])], node });
    expect(r.mismatches.map((m) => m.kind)).toEqual(['ip-leased-twice']);
    expect(r.mismatches[0]?.detail).toContain('default/a');
    expect(r.mismatches[0]?.detail).toContain('default/c');
  });

  it('names a lease without its kernel state and a hub-veth route without a lease', () => {
    const host = hostOf([a, b]);
    const bRoute = host.routes.find((r) => r.dst === '10.0.0.11/32');
    const r = compareMapping({ leases: [a], host: { ...host, routes: host.routes.filter((x) => x.dst !== '10.0.0.10/32') }, pools: [pool(['10.0.0.10', '10.0.0.11'])], node });
    expect(r.mismatches.map((m) => m.kind).sort()).toEqual(['kernel-without-lease', 'lease-without-kernel']);
    expect(r.mismatches.find((m) => m.kind === 'kernel-without-lease')?.detail).toBe(`route 10.0.0.11/32 dev ${bRoute?.dev ?? '?'} (a hub veth) has no lease`);
  });

  it('says what it could not compare', () => {
    const r = compareMapping({ leases: [a], host: undefined, pools: [], node });
    expect(r.mismatches).toEqual([]);
    expect(r.notes).toHaveLength(2);
    expect(r.entries[0]?.kernel).toBe(false);
  });
});
