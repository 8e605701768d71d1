/**
 * The side-car veth of an exclusive-ENI pod (Terway §2.4): the pod reaches the host stack (kube-proxy's service
 * addresses, the node's IP, `host_stack_cidrs`) through it, everything else through its ENI.
 *  - pod `veth1`: `podIP/32` (the same address as the ENI), `169.254.1.1 dev veth1 scope link`, a PERMANENT
 *    neighbour `169.254.1.1 → host end's MAC`, and each service CIDR, `hostIP/32` and each host-stack CIDR
 *    `via 169.254.1.1 dev veth1 onlink`;
 *  - host end `<vethPrefix><11 hex>`: up, `podIP/32 dev <host end> scope link`, the veth modes' sysctls.
 */
import type { Cidr } from '../../lib/brand.js';
import { hostCidr } from '../../lib/net.js';
import { HOST, podNs, type Op } from '../../netlink/ops.js';
import { hostVethSysctls } from '../common/veth.js';
import { LINK_LOCAL_GW, type EniAllocation, type HostNames, type NodeFacts, type PodNetworkSpec } from '../types.js';
import { sideCarEnds } from './layout.js';

/** What goes through the side-car: service CIDRs, the host IP, host-stack CIDRs (in that order). */
export function sideCarDestinations(alloc: EniAllocation): readonly Cidr[] {
  return [...alloc.serviceCidrs, hostCidr(alloc.hostIp), ...alloc.hostStackCidrs];
}

/** Host ip batch: a stale host end of an earlier sandbox of the pod removed, the pair, the host end up, the /32. */
export function sideCarHost(spec: PodNetworkSpec, node: NodeFacts, alloc: EniAllocation): readonly Op[] {
  const { host, pod } = sideCarEnds(spec, node);
  return [
    { kind: 'link.del', ns: HOST, name: host.name },
    { kind: 'link.veth', ns: HOST, host, peer: pod, peerNs: podNs(spec.netns), mtu: alloc.mtu },
    { kind: 'link.up', ns: HOST, name: host.name },
    { kind: 'route.replace', ns: HOST, dst: hostCidr(alloc.ip), dev: host.name, scope: 'link' },
  ];
}

/** Pod ip batch: the pod end's address, its link-local gateway and the routes through it. */
export function sideCarPod(spec: PodNetworkSpec, node: NodeFacts, alloc: EniAllocation): readonly Op[] {
  const ns = podNs(spec.netns);
  const { host, pod } = sideCarEnds(spec, node);
  const dev = pod.name;
  return [
    { kind: 'link.up', ns, name: dev },
    { kind: 'addr.replace', ns, dev, cidr: hostCidr(alloc.ip) },
    { kind: 'route.replace', ns, dst: hostCidr(LINK_LOCAL_GW), dev, scope: 'link' },
    { kind: 'neigh.replace', ns, dev, ip: LINK_LOCAL_GW, lladdr: host.mac },
    ...sideCarDestinations(alloc).map((dst): Op => ({ kind: 'route.replace', ns, dst, via: LINK_LOCAL_GW, dev, onlink: true })),
  ];
}

/** Host sysctls of the host end (the veth modes': no rp_filter, forwarding, proxy ARP for 169.254.1.1). */
export function sideCarSysctls(spec: PodNetworkSpec, node: NodeFacts): readonly Op[] {
  return hostVethSysctls(spec, node);
}

/**
 * Removal (see HostNames): owned host names → the /32 route (when the IP is known) and the host end by name;
 * otherwise the pod end from inside the pod netns (the host end and its route die with it; a newer sandbox's
 * side-car of the same name is never touched).
 */
export function removeSideCar(spec: PodNetworkSpec, node: NodeFacts, alloc: EniAllocation | undefined, hostNames: HostNames): readonly Op[] {
  const { host, pod } = sideCarEnds(spec, node);
  if (hostNames !== 'owned') return [{ kind: 'link.del', ns: podNs(spec.netns), name: pod.name }];
  return [
    ...(alloc !== undefined ? [{ kind: 'route.del', ns: HOST, dst: hostCidr(alloc.ip), dev: host.name } satisfies Op] : []),
    { kind: 'link.del', ns: HOST, name: host.name },
  ];
}
