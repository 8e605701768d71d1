import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cidr, IfName, IpAddr, MacAddr, NetnsPath } from '../../../src/lib/brand.js';
import { diffPlan, namespacesOf } from '../../../src/netlink/diff.js';
import { HOST, podNs, type Op } from '../../../src/netlink/ops.js';
import { nsKey } from '../../../src/netlink/render.js';
import { canonicalDst, parseAddrs, parseLinks, parseNeighs, parseRoutes, parseRules, type ObservedState } from '../../../src/netlink/state.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const load = (name: string): unknown => JSON.parse(readFileSync(join(dir, name), 'utf8')) as unknown;
const observed = (side: 'host' | 'pod'): ObservedState => ({
  links: parseLinks(load(`${side}-link.json`)),
  addrs: parseAddrs(load(`${side}-addr.json`)),
  routes: parseRoutes(load(`${side}-route.json`)),
  rules: parseRules(load(`${side}-rule.json`)),
  neighs: parseNeighs(load(`${side}-neigh.json`)),
});

const nm = (s: string): IfName => s as IfName;
const P = podNs('/var/run/netns/hubrec' as NetnsPath);
const HOST_MAC = 'ee:11:11:11:11:01' as MacAddr;
// The recorded state (fixtures/*.json) was built by exactly this veth-policy-routing plan.
const plan: Op[] = [
  { kind: 'link.del', ns: HOST, name: nm('hubrec0') },
  { kind: 'link.veth', ns: HOST, host: { name: nm('hubrec0'), mac: HOST_MAC }, peer: { name: nm('eth0'), mac: 'ee:11:11:11:11:02' as MacAddr }, peerNs: P, mtu: 1450 },
  { kind: 'sysctl.set', ns: HOST, key: 'net.ipv4.conf.hubrec0.rp_filter', value: '0' },
  { kind: 'link.up', ns: HOST, name: nm('hubrec0') },
  { kind: 'link.up', ns: P, name: nm('lo') },
  { kind: 'link.up', ns: P, name: nm('eth0') },
  { kind: 'addr.replace', ns: P, dev: nm('eth0'), cidr: '10.200.7.5/32' as Cidr },
  { kind: 'neigh.replace', ns: P, dev: nm('eth0'), ip: '169.254.1.1' as IpAddr, lladdr: HOST_MAC },
  { kind: 'route.replace', ns: P, dst: 'default', via: '169.254.1.1' as IpAddr, dev: nm('eth0'), onlink: true },
  { kind: 'route.replace', ns: HOST, dst: '10.200.7.5/32' as Cidr, dev: nm('hubrec0'), scope: 'link' },
  { kind: 'route.replace', ns: HOST, dst: 'default', via: '10.200.7.253' as IpAddr, dev: nm('hubrece'), onlink: true, table: 1099, shared: true },
  { kind: 'rule.add', ns: HOST, to: '10.200.7.5/32' as Cidr, table: 'main', priority: 512 },
  { kind: 'rule.add', ns: HOST, from: '10.200.7.5/32' as Cidr, table: 1099, priority: 2048 },
];

function states(host: ObservedState = observed('host'), pod: ObservedState | string = observed('pod')) {
  return new Map<string, ObservedState | string>([
    [nsKey(HOST), host],
    [nsKey(P), pod],
  ]);
}

