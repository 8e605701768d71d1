/**
 * ENI multi-IP with veth + policy routing, Terway §2.2: the VPC veth attachment plus, on the host, the ENI
 * table's default route and the rules `512: to IP/32 lookup main`, `2048: from IP/32 lookup 1000+ifindex`.
 */
import type { IpAddr } from '../../lib/brand.js';
import { InvalidInputError } from '../../lib/errors.js';
import type { Plan } from '../../netlink/ops.js';
import { allocationFor } from '../allocation.js';
import { claimPolicyRule, eniTableDefaultRoute, podPolicyRules, removePodPolicyRules } from '../common/policy-rules.js';
import { hostVethTarget, shapedVethAttachment, shapedVethTeardown } from '../common/bandwidth.js';
import { claimVethModeLink, vethFootprint, vethNodeSysctls, vethOrphanTeardown, vethResult } from '../common/veth-dataplane.js';
import type { Allocation, Dataplane, HostNames, NodeFacts, NodeLocalFacts, PodNetworkSpec, SetupOutcome } from '../types.js';

const MODE = 'veth-policy-routing';

function planSetup(spec: PodNetworkSpec, allocation: Allocation, node: NodeFacts): SetupOutcome {
  const alloc = allocationFor(allocation, MODE);
  const { plan, created } = shapedVethAttachment(spec, node, alloc, [...eniTableDefaultRoute(alloc.eni), ...podPolicyRules(alloc.ip, alloc.eni)]);
  return { plan, result: vethResult(spec, node, alloc, created) };
}

function planTeardown(spec: PodNetworkSpec, allocation: Allocation | undefined, node: NodeFacts, hostNames?: HostNames): Plan {
  const alloc = allocation === undefined ? undefined : allocationFor(allocation, MODE);
  return [
    ...(alloc !== undefined ? removePodPolicyRules(alloc.ip, alloc.eni.table, 'main') : []),
    ...shapedVethTeardown(spec, node, alloc, hostNames),
  ];
}

/** The rules of prevResult's IPs in any table (the ENI is unknown), then the veth attachment's own cleanup. */
function planOrphanTeardown(spec: PodNetworkSpec, node: NodeFacts, ips: readonly IpAddr[]): Plan {
  return [...ips.flatMap((ip) => removePodPolicyRules(ip, undefined, undefined)), ...vethOrphanTeardown(spec, node)];
}

/** Node sysctls and the ENI table's default route (node state every pod on the ENI shares). */
function planNode(_node: NodeFacts, local: NodeLocalFacts): Plan {
  if (local.eni === undefined) throw new InvalidInputError('eni', 'veth-policy-routing needs the ENI of the node');
  return [...vethNodeSysctls(), ...eniTableDefaultRoute(local.eni)];
}

export const vethPolicyRoutingDataplane: Dataplane = {
  mode: MODE,
  planSetup,
  planTeardown,
  planOrphanTeardown,
  planNode,
  shapingTarget: (spec, node, alloc) => hostVethTarget(spec, node, alloc.mtu),
  gc: {
    attachment: (spec, node, alloc) => vethFootprint(spec, node, alloc, [alloc.ip]),
    claimLink: claimVethModeLink,
    claimRule: claimPolicyRule,
  },
};
