/**
 * ENI multi-IP with ipvlan L2, Terway §2.3, its known bugs fixed:
 *  - pod: an ipvlan L2 slave of the ENI created directly in the pod netns as CNI_IFNAME (it shares the ENI's MAC),
 *    `podIP/<vSwitch prefix>`, `default via <vSwitch gw> onlink`, and `hostIP/32 scope link` + a PERMANENT neighbour
 *    `hostIP → the ENI's MAC` (Terway PR #207: a frame whose destination MAC is the slaves' own is delivered by the
 *    ipvlan driver to the slave holding the destination IP — the host slave);
 *  - host: `podIP/32 dev ipvl_<ifindex> scope link` (the host slave is node state: ./node.ts);
 *  - bandwidth both ways on the pod's own link (../common/bandwidth.ts `pod-link`: egress tbf on the slave, ingress
 *    through an ifb in the pod netns) — Terway shaped egress only and failed when only ingress was set.
 * Teardown removes exactly that: the /32 route (by IP and device), the slave and the ifb in the pod netns.
 */
import type { Cidr, IpAddr } from '../../lib/brand.js';
import { hostCidr, cidrParts } from '../../lib/net.js';
import type { IfName } from '../../lib/brand.js';
import { HOST, podNs, type Op, type Plan } from '../../netlink/ops.js';
import { allocationFor } from '../allocation.js';
import { createdLinks, planShapingSetup, planShapingTeardown, podLinkTarget } from '../common/bandwidth.js';
import type { AttachmentResult, Dataplane, IpvlanAllocation, NodeFacts, PodNetworkSpec, SetupOutcome, Allocation } from '../types.js';
import { hostSlaveName } from './layout.js';
import { claimHostSlave } from './gc.js';
import { planIpvlanNode } from './node.js';

const MODE = 'ipvlan';
const LOOPBACK = 'lo' as IfName;
const DEFAULT_ROUTE = '0.0.0.0/0' as Cidr;

/** The pod address with the vSwitch prefix (`192.168.0.10/24`). */
export function podAddress(alloc: IpvlanAllocation): Cidr {
  return `${alloc.ip}/${String(cidrParts(alloc.subnet).prefix)}` as Cidr;
}

/** `podIP/32 dev ipvl_<ifindex> scope link`: how the host reaches the pod. */
function hostRoute(alloc: IpvlanAllocation): Op {
  return { kind: 'route.replace', ns: HOST, dst: hostCidr(alloc.ip), dev: hostSlaveName(alloc.eni), scope: 'link' };
}

function podSide(spec: PodNetworkSpec, alloc: IpvlanAllocation): readonly Op[] {
  const ns = podNs(spec.netns);
  const dev = spec.ifName;
  return [
    { kind: 'link.up', ns, name: LOOPBACK },
    { kind: 'link.up', ns, name: dev },
    { kind: 'addr.replace', ns, dev, cidr: podAddress(alloc) },
    { kind: 'route.replace', ns, dst: 'default', via: alloc.eni.gateway, dev, onlink: true },
    { kind: 'route.replace', ns, dst: hostCidr(alloc.hostIp), dev, scope: 'link' },
    { kind: 'neigh.replace', ns, dev, ip: alloc.hostIp, lladdr: alloc.eniMac },
  ];
}

/**
 * Ordered for three processes (four with ingress shaping's tc): the host ip batch (the slave created into the pod,
 * the host route), the pod ip batch (the ifb of ingress shaping, addresses, routes, neighbour), the pod tc batch.
 */
function planSetup(spec: PodNetworkSpec, allocation: Allocation): SetupOutcome {
  const alloc = allocationFor(allocation, MODE);
  const shaping = planShapingSetup(podLinkTarget(spec, alloc.mtu), alloc.bandwidth);
  const plan: Plan = [
    { kind: 'link.ipvlan', ns: HOST, parent: alloc.eni.link, name: spec.ifName, peerNs: podNs(spec.netns), mode: 'l2', mtu: alloc.mtu, mac: alloc.eniMac },
    hostRoute(alloc),
    ...shaping.links,
    ...podSide(spec, alloc),
    ...shaping.tc,
  ];
  const result: AttachmentResult = {
    interfaces: [{ name: spec.ifName, mac: alloc.eniMac, sandbox: spec.netns, mtu: alloc.mtu }, ...createdLinks(shaping.links)],
    ips: [{ interface: 0, address: podAddress(alloc), gateway: alloc.eni.gateway }],
    routes: [{ dst: DEFAULT_ROUTE, gw: alloc.eni.gateway }],
  };
  return { plan, result };
}

/** The pod's slave and ifb, from inside the pod netns (skipped by the executor when the netns is gone). */
function podTeardown(spec: PodNetworkSpec, mtu: number): readonly Op[] {
  return [{ kind: 'link.del', ns: podNs(spec.netns), name: spec.ifName }, ...planShapingTeardown(podLinkTarget(spec, mtu))];
}

/**
 * Nothing on the host is named after the pod (the host slave is the node's), so `hostNames` changes nothing: the
 * /32 route of the attachment's IP through the host slave is its own in every case.
 */
function planTeardown(spec: PodNetworkSpec, allocation: Allocation | undefined): Plan {
  const alloc = allocation === undefined ? undefined : allocationFor(allocation, MODE);
  return [
    ...(alloc !== undefined ? [{ kind: 'route.del', ns: HOST, dst: hostCidr(alloc.ip), dev: hostSlaveName(alloc.eni) } satisfies Op] : []),
    ...podTeardown(spec, alloc?.mtu ?? 1500),
  ];
}

/**
 * The daemon is down, the mode unknown: prevResult's IPs' /32 routes in the main table (whatever the device: the
 * ENI's ifindex is unknown here; such a route belongs to the attachment being deleted, whose IP stays leased until
 * the daemon finishes the release, in the veth modes too, where the route dies with the veth anyway), the pod's
 * link and its pod-netns ifb from inside the netns (the veth modes delete the same pod link).
 */
function planOrphanTeardown(spec: PodNetworkSpec, _node: NodeFacts, ips: readonly IpAddr[]): Plan {
  return [...ips.map((ip): Op => ({ kind: 'route.del', ns: HOST, dst: hostCidr(ip), table: 254 })), ...podTeardown(spec, 1500)];
}

export const ipvlanDataplane: Dataplane = {
  mode: MODE,
  planSetup,
  planTeardown,
  planOrphanTeardown,
  planNode: (_node, local) => planIpvlanNode(local),
  shapingTarget: (spec, _node, alloc) => podLinkTarget(spec, alloc.mtu),
  gc: {
    attachment: (_spec, _node, allocation) => {
      const alloc = allocationFor(allocation, MODE);
      return { links: [], routes: [{ dst: hostCidr(alloc.ip), dev: hostSlaveName(alloc.eni) }], ruleIps: [] };
    },
    claimLink: claimHostSlave,
    claimRule: () => undefined,
  },
};
