/** The end-of-run host check of `npm test` (scripts/host-check.ts): normalisation and diff on recorded-style rows. */
import { diffSnapshots, formatChanges, normalise, sysctlName, VOLATILE, type RawHostState } from '../../../scripts/host-check.js';

const eth0 = { ifindex: 4, ifname: 'eth0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1400, qdisc: 'pfifo_fast', operstate: 'UP', link_type: 'ether', address: '02:fc:00:00:00:01' };
const lo = { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], mtu: 65536, qdisc: 'noqueue', operstate: 'UNKNOWN', link_type: 'loopback', address: '00:00:00:00:00:00' };

function host(over: Partial<RawHostState> = {}): RawHostState {
  return {
    links: [lo, eth0],
    addresses: [
      { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host', valid_life_time: 4294967295, preferred_life_time: 4294967295 }] },
      {
        ifname: 'eth0',
        addr_info: [
          { family: 'inet', local: '192.0.2.2', prefixlen: 24, scope: 'global', valid_life_time: 86400, preferred_life_time: 86400 },
          { family: 'inet6', local: '2001:db8::1234', prefixlen: 64, scope: 'global', temporary: true, dynamic: true, valid_life_time: 600, preferred_life_time: 300 },
        ],
      },
    ],
    routes4: [{ dst: 'default', gateway: '192.0.2.1', dev: 'eth0', flags: [] }, { dst: '192.0.2.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '192.0.2.2', flags: [] }],
    routes6: [{ dst: 'default', gateway: 'fe80::1', dev: 'eth0', protocol: 'ra', metric: 1024, expires: 1790, flags: [], pref: 'medium' }],
    rules4: [{ priority: 0, src: 'all', table: 'local' }, { priority: 32766, src: 'all', table: 'main' }],
    rules6: [{ priority: 0, src: 'all', table: 'local' }],
    qdiscs: [{ kind: 'pfifo_fast', handle: '0:', dev: 'eth0', root: true, refcnt: 2, options: { bands: 3 } }],
    netns: [],
    sysctls: { 'net.ipv4.ip_forward': '0', 'net.ipv4.conf.eth0.rp_filter': '2', 'net.ipv4.tcp_fastopen_key': '00000000-00000000-00000000-00000000' },
    ...over,
  };
}

describe('host check', () => {
  it('spells sysctl names as sysctl(8) does (a dot inside a name becomes a slash)', () => {
    expect(sysctlName('ip_forward')).toBe('net.ipv4.ip_forward');
    expect(sysctlName('conf/eth0.100/rp_filter')).toBe('net.ipv4.conf.eth0/100.rp_filter');
  });

  it('sees no change in state that changes by itself: row order, lifetimes, temporary addresses, route expiry, refcnt, the TFO key', () => {
    const base = host();
    const drifted = host({
      links: [eth0, lo],
      addresses: [
        { ifname: 'eth0', addr_info: [{ family: 'inet', local: '192.0.2.2', prefixlen: 24, scope: 'global', valid_life_time: 80000, preferred_life_time: 80000 }, { family: 'inet6', local: '2001:db8::9999', prefixlen: 64, scope: 'global', temporary: true, valid_life_time: 600, preferred_life_time: 300 }] },
        { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host', valid_life_time: 4294967295, preferred_life_time: 4294967295 }] },
      ],
      routes6: [{ dst: 'default', gateway: 'fe80::1', dev: 'eth0', protocol: 'ra', metric: 1024, expires: 1500, flags: [], pref: 'medium' }],
      qdiscs: [{ kind: 'pfifo_fast', handle: '0:', dev: 'eth0', root: true, refcnt: 3, options: { bands: 3 } }],
      sysctls: { ...base.sysctls, 'net.ipv4.tcp_fastopen_key': '1a2b3c4d-00000000-00000000-00000000' },
    });
    expect(diffSnapshots(normalise(base), normalise(drifted))).toEqual([]);
    expect(VOLATILE.sysctls).toEqual(['net.ipv4.tcp_fastopen_key']);
  });

  it('reports a leaked link (with its sysctls), a changed sysctl, a route, a rule, a qdisc and a netns name', () => {
    const before = host();
    const leak = { ifindex: 9, ifname: 'hubleak0', flags: ['BROADCAST', 'MULTICAST'], mtu: 1500, qdisc: 'noop', operstate: 'DOWN', link_type: 'ether', address: 'ee:00:00:00:00:09' };
    const after = host({
      links: [lo, eth0, leak],
      routes4: [...before.routes4, { dst: '10.211.7.5', dev: 'hubleak0', scope: 'link', flags: [] }],
      rules4: [before.rules4[1] ?? {}, { priority: 512, src: 'all', dst: '10.211.7.5', table: 'main' }],
      qdiscs: [...before.qdiscs, { kind: 'tbf', handle: '1:', dev: 'eth0', parent: '1:1', refcnt: 1 }],
      netns: [{ name: 'hubp-abc-a', id: 0 }],
      sysctls: { ...before.sysctls, 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.hubleak0.rp_filter': '0' },
    });
    const changes = diffSnapshots(normalise(before), normalise(after));
    expect(changes.map((c) => `${c.section} ${c.kind} ${c.key}`)).toEqual([
      'links added hubleak0',
      'routes added v4 {"dst":"10.211.7.5","dev":"hubleak0","scope":"link","flags":[]}',
      'rules removed v4 {"priority":0,"src":"all","table":"local"}',
      'rules added v4 {"priority":512,"src":"all","dst":"10.211.7.5","table":"main"}',
      'qdiscs added eth0 1: 1:1',
      'netns added hubp-abc-a',
      'sysctls changed net.ipv4.ip_forward',
      'sysctls added net.ipv4.conf.hubleak0.rp_filter',
    ]);
    const text = formatChanges(changes);
    expect(text).toContain('  links: + hubleak0 = {"ifindex":9,"ifname":"hubleak0"');
    expect(text).toContain('  sysctls: ~ net.ipv4.ip_forward: 0 -> 1');
    expect(text).toContain('  rules: - v4 {"priority":0,"src":"all","table":"local"}');
    expect(text).toContain('  netns: + hubp-abc-a');
    expect(text).toContain('  sysctls: + net.ipv4.conf.hubleak0.rp_filter = 0');
  });

  it('prints a link\'s own sysctls as one line per group', () => {
    const before = host();
    const sysctls = { 'net.ipv4.conf.hubleak0.rp_filter': '0', 'net.ipv4.conf.hubleak0.forwarding': '1', 'net.ipv4.neigh.hubleak0.locktime': '100', 'net.ipv4.neigh.hubleak0.unres_qlen': '101' };
    const text = formatChanges(diffSnapshots(normalise(before), normalise(host({ sysctls: { ...before.sysctls, ...sysctls } }))));
    expect(text.split('\n')).toEqual(['  sysctls: + net.ipv4.conf.hubleak0.* (2 entries)', '  sysctls: + net.ipv4.neigh.hubleak0.* (2 entries)']);
  });

  it('reports a link whose state changed (here: an address moved and the MTU changed)', () => {
    const before = host();
    const after = host({ links: [lo, { ...eth0, mtu: 1500 }], addresses: [{ ifname: 'eth0', addr_info: [{ family: 'inet', local: '192.0.2.3', prefixlen: 24, scope: 'global' }] }] });
    expect(diffSnapshots(normalise(before), normalise(after)).map((c) => `${c.section} ${c.kind} ${c.key}`)).toEqual([
      'links changed eth0',
      'addresses removed eth0 192.0.2.2/24',
      'addresses removed lo 127.0.0.1/8',
      'addresses added eth0 192.0.2.3/24',
    ]);
  });
});
