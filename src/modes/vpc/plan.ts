/**
 * VPC (route) mode, Terway §2.1: a veth per pod, pod IP /32 behind a static 169.254.1.1 neighbour, and a host
 * /32 route to the host veth, plus bandwidth shaping on the host side (../common/bandwidth.ts). Cross-node routing is
 * the VPC route table's job.
 */
import { hostVethTarget, shapedVethAttachment, shapedVethTeardown } from '../common/bandwidth.js';
import { claimVethModeLink, vethFootprint, vethNodeSysctls, vethOrphanTeardown, vethResult } from '../common/veth-dataplane.js';
import type { Dataplane } from '../types.js';

export const vpcDataplane: Dataplane = {
  mode: 'vpc',
  planSetup: (spec, alloc, node) => {
    const { plan, created } = shapedVethAttachment(spec, node, alloc);
    return { plan, result: vethResult(spec, node, alloc, created) };
  },
  planTeardown: (spec, alloc, node, hostNames) => shapedVethTeardown(spec, node, alloc, hostNames),
  planOrphanTeardown: (spec, node) => vethOrphanTeardown(spec, node),
  planNode: () => vethNodeSysctls(),
  shapingTarget: (spec, node, alloc) => hostVethTarget(spec, node, alloc.mtu),
  gc: {
    attachment: (spec, node, alloc) => vethFootprint(spec, node, alloc, []),
    claimLink: claimVethModeLink,
    claimRule: () => undefined,
  },
};