describe('ip -j parsing (recorded output)', () => {
  it('normalises routes, rules, links and neighbours', () => {
    const host = observed('host');
    expect(host.routes).toContainEqual({ type: 'unicast', dst: '10.200.7.5/32', dev: 'hubrec0', table: 'main', scope: 'link', onlink: false });
    expect(host.routes).toContainEqual({ type: 'unicast', dst: 'default', dev: 'hubrece', gateway: '10.200.7.253', table: '1099', onlink: true });
    expect(host.rules).toContainEqual({ priority: 512, to: '10.200.7.5/32', table: 'main' });
    expect(host.rules).toContainEqual({ priority: 2048, from: '10.200.7.5/32', table: '1099' });
    expect(host.links).toContainEqual({ name: 'hubrec0', mtu: 1450, mac: 'ee:11:11:11:11:01', up: true, operstate: 'UP', noarp: false, ifindex: 8 });
    expect(host.links).toContainEqual(expect.objectContaining({ name: 'ifb0', noarp: true, up: false }));
    const pod = observed('pod');
    expect(pod.neighs).toEqual([{ ip: '169.254.1.1', dev: 'eth0', lladdr: 'ee:11:11:11:11:01', state: ['PERMANENT'] }]);
    expect(pod.addrs).toContainEqual({ dev: 'eth0', cidr: '10.200.7.5/32', scope: 'global' });
    expect(pod.addrs).toContainEqual({ dev: 'lo', cidr: '127.0.0.1/8', scope: 'host' });
  });
  it('ignores malformed input', () => {
    expect(parseLinks({})).toEqual([]);
    expect(parseRoutes([null, 3, { dev: 'x' }])).toEqual([]);
    expect(parseRules([{ priority: 'x' }])).toEqual([]);
  });
  it('canonicalDst', () => {
    expect(canonicalDst('10.0.0.1')).toBe('10.0.0.1/32');
    expect(canonicalDst('10.0.0.7/24')).toBe('10.0.0.0/24');
    expect(canonicalDst('default')).toBe('default');
  });
});

describe('diffPlan', () => {
  it('reports nothing when the recorded state matches the plan', () => {
    expect(diffPlan(plan, states())).toEqual([]);
    expect(namespacesOf(plan).map(nsKey)).toEqual(['host', 'pod:/var/run/netns/hubrec']);
  });

  it('reports a missing, non-permanent or wrong neighbour', () => {
    const pod = observed('pod');
    expect(diffPlan(plan, states(undefined, { ...pod, neighs: [] }))).toEqual(['neighbour 169.254.1.1 dev eth0 in netns /var/run/netns/hubrec is missing']);
    expect(diffPlan(plan, states(undefined, { ...pod, neighs: [{ ip: '169.254.1.1', dev: 'eth0', lladdr: 'ee:00:00:00:00:09', state: ['REACHABLE'] }] }))).toEqual([
      'neighbour 169.254.1.1 dev eth0 in netns /var/run/netns/hubrec is REACHABLE, want PERMANENT',
      'neighbour 169.254.1.1 dev eth0 in netns /var/run/netns/hubrec has lladdr ee:00:00:00:00:09, want ee:11:11:11:11:01',
    ]);
  });

  it('reports a missing/down/wrong-MTU link', () => {
    const host = observed('host');
    const other = host.links.filter((l) => l.name !== 'hubrec0');
    expect(diffPlan(plan, states({ ...host, links: other }))).toEqual(['link hubrec0 is missing']);
    const changed = host.links.map((l) => (l.name === 'hubrec0' ? { ...l, up: false, mtu: 1500 } : l));
    expect(diffPlan(plan, states({ ...host, links: changed }))).toEqual(['link hubrec0 has mtu 1500, want 1450', 'link hubrec0 is down']);
  });

  it('reports missing addresses, routes and rules, and routes with another gateway/device', () => {
    const host = observed('host');
    const pod = observed('pod');
    const problems = diffPlan(
      plan,
      states(
        {
          ...host,
          rules: host.rules.filter((r) => r.priority !== 512).map((r) => (r.priority === 2048 ? { ...r, table: '1098' } : r)),
          routes: host.routes.flatMap((r) => (r.dst === '10.200.7.5/32' ? [] : r.table === '1099' ? [{ ...r, gateway: '10.200.7.1' }] : [r])),
        },
        { ...pod, addrs: [], routes: pod.routes.map((r) => (r.dst === 'default' ? { ...r, dev: 'eth9' } : r)) },
      ),
    );
    expect(problems).toEqual([
      'address 10.200.7.5/32 on eth0 in netns /var/run/netns/hubrec is missing',
      'route default table main in netns /var/run/netns/hubrec is default via 169.254.1.1 dev eth9, want default via 169.254.1.1 dev eth0',
      'route 10.200.7.5/32 dev hubrec0 table main is missing',
      'route default table 1099 is default via 10.200.7.1 dev hubrece, want default via 10.200.7.253 dev hubrece',
      'rule 512: to 10.200.7.5/32 lookup main is missing',
      'rule 2048: from 10.200.7.5/32 lookup 1099 differs: found 2048: from 10.200.7.5/32 lookup 1098',
    ]);
  });

  it('reports an unobservable namespace once', () => {
    expect(diffPlan(plan, states(undefined, 'nsenter: cannot open /var/run/netns/hubrec: No such file or directory'))).toEqual([
      'netns /var/run/netns/hubrec cannot be observed: nsenter: cannot open /var/run/netns/hubrec: No such file or directory',
    ]);
  });
});

