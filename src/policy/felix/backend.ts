/**
 * The felix backend: Calico Felix, policy-only, for the veth dataplanes (vpc, veth-policy-routing). Felix finds a
 * pod by its host veth `<vethPrefix><11 hex>` and programs iptables around it; it cannot police a pod without one.
 */
import { ConfigError } from '../../lib/errors.js';
import { felixResidue } from '../residue.js';
import { isVethMode, type PolicyBackend, type PolicyContext } from '../types.js';
import { inRange, parseRelease, rangeText, type MinorRange, type Release } from '../version.js';
import { felixParam, envValueProblem } from './params.js';
import { clusterInformation, felixConfiguration, felixFiles, felixProcess, felixSpecProblems } from './render.js';

/**
 * 3.24 is the first release with RouteSyncDisabled: older Felix programs routes to every workload and deletes
 * routes it did not make (RemoveExternalRoutes), fighting the hub's CNI (reference §D.6). 3.32 is the release the
 * hub's parameter table and the CRD in shared/schemas were taken from; a newer Felix may rename or re-type them.
 */
export const FELIX_SUPPORTED: MinorRange = { from: [3, 24], to: [3, 32] };

export const felixBackend: PolicyBackend = {
  name: 'felix',
  check(ctx) {
    const out: string[] = [];
    if (!isVethMode(ctx.mode)) {
      out.push(
        ctx.mode === 'ipvlan'
          ? 'policy.backend felix cannot enforce NetworkPolicy in ipvlan mode: ipvlan pods have no host-side veth for Felix to attach its rules to (Terway: "in IPVlan mode, Calico-based network policy does not work"); use policy.backend cilium with a terway-chainer build that chains on ipvlan, or none'
          : `policy.backend felix cannot enforce NetworkPolicy in ${ctx.mode} mode: the pod owns the whole ENI and the host has no veth for Felix to attach its rules to; use policy.backend none`,
      );
    }
    if (ctx.settings.felix.binary === undefined) out.push('policy.felix.binary is not set: the absolute path of calico-felix is required to run the felix backend');
    const release = felixRelease(ctx, out);
    const host = envValueProblem(felixParam('FelixHostname'), ctx.nodeName);
    if (host !== undefined) out.push(`the node name ${JSON.stringify(ctx.nodeName)} cannot be Felix's FelixHostname: ${host}`);
    if (release !== undefined) out.push(...felixSpecProblems(ctx, release));
    return out;
  },
  renderFiles: (ctx) => felixFiles(ctx, releaseOf(ctx)),
  process: (ctx) => felixProcess(ctx, releaseOf(ctx), binaryOf(ctx)),
  cniChainEntries: () => [],
  kubeObjects(ctx) {
    const fc = felixConfiguration(ctx, releaseOf(ctx));
    return fc === undefined ? [clusterInformation()] : [clusterInformation(), fc];
  },
  healthResponder: () => undefined,
  residue: () => [felixResidue()],
};

function felixRelease(ctx: PolicyContext, out: string[]): Release | undefined {
  const raw = ctx.settings.felix.version;
  const supported = `supported: Calico ${rangeText(FELIX_SUPPORTED)} (from 3.24 Felix can leave routes to the CNI with RouteSyncDisabled; 3.32 is the newest release whose parameters the hub checks)`;
  if (raw === undefined) {
    out.push(`policy.felix.version is not set; ${supported}`);
    return undefined;
  }
  const r = parseRelease(raw);
  if (r === undefined || !inRange(r, FELIX_SUPPORTED)) {
    out.push(`policy.felix.version ${JSON.stringify(raw)} is not supported; ${supported}`);
    return undefined;
  }
  return r;
}

/** The renderers run only after `check` passed; a context that skipped it is a ConfigError, not a crash. */
function releaseOf(ctx: PolicyContext): Release {
  const problems: string[] = [];
  const r = felixRelease(ctx, problems);
  if (r === undefined) throw new ConfigError('policy.felix.version', problems.join('; '));
  return r;
}

function binaryOf(ctx: PolicyContext): string {
  const b = ctx.settings.felix.binary;
  if (b === undefined) throw new ConfigError('policy.felix.binary', 'required to run the felix backend');
  return b;
}
