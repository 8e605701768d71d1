/**
 * Tells Kubernetes what allocation did: pod events (`AllocIPSucceed`, `AllocIPFailed`, and `ParseFailed` when a
 * bandwidth annotation is bad; bandwidth updates and the wait registry's `AllocIPWaiting` post theirs through
 * `podEvent`), the pod's
 * `k8s.aliyun.com/pod-ips` annotation, node Warning events and the node condition `SufficientIP`. Everything runs
 * in the background with a few retries and never delays or fails an RPC; `idle()` waits for it (tests, stop).
 */
import { BANDWIDTH_ANNOTATIONS } from '../../bandwidth/annotations.js';
import { REASON_PARSE_FAILED } from './bandwidth-reconciler.js';
import { ConfigError, ExhaustedError, HubError, errorMessage } from '../../lib/errors.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import type { KubeApi, NodeCondition } from '../../k8s/types.js';
import type { AllocationFailed, AllocationObserver, AllocationSucceeded } from './hooks.js';

export const POD_IPS_ANNOTATION = 'k8s.aliyun.com/pod-ips';
export const SUFFICIENT_IP = 'SufficientIP';

export interface RetryPolicy {
  readonly attempts: number;
  readonly baseDelayMs: number;
}

export interface KubeReporterDeps {
  readonly kube: KubeApi;
  readonly nodeName: string;
  /** The Node's uid once the node informer knows it ("" before). */
  readonly nodeUid: () => string;
  /** `enable_patch_pod_ips` of the effective config. */
  readonly patchPodIps: () => boolean;
  readonly log?: Logger;
  readonly retry?: RetryPolicy;
  /** The uid of a pod when the informer knows it (events then point at that pod instance). */
  readonly podUid?: (namespace: string, name: string) => string | undefined;
}

/** Whether an allocation failed because of a bad bandwidth annotation (ConfigError whose path is the annotation). */
export function isBandwidthAnnotationError(error: unknown): error is ConfigError {
  return error instanceof ConfigError && (BANDWIDTH_ANNOTATIONS as readonly string[]).includes(error.path);
}

export class KubeReporter implements AllocationObserver {
  readonly #deps: KubeReporterDeps;
  readonly #log: Logger;
  readonly #retry: RetryPolicy;
  readonly #tasks = new Set<Promise<void>>();
  #sufficient: boolean | undefined;

  constructor(deps: KubeReporterDeps) {
    this.#deps = deps;
    this.#log = deps.log ?? silentLogger;
    this.#retry = deps.retry ?? { attempts: 4, baseDelayMs: 250 };
  }

  succeeded(e: AllocationSucceeded): void {
    const { req, allocation } = e;
    if (req.podName !== '') {
      const prefix = allocation.subnet.split('/')[1] ?? '32';
      const took = `${e.elapsedMs.toFixed(1)}ms`;
      const message = `Alloc IP ${allocation.ip}/${prefix} (${allocation.mode}${e.fromReservation ? ', reserved for this pod' : ''}) took ${took}`;
      this.#run('pod event AllocIPSucceed', () => this.#deps.kube.createEvent({ target: podTarget(req.podNamespace, req.podName, e.facts?.uid), type: 'Normal', reason: 'AllocIPSucceed', message }));
      if (this.#deps.patchPodIps()) {
        this.#run(`annotate pod ${req.podNamespace}/${req.podName}`, () => this.#deps.kube.patchPodAnnotations(req.podNamespace, req.podName, { [POD_IPS_ANNOTATION]: allocation.ip }));
      }
    }
    this.#setSufficient(true, 'SufficientIP', 'pod IPs are available');
  }

  failed(e: AllocationFailed): void {
    const { req, error } = e;
    if (req.podName !== '') {
      const code = error instanceof HubError ? error.code : 'internal';
      const uid = e.facts?.uid ?? this.#deps.podUid?.(req.podNamespace, req.podName);
      this.#run('pod event AllocIPFailed', () =>
        this.#deps.kube.createEvent({ target: podTarget(req.podNamespace, req.podName, uid), type: 'Warning', reason: 'AllocIPFailed', message: `Alloc IP failed (${code}): ${error.message}` }),
      );
      if (isBandwidthAnnotationError(error)) {
        this.podEvent(req.podNamespace, req.podName, 'Warning', REASON_PARSE_FAILED, `bad bandwidth annotation, pod network not set up: ${error.message}`);
      }
    }
    if (error instanceof ExhaustedError) this.#setSufficient(false, 'InsufficientIP', error.message);
  }

  /**
   * An event on a pod (bandwidth: `BandwidthUpdated`, `ParseFailed`, `BandwidthUpdateFailed`; the wait registry's
   * `AllocIPWaiting`, src/daemon/waits.ts), in the background.
   */
  podEvent(namespace: string, name: string, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const uid = this.#deps.podUid?.(namespace, name);
    this.#run(`pod event ${reason}`, () => this.#deps.kube.createEvent({ target: podTarget(namespace, name, uid), type, reason, message }));
  }

  /** A Warning event on this node (`ConfigError`, `ResourceInvalid`). */
  nodeWarning(reason: string, message: string): void {
    this.nodeEvent('Warning', reason, message);
  }

  /** An event on this node (the policy backend's lifecycle: `PolicyBackendReady`, `PolicyBackendUnhealthy`, …). */
  nodeEvent(type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.#run(`node event ${reason}`, () =>
      this.#deps.kube.createEvent({ target: { kind: 'Node', namespace: '', name: this.#deps.nodeName, uid: this.#deps.nodeUid() }, type, reason, message }),
    );
  }

  /** Background work (events, patches, conditions) with retries; errors are logged. */
  run(what: string, fn: () => Promise<void>): void {
    this.#run(what, fn);
  }

  /** Resolves when every background task has finished. */
  async idle(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  #setSufficient(ok: boolean, reason: string, message: string): void {
    if (this.#sufficient === ok) return;
    this.#sufficient = ok;
    const condition: NodeCondition = { type: SUFFICIENT_IP, status: ok ? 'True' : 'False', reason, message };
    this.#run(`node condition ${SUFFICIENT_IP}=${condition.status}`, () => this.#deps.kube.setNodeCondition(this.#deps.nodeName, condition));
  }

  #run(what: string, fn: () => Promise<void>): void {
    const task = (async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await fn();
          return;
        } catch (err) {
          if (attempt >= this.#retry.attempts) {
            this.#log.warn('kubernetes update failed', { what, attempts: attempt, err: errorMessage(err) });
            return;
          }
          await sleep(this.#retry.baseDelayMs * 2 ** (attempt - 1));
        }
      }
    })();
    this.#tasks.add(task);
    void task.finally(() => this.#tasks.delete(task));
  }
}

function podTarget(namespace: string, name: string, uid: string | undefined) {
  return { kind: 'Pod' as const, namespace, name, uid: uid ?? '' };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
