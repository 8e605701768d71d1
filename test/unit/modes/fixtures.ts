import type { IfName, IpAddr, NetnsPath, Cidr } from '../../../src/lib/brand.js';
import type { Allocation, NodeFacts, PodNetworkSpec } from '../../../src/modes/types.js';

export const spec: PodNetworkSpec = {
  pod: { namespace: 'default', name: 'nginx' },
  containerId: 'c0ffee',
  netns: '/var/run/netns/pod1' as NetnsPath,
  ifName: 'eth0' as IfName,
};
export const node: NodeFacts = { vethPrefix: 'cali' };
export const vpcAlloc: Allocation = { mode: 'vpc', ip: '10.200.1.5' as IpAddr, subnet: '10.200.1.0/24' as Cidr, mtu: 1500 };
export const vprAlloc: Allocation = {
  mode: 'veth-policy-routing',
  ip: '10.200.1.5' as IpAddr,
  subnet: '10.200.0.0/16' as Cidr,
  mtu: 1450,
  eni: { link: 'eth1' as IfName, ifindex: 7, gateway: '10.200.0.253' as IpAddr, table: 1007 },
};
