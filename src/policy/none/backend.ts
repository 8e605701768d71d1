/**
 * The none backend: NetworkPolicy is not enforced on this node (Terway's `disable_network_policy`, or nothing fits
 * the mode). No process; the other backends' residue is cleaned so none of their old rules keeps dropping traffic;
 * the daemon answers the probe port itself so a DaemonSet whose probes were written for Felix or Cilium stays green
 * (Terway runs a small TCP health server on 127.0.0.1:$FELIX_HEALTHPORT for the same reason).
 */
import { builtinResidue, ciliumResidue, felixResidue } from '../residue.js';
import type { HealthResponder, PolicyBackend, PolicyContext } from '../types.js';

/** The daemon's own answer on Felix's health port (no policy process to probe): shared with the builtin backend. */
export function selfHealthResponder(ctx: PolicyContext): HealthResponder {
  return { host: '127.0.0.1', port: ctx.settings.felix.healthPort, paths: ['/liveness', '/readiness', '/healthz'], body: 'OK\n' };
}

export const noneBackend: PolicyBackend = {
  name: 'none',
  check: () => [],
  renderFiles: () => [],
  process: () => undefined,
  cniChainEntries: () => [],
  kubeObjects: () => [],
  healthResponder: selfHealthResponder,
  residue: (ctx) => [felixResidue(), ciliumResidue(ctx.vethPrefix, ctx.settings.cilium.cniBinary), builtinResidue()],
};
