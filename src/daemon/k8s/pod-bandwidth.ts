/**
 * Live pod bandwidth (issue 4): the node's pod informer drives the BandwidthReconciler (./bandwidth-reconciler.ts).
 * A pod added (or listed at start) or whose bandwidth annotations changed is reconciled against its leases; a
 * released lease is forgotten. Per pod, one reconcile runs at a time and a burst of changes coalesces into one run
 * that reads the LATEST annotations and leases when it starts. Nothing here throws into the informer or the daemon.
 *
 * A lease whose ADD is still building the dataplane (the daemon's `busyUntil`: from Allocate until the plugin's
 * Confirm, or the build deadline when a plugin never confirms) is not touched: the plugin applies the limits
 * allocate gave it and would overwrite (or race) a live update. Such a pod is reconciled when the ADD confirms
 * (`settled`), or at the deadline; by then the lease still says what the ADD applied, so a changed annotation is
 * applied. The update itself runs under the attachment's in-flight key (see live-bandwidth.ts).
 */
import { BANDWIDTH_ANNOTATIONS } from '../../bandwidth/annotations.js';
import type { BandwidthLease, ReconcileOutcome } from './bandwidth-reconciler.js';
import { errorMessage } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { Informer, InformerEvent, PodInfo } from '../../k8s/types.js';

/** The reconciler as this module uses it. */
export interface PodBandwidthReconciler {
  onPodAnnotations(podKey: string, annotations: Readonly<Record<string, string>>, leases: readonly BandwidthLease[]): Promise<ReconcileOutcome>;
  forget(containerId: string, ifName: string): void;
}

/** When an attachment was busy (its ADD, DEL or CHECK in progress), the pod is reconciled again after this. */
export const BUSY_RETRY_MS = 1000;

/** A lease as this module reads it: the reconciler's view plus when it was written. */
export type SyncLease = BandwidthLease;

export interface PodBandwidthSyncDeps {
  readonly pods: Informer<PodInfo>;
  readonly reconciler: PodBandwidthReconciler;
  /** The pod's current leases (read when its reconcile starts). */
  readonly leasesOf: (namespace: string, name: string) => readonly SyncLease[];
  readonly log: Logger;
  /** Until when (epoch ms) the lease's ADD may still be building; undefined when settled (HubService.busyUntil). */
  readonly busyUntil: (lease: SyncLease) => number | undefined;
  readonly now?: () => number;
  /**
   * False while a chained plugin (the reference `bandwidth`) shapes this network's pods: the hub must not touch
   * their qdiscs, so no reconcile runs (default on).
   */
  readonly enabled?: () => boolean;
}

/** Whether the bandwidth annotations of two versions of a pod differ. */
export function bandwidthAnnotationsChanged(a: PodInfo | undefined, b: PodInfo): boolean {
  if (a === undefined) return true;
  return BANDWIDTH_ANNOTATIONS.some((k) => a.annotations[k] !== b.annotations[k]);
}

export class PodBandwidthSync {
  readonly #deps: PodBandwidthSyncDeps;
  /** pod key → the tail of its run chain. */
  readonly #chains = new Map<string, Promise<void>>();
  /** pod key → the run queued behind the current one (not started yet): later changes join it. */
  readonly #queued = new Map<string, Promise<void>>();
  /** pod key → the timer that reconciles it at the build deadline of its leases (unless `settled` comes first). */
  readonly #deferred = new Map<string, NodeJS.Timeout>();
  #unsubscribe: (() => void) | undefined;
  #stopped = false;

  constructor(deps: PodBandwidthSyncDeps) {
    this.#deps = deps;
  }

  /** Subscribes to the informer and reconciles every pod it already knows. */
  start(): void {
    this.#unsubscribe = this.#deps.pods.on((e) => { this.#onEvent(e); });
    for (const pod of this.#deps.pods.list()) void this.schedule(pod.namespace, pod.name);
  }

  /** Unsubscribes and waits for the runs in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    for (const t of this.#deferred.values()) clearTimeout(t);
    this.#deferred.clear();
    await this.idle();
  }

  /** A lease was released (DEL, GC, pending release): its shaping is no longer ours to track. */
  released(lease: { readonly containerId: string; readonly ifName: string }): void {
    this.#deps.reconciler.forget(lease.containerId, lease.ifName);
  }

  /** An ADD confirmed its dataplane: a pod waiting for it is reconciled now. */
  settled(lease: { readonly podNamespace: string; readonly podName: string }): void {
    const key = `${lease.podNamespace}/${lease.podName}`;
    const t = this.#deferred.get(key);
    if (t === undefined || this.#stopped) return;
    clearTimeout(t);
    this.#deferred.delete(key);
    void this.schedule(lease.podNamespace, lease.podName);
  }

  /** Reconciles the pod soon (after its current run); resolves when that run is over. Never rejects. */
  schedule(namespace: string, name: string): Promise<void> {
    const key = `${namespace}/${name}`;
    const queued = this.#queued.get(key);
    if (queued !== undefined) return queued;
    const prev = this.#chains.get(key) ?? Promise.resolve();
    const run = prev.then(() => this.#run(key, namespace, name));
    this.#queued.set(key, run);
    this.#chains.set(key, run);
    void run.then(() => {
      if (this.#chains.get(key) === run) this.#chains.delete(key);
    });
    return run;
  }

  /** Resolves when no run is pending. */
  async idle(): Promise<void> {
    while (this.#chains.size > 0) await Promise.all([...this.#chains.values()]);
  }

  #onEvent(e: InformerEvent<PodInfo>): void {
    if (this.#stopped || e.type === 'delete') return;
    if (e.type === 'update' && !bandwidthAnnotationsChanged(e.old, e.object)) return;
    void this.schedule(e.object.namespace, e.object.name);
  }

  /** Milliseconds until the last of the leases' ADDs stops building (0 when every lease is settled). */
  #unsettledFor(leases: readonly SyncLease[]): number {
    const now = this.#deps.now?.() ?? Date.now();
    const until = Math.max(0, ...leases.map((l) => this.#deps.busyUntil(l) ?? 0));
    return Math.max(0, until - now);
  }

  #defer(key: string, namespace: string, name: string, ms: number): void {
    if (this.#deferred.has(key)) return; // one timer per pod; the run it triggers reads the latest state
    const t = setTimeout(() => {
      this.#deferred.delete(key);
      if (!this.#stopped) void this.schedule(namespace, name);
    }, ms);
    t.unref();
    this.#deferred.set(key, t);
  }

  async #run(key: string, namespace: string, name: string): Promise<void> {
    this.#queued.delete(key); // from now on a change needs another run
    if (this.#stopped || this.#deps.enabled?.() === false) return;
    try {
      const pod = this.#deps.pods.get(namespace, name);
      if (pod === undefined) return;
      const leases = this.#deps.leasesOf(namespace, name);
      if (leases.length === 0) return; // not (yet) networked by us: ADD reads the annotations itself
      const wait = this.#unsettledFor(leases);
      if (wait > 0) {
        this.#defer(key, namespace, name, wait);
        return;
      }
      const { retry } = await this.#deps.reconciler.onPodAnnotations(key, pod.annotations, leases);
      if (retry) this.#defer(key, namespace, name, BUSY_RETRY_MS);
    } catch (err) {
      this.#deps.log.warn('pod bandwidth reconcile failed', { pod: key, err: errorMessage(err) });
    }
  }
}
