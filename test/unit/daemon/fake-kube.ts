/** An in-memory KubeApi: informers fed by the test, and a record of every write the daemon makes. */
import type { ConfigMapInfo, Informer, InformerEvent, KubeApi, KubeEvent, NodeCondition, NodeInfo, PodInfo, ClusterObject, EnsureOutcome, RawObjectInfo } from '../../../src/k8s/types.js';

export class FakeInformer<T extends { readonly name: string }> implements Informer<T> {
  readonly #items = new Map<string, T>();
  readonly #listeners = new Set<(e: InformerEvent<T>) => void>();
  started = false;
  constructor(private readonly nsOf: (t: T) => string) {}
  start(): Promise<void> {
    this.started = true;
    return Promise.resolve();
  }
  stop(): void {
    this.started = false;
  }
  list(): readonly T[] {
    return [...this.#items.values()];
  }
  get(namespace: string, name: string): T | undefined {
    return this.#items.get(`${namespace}/${name}`);
  }
  on(listener: (event: InformerEvent<T>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  onError(): () => void {
    return () => undefined;
  }
  set(obj: T): void {
    const key = `${this.nsOf(obj)}/${obj.name}`;
    const old = this.#items.get(key);
    this.#items.set(key, obj);
    this.#emit(old === undefined ? { type: 'add', object: obj } : { type: 'update', object: obj, old });
  }
  remove(namespace: string, name: string): void {
    const old = this.#items.get(`${namespace}/${name}`);
    if (old === undefined) return;
    this.#items.delete(`${namespace}/${name}`);
    this.#emit({ type: 'delete', object: old });
  }
  #emit(e: InformerEvent<T>): void {
    for (const l of this.#listeners) l(e);
  }
}

export interface FakeKubeOptions {
  readonly nodeName?: string;
  readonly podCIDR?: string;
  readonly labels?: Record<string, string>;
}

let rv = 1;
const nextRv = (): string => String(++rv);

export class FakeKube implements KubeApi {
  readonly pods = new FakeInformer<PodInfo>((p) => p.namespace);
  readonly nodes = new FakeInformer<NodeInfo>(() => '');
  readonly configMaps = new FakeInformer<ConfigMapInfo>((c) => c.namespace);
  readonly networkPolicies = new FakeInformer<RawObjectInfo>((o) => o.namespace);
  readonly namespaces = new FakeInformer<RawObjectInfo>(() => '');
  readonly events: KubeEvent[] = [];
  readonly conditions: NodeCondition[] = [];
  readonly podPatches: { namespace: string; name: string; annotations: Readonly<Record<string, string | null>> }[] = [];
  readonly nodePatches: Readonly<Record<string, string | null>>[] = [];
  getPodCalls = 0;
  /** Pods only the API knows (not in the informer cache). */
  readonly apiOnlyPods = new Map<string, PodInfo>();
  /** Make the next N pod annotation patches fail. */
  failPodPatches = 0;

  constructor(readonly nodeName = 'node-1', opts: FakeKubeOptions = {}) {
    this.nodes.set({ name: nodeName, uid: 'node-uid', labels: opts.labels ?? {}, annotations: {}, ...(opts.podCIDR !== undefined ? { podCIDR: opts.podCIDR } : {}), resourceVersion: nextRv() });
  }

  podInformer(): Informer<PodInfo> {
    return this.pods;
  }
  /** The fake cluster has one node: its pods are the cluster's. */
  clusterPodInformer(): Informer<PodInfo> {
    return this.pods;
  }
  nodeInformer(): Informer<NodeInfo> {
    return this.nodes;
  }
  configMapInformer(): Informer<ConfigMapInfo> {
    return this.configMaps;
  }
  networkPolicyInformer(): Informer<RawObjectInfo> {
    return this.networkPolicies;
  }
  namespaceInformer(): Informer<RawObjectInfo> {
    return this.namespaces;
  }
  getPod(namespace: string, name: string): Promise<PodInfo | undefined> {
    this.getPodCalls++;
    return Promise.resolve(this.apiOnlyPods.get(`${namespace}/${name}`) ?? this.pods.get(namespace, name));
  }
  patchPodAnnotations(namespace: string, name: string, annotations: Readonly<Record<string, string | null>>): Promise<void> {
    if (this.failPodPatches > 0) {
      this.failPodPatches--;
      return Promise.reject(new Error('injected patch failure'));
    }
    this.podPatches.push({ namespace, name, annotations });
    const pod = this.pods.get(namespace, name);
    if (pod !== undefined) this.pods.set({ ...pod, annotations: applyAnnotations(pod.annotations, annotations), resourceVersion: nextRv() });
    return Promise.resolve();
  }
  patchNodeAnnotations(name: string, annotations: Readonly<Record<string, string | null>>): Promise<void> {
    this.nodePatches.push(annotations);
    const node = this.nodes.get('', name);
    if (node !== undefined) this.nodes.set({ ...node, annotations: applyAnnotations(node.annotations, annotations), resourceVersion: nextRv() });
    return Promise.resolve();
  }
  setNodeCondition(_name: string, condition: NodeCondition): Promise<void> {
    this.conditions.push(condition);
    return Promise.resolve();
  }
  createEvent(event: KubeEvent): Promise<void> {
    this.events.push(event);
    return Promise.resolve();
  }
  /** Cluster-scoped custom objects by `kind/name`. */
  readonly clusterObjects = new Map<string, ClusterObject>();
  ensureClusterObject(obj: ClusterObject): Promise<EnsureOutcome> {
    const key = `${obj.kind}/${obj.metadata.name}`;
    const had = this.clusterObjects.get(key);
    this.clusterObjects.set(key, obj);
    return Promise.resolve(had === undefined ? 'created' : JSON.stringify(had.spec) === JSON.stringify(obj.spec) ? 'unchanged' : 'updated');
  }

  node(): NodeInfo {
    const n = this.nodes.get('', this.nodeName);
    if (n === undefined) throw new Error('no node');
    return n;
  }
  setNode(patch: Partial<NodeInfo>): void {
    this.nodes.set({ ...this.node(), ...patch, resourceVersion: nextRv() });
  }
  setConfigMap(name: string, data: Record<string, string>, namespace = 'kube-system'): void {
    this.configMaps.set({ namespace, name, data, resourceVersion: nextRv() });
  }
  addPod(name: string, extra: Partial<PodInfo> = {}, namespace = 'default'): PodInfo {
    const pod: PodInfo = { namespace, name, uid: `uid-${name}`, nodeName: this.nodeName, hostNetwork: false, annotations: {}, labels: {}, owners: [], resourceVersion: nextRv(), ...extra };
    this.pods.set(pod);
    return pod;
  }
  reasons(): string[] {
    return this.events.map((e) => `${e.target.kind}/${e.type}/${e.reason}`);
  }
}

function applyAnnotations(base: Readonly<Record<string, string>>, patch: Readonly<Record<string, string | null>>): Record<string, string> {
  const out = new Map(Object.entries(base));
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) out.delete(k);
    else out.set(k, v);
  }
  return Object.fromEntries(out);
}
