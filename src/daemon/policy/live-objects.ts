/**
 * Pure: the informers' objects as the Kubernetes objects the NetworkPolicy model reads (src/policy/model/objects.ts),
 * trimmed to what it uses. The live model parses these with the model's own parsers, and `terway-hub policy`
 * without `-f` reads the same objects over the daemon's socket: one parse path for files and the live cluster.
 */
import type { NodeInfo, PodInfo, RawObjectInfo } from '../../k8s/types.js';

type Rec = Readonly<Record<string, unknown>>;

export type LiveKind = 'Pod' | 'Node' | 'Namespace' | 'NetworkPolicy';

/** A Kubernetes object in the form `kubectl get -o json` writes (trimmed). */
export interface LiveObject {
  readonly apiVersion: string;
  readonly kind: LiveKind;
  readonly metadata: Rec;
  readonly spec?: unknown;
  readonly status?: unknown;
}

function rec(v: unknown): Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : {};
}

/** `Pod ns/name`, `Namespace name`: how messages and events name an object. */
export function liveObjectName(kind: LiveKind, namespace: string, name: string): string {
  return kind === 'Namespace' || kind === 'Node' ? `${kind} ${name}` : `${kind} ${namespace}/${name}`;
}

export function podObject(p: PodInfo): LiveObject {
  const ports = (p.containerPorts ?? []).map((c) => ({ name: c.name, containerPort: c.containerPort, protocol: c.protocol }));
  const ips = p.podIps ?? [];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: p.namespace, labels: p.labels },
    spec: { ...(p.nodeName !== '' ? { nodeName: p.nodeName } : {}), hostNetwork: p.hostNetwork, containers: ports.length === 0 ? [] : [{ ports }] },
    status: {
      ...(p.phase !== undefined ? { phase: p.phase } : {}),
      ...(p.podIp !== undefined ? { podIP: p.podIp } : {}),
      ...(ips.length > 0 ? { podIPs: ips.map((ip) => ({ ip })) } : {}),
    },
  };
}

export function nodeObject(n: NodeInfo): LiveObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: n.name }, status: { addresses: n.addresses ?? [] } };
}

/** A Namespace as sent: name and labels are what NetworkPolicy reads. */
export function namespaceObject(o: RawObjectInfo): LiveObject {
  const md = rec(rec(o.object)['metadata']);
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: o.name, ...(md['labels'] !== undefined ? { labels: md['labels'] } : {}) } };
}

/** A NetworkPolicy as sent (list items carry no kind): identity and spec. */
export function networkPolicyObject(o: RawObjectInfo): LiveObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: o.name, namespace: o.namespace }, spec: rec(o.object)['spec'] };
}
