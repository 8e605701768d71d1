import { describe, expect, it } from '@jest/globals';
import { podLinkOverrides } from '../../../src/cni/prev-result.js';
import type { IfName, MacAddr, NetnsPath } from '../../../src/lib/brand.js';
import { HOST, podNs, type Op } from '../../../src/netlink/ops.js';

const NS = '/var/run/netns/p1' as NetnsPath;
const plan: Op[] = [
  { kind: 'link.veth', ns: HOST, host: { name: 'cali0' as IfName, mac: 'ee:00:00:00:00:01' as MacAddr }, peer: { name: 'eth0' as IfName, mac: 'ee:00:00:00:00:02' as MacAddr }, peerNs: podNs(NS), mtu: 1500 },
];
const prev = (iface: Record<string, unknown>) => ({ cniVersion: '1.0.0', interfaces: [{ name: 'cali0', mac: 'ee:00:00:00:00:01' }, { name: 'eth0', sandbox: NS, ...iface }] });

describe('podLinkOverrides', () => {
  it('reports only what differs from the plan (MAC case-folded, MTU)', () => {
    expect(podLinkOverrides(prev({ mac: 'ee:00:00:00:00:02' }), 'eth0', NS, plan)).toEqual([]);
    expect(podLinkOverrides(prev({ mac: '02:AA:BB:CC:DD:EE' }), 'eth0', NS, plan)).toEqual([{ ns: podNs(NS), name: 'eth0', mac: '02:aa:bb:cc:dd:ee' }]);
    expect(podLinkOverrides(prev({ mac: 'ee:00:00:00:00:02', mtu: 1400 }), 'eth0', NS, plan)).toEqual([{ ns: podNs(NS), name: 'eth0', mtu: 1400 }]);
  });
  it('ignores a prevResult without the pod interface (no sandbox, other name, none at all)', () => {
    expect(podLinkOverrides(undefined, 'eth0', NS, plan)).toEqual([]);
    expect(podLinkOverrides({ interfaces: [{ name: 'eth0', mac: '02:aa:bb:cc:dd:ee' }] }, 'eth0', NS, plan)).toEqual([]);
    expect(podLinkOverrides(prev({ mac: '02:aa:bb:cc:dd:ee' }), 'net1', NS, plan)).toEqual([]);
  });
});

describe('podLinkOverrides, ipvlan pod slave', () => {
  const ENI_MAC = '02:11:22:33:44:55' as MacAddr;
  const ipvlanPlan: Op[] = [{ kind: 'link.ipvlan', ns: HOST, parent: 'eth1' as IfName, name: 'eth0' as IfName, peerNs: podNs(NS), mode: 'l2', mtu: 1500, mac: ENI_MAC }];
  const prevIpvlan = (iface: Record<string, unknown>) => ({ cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: NS, ...iface }] });
  it('takes a later plugin\'s MTU; never a MAC (a slave always has its parent\'s, so CHECK keeps comparing with the ENI\'s)', () => {
    expect(podLinkOverrides(prevIpvlan({ mac: ENI_MAC, mtu: 1400 }), 'eth0', NS, ipvlanPlan)).toEqual([{ ns: podNs(NS), name: 'eth0', mtu: 1400 }]);
    expect(podLinkOverrides(prevIpvlan({ mac: '02:aa:bb:cc:dd:ee' }), 'eth0', NS, ipvlanPlan)).toEqual([]);
  });
  it('a host-side slave (the node plan\'s) is not a pod interface', () => {
    const hostSlave: Op[] = [{ ...ipvlanPlan[0], peerNs: HOST } as Op];
    expect(podLinkOverrides(prevIpvlan({ mtu: 1400 }), 'eth0', NS, hostSlave)).toEqual([]);
  });
});

describe('podLinkOverrides, exclusive ENI moved into the pod', () => {
  const ENI_MAC = '00:16:3e:0a:1b:2c' as MacAddr;
  const eniPlan: Op[] = [{ kind: 'link.move', ns: HOST, name: 'eth1' as IfName, to: podNs(NS), newName: 'eth0' as IfName, returnName: 'eth1' as IfName, mac: ENI_MAC, mtu: 1500 }];
  const prevEni = (iface: Record<string, unknown>) => ({ cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: NS, ...iface }] });
  it('takes a later plugin\'s MTU; never a MAC (the VPC drops frames from any other, so a changed one stays drift)', () => {
    expect(podLinkOverrides(prevEni({ mac: ENI_MAC, mtu: 1400 }), 'eth0', NS, eniPlan)).toEqual([{ ns: podNs(NS), name: 'eth0', mtu: 1400 }]);
    expect(podLinkOverrides(prevEni({ mac: '02:aa:bb:cc:dd:ee' }), 'eth0', NS, eniPlan)).toEqual([]);
  });
  it('a move out of a pod (a teardown\'s) is not a pod interface', () => {
    const out: Op[] = [{ kind: 'link.move', ns: podNs(NS), name: 'eth0' as IfName, to: HOST, newName: 'eth0' as IfName, returnName: 'eth0' as IfName, mtu: 1500 }];
    expect(podLinkOverrides(prevEni({ mtu: 1400 }), 'eth0', NS, out)).toEqual([]);
  });
});
