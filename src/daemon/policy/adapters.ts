/**
 * What the daemon needs to run a NetworkPolicy backend, built in src/main (src/main/adapters.ts) and injected:
 * the supervisor's process spawner and prober, the residue cleaner, the file writer, the health responder, and the
 * node facts and API access the renderers put into the backend's config.
 */
import type { ProcessSpawner } from '../../lib/exec.js';
import type { BuiltinApplier } from '../../policy/builtin/apply.js';
import type { CleanupReport } from '../../policy/cleanup/clean.js';
import type { RenderedFile } from '../../policy/process-spec.js';
import type { SupervisorOptionsInput } from '../../policy/supervisor.js';
import type { HealthProber } from '../../policy/supervisor/probe.js';
import type { HealthResponder, KubeAccess, PolicyNodeFacts, Residue } from '../../policy/types.js';
import type { RunningResponder } from './controller.js';

export interface PolicyAdapters {
  readonly spawner: ProcessSpawner;
  readonly prober: HealthProber;
  readonly supervisorOptions?: SupervisorOptionsInput;
  readonly cleanResidue: (residues: readonly Residue[]) => Promise<CleanupReport>;
  /** Writes a rendered file atomically with its mode (directories created). */
  readonly writeFile: (file: RenderedFile) => Promise<void>;
  readonly startResponder: (r: HealthResponder) => Promise<RunningResponder>;
  /** The builtin backend's nft/conntrack applier (src/policy/builtin/apply.ts over the process runner). */
  readonly builtinApplier: BuiltinApplier;
  /** Found once at start (the iptables flavour of the node's kube-proxy/kubelet). */
  readonly nodeFacts: () => Promise<PolicyNodeFacts>;
  readonly kubeAccess: KubeAccess;
  /** The node name when neither the config nor NODE_NAME gives one. */
  readonly hostname: () => string;
}
