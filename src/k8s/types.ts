/**
 * The daemon's narrow view of the Kubernetes API. Only src/k8s/client.ts imports @kubernetes/client-node; everything
 * else depends on these types (and tests use in-memory fakes or the real client against the API emulator).
 */

export interface OwnerRef {
  readonly kind: string;
  readonly name: string;
  readonly controller: boolean;
}

export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly nodeName: string;
  readonly hostNetwork: boolean;
  readonly annotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly owners: readonly OwnerRef[];
  readonly deletionTimestamp?: string;
  readonly phase?: string;
  /** status.podIP: set once the pod's sandbox has its network. */
  readonly podIp?: string;
  /** status.podIPs[].ip as sent (dual-stack); absent when the status has none. */
  readonly podIps?: readonly string[];
  /** spec.containers[].ports[] as sent (raw values: the NetworkPolicy model validates them); absent when none. */
  readonly containerPorts?: readonly ContainerPortInfo[];
  readonly resourceVersion: string;
}

export interface ContainerPortInfo {
  readonly name: unknown;
  readonly containerPort: unknown;
  readonly protocol: unknown;
}

export interface NodeAddress {
  readonly type: string;
  readonly address: string;
}

export interface NodeInfo {
  readonly name: string;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly podCIDR?: string;
  /** status.addresses; absent when the status has none. */
  readonly addresses?: readonly NodeAddress[];
  /** status.capacity.pods: the most pods the kubelet runs on it. */
  readonly maxPods?: number;
  readonly resourceVersion: string;
}

/**
 * An object kept as the API sent it (JSON field names), identity extracted: for consumers that parse the whole
 * object themselves (the NetworkPolicy model parses NetworkPolicies and Namespaces with its own validation).
 */
export interface RawObjectInfo {
  readonly namespace: string; // "" for cluster-scoped objects
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion: string;
  readonly object: unknown;
}

export interface ConfigMapInfo {
  readonly namespace: string;
  readonly name: string;
  readonly data: Readonly<Record<string, string>>;
  readonly resourceVersion: string;
}

export type InformerEvent<T> =
  | { readonly type: 'add'; readonly object: T }
  | { readonly type: 'update'; readonly object: T; readonly old?: T }
  | { readonly type: 'delete'; readonly object: T };

/** List + watch with resync and reconnect (relist on 410 Gone); a local cache keyed by namespace/name. */
export interface Informer<T> {
  /** Resolves after the first successful list (the cache is then complete). */
  start(): Promise<void>;
  stop(): void;
  list(): readonly T[];
  get(namespace: string, name: string): T | undefined;
  on(listener: (event: InformerEvent<T>) => void): () => void;
  /** Watch/list errors (the informer keeps retrying with backoff). */
  onError(listener: (err: unknown) => void): () => void;
}

export interface EventTarget {
  readonly kind: 'Pod' | 'Node';
  readonly namespace: string; // "" for Node (events go to "default")
  readonly name: string;
  readonly uid: string;
}

export interface KubeEvent {
  readonly target: EventTarget;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

export interface NodeCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/** A cluster-scoped custom resource the daemon owns the spec of (Calico's ClusterInformation for Felix). */
export interface ClusterObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec: Readonly<Record<string, unknown>>;
}

export type EnsureOutcome = 'created' | 'updated' | 'unchanged';

export interface KubeApi {
  /** Pods bound to `nodeName` (field selector spec.nodeName). */
  podInformer(nodeName: string): Informer<PodInfo>;
  /**
   * Every pod of the cluster (labels, IPs, named ports): NetworkPolicy peers live on every node, so a podSelector
   * must match pods bound elsewhere too (same `list`/`watch pods` permission as the node's own).
   */
  clusterPodInformer(): Informer<PodInfo>;
  /** The node's own Node object (field selector metadata.name). */
  nodeInformer(nodeName: string): Informer<NodeInfo>;
  /** ConfigMaps in `namespace`. */
  configMapInformer(namespace: string): Informer<ConfigMapInfo>;
  /** networking.k8s.io/v1 NetworkPolicies of every namespace, as sent. */
  networkPolicyInformer(): Informer<RawObjectInfo>;
  /** Every v1 Namespace, as sent. */
  namespaceInformer(): Informer<RawObjectInfo>;
  /** Uncached read (confirms a pod is really gone before GC releases its lease); undefined on 404. */
  getPod(namespace: string, name: string): Promise<PodInfo | undefined>;
  /** JSON merge patch of metadata.annotations (a null value removes the key). */
  patchPodAnnotations(namespace: string, name: string, annotations: Readonly<Record<string, string | null>>): Promise<void>;
  patchNodeAnnotations(name: string, annotations: Readonly<Record<string, string | null>>): Promise<void>;
  /** Sets (adds or replaces by type) one condition in node status. */
  setNodeCondition(name: string, condition: NodeCondition): Promise<void>;
  createEvent(event: KubeEvent): Promise<void>;
  /**
   * Creates the object, or replaces its spec when it differs (labels, annotations and status of an existing object
   * are kept). The resource's plural is the kind lower-cased plus `s` (clusterinformations, felixconfigurations).
   */
  ensureClusterObject(obj: ClusterObject): Promise<EnsureOutcome>;
}
