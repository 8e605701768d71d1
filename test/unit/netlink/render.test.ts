import type { Cidr, IfName, IpAddr, MacAddr, NetnsPath } from '../../../src/lib/brand.js';
import { InvalidInputError } from '../../../src/lib/errors.js';
import { HOST, podNs, sysctlKey, type Op } from '../../../src/netlink/ops.js';
import type { IpOp } from '../../../src/netlink/render.js';
import { batchCommand, describeOp, ipTokens, parseBatchFailures, planSteps, renderOp, sysctlPath } from '../../../src/netlink/render.js';

const nm = (s: string): IfName => s as IfName;
const mac = (s: string): MacAddr => s as MacAddr;
const P = podNs('/run/netns/p1' as NetnsPath);

describe('ipTokens', () => {
  it('renders link.veth with the peer created in the pod netns (absolute path)', () => {
    const op: Op = { kind: 'link.veth', ns: HOST, host: { name: nm('cali1'), mac: mac('ee:00:00:00:00:01') }, peer: { name: nm('eth0'), mac: mac('ee:00:00:00:00:02') }, peerNs: P, mtu: 1500 };
    expect(ipTokens(op).join(' ')).toBe(
      'link add cali1 mtu 1500 address ee:00:00:00:00:01 type veth peer name eth0 mtu 1500 address ee:00:00:00:00:02 netns /run/netns/p1',
    );
    expect(ipTokens({ ...op, peerNs: HOST }).join(' ')).not.toContain('netns');
    // the host is the executor's own netns (not init's: under the test runner or in a container they differ)
    expect(ipTokens({ ...op, ns: P, peerNs: HOST }).slice(-2)).toEqual(['netns', `/proc/${String(process.pid)}/ns/net`]);
  });
  it.each<[Op, string]>([
    [{ kind: 'link.up', ns: HOST, name: nm('cali1') }, 'link set dev cali1 up'],
    [{ kind: 'link.del', ns: HOST, name: nm('cali1') }, 'link del dev cali1'],
    [{ kind: 'addr.replace', ns: P, dev: nm('eth0'), cidr: '10.200.1.5/32' as Cidr }, 'addr replace 10.200.1.5/32 dev eth0'],
    [{ kind: 'route.replace', ns: P, dst: 'default', via: '169.254.1.1' as IpAddr, dev: nm('eth0'), onlink: true }, 'route replace default via 169.254.1.1 dev eth0 onlink'],
    [{ kind: 'route.replace', ns: HOST, dst: '10.200.1.5/32' as Cidr, dev: nm('cali1'), scope: 'link' }, 'route replace 10.200.1.5/32 dev cali1 scope link'],
    [{ kind: 'route.replace', ns: HOST, dst: 'default', via: '10.200.0.1' as IpAddr, dev: nm('eth1'), onlink: true, table: 1007, shared: true }, 'route replace default via 10.200.0.1 dev eth1 onlink table 1007'],
    [{ kind: 'route.del', ns: HOST, dst: '10.200.1.5/32' as Cidr, dev: nm('cali1'), table: 1007 }, 'route del 10.200.1.5/32 dev cali1 table 1007'],
    [{ kind: 'route.del', ns: HOST, dst: 'default' }, 'route del default'],
    [{ kind: 'rule.add', ns: HOST, to: '10.200.1.5/32' as Cidr, table: 'main', priority: 512 }, 'rule add to 10.200.1.5/32 lookup main priority 512'],
    [{ kind: 'rule.add', ns: HOST, from: '10.200.1.5/32' as Cidr, table: 1007, priority: 2048 }, 'rule add from 10.200.1.5/32 lookup 1007 priority 2048'],
    [{ kind: 'rule.del', ns: HOST, from: '10.200.1.5/32' as Cidr, priority: 2048 }, 'rule del from 10.200.1.5/32 priority 2048'],
    [{ kind: 'rule.del', ns: HOST, to: '10.200.1.5/32' as Cidr, table: 'main', priority: 512 }, 'rule del to 10.200.1.5/32 lookup main priority 512'],
    [{ kind: 'neigh.replace', ns: P, dev: nm('eth0'), ip: '169.254.1.1' as IpAddr, lladdr: mac('ee:00:00:00:00:01') }, 'neigh replace 169.254.1.1 lladdr ee:00:00:00:00:01 dev eth0 nud permanent'],
  ])('%j', (op, line) => {
    expect(ipTokens(op as IpOp).join(' ')).toBe(line);
  });
  it('rejects tokens with whitespace, quotes or comment marks, and bad numbers', () => {
    expect(() => ipTokens({ kind: 'link.up', ns: HOST, name: nm('a\nlink del eth0') })).toThrow(InvalidInputError);
    expect(() => ipTokens({ kind: 'link.up', ns: HOST, name: nm('a b') })).toThrow(InvalidInputError);
    expect(() => ipTokens({ kind: 'link.up', ns: HOST, name: nm('#x') })).toThrow(InvalidInputError);
    expect(() => ipTokens({ kind: 'link.up', ns: HOST, name: nm('') })).toThrow(InvalidInputError);
    expect(() => ipTokens({ kind: 'rule.add', ns: HOST, table: 1.5, priority: 1 })).toThrow(InvalidInputError);
    expect(() => batchCommand(podNs('/x y' as NetnsPath), [])).toThrow(InvalidInputError);
  });
});

