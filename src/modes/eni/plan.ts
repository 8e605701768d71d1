/**
 * Exclusive ENI, Terway §2.4: the daemon hands the pod a dedicated ENI; the plugin moves the ENI's host link into
 * the pod netns and adds the side-car veth for the host stack (./side-car.ts).
 *  - the ENI: found by name and moved only when it has the ENI's MAC (the executor's guard,
 *    src/netlink/move-guard.ts), moved and renamed CNI_IFNAME with the pod's MTU in one step, up, `podIP/32` (as
 *    Terway: the pod is alone on its ENI, every destination goes through the gateway, and `podIP/32` on the
 *    side-car too cannot overlap a vSwitch prefix), `default via <vSwitch gw> dev eth0 onlink`;
 *  - bandwidth both ways on the moved link (../common/bandwidth.ts `pod-link`: egress tbf on it, ingress through an
 *    ifb in the pod netns) — Terway shaped egress only;
 *  - teardown: the ENI moved back to the host under its neutral name (./layout.ts; the kernel sets it down and
 *    drops its addresses and qdiscs), the side-car and the ifb removed.
 */
import type { Cidr, IfName } from '../../lib/brand.js';
import { hostCidr } from '../../lib/net.js';
import { HOST, podNs, type Op, type Plan } from '../../netlink/ops.js';
import { allocationFor } from '../allocation.js';
import { createdLinks, planShapingSetup, planShapingTeardown, podLinkTarget } from '../common/bandwidth.js';
import { claimVethModeLink, vethNodeSysctls } from '../common/veth-dataplane.js';
import {
  LINK_LOCAL_GW,
  type Allocation,
  type AttachmentResult,
  type Dataplane,
  type EniAllocation,
  type HostNames,
  type NodeFacts,
  type PodNetworkSpec,
  type ResultLink,
  type SetupOutcome,
} from '../types.js';
import { hasSideCar, neutralName, sideCarEnds } from './layout.js';
import { removeSideCar, sideCarDestinations, sideCarHost, sideCarPod, sideCarSysctls } from './side-car.js';

const MODE = 'eni';
const LOOPBACK = 'lo' as IfName;
const DEFAULT_ROUTE = '0.0.0.0/0' as Cidr;

/** The ENI's host link into the pod as CNI_IFNAME (a failed ADD moves it back under its host name). */
function moveIn(spec: PodNetworkSpec, alloc: EniAllocation): Op {
  return { kind: 'link.move', ns: HOST, name: alloc.eni.link, to: podNs(spec.netns), newName: spec.ifName, returnName: alloc.eni.link, mac: alloc.eni.mac, mtu: alloc.mtu };
}

function podSide(spec: PodNetworkSpec, alloc: EniAllocation): readonly Op[] {
  const ns = podNs(spec.netns);
  const dev = spec.ifName;
  return [
    { kind: 'link.up', ns, name: LOOPBACK },
    { kind: 'link.up', ns, name: dev },
    { kind: 'addr.replace', ns, dev, cidr: hostCidr(alloc.ip) },
    { kind: 'route.replace', ns, dst: 'default', via: alloc.eni.gateway, dev, onlink: true },
  ];
}

function result(spec: PodNetworkSpec, node: NodeFacts, alloc: EniAllocation, created: readonly ResultLink[]): AttachmentResult {
  const side = hasSideCar(spec) ? sideCarEnds(spec, node) : undefined;
  return {
    interfaces: [
      { name: spec.ifName, mac: alloc.eni.mac, sandbox: spec.netns, mtu: alloc.mtu },
      ...(side !== undefined
        ? [{ name: side.host.name, mac: side.host.mac }, { name: side.pod.name, mac: side.pod.mac, sandbox: spec.netns, mtu: alloc.mtu }]
        : []),
      ...created,
    ],
    ips: [{ interface: 0, address: hostCidr(alloc.ip), gateway: alloc.eni.gateway }],
    routes: [
      { dst: DEFAULT_ROUTE, gw: alloc.eni.gateway },
      ...(side !== undefined ? sideCarDestinations(alloc).map((dst) => ({ dst, gw: LINK_LOCAL_GW })) : []),
    ],
  };
}

