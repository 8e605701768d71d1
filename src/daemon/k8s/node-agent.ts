/**
 * The daemon's Kubernetes side, composed: informers (pods on this node, this Node, ConfigMaps of the config
 * namespace; the cluster's NetworkPolicies and Namespaces for the NetworkPolicy model), pod facts for allocation, the reporter (events, annotations, SufficientIP) and the config watcher.
 */
import { parseBandwidthAnnotations } from '../../bandwidth/annotations.js';
import type { DaemonConfig } from '../../config/daemon-config.js';
import { BUILTIN_STATEFUL_KINDS } from '../../config/eni-conf.js';
import { errorMessage } from '../../lib/errors.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import type { ConfigMapInfo, Informer, KubeApi, NodeInfo, PodInfo, RawObjectInfo } from '../../k8s/types.js';
import { ConfigWatcher, type ApplyOutcome, type ConfigWatcherDeps } from './config-watcher.js';
import type { EffectiveConfig } from './effective-config.js';
import { KubePodFacts, type BandwidthParser } from './pod-facts.js';
import { KubeReporter, type RetryPolicy } from './reporter.js';

export const DEFAULT_SYNC_TIMEOUT_MS = 15_000;

export interface NodeAgentDeps {
  readonly kube: KubeApi;
  readonly nodeName: string;
  readonly local: DaemonConfig;
  readonly apply: (config: EffectiveConfig) => Promise<ApplyOutcome>;
  /** See ConfigWatcherDeps.refused. */
  readonly refused?: ConfigWatcherDeps['refused'];
  readonly log?: Logger;
  /** How long start() waits for the first list of each informer before going on with the local config. */
  readonly syncTimeoutMs?: number;
  readonly retry?: RetryPolicy;
  /** Default: `parseBandwidthAnnotations` (src/bandwidth/annotations.ts). */
  readonly parseBandwidth?: BandwidthParser;
  /** False while a chained plugin shapes pod bandwidth: allocations then carry no annotation limits. Default on. */
  readonly shaping?: () => boolean;
  /** Told when the cluster config is rejected with a new error (metrics). */
  readonly onConfigRejected?: (source: string) => void;
}

export class KubeNodeAgent {
  readonly pods: Informer<PodInfo>;
  readonly nodes: Informer<NodeInfo>;
  readonly configMaps: Informer<ConfigMapInfo>;
  readonly networkPolicies: Informer<RawObjectInfo>;
  /** Every pod of the cluster, for NetworkPolicy peers (the live policy model); not waited for at start. */
  readonly clusterPods: Informer<PodInfo>;
  readonly namespaces: Informer<RawObjectInfo>;
  readonly podFacts: KubePodFacts;
  readonly reporter: KubeReporter;
  readonly config: ConfigWatcher;
  readonly #deps: NodeAgentDeps;
  readonly #log: Logger;

  constructor(deps: NodeAgentDeps) {
    this.#deps = deps;
    this.#log = deps.log ?? silentLogger;
    const { kube, nodeName } = deps;
    this.pods = kube.podInformer(nodeName);
    this.nodes = kube.nodeInformer(nodeName);
    this.configMaps = kube.configMapInformer(deps.local.kubeNamespace);
    this.networkPolicies = kube.networkPolicyInformer();
    this.clusterPods = kube.clusterPodInformer();
    this.namespaces = kube.namespaceInformer();
    this.reporter = new KubeReporter({
      kube,
      nodeName,
      nodeUid: () => this.nodes.get('', nodeName)?.uid ?? '',
      patchPodIps: () => this.config.current?.enablePatchPodIps ?? true,
      log: this.#log,
      podUid: (ns, name) => this.pods.get(ns, name)?.uid,
      ...(deps.retry !== undefined ? { retry: deps.retry } : {}),
    });
    this.config = new ConfigWatcher({ kube, local: deps.local, nodeName, nodes: this.nodes, configMaps: this.configMaps, reporter: this.reporter, apply: deps.apply, ...(deps.refused !== undefined ? { refused: deps.refused } : {}), log: this.#log, ...(deps.onConfigRejected !== undefined ? { onRejected: deps.onConfigRejected } : {}) });
    this.podFacts = new KubePodFacts({
      informer: this.pods,
      getPod: (ns, name) => kube.getPod(ns, name),
      statefulKinds: () => this.config.current?.statefulKinds ?? BUILTIN_STATEFUL_KINDS,
      parseBandwidth: deps.parseBandwidth ?? parseBandwidthAnnotations,
      ...(deps.shaping !== undefined ? { shaping: deps.shaping } : {}),
    });
  }

  /**
   * Starts the informers (bounded wait for the first list of those allocation needs) and applies the first effective
   * config. The NetworkPolicy/Namespace informers fill in the background: a cluster whose RBAC predates them (no
   * list/watch of networkpolicies, namespaces) delays nothing; their errors are logged while they retry.
   */
  async start(): Promise<void> {
    const timeout = this.#deps.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS;
    for (const inf of [this.pods, this.nodes, this.configMaps, this.networkPolicies, this.namespaces, this.clusterPods]) inf.onError((e) => { this.#log.warn('informer error (retrying)', { err: errorMessage(e) }); });
    for (const inf of [this.networkPolicies, this.namespaces, this.clusterPods]) inf.start().catch(() => undefined);
    const synced = await Promise.all([this.pods, this.nodes, this.configMaps].map((i) => withTimeout(i.start(), timeout)));
    if (synced.includes(false)) this.#log.warn('kubernetes informers not synced yet; starting with what is known', { timeoutMs: timeout });
    await this.config.start();
  }

  async stop(): Promise<void> {
    this.config.stop();
    await this.config.settled();
    for (const inf of [this.pods, this.nodes, this.configMaps, this.networkPolicies, this.namespaces, this.clusterPods]) inf.stop();
    await this.reporter.idle();
  }
}

async function withTimeout(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => { resolve(false); }, ms);
  });
  try {
    return await Promise.race([p.then(() => true, () => false), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