describe('sysctl rendering', () => {
  it('maps keys to /proc/sys paths, a / in a level standing for a dot', () => {
    expect(sysctlPath('net.ipv4.ip_forward')).toBe('/proc/sys/net/ipv4/ip_forward');
    expect(sysctlPath(sysctlKey('net', 'ipv4', 'conf', 'eth0.5', 'rp_filter'))).toBe('/proc/sys/net/ipv4/conf/eth0.5/rp_filter');
    expect(renderOp({ kind: 'sysctl.set', ns: HOST, key: 'net.ipv4.conf.all.rp_filter', value: '0' })).toEqual({
      kind: 'sysctl',
      ns: HOST,
      path: '/proc/sys/net/ipv4/conf/all/rp_filter',
      value: '0',
    });
  });
  it('refuses traversal, empty levels and unsafe values (host or pod)', () => {
    expect(() => sysctlPath('net.ipv4.conf.//.x')).toThrow(InvalidInputError);
    expect(() => sysctlPath('net..x')).toThrow(InvalidInputError);
    expect(() => renderOp({ kind: 'sysctl.set', ns: HOST, key: 'net.ipv4.ip_forward', value: '1\n0' })).toThrow(InvalidInputError);
    expect(() => renderOp({ kind: 'sysctl.set', ns: P, key: 'net.ipv4.ip_forward', value: '1 0' })).toThrow(InvalidInputError);
    expect(() => renderOp({ kind: 'sysctl.set', ns: P, key: 'net.ipv4.conf.../x', value: '1' })).toThrow(InvalidInputError);
  });
});

describe('batchCommand', () => {
  const lines = [['link', 'set', 'dev', 'lo', 'up']];
  it('lets iproute2 open a /var/run/netns/NAME netns itself (one exec)', () => {
    expect(batchCommand(podNs('/var/run/netns/cni-1234' as never), lines)).toEqual({ file: 'ip', args: ['-n', 'cni-1234', '-force', '-batch', '-'], stdin: 'link set dev lo up\n' });
    expect(batchCommand(podNs('/var/run/netns/cni-1234' as never), lines, 'tc').args.slice(0, 2)).toEqual(['-n', 'cni-1234']);
  });
  it('enters any other netns path with nsenter', () => {
    for (const path of ['/run/netns/netns-1', '/proc/42/ns/net', '/var/run/netns/a/b']) {
      expect(batchCommand(podNs(path as never), lines)).toMatchObject({ file: 'nsenter', args: [`--net=${path}`, 'ip', '-force', '-batch', '-'] });
    }
  });
});

describe('planSteps', () => {
  it('groups consecutive ops by namespace; sysctls are separate steps', () => {
    const plan: Op[] = [
      { kind: 'link.del', ns: HOST, name: nm('cali1') },
      { kind: 'link.up', ns: HOST, name: nm('cali1') },
      { kind: 'sysctl.set', ns: HOST, key: 'net.ipv4.conf.cali1.rp_filter', value: '0' },
      { kind: 'link.up', ns: P, name: nm('lo') },
      { kind: 'link.up', ns: P, name: nm('eth0') },
      { kind: 'link.up', ns: HOST, name: nm('cali2') },
    ];
    const steps = planSteps(plan);
    expect(steps.map((s) => (s.kind !== 'sysctl' ? { file: s.command.file, args: s.command.args, stdin: s.command.stdin, idx: s.ops.map((o) => o.index) } : { sysctl: s.path, idx: [s.entry.index] }))).toEqual([
      { file: 'ip', args: ['-force', '-batch', '-'], stdin: 'link del dev cali1\nlink set dev cali1 up\n', idx: [0, 1] },
      { sysctl: '/proc/sys/net/ipv4/conf/cali1/rp_filter', idx: [2] },
      { file: 'nsenter', args: ['--net=/run/netns/p1', 'ip', '-force', '-batch', '-'], stdin: 'link set dev lo up\nlink set dev eth0 up\n', idx: [3, 4] },
      { file: 'ip', args: ['-force', '-batch', '-'], stdin: 'link set dev cali2 up\n', idx: [5] },
    ]);
  });
});

describe('parseBatchFailures', () => {
  it('maps each Command failed marker to the error text before it', () => {
    const stderr = 'Cannot find device "nosuch"\nCommand failed -:3\nRTNETLINK answers: File exists\nCommand failed -:5\nError: any valid prefix is expected rather than "x".\nextra line\nCommand failed -:7\n';
    expect([...parseBatchFailures(stderr)]).toEqual([
      [3, 'Cannot find device "nosuch"'],
      [5, 'RTNETLINK answers: File exists'],
      [7, 'Error: any valid prefix is expected rather than "x".\nextra line'],
    ]);
    expect(parseBatchFailures('').size).toBe(0);
  });
});

describe('describeOp', () => {
  it('says where pod ops run', () => {
    expect(describeOp({ kind: 'link.up', ns: P, name: nm('eth0') })).toBe('ip link set dev eth0 up (in netns /run/netns/p1)');
    expect(describeOp({ kind: 'sysctl.set', ns: HOST, key: 'net.ipv4.ip_forward', value: '1' })).toBe('sysctl net.ipv4.ip_forward=1');
  });
});
