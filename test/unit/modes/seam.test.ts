/** The Dataplane seam: what each registered mode supplies beyond its plans, and the allocation union's parser. */
import type { IfName, IpAddr } from '../../../src/lib/brand.js';
import { InvalidInputError } from '../../../src/lib/errors.js';
import { stableMac } from '../../../src/lib/veth-name.js';
import { ifbName } from '../../../src/bandwidth/names.js';
import { allocationFor, parseAllocation } from '../../../src/modes/allocation.js';
import { hostVethName } from '../../../src/modes/common/veth.js';
import { allDataplanes, dataplaneFor } from '../../../src/modes/registry.js';
import { MODE_NAMES } from '../../../src/modes/types.js';
import { HOST } from '../../../src/netlink/ops.js';
import { node, spec, vpcAlloc, vprAlloc } from './fixtures.js';

const H = hostVethName(spec, node);
const IFB = ifbName(spec.containerId, spec.ifName);

describe('registry', () => {
  it('registers one dataplane per mode name, under its own name', () => {
    expect(allDataplanes().map((d) => d.mode)).toEqual([...MODE_NAMES]);
    for (const m of MODE_NAMES) expect(dataplaneFor(m).mode).toBe(m);
  });
});

describe('planNode', () => {
  const eni = allocationFor(vprAlloc, 'veth-policy-routing').eni;
  const sysctls = dataplaneFor('vpc').planNode(node, {});
  it('vpc: the node sysctls only (an ENI, if the provider had one, is not its business)', () => {
    expect(dataplaneFor('vpc').planNode(node, { eni })).toEqual(sysctls);
  });
  it('veth-policy-routing: the sysctls and the ENI table\'s default route (shared node state)', () => {
    expect(dataplaneFor('veth-policy-routing').planNode(node, { eni })).toEqual([
      ...sysctls,
      { kind: 'route.replace', ns: HOST, dst: 'default', via: '10.200.0.253', dev: 'eth1', onlink: true, table: 1007, shared: true },
    ]);
    expect(() => dataplaneFor('veth-policy-routing').planNode(node, {})).toThrow(InvalidInputError);
  });
});

describe('shapingTarget', () => {
  it('the veth modes shape on the host veth, with the attachment\'s ifb and the allocation\'s MTU', () => {
    expect(dataplaneFor('vpc').shapingTarget(spec, node, vpcAlloc)).toEqual({ kind: 'host-veth', hostIf: H, ifb: IFB, mtu: 1500 });
    expect(dataplaneFor('veth-policy-routing').shapingTarget(spec, node, vprAlloc)).toEqual({ kind: 'host-veth', hostIf: H, ifb: IFB, mtu: 1450 });
  });
});

describe('GC footprint', () => {
  it('an attachment owns its host veth, its ifb, its /32 route; veth-policy-routing also its IP\'s rules', () => {
    expect(dataplaneFor('vpc').gc.attachment(spec, node, vpcAlloc)).toEqual({ links: [H, IFB], routes: [{ dst: '10.200.1.5/32', dev: H }], ruleIps: [] });
    expect(dataplaneFor('veth-policy-routing').gc.attachment(spec, node, vprAlloc)).toEqual({
      links: [H, IFB],
      routes: [{ dst: '10.200.1.5/32', dev: H }],
      ruleIps: ['10.200.1.5'],
    });
  });
  it('claims a host veth only with the name-derived MAC, and the hub\'s ifbs (the veth modes)', () => {
    for (const dp of allDataplanes().filter((d) => d.mode !== 'ipvlan')) {
      expect(dp.gc.claimLink({ name: H, mac: stableMac(H, 'host') }, node)).toEqual({ role: 'attachment', kind: 'veth' });
      expect(dp.gc.claimLink({ name: H, mac: 'ee:12:34:56:78:9a' }, node)).toBeUndefined(); // a foreign cali… veth
      expect(dp.gc.claimLink({ name: 'eth0', mac: stableMac('eth0', 'host') }, node)).toBeUndefined();
      expect(dp.gc.claimLink({ name: IFB, mac: '02:00:00:00:00:01' }, node)).toEqual({ role: 'attachment', kind: 'ifb' });
    }
  });
  it('veth-policy-routing claims its 512/2048 rules by their exact shape; vpc claims no rule', () => {
    const vpr = dataplaneFor('veth-policy-routing');
    const claim = (r: Parameters<typeof vpr.gc.claimRule>[0]): IpAddr | undefined => vpr.gc.claimRule(r);
    expect(claim({ priority: 512, to: '10.1.0.9/32', table: 'main' })).toBe('10.1.0.9');
    expect(claim({ priority: 2048, from: '10.1.0.9/32', table: '1003' })).toBe('10.1.0.9');
    expect(claim({ priority: 512, to: '10.1.0.0/24', table: 'main' })).toBeUndefined();
    expect(claim({ priority: 512, to: '10.1.0.9/32', table: '100' })).toBeUndefined();
    expect(claim({ priority: 2048, from: '10.1.0.9/32', to: '10.2.0.1/32', table: '1003' })).toBeUndefined();
    expect(claim({ priority: 2048, from: '10.1.0.9/32', table: 'main' })).toBeUndefined();
    expect(dataplaneFor('vpc').gc.claimRule({ priority: 512, to: '10.1.0.9/32', table: 'main' })).toBeUndefined();
  });
});

