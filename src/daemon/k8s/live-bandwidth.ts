/**
 * Composes live bandwidth updates for the daemon: one BandwidthReconciler (the daemon's executor, the node's veth
 * prefix), its events posted on the pod through the reporter, the limits in force recorded on the lease, and the
 * pod-informer driver (./pod-bandwidth.ts).
 */
import { BandwidthReconciler, type BandwidthLease, type EventType, type ReconcilerDeps } from './bandwidth-reconciler.js';
import type { BandwidthSpec } from '../../bandwidth/types.js';
import { errorMessage } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { Informer, PodInfo } from '../../k8s/types.js';
import type { AttachmentKey } from '../../rpc/protocol.js';
import type { Lease } from '../../store/lease.js';
import { PodBandwidthSync } from './pod-bandwidth.js';

export interface LiveBandwidthDeps {
  readonly pods: Informer<PodInfo>;
  readonly reporter: { podEvent(namespace: string, name: string, type: EventType, reason: string, message: string): void };
  readonly store: {
    listByPod(namespace: string, name: string): readonly Lease[];
    setAllocationBandwidth(key: AttachmentKey, bandwidth: BandwidthSpec | undefined): boolean;
  };
  readonly executor: ReconcilerDeps['executor'];
  readonly vethPrefix: string;
  readonly log: Logger;
  /** The service's coordination with ADD/DEL (HubService.busyUntil / withSettledLease). */
  readonly attachments: {
    busyUntil(lease: Lease | BandwidthLease): number | undefined;
    withSettledLease<T>(lease: Lease | BandwidthLease, fn: () => Promise<T>): Promise<T | undefined>;
  };
  /** False while a chained plugin shapes pod bandwidth: live updates stand down (default on). */
  readonly enabled?: () => boolean;
}

/** "ns/name" → [ns, name] (neither may contain a slash). */
export function splitPodKey(podKey: string): readonly [string, string] {
  const i = podKey.indexOf('/');
  return i < 0 ? ['', podKey] : [podKey.slice(0, i), podKey.slice(i + 1)];
}

export function createLiveBandwidth(deps: LiveBandwidthDeps): PodBandwidthSync {
  const { log } = deps;
  const reconciler = new BandwidthReconciler({
    executor: deps.executor,
    node: { vethPrefix: deps.vethPrefix },
    log,
    exclusive: (lease, fn) => deps.attachments.withSettledLease(lease, fn),
    emit: (podKey, reason, message, type) => {
      const [ns, name] = splitPodKey(podKey);
      deps.reporter.podEvent(ns, name, type, reason, message);
    },
    onApplied: (lease, fromAnnotations) => {
      try {
        deps.store.setAllocationBandwidth(lease, fromAnnotations);
      } catch (err) {
        log.warn('could not record the new bandwidth on the lease', { containerId: lease.containerId, ifName: lease.ifName, err: errorMessage(err) });
      }
    },
  });
  return new PodBandwidthSync({
    pods: deps.pods,
    reconciler,
    leasesOf: (ns, name) => deps.store.listByPod(ns, name),
    log,
    busyUntil: (lease) => deps.attachments.busyUntil(lease),
    ...(deps.enabled !== undefined ? { enabled: deps.enabled } : {}),
  });
}
