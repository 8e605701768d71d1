/**
 * What the node's NetworkPolicy backend is under one effective config: the choice (src/policy/choose.ts), the
 * backend's refusals, and everything the daemon then acts on — files, process, CNI chain entries, Kubernetes
 * objects, health responder, and the residue of the backends that must not keep rules on the node. Pure: the
 * daemon's PolicyController (src/daemon/policy) does the I/O. A refusal is a ConfigError (field `policy.backend`),
 * so the config that asked for it is rejected as a whole and the last good one stays in force.
 */
import { ConfigError } from '../lib/errors.js';
import type { PolicyConfig } from '../config/policy-config.js';
import type { ProcessSpec, RenderedFile } from './process-spec.js';
import { chooseBackend } from './choose.js';
import { policyBackend, policyBackendNames } from './registry.js';
import type { HealthResponder, KubeAccess, KubeObject, PolicyBackendName, PolicyContext, PolicyMode, PolicyNodeFacts, Residue } from './types.js';

/** The facts of one effective config the policy decision depends on. */
export interface PolicyInput {
  readonly mode: PolicyMode;
  readonly policy: PolicyConfig;
  /** Terway's `disable_network_policy` (eni-config); false without a cluster config. */
  readonly disableNetworkPolicy: boolean;
  readonly nodeName: string;
  readonly vethPrefix: string;
  readonly networkName: string;
  readonly serviceCidrs: readonly string[];
  readonly hostStackCidrs: readonly string[];
  /** `<stateDir>/policy`. */
  readonly runDir: string;
  readonly kube: KubeAccess;
  readonly node: PolicyNodeFacts;
}

export interface PolicyDecision {
  readonly backend: PolicyBackendName;
  readonly why: string;
  readonly warnings: readonly string[];
  readonly context: PolicyContext;
  readonly files: readonly RenderedFile[];
  readonly process: ProcessSpec | undefined;
  /** Appended to the hub's conflist once the backend is ready (and removed after a long outage). */
  readonly chainEntries: readonly Readonly<Record<string, unknown>>[];
  readonly kubeObjects: readonly KubeObject[];
  readonly responder: HealthResponder | undefined;
  /**
   * What every OTHER backend leaves on a node (rules, sets, links, files): cleaned before the chosen one starts, so
   * no earlier backend's rules keep dropping traffic (after a swap, or from a run before the daemon's restart).
   */
  readonly cleanup: readonly Residue[];
  /** Identity of what would run: equal fingerprints mean nothing to restart. */
  readonly fingerprint: string;
}

export function policyContextOf(i: PolicyInput): PolicyContext {
  return {
    mode: i.mode,
    nodeName: i.nodeName,
    vethPrefix: i.vethPrefix,
    networkName: i.networkName,
    serviceCidrs: i.serviceCidrs,
    hostStackCidrs: i.hostStackCidrs,
    ipStack: 'ipv4',
    runDir: i.runDir,
    kube: i.kube,
    node: i.node,
    settings: { felix: i.policy.felix, cilium: i.policy.cilium },
  };
}

/** The decision for `input`, or a ConfigError (`policy.backend`) listing every reason the chosen backend cannot run. */
export function resolvePolicy(input: PolicyInput): PolicyDecision {
  const context = policyContextOf(input);
  const choice = chooseBackend(input.policy.backend, input.mode, context.settings, input.disableNetworkPolicy, context.node.nftablesProblem);
  const backend = policyBackend(choice.name);
  const problems = backend.check(context);
  if (problems.length > 0) {
    throw new ConfigError('policy.backend', `${choice.name} refused in ${input.mode} mode (${choice.why}): ${problems.join('; ')}`);
  }
  const files = backend.renderFiles(context);
  const process = backend.process(context);
  const chainEntries = backend.cniChainEntries(context);
  const kubeObjects = backend.kubeObjects(context);
  // `auto` with neither Felix nor Cilium configured runs the builtin backend, but it is no decision to take another
  // agent's policy away: a Calico or Cilium the hub does not run keeps its rules and its health port (both then
  // filter: traffic passes when both allow). Only an explicit backend (or disable_network_policy) cleans the
  // others' residue and answers their probe port.
  const implicit = choice.name === 'builtin' && input.policy.backend === 'auto' && !input.disableNetworkPolicy;
  const responder = implicit ? undefined : backend.healthResponder(context);
  return {
    backend: choice.name,
    why: choice.why,
    warnings: choice.warnings,
    context,
    files,
    process,
    chainEntries,
    kubeObjects,
    responder,
    cleanup: implicit ? [] : otherResidue(choice.name, context),
    fingerprint: JSON.stringify([choice.name, files, process, chainEntries, kubeObjects, responder]),
  };
}

/** The residue of every backend but `chosen` (`none` leaves none). */
function otherResidue(chosen: PolicyBackendName, context: PolicyContext): readonly Residue[] {
  const out = policyBackendNames().filter((n) => n !== chosen && n !== 'none').flatMap((n) => policyBackend(n).residue(context));
  return out.filter((r, i) => out.findIndex((o) => o.backend === r.backend) === i);
}
