/**
 * VPC (route) mode, Terway §2.1: a veth per pod, pod IP /32 behind a static 169.254.1.1 neighbour, and a host
 * /32 route to the host veth, plus bandwidth shaping on the host side (../common/bandwidth.ts). Cross-node routing is
 * the VPC route table's job.
 */
import { shapedVethAttachment, shapedVethTeardown } from '../common/bandwidth.js';
import { hostVethName } from '../common/veth.js';
import type { Dataplane } from '../types.js';

export const vpcDataplane: Dataplane = {
  mode: 'vpc',
  hostIfName: hostVethName,
  planSetup: (spec, alloc, node) => shapedVethAttachment(spec, node, alloc),
  planTeardown: (spec, alloc, node, hostNames) => shapedVethTeardown(spec, node, alloc, hostNames),
};
