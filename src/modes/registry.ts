/** Mode name → dataplane, plus plans that do not depend on a mode (orphan cleanup, node start-up sysctls). */
import type { IpAddr } from '../lib/brand.js';
import { HOST, type Op, type Plan } from '../netlink/ops.js';
import { eniTableDefaultRoute, removePodPolicyRules } from './common/policy-rules.js';
import { planShapingTeardown, hostVethTarget } from './common/bandwidth.js';
import { removeVeth } from './common/veth.js';
import type { Dataplane, EniFacts, ModeName, NodeFacts, PodNetworkSpec } from './types.js';
import { vethPolicyRoutingDataplane } from './veth-policy-routing/plan.js';
import { vpcDataplane } from './vpc/plan.js';

export function dataplaneFor(mode: ModeName): Dataplane {
  switch (mode) {
    case 'vpc':
      return vpcDataplane;
    case 'veth-policy-routing':
      return vethPolicyRoutingDataplane;
  }
}

/**
 * Cleanup when neither the mode nor the allocation is known (daemon unreachable): the 512/2048 rules of the IPs,
 * the attachment's ifb, and the pod end of the veth from inside the netns. Host objects named after the pod are
 * left alone: without the daemon nothing says whether a newer sandbox of the pod owns them (HostNames `unknown`).
 */
export function planOrphanTeardown(spec: PodNetworkSpec, node: NodeFacts, ips: readonly IpAddr[]): Plan {
  return [
    ...ips.flatMap((ip) => removePodPolicyRules(ip, undefined, undefined)),
    ...planShapingTeardown(hostVethTarget(spec, node, 1500)),
    ...removeVeth(spec, node, undefined, 'unknown'),
  ];
}

/**
 * What the daemon ensures on the node at start: sysctls (forwarding on; no reverse-path filtering for /32 pod
 * routes) and, for ENI-backed modes, the ENI's route table. Both are node state that outlives every pod.
 */
export function planNodeSetup(eni?: EniFacts): Plan {
  const set = (key: string, value: string): Op => ({ kind: 'sysctl.set', ns: HOST, key, value });
  return [
    set('net.ipv4.ip_forward', '1'),
    set('net.ipv4.conf.all.rp_filter', '0'),
    set('net.ipv4.conf.default.rp_filter', '0'),
    ...(eni !== undefined ? eniTableDefaultRoute(eni) : []),
  ];
}
