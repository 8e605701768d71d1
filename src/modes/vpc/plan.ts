/**
 * VPC (route) mode, Terway §2.1: a veth per pod, pod IP /32 behind a static 169.254.1.1 neighbour, and a host
 * /32 route to the host veth. Cross-node routing is the VPC route table's job.
 */
import { hostVethName, removeHostVeth, vethAttachment } from '../common/veth.js';
import type { Dataplane } from '../types.js';

export const vpcDataplane: Dataplane = {
  mode: 'vpc',
  hostIfName: hostVethName,
  planSetup: (spec, alloc, node) => vethAttachment(spec, node, alloc.ip, alloc.mtu),
  planTeardown: (spec, alloc, node) => removeHostVeth(spec, node, alloc?.ip),
};
