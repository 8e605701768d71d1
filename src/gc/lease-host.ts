/**
 * What a lease owns on the host and the host-only teardown of it, through the lease's own dataplane (its GC
 * footprint and its teardown plan).
 */
import type { IfName, NetnsPath } from '../lib/brand.js';
import { podIdentity, type PodIdentity } from '../lib/veth-name.js';
import { dataplaneFor } from '../modes/registry.js';
import type { AttachmentFootprint, NodeFacts, PodNetworkSpec } from '../modes/types.js';
import { hostOnly, type Plan } from '../netlink/ops.js';
import { attachmentId, type Lease } from '../store/lease.js';

/** The plugin's identity rule (podIdentity): no pod name → namespace "" and the container id. */
export function leasePod(lease: Lease): PodIdentity {
  return podIdentity(lease.podNamespace, lease.podName, lease.containerId);
}

export function leaseSpec(lease: Lease): PodNetworkSpec {
  return { pod: leasePod(lease), containerId: lease.containerId, netns: lease.netns as NetnsPath, ifName: lease.ifName as IfName };
}

/** The host objects the lease's dataplane says the attachment owns. */
export function leaseFootprint(lease: Lease, node: NodeFacts): AttachmentFootprint {
  return dataplaneFor(lease.allocation.mode).gc.attachment(leaseSpec(lease), node, lease.allocation);
}

/** Host objects a set of leases explains. */
export interface Explained {
  /** Host links (veths, ifbs, …) of the leases' footprints. */
  readonly links: ReadonlySet<string>;
  /** Every leased IP, and every IP a footprint's rules are about. */
  readonly ips: ReadonlySet<string>;
  /** `ip|dev` pairs: the /32 routes of the footprints. */
  readonly routes: ReadonlySet<string>;
}

function ipOf32(cidr: string): string {
  return cidr.endsWith('/32') ? cidr.slice(0, -3) : cidr;
}

/** A host route's identity in `Explained.routes`: its address (a /32 as the bare IP) and its device. */
export function routeKey(dst: string, dev: string): string {
  return `${ipOf32(dst)}|${dev}`;
}

export function explainedBy(leases: readonly Lease[], node: NodeFacts): Explained {
  const links = new Set<string>();
  const ips = new Set<string>();
  const routes = new Set<string>();
  for (const l of leases) {
    const fp = leaseFootprint(l, node);
    for (const link of fp.links) links.add(link);
    ips.add(l.allocation.ip);
    for (const ip of fp.ruleIps) ips.add(ip);
    for (const r of fp.routes) routes.add(routeKey(r.dst, r.dev));
  }
  return { links, ips, routes };
}

/**
 * The host side of a lease's teardown: the mode's own plan (which removes the veth, its routes and rules, and the
 * bandwidth ifb), host ops only — the pod netns belongs to the runtime.
 */
export function leaseHostTeardown(lease: Lease, node: NodeFacts): Plan {
  return hostOnly(dataplaneFor(lease.allocation.mode).planTeardown(leaseSpec(lease), lease.allocation, node));
}

export { attachmentId };