describe('diffPlan with prevResult overrides (a later plugin changed the pod link on purpose)', () => {
  const pod = observed('pod');
  const moved = { ...pod, links: pod.links.map((l) => (l.name === 'eth0' ? { ...l, mac: '02:42:00:00:00:0a', mtu: 1400 } : l)) };

  it('compares the pod link with the override, not the plan', () => {
    expect(diffPlan(plan, states(undefined, moved))).toEqual([
      'link eth0 in netns /var/run/netns/hubrec has mtu 1400, want 1450',
      'link eth0 in netns /var/run/netns/hubrec has address 02:42:00:00:00:0a, want ee:11:11:11:11:02',
    ]);
    expect(diffPlan(plan, states(undefined, moved), [{ ns: P, name: 'eth0', mac: '02:42:00:00:00:0a', mtu: 1400 }])).toEqual([]);
    // an override that does not match what is there is still drift
    expect(diffPlan(plan, states(undefined, moved), [{ ns: P, name: 'eth0', mac: '02:42:00:00:00:0b' }])).toEqual([
      'link eth0 in netns /var/run/netns/hubrec has mtu 1400, want 1450',
      'link eth0 in netns /var/run/netns/hubrec has address 02:42:00:00:00:0a, want 02:42:00:00:00:0b',
    ]);
  });

  it('after a MAC change accepts the gateway neighbour as learned (proxy ARP) or not yet resolved, never FAILED or wrong', () => {
    const o = [{ ns: P, name: 'eth0', mac: '02:42:00:00:00:0a', mtu: 1400 }];
    const withNeigh = (state: string[], lladdr?: string) => states(undefined, { ...moved, neighs: [{ ip: '169.254.1.1', dev: 'eth0', ...(lladdr !== undefined ? { lladdr } : {}), state }] });
    expect(diffPlan(plan, states(undefined, { ...moved, neighs: [] }), o)).toEqual([]);
    expect(diffPlan(plan, withNeigh(['REACHABLE'], HOST_MAC), o)).toEqual([]);
    expect(diffPlan(plan, withNeigh(['STALE'], HOST_MAC), o)).toEqual([]);
    expect(diffPlan(plan, withNeigh(['FAILED']), o)).toEqual([
      'neighbour 169.254.1.1 dev eth0 in netns /var/run/netns/hubrec is FAILED, want PERMANENT',
      'neighbour 169.254.1.1 dev eth0 in netns /var/run/netns/hubrec has lladdr none, want ee:11:11:11:11:01',
    ]);
    expect(diffPlan(plan, withNeigh(['REACHABLE'], 'ee:00:00:00:00:09'), o)).toEqual(['neighbour 169.254.1.1 dev eth0 in netns /var/run/netns/hubrec has lladdr ee:00:00:00:00:09, want ee:11:11:11:11:01']);
  });
});
