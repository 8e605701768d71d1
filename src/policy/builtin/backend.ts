/**
 * The builtin backend: NetworkPolicy compiled to nftables by the hub itself (./compile.ts) and applied by the daemon
 * (src/daemon/policy/enforcer.ts) — no process, no CNI chain entry, no Kubernetes object. It runs in every mode: in
 * the veth modes one host table keyed by the pods' host veths, in ipvlan and eni a table inside each pod's netns.
 * Like `none`, the daemon answers the probe port itself so a DaemonSet written for Felix or Cilium stays green.
 */
import { selfHealthResponder } from '../none/backend.js';
import { builtinResidue } from '../residue.js';
import type { PolicyBackend } from '../types.js';

export const builtinBackend: PolicyBackend = {
  name: 'builtin',
  check: (ctx) => (ctx.node.nftablesProblem === undefined ? [] : [`nftables is not usable on this node: ${ctx.node.nftablesProblem}`]),
  renderFiles: () => [],
  process: () => undefined,
  cniChainEntries: () => [],
  kubeObjects: () => [],
  healthResponder: selfHealthResponder,
  residue: () => [builtinResidue()],
};