describe('planOrphanTeardown per mode', () => {
  it('vpc: the ifb and the pod end; veth-policy-routing also the rules of prevResult\'s IPs in any table', () => {
    const pod = { kind: 'pod', path: spec.netns };
    expect(dataplaneFor('vpc').planOrphanTeardown(spec, node, ['10.200.1.5' as IpAddr])).toEqual([
      { kind: 'link.del', ns: HOST, name: IFB },
      { kind: 'link.del', ns: pod, name: 'eth0' },
    ]);
    expect(dataplaneFor('veth-policy-routing').planOrphanTeardown(spec, node, ['10.200.1.5' as IpAddr]).slice(0, 2)).toEqual([
      { kind: 'rule.del', ns: HOST, to: '10.200.1.5/32', priority: 512 },
      { kind: 'rule.del', ns: HOST, from: '10.200.1.5/32', priority: 2048 },
    ]);
  });
});

describe('the allocation union', () => {
  const eni = { link: 'eth1', ifindex: 7, gateway: '10.200.0.253', table: 1007 };
  it('parses each mode\'s variant', () => {
    expect(parseAllocation({ mode: 'vpc', ip: '10.200.1.5', subnet: '10.200.1.0/24', mtu: 1500 })).toEqual(vpcAlloc);
    expect(parseAllocation({ mode: 'veth-policy-routing', ip: '10.200.1.5', subnet: '10.200.0.0/16', mtu: 1450, eni })).toEqual(vprAlloc);
  });
  it('veth-policy-routing requires its ENI, named; vpc drops one it does not use', () => {
    expect(() => parseAllocation({ mode: 'veth-policy-routing', ip: '10.200.1.5', subnet: '10.200.0.0/16', mtu: 1450 })).toThrow(/allocation\.eni.*required/u);
    expect(() => parseAllocation({ mode: 'veth-policy-routing', ip: '10.200.1.5', subnet: '10.200.0.0/16', mtu: 1450, eni: { ...eni, link: 'a b' } })).toThrow(
      /allocation\.eni\.link/u,
    );
    expect(parseAllocation({ mode: 'vpc', ip: '10.200.1.5', subnet: '10.200.1.0/24', mtu: 1500, eni })).toEqual(vpcAlloc);
  });
  it('names an unknown mode and a bad common field', () => {
    expect(() => parseAllocation({ mode: 'macvlan', ip: '10.200.1.5', subnet: '10.200.1.0/24', mtu: 1500 })).toThrow(/allocation\.mode.*unknown mode/u);
    expect(() => parseAllocation({ mode: 'vpc', ip: '10.200.1.500', subnet: '10.200.1.0/24', mtu: 1500 })).toThrow(/allocation\.ip/u);
    expect(() => parseAllocation({ mode: 'vpc', ip: '10.200.1.5', subnet: '10.200.1.0/24', mtu: 20 })).toThrow(/allocation\.mtu/u);
  });
  it('allocationFor narrows to the dataplane\'s mode or refuses', () => {
    expect(allocationFor(vprAlloc, 'veth-policy-routing').eni.link).toBe('eth1' as IfName);
    expect(() => allocationFor(vpcAlloc, 'veth-policy-routing')).toThrow(/a vpc allocation given to the veth-policy-routing dataplane/u);
  });
});
