/**
 * ENI multi-IP with veth + policy routing, Terway §2.2: the VPC veth attachment plus, on the host, the ENI
 * table's default route and the rules `512: to IP/32 lookup main`, `2048: from IP/32 lookup 1000+ifindex`.
 */
import { InvalidInputError } from '../../lib/errors.js';
import type { Plan } from '../../netlink/ops.js';
import { eniTableDefaultRoute, podPolicyRules, removePodPolicyRules } from '../common/policy-rules.js';
import { shapedVethAttachment, shapedVethTeardown } from '../common/bandwidth.js';
import { hostVethName } from '../common/veth.js';
import type { Allocation, Dataplane, EniFacts, HostNames, NodeFacts, PodNetworkSpec } from '../types.js';

function eniOf(alloc: Allocation): EniFacts {
  if (alloc.eni === undefined) throw new InvalidInputError('allocation.eni', 'veth-policy-routing needs the ENI of the allocation');
  return alloc.eni;
}

function planSetup(spec: PodNetworkSpec, alloc: Allocation, node: NodeFacts): Plan {
  const eni = eniOf(alloc);
  return shapedVethAttachment(spec, node, alloc, [...eniTableDefaultRoute(eni), ...podPolicyRules(alloc.ip, eni)]);
}

function planTeardown(spec: PodNetworkSpec, alloc: Allocation | undefined, node: NodeFacts, hostNames?: HostNames): Plan {
  return [
    ...(alloc !== undefined ? removePodPolicyRules(alloc.ip, alloc.eni?.table, 'main') : []),
    ...shapedVethTeardown(spec, node, alloc, hostNames),
  ];
}

export const vethPolicyRoutingDataplane: Dataplane = {
  mode: 'veth-policy-routing',
  hostIfName: hostVethName,
  planSetup,
  planTeardown,
};
