/**
 * What the veth modes (vpc, veth-policy-routing) share beyond the plan fragments: the CNI result of a veth
 * attachment, the host-veth shaping target, the node plan's sysctls, the orphan cleanup and the GC footprint.
 */
import { isHubIfbName, ifbName } from '../../bandwidth/names.js';
import type { Cidr, IpAddr } from '../../lib/brand.js';
import { hostCidr } from '../../lib/net.js';
import { stableMac } from '../../lib/veth-name.js';
import { HOST, type Op, type Plan } from '../../netlink/ops.js';
import {
  LINK_LOCAL_GW,
  type Allocation,
  type AttachmentFootprint,
  type AttachmentResult,
  type HostLinkFacts,
  type LinkClaim,
  type NodeFacts,
  type PodNetworkSpec,
  type ResultLink,
} from '../types.js';
import { hostVethTarget, planShapingTeardown } from './bandwidth.js';
import { hostVethName, removeVeth, vethEnds } from './veth.js';

const DEFAULT_ROUTE = '0.0.0.0/0' as Cidr;

/**
 * Host veth (no sandbox), pod interface (sandbox = the pod netns, its MTU), then the links shaping created;
 * `podIP/32` via 169.254.1.1 on the pod interface, default route via 169.254.1.1.
 */
export function vethResult(spec: PodNetworkSpec, node: NodeFacts, alloc: Allocation, created: readonly ResultLink[]): AttachmentResult {
  const { host, pod } = vethEnds(spec, node);
  return {
    interfaces: [
      { name: host.name, mac: host.mac },
      { name: pod.name, mac: pod.mac, sandbox: spec.netns, mtu: alloc.mtu },
      ...created,
    ],
    ips: [{ interface: 1, address: hostCidr(alloc.ip), gateway: LINK_LOCAL_GW }],
    routes: [{ dst: DEFAULT_ROUTE, gw: LINK_LOCAL_GW }],
  };
}

/** Node sysctls every veth pod relies on: forwarding on; no reverse-path filtering for /32 pod routes. */
export function vethNodeSysctls(): Plan {
  const set = (key: string, value: string): Op => ({ kind: 'sysctl.set', ns: HOST, key, value });
  return [set('net.ipv4.ip_forward', '1'), set('net.ipv4.conf.all.rp_filter', '0'), set('net.ipv4.conf.default.rp_filter', '0')];
}

/**
 * The daemon-down cleanup of a veth attachment: its ifb and the pod end of the veth from inside the netns (the
 * host end and its route die with it). Host names of the pod are left alone (HostNames `unknown`).
 */
export function vethOrphanTeardown(spec: PodNetworkSpec, node: NodeFacts): Plan {
  return [...planShapingTeardown(hostVethTarget(spec, node, 1500)), ...removeVeth(spec, node, undefined, 'unknown')];
}

/** The host veth and the ifb of the attachment, and the pod's /32 route through the veth. */
export function vethFootprint(spec: PodNetworkSpec, node: NodeFacts, alloc: Allocation, ruleIps: readonly IpAddr[]): AttachmentFootprint {
  const veth = hostVethName(spec, node);
  return { links: [veth, ifbName(spec.containerId, spec.ifName)], routes: [{ dst: hostCidr(alloc.ip), dev: veth }], ruleIps };
}

/** Whether a link is one of the hub's host veths: prefix + 11 hex AND the MAC derived from that name. */
export function isHubVeth(link: HostLinkFacts, node: NodeFacts): boolean {
  const rest = link.name.slice(node.vethPrefix.length);
  return link.name.startsWith(node.vethPrefix) && /^[0-9a-f]{11}$/u.test(rest) && link.mac === stableMac(link.name, 'host');
}

/** A hub host veth or a hub ifb (bandwidth naming) is an attachment's. */
export function claimVethModeLink(link: HostLinkFacts, node: NodeFacts): LinkClaim | undefined {
  if (isHubVeth(link, node)) return { role: 'attachment', kind: 'veth' };
  if (isHubIfbName(link.name)) return { role: 'attachment', kind: 'ifb' };
  return undefined;
}
