/**
 * Pod facts for allocation from the node's pod informer (cache), falling back to an API read when the cache
 * misses (the informer may lag kubelet by a moment).
 */
import type { BandwidthSpec } from '../../bandwidth/types.js';
import type { Informer, KubeApi, PodInfo } from '../../k8s/types.js';
import type { PodFacts, PodFactsSource } from './hooks.js';

export const POD_IP_RESERVATION_ANNOTATION = 'k8s.aliyun.com/pod-ip-reservation';

/** Parses the pod's bandwidth annotations; throws ConfigError naming the annotation. */
export type BandwidthParser = (annotations: Readonly<Record<string, string>>) => BandwidthSpec | undefined;

/**
 * Pure: Terway's stickiness rule — the reservation annotation is "true", or an owner reference's kind (lower-cased)
 * is StatefulSet or one of `custom_stateful_workload_kinds`.
 */
export function isSticky(pod: PodInfo, statefulKinds: readonly string[]): boolean {
  if (pod.annotations[POD_IP_RESERVATION_ANNOTATION]?.trim().toLowerCase() === 'true') return true;
  const kinds = new Set(statefulKinds.map((k) => k.toLowerCase()));
  return pod.owners.some((o) => kinds.has(o.kind.toLowerCase()));
}

export function factsOf(pod: PodInfo, statefulKinds: readonly string[], parseBandwidth: BandwidthParser | undefined): PodFacts {
  const bandwidth = parseBandwidth?.(pod.annotations);
  return { uid: pod.uid, hostNetwork: pod.hostNetwork, sticky: isSticky(pod, statefulKinds), ...(bandwidth !== undefined ? { bandwidth } : {}) };
}

export interface KubePodFactsDeps {
  readonly informer: Informer<PodInfo>;
  readonly getPod: KubeApi['getPod'];
  readonly statefulKinds: () => readonly string[];
  readonly parseBandwidth?: BandwidthParser;
  /** False: the pod's bandwidth annotations are not read (a chained plugin shapes; see src/templates/chain-plan.ts). */
  readonly shaping?: () => boolean;
}

export class KubePodFacts implements PodFactsSource {
  readonly #deps: KubePodFactsDeps;

  constructor(deps: KubePodFactsDeps) {
    this.#deps = deps;
  }

  async get(namespace: string, name: string): Promise<PodFacts | undefined> {
    const pod = this.#deps.informer.get(namespace, name) ?? (await this.#deps.getPod(namespace, name));
    if (pod === undefined) return undefined;
    const shaping = this.#deps.shaping?.() ?? true;
    return factsOf(pod, this.#deps.statefulKinds(), shaping ? this.#deps.parseBandwidth : undefined);
  }
}
