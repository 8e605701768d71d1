/**
 * Schedule-time demand (beyond Terway): the scheduler binds a pod to this node seconds before the kubelet's CNI ADD
 * (the kubelet admits it, sets up its volumes and cgroups, then starts its sandbox). The node's pod informer sees the
 * binding as soon as the kubelet does, so the warm pool is told at once (`ScheduledDemand.expect`) and brings the
 * pod's IP while the kubelet is still working: the ADD then takes an IP that is already there.
 *
 * A pod awaits an IP when it is bound here, uses the pod network (not hostNetwork), is not being deleted, is still
 * Pending (a Running pod has its network; Succeeded/Failed ones are done), has no `status.podIP` yet, and holds no lease or reservation in the daemon's store (a
 * re-created StatefulSet pod gets its reserved IP back: nothing to bring). Every informer event re-decides; a deleted
 * pod is forgotten. The pool ends an expectation by itself when the ADD comes or the pod never comes to ADD
 * (`pool.scheduledTtlSeconds`). Nothing here throws into the informer.
 */
import { errorMessage } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { Informer, InformerEvent, PodInfo } from '../../k8s/types.js';
import type { ScheduledDemand } from '../pool-keeper.js';

export interface ScheduledPodsDeps {
  readonly pods: Informer<PodInfo>;
  readonly demand: ScheduledDemand;
  /** The pod holds a lease or a reservation in the store. */
  readonly holdsIp: (namespace: string, name: string) => boolean;
  readonly log: Logger;
}

/** Pure: whether a pod bound to this node still awaits its pod IP (see the module comment). */
export function awaitsIp(pod: PodInfo, holdsIp: boolean): boolean {
  if (pod.hostNetwork || pod.deletionTimestamp !== undefined || holdsIp) return false;
  if (pod.phase !== undefined && pod.phase !== 'Pending') return false;
  return pod.podIp === undefined && pod.nodeName !== '';
}

export const podKey = (p: Pick<PodInfo, 'namespace' | 'name'>): string => `${p.namespace}/${p.name}`;

export class ScheduledPods {
  readonly #deps: ScheduledPodsDeps;
  #unsubscribe: (() => void) | undefined;

  constructor(deps: ScheduledPodsDeps) {
    this.#deps = deps;
  }

  /** Subscribes to the informer and decides for every pod it already knows. */
  start(): void {
    this.#unsubscribe = this.#deps.pods.on((e) => { this.#onEvent(e); });
    this.resync();
  }

  /** Decides again for every known pod (the mode changed: leases made meanwhile in a mode without a pool count). */
  resync(): void {
    for (const pod of this.#deps.pods.list()) this.#decide(pod);
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  #onEvent(e: InformerEvent<PodInfo>): void {
    if (e.type === 'delete') {
      this.#deps.demand.forget(podKey(e.object));
      return;
    }
    this.#decide(e.object);
  }

  #decide(pod: PodInfo): void {
    const key = podKey(pod);
    try {
      if (awaitsIp(pod, this.#deps.holdsIp(pod.namespace, pod.name))) this.#deps.demand.expect(key);
      else this.#deps.demand.forget(key);
    } catch (err) {
      this.#deps.log.warn('scheduled pod: could not decide', { pod: key, err: errorMessage(err) });
    }
  }
}
