/**
 * Live bandwidth updates: the daemon feeds it pod annotation changes (pod informer) with the pod's leases; when the
 * effective limits change it applies `planBandwidthUpdate` through the executor and emits a pod event.
 * Limits set through CNI runtimeConfig at ADD (recorded on the lease as `runtimeBandwidth`) win per direction and
 * are left alone. A bad annotation value emits `ParseFailed` (Warning) and keeps the old shaping.
 */
import { BusyError, ConfigError, errorMessage } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { planBandwidthUpdate } from '../../modes/common/bandwidth.js';
import { dataplaneFor } from '../../modes/registry.js';
import type { Allocation, NodeFacts, PodNetworkSpec, ShapingTarget } from '../../modes/types.js';
import type { Plan } from '../../netlink/ops.js';
import { parseBandwidthAnnotations } from '../../bandwidth/annotations.js';
import { sameSpec, type BandwidthSpec, type RateLimit } from '../../bandwidth/types.js';
import type { IfName, NetnsPath } from '../../lib/brand.js';

export type EventType = 'Normal' | 'Warning';

/** `retry`: an attachment was busy (its ADD/DEL in progress); the caller reconciles the pod again later. */
export interface ReconcileOutcome {
  readonly retry: boolean;
}
export const REASON_UPDATED = 'BandwidthUpdated';
export const REASON_PARSE_FAILED = 'ParseFailed';
export const REASON_UPDATE_FAILED = 'BandwidthUpdateFailed';

/** Structurally a daemon lease (src/store/lease.ts) plus what the plugin's runtimeConfig set at ADD. */
export interface BandwidthLease {
  readonly podNamespace: string;
  /** "" when the runtime gave no pod name (podman): the host veth is then named after the container id. */
  readonly podName: string;
  readonly containerId: string;
  readonly ifName: string;
  readonly netns: string;
  /** The lease's generation (its creation time): an update is applied only to the same generation. */
  readonly createdAt: string;
  readonly allocation: Allocation;
  /** Limits from CNI runtimeConfig.bandwidth at ADD; each direction set here is never changed by annotations. */
  readonly runtimeBandwidth?: BandwidthSpec;
}

export interface ReconcilerDeps {
  readonly executor: { apply(plan: Plan, signal?: AbortSignal): Promise<unknown> };
  /** Emits a Kubernetes event on the pod `podKey` ("namespace/name"). */
  readonly emit: (podKey: string, reason: string, message: string, type: EventType) => void;
  readonly node: NodeFacts;
  readonly log: Logger;
  /**
   * Told after an update took effect, with the annotation-derived limits now in force (the daemon records them on
   * the lease's allocation, so CHECK and a restarted daemon see what is in place). Must not throw.
   */
  readonly onApplied?: (lease: BandwidthLease, fromAnnotations: BandwidthSpec | undefined) => void;
  /**
   * Runs one lease's update (apply + onApplied) exclusively: the daemon holds the attachment's in-flight key and
   * checks the lease is still the same generation and settled (HubService.withSettledLease). BusyError → the
   * update is retried later (ReconcileOutcome.retry), undefined → the lease is gone. Default: run directly.
   */
  readonly exclusive?: <T>(lease: BandwidthLease, fn: () => Promise<T>) => Promise<T | undefined>;
  /** Where a lease's shaping lives; default: what the lease's dataplane says (Dataplane.shapingTarget). */
  readonly targetFor?: (lease: BandwidthLease) => ShapingTarget;
}

function defaultTarget(node: NodeFacts, lease: BandwidthLease): ShapingTarget {
  const spec: PodNetworkSpec = {
    pod: lease.podName !== '' ? { namespace: lease.podNamespace, name: lease.podName } : { namespace: '', name: lease.containerId },
    containerId: lease.containerId,
    netns: lease.netns as NetnsPath,
    ifName: lease.ifName as IfName,
  };
  return dataplaneFor(lease.allocation.mode).shapingTarget(spec, node, lease.allocation);
}

function merge(runtime: BandwidthSpec | undefined, base: BandwidthSpec | undefined): BandwidthSpec | undefined {
  const ingress = runtime?.ingress ?? base?.ingress;
  const egress = runtime?.egress ?? base?.egress;
  if (ingress === undefined && egress === undefined) return undefined;
  return { ...(ingress !== undefined ? { ingress } : {}), ...(egress !== undefined ? { egress } : {}) };
}

