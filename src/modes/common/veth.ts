/**
 * Plan fragments shared by the veth modes (Terway VPC §2.1 and policy routing §2.2): the host veth, the pod side
 * (address, static neighbour for 169.254.1.1, default route onlink) and the host /32 route.
 */
import type { IfName, IpAddr } from '../../lib/brand.js';
import { hostCidr } from '../../lib/net.js';
import { stableMac, vethName } from '../../lib/veth-name.js';
import { HOST, podNs, sysctlKey, type Op, type VethEnd } from '../../netlink/ops.js';
import { LINK_LOCAL_GW, type HostNames, type NodeFacts, type PodNetworkSpec } from '../types.js';

const LOOPBACK = 'lo' as IfName;

export function hostVethName(spec: PodNetworkSpec, node: NodeFacts): IfName {
  return vethName(node.vethPrefix, spec.pod, spec.ifName);
}

/** Both ends; MACs are stable per host veth name, so a re-ADD rebuilds the same neighbour entry. */
export function vethEnds(spec: PodNetworkSpec, node: NodeFacts): { readonly host: VethEnd; readonly pod: VethEnd } {
  const name = hostVethName(spec, node);
  return { host: { name, mac: stableMac(name, 'host') }, pod: { name: spec.ifName, mac: stableMac(name, 'pod') } };
}

/** A stale host veth of a previous sandbox of the same pod (same name) is removed first. */
export function removeStaleHostVeth(spec: PodNetworkSpec, node: NodeFacts): readonly Op[] {
  return [{ kind: 'link.del', ns: HOST, name: hostVethName(spec, node) }];
}

/** The veth pair, the pod end created directly in the pod netns; host end up. */
export function createHostVeth(spec: PodNetworkSpec, node: NodeFacts, mtu: number): readonly Op[] {
  const { host, pod } = vethEnds(spec, node);
  return [
    { kind: 'link.veth', ns: HOST, host, peer: pod, peerNs: podNs(spec.netns), mtu },
    { kind: 'link.up', ns: HOST, name: host.name },
  ];
}

/** Host-side sysctls of the new veth: no reverse-path filtering (/32 routes), forwarding on, proxy ARP. */
export function hostVethSysctls(spec: PodNetworkSpec, node: NodeFacts): readonly Op[] {
  const name = hostVethName(spec, node);
  return [
    { kind: 'sysctl.set', ns: HOST, key: sysctlKey('net', 'ipv4', 'conf', name, 'rp_filter'), value: '0' },
    { kind: 'sysctl.set', ns: HOST, key: sysctlKey('net', 'ipv4', 'conf', name, 'forwarding'), value: '1' },
    // Calico's layout: the host veth answers ARP for 169.254.1.1 (proxy ARP, at once), so a pod whose neighbour
    // table was flushed — its MAC changed by tuning, `podman --mac-address` or a network reload — re-resolves its
    // gateway instead of losing it. Needs a route to 169.254.1.1 through another device (any default route).
    { kind: 'sysctl.set', ns: HOST, key: sysctlKey('net', 'ipv4', 'conf', name, 'proxy_arp'), value: '1' },
    { kind: 'sysctl.set', ns: HOST, key: sysctlKey('net', 'ipv4', 'neigh', name, 'proxy_delay'), value: '0' },
  ];
}

/** Inside the pod: lo and the pod link up, the pod IP as a /32. */
export function podInterface(spec: PodNetworkSpec, ip: IpAddr): readonly Op[] {
  const ns = podNs(spec.netns);
  return [
    { kind: 'link.up', ns, name: LOOPBACK },
    { kind: 'link.up', ns, name: spec.ifName },
    { kind: 'addr.replace', ns, dev: spec.ifName, cidr: hostCidr(ip) },
  ];
}

/** Inside the pod: PERMANENT neighbour 169.254.1.1 → host veth MAC, and `default via 169.254.1.1 onlink`. */
export function podDefaultGateway(spec: PodNetworkSpec, node: NodeFacts): readonly Op[] {
  const ns = podNs(spec.netns);
  return [
    { kind: 'neigh.replace', ns, dev: spec.ifName, ip: LINK_LOCAL_GW, lladdr: vethEnds(spec, node).host.mac },
    { kind: 'route.replace', ns, dst: 'default', via: LINK_LOCAL_GW, dev: spec.ifName, onlink: true },
  ];
}

/** On the host: `podIP/32 dev <host veth> scope link`. */
export function hostRouteToPod(spec: PodNetworkSpec, node: NodeFacts, ip: IpAddr): readonly Op[] {
  return [{ kind: 'route.replace', ns: HOST, dst: hostCidr(ip), dev: hostVethName(spec, node), scope: 'link' }];
}

/**
 * The complete veth attachment common to the veth modes, ordered so the executor needs two processes (three with
 * bandwidth shaping): every host ip op first (one `ip -batch`, with the mode's own host ops in `hostExtras`), then
 * every pod op (one `nsenter ip -batch`), then the host tc ops `hostTc` (one `tc -batch`), then the sysctl writes
 * (no process).
 */
export function vethAttachment(
  spec: PodNetworkSpec,
  node: NodeFacts,
  ip: IpAddr,
  mtu: number,
  hostExtras: readonly Op[] = [],
  hostTc: readonly Op[] = [],
): readonly Op[] {
  return [
    ...removeStaleHostVeth(spec, node),
    ...createHostVeth(spec, node, mtu),
    ...hostRouteToPod(spec, node, ip),
    ...hostExtras,
    ...podInterface(spec, ip),
    ...podDefaultGateway(spec, node),
    ...hostTc,
    ...hostVethSysctls(spec, node),
  ];
}

/**
 * Teardown of the veth (see HostNames). Owned host names: the /32 route (when the IP is known), then the host veth
 * (its peer dies with it). Otherwise the pod end, from inside the pod netns (the host end and its route die with
 * it; nothing named after the pod is touched on the host).
 */
export function removeVeth(spec: PodNetworkSpec, node: NodeFacts, ip: IpAddr | undefined, hostNames: HostNames = 'owned'): readonly Op[] {
  if (hostNames !== 'owned') return [{ kind: 'link.del', ns: podNs(spec.netns), name: spec.ifName }];
  const name = hostVethName(spec, node);
  return [
    ...(ip !== undefined ? [{ kind: 'route.del', ns: HOST, dst: hostCidr(ip), dev: name } satisfies Op] : []),
    { kind: 'link.del', ns: HOST, name },
  ];
}
