/**
 * Exclusive ENI names (Terway §2.4): the neutral host name an ENI returns under, and the side-car veth's ends.
 */
import type { IfName, MacAddr } from '../../lib/brand.js';
import { stableMac } from '../../lib/veth-name.js';
import type { VethEnd } from '../../netlink/ops.js';
import type { NodeFacts, PodNetworkSpec } from '../types.js';
import { hostVethName } from '../common/veth.js';

/**
 * The host name of an ENI that belongs to no pod: `eni` + its MAC's 12 hex digits (15 bytes, the kernel's limit).
 * Deterministic (a second DEL, a GC, the daemon's pool all name it alike) and unique per ENI; the daemon finds it
 * by MAC anyway. Kernel names of physical links (`eth1`, `ens5`) never have this form.
 */
export function neutralName(mac: MacAddr): IfName {
  return `eni${mac.replaceAll(':', '').toLowerCase()}` as IfName;
}

/** The pod end of the side-car (Terway's name). */
export const SIDE_CAR_POD_END = 'veth1' as IfName;

/**
 * Whether the attachment gets the side-car: only the pod's `eth0` (Terway: the service path of a pod is its
 * primary interface's; a second network's ENI relies on it, and a second `veth1` could not exist).
 */
export function hasSideCar(spec: PodNetworkSpec): boolean {
  return spec.ifName === 'eth0';
}

/**
 * Both ends: the host end is named and addressed exactly as the veth modes' host veth (`<vethPrefix><11 hex>`, MACs
 * derived from that name), so Felix finds the pod by it and GC proves it is the hub's.
 */
export function sideCarEnds(spec: PodNetworkSpec, node: NodeFacts): { readonly host: VethEnd; readonly pod: VethEnd } {
  const name = hostVethName(spec, node);
  return { host: { name, mac: stableMac(name, 'host') }, pod: { name: SIDE_CAR_POD_END, mac: stableMac(name, 'pod') } };
}
