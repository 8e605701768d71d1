/**
 * The asynchronous half of a GC pass: for each lease old enough to matter, is its netns still there, and is its
 * pod still there? A pod missing from the informer cache is confirmed with an uncached read; only a confirmed
 * absence (404, or a finished pod) counts as gone, an API error leaves the pod 'unknown'.
 */
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { KubeApi, PodInfo } from '../k8s/types.js';
import type { Lease } from '../store/lease.js';
import { attachmentId } from './lease-host.js';
import type { PodStatus } from './types.js';

/** The informer's cache view GC needs. */
export interface PodCache {
  get(namespace: string, name: string): PodInfo | undefined;
}

/** Resolves true only when the pod is confirmed gone; rejects when that cannot be decided. */
export type ConfirmGone = (namespace: string, name: string) => Promise<boolean>;

/** Terminal phases: kubelet will not run the pod's sandbox again. */
export function isFinished(pod: PodInfo): boolean {
  return pod.phase === 'Succeeded' || pod.phase === 'Failed';
}

/** A ConfirmGone over the API's uncached getPod (undefined = 404). */
export function confirmGoneVia(api: Pick<KubeApi, 'getPod'>): ConfirmGone {
  return async (namespace, name) => {
    const pod = await api.getPod(namespace, name);
    return pod === undefined || isFinished(pod);
  };
}

export async function podStatuses(
  leases: readonly Lease[],
  pods: PodCache | undefined,
  confirmGone: ConfirmGone | undefined,
  log: Logger,
): Promise<ReadonlyMap<string, PodStatus>> {
  const out = new Map<string, PodStatus>();
  if (pods === undefined) return out;
  const confirmed = new Map<string, Promise<PodStatus>>();
  for (const lease of leases) {
    if (lease.podName === '') continue; // not a Kubernetes pod (podman): only the netns check applies
    const cached = pods.get(lease.podNamespace, lease.podName);
    if (cached !== undefined && !isFinished(cached)) {
      out.set(attachmentId(lease), 'present');
      continue;
    }
    if (confirmGone === undefined) {
      out.set(attachmentId(lease), 'unknown');
      continue;
    }
    const podKey = `${lease.podNamespace}/${lease.podName}`;
    let p = confirmed.get(podKey);
    if (p === undefined) {
      p = confirmGone(lease.podNamespace, lease.podName).then(
        (gone): PodStatus => (gone ? 'gone' : 'present'),
        (err: unknown): PodStatus => {
          log.warn('gc: cannot confirm pod is gone; keeping its lease', { pod: podKey, err: errorMessage(err) });
          return 'unknown';
        },
      );
      confirmed.set(podKey, p);
    }
    out.set(attachmentId(lease), await p);
  }
  return out;
}

export async function vanishedNetns(leases: readonly Lease[], netnsExists: (path: string) => Promise<boolean>, log: Logger): Promise<ReadonlySet<string>> {
  const gone = new Set<string>();
  for (const lease of leases) {
    if (lease.netns === '') continue;
    try {
      if (!(await netnsExists(lease.netns))) gone.add(attachmentId(lease));
    } catch (err) {
      log.warn('gc: netns check failed', { netns: lease.netns, err: errorMessage(err) });
    }
  }
  return gone;
}