/**
 * Ordered for three processes (four with shaping's tc): the host ip batch (the ENI moved in — the guard reads it
 * first —, the side-car pair, its /32), the pod ip batch (the ifb of ingress shaping, the ENI's address and default
 * route, the side-car's), the pod tc batch; then the host end's sysctls (file writes).
 */
function planSetup(spec: PodNetworkSpec, allocation: Allocation, node: NodeFacts): SetupOutcome {
  const alloc = allocationFor(allocation, MODE);
  const shaping = planShapingSetup(podLinkTarget(spec, alloc.mtu), alloc.bandwidth);
  const side = hasSideCar(spec);
  const plan: Plan = [
    moveIn(spec, alloc),
    ...(side ? sideCarHost(spec, node, alloc) : []),
    ...shaping.links,
    ...podSide(spec, alloc),
    ...(side ? sideCarPod(spec, node, alloc) : []),
    ...shaping.tc,
    ...(side ? sideCarSysctls(spec, node) : []),
  ];
  return { plan, result: result(spec, node, alloc, createdLinks(shaping.links)) };
}

/**
 * The ENI out under its neutral name (guarded by its MAC; already gone = moved). The kernel sets it down and drops
 * its addresses, routes and qdiscs on the way (dev_shutdown: the pod's tbf and ingress qdisc do not follow it; the
 * privileged test checks). Without the allocation the ENI stays where it is: its neutral name needs its MAC, and a
 * pod netns that goes away hands a physical link back to the host by itself (where the daemon finds it by MAC).
 */
function eniTeardown(spec: PodNetworkSpec, alloc: EniAllocation | undefined): readonly Op[] {
  if (alloc === undefined) return [];
  return [{ kind: 'link.move', ns: podNs(spec.netns), name: spec.ifName, to: HOST, newName: neutralName(alloc.eni.mac), returnName: spec.ifName, mac: alloc.eni.mac }];
}

function planTeardown(spec: PodNetworkSpec, allocation: Allocation | undefined, node: NodeFacts, hostNames: HostNames = 'owned'): Plan {
  const alloc = allocation === undefined ? undefined : allocationFor(allocation, MODE);
  return [
    ...eniTeardown(spec, alloc),
    ...(hasSideCar(spec) ? removeSideCar(spec, node, alloc, hostNames) : []),
    ...planShapingTeardown(podLinkTarget(spec, alloc?.mtu ?? 1500)),
  ];
}

/**
 * The daemon is down, the mode unknown: the side-car's pod end (`veth1`, no other mode's; the host end and its /32
 * die with it) and the pod-netns ifb (ipvlan's too), from inside the netns. The ENI is left in the netns: without the
 * allocation its MAC (hence its neutral name) is unknown, and moving the pod's `eth0` out blindly would carry
 * another mode's veth end to the host; the pod netns going away hands the ENI back to the host.
 */
function planOrphanTeardown(spec: PodNetworkSpec, node: NodeFacts): Plan {
  return [...(hasSideCar(spec) ? removeSideCar(spec, node, undefined, 'unknown') : []), ...planShapingTeardown(podLinkTarget(spec, 1500))];
}

export const eniDataplane: Dataplane = {
  mode: MODE,
  planSetup,
  planTeardown,
  planOrphanTeardown,
  // forwarding (service traffic DNATed elsewhere), no rp_filter for the side-cars' /32 routes
  planNode: () => vethNodeSysctls(),
  shapingTarget: (spec, _node, alloc) => podLinkTarget(spec, alloc.mtu),
  gc: {
    attachment: (spec, node, allocation) => {
      const alloc = allocationFor(allocation, MODE);
      if (!hasSideCar(spec)) return { links: [], routes: [], ruleIps: [] };
      const host = sideCarEnds(spec, node).host.name;
      return { links: [host], routes: [{ dst: hostCidr(alloc.ip), dev: host }], ruleIps: [] };
    },
    // the side-car's host end is a hub veth (name AND name-derived MAC); a neutral-named ENI is never claimed
    claimLink: claimVethModeLink,
    claimRule: () => undefined,
  },
};
