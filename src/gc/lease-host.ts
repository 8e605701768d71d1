/** What a lease owns on the host (its veth, IP, ifb) and the host-only teardown of it, through the real planners. */
import { ifbName } from '../bandwidth/names.js';
import type { IfName, NetnsPath } from '../lib/brand.js';
import { podIdentity, type PodIdentity } from '../lib/veth-name.js';
import { dataplaneFor } from '../modes/registry.js';
import type { NodeFacts, PodNetworkSpec } from '../modes/types.js';
import { hostOnly, type Plan } from '../netlink/ops.js';
import { attachmentId, type Lease } from '../store/lease.js';

/** The plugin's identity rule (podIdentity): no pod name → namespace "" and the container id. */
export function leasePod(lease: Lease): PodIdentity {
  return podIdentity(lease.podNamespace, lease.podName, lease.containerId);
}

export function leaseSpec(lease: Lease): PodNetworkSpec {
  return { pod: leasePod(lease), containerId: lease.containerId, netns: lease.netns as NetnsPath, ifName: lease.ifName as IfName };
}

export function leaseVeth(lease: Lease, node: NodeFacts): IfName {
  return dataplaneFor(lease.allocation.mode).hostIfName(leaseSpec(lease), node);
}

export function leaseIfb(lease: Lease): IfName {
  return ifbName(lease.containerId, lease.ifName);
}

/** Host objects a set of leases explains. */
export interface Explained {
  readonly veths: ReadonlySet<string>;
  readonly ips: ReadonlySet<string>;
  readonly ifbs: ReadonlySet<string>;
  /** `ip|veth` pairs: the /32 route each lease's veth carries. */
  readonly routes: ReadonlySet<string>;
}

export function explainedBy(leases: readonly Lease[], node: NodeFacts): Explained {
  const veths = new Set<string>();
  const ips = new Set<string>();
  const ifbs = new Set<string>();
  const routes = new Set<string>();
  for (const l of leases) {
    const veth = leaseVeth(l, node);
    veths.add(veth);
    ips.add(l.allocation.ip);
    ifbs.add(leaseIfb(l));
    routes.add(`${l.allocation.ip}|${veth}`);
  }
  return { veths, ips, ifbs, routes };
}

/**
 * The host side of a lease's teardown: the mode's own plan (which removes the veth, its routes and rules, and the
 * bandwidth ifb), host ops only — the pod netns belongs to the runtime.
 */
export function leaseHostTeardown(lease: Lease, node: NodeFacts): Plan {
  return hostOnly(dataplaneFor(lease.allocation.mode).planTeardown(leaseSpec(lease), lease.allocation, node));
}

export { attachmentId };