function fmt(l: RateLimit | undefined): string {
  return l === undefined ? 'unlimited' : `${String(l.rateBps)} bit/s (burst ${String(l.burstBits)} bit)`;
}

export function describeSpec(s: BandwidthSpec | undefined): string {
  return `ingress ${fmt(s?.ingress)}, egress ${fmt(s?.egress)}`;
}

export class BandwidthReconciler {
  /** attachment id → the effective limits in place (after ADD or our last update). */
  private readonly applied = new Map<string, BandwidthSpec | undefined>();
  /** pod key → the tail of its update chain (one update per pod at a time, in arrival order). */
  private readonly queues = new Map<string, Promise<ReconcileOutcome>>();

  constructor(private readonly deps: ReconcilerDeps) {}

  /** Call on pod add/update with the pod's current annotations and leases; resolves when applied. */
  onPodAnnotations(podKey: string, annotations: Readonly<Record<string, string>>, leases: readonly BandwidthLease[]): Promise<ReconcileOutcome> {
    const prev: Promise<unknown> = this.queues.get(podKey) ?? Promise.resolve();
    // an earlier failure (already reported to its caller) must not skip this update
    const next = prev.catch(() => undefined).then(() => this.reconcile(podKey, annotations, leases));
    this.queues.set(podKey, next);
    const done = (): void => {
      if (this.queues.get(podKey) === next) this.queues.delete(podKey);
    };
    next.then(done, done); // not next.finally(): its copy of a rejection would be unhandled and end the process
    return next;
  }

  /** Forget an attachment (after DEL / release). */
  forget(containerId: string, ifName: string): void {
    this.applied.delete(`${containerId}/${ifName}`);
  }

  private async reconcile(podKey: string, annotations: Readonly<Record<string, string>>, leases: readonly BandwidthLease[]): Promise<ReconcileOutcome> {
    let retry = false;
    let fromAnnotations: BandwidthSpec | undefined;
    try {
      fromAnnotations = parseBandwidthAnnotations(annotations);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.deps.log.warn('bad bandwidth annotation; keeping the current shaping', { pod: podKey, err });
      this.deps.emit(podKey, REASON_PARSE_FAILED, `bandwidth not changed: ${err.message}`, 'Warning');
      return { retry };
    }
    for (const lease of leases) {
      const id = `${lease.containerId}/${lease.ifName}`;
      const current = this.applied.has(id) ? this.applied.get(id) : merge(lease.runtimeBandwidth, lease.allocation.bandwidth);
      const desired = merge(lease.runtimeBandwidth, fromAnnotations);
      if (sameSpec(current, desired)) {
        this.applied.set(id, current);
        continue;
      }
      try {
        const target = (this.deps.targetFor ?? ((l: BandwidthLease) => defaultTarget(this.deps.node, l)))(lease);
        const plan = planBandwidthUpdate(target, current, desired);
        const run = this.deps.exclusive ?? (<T>(_l: BandwidthLease, fn: () => Promise<T>): Promise<T> => fn());
        const done = await run(lease, async () => {
          await this.deps.executor.apply(plan);
          this.applied.set(id, desired);
          this.deps.onApplied?.(lease, fromAnnotations);
          return true;
        });
        if (done === undefined) {
          this.applied.delete(id); // released meanwhile
          continue;
        }
        this.deps.log.info('bandwidth updated', { pod: podKey, attachment: id, from: describeSpec(current), to: describeSpec(desired) });
        this.deps.emit(podKey, REASON_UPDATED, `${lease.ifName}: ${describeSpec(desired)}`, 'Normal');
      } catch (err) {
        if (err instanceof BusyError) {
          // an ADD, DEL or CHECK of the attachment is in progress: not a failure, try again later
          this.deps.log.info('bandwidth update deferred: the attachment is busy', { pod: podKey, attachment: id, reason: err.message });
          retry = true;
          continue;
        }
        // The executor rolled back what it applied: the attachment's state is unknown, re-plan from scratch next time.
        this.applied.delete(id);
        this.deps.log.warn('bandwidth update failed', { pod: podKey, attachment: id, err });
        this.deps.emit(podKey, REASON_UPDATE_FAILED, `${lease.ifName}: ${errorMessage(err)}`, 'Warning');
      }
    }
    return { retry };
  }
}
