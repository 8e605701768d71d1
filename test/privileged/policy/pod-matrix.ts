/**
 * Shared by the builtin-backend suites whose pods own their links (exclusive ENI on this kernel, ipvlan in the VM):
 * the Kubernetes objects they put into the API emulator (pods labelled `app: NAME`, the node, NetworkPolicies), the
 * evaluator's matrix over those objects, and the measured one (each pod's probe agent connecting to every other
 * pod on every port). One definition, so "measured = matrix(objects)" means the same in both places.
 */
import { matrix, matrixKey, type PortProto } from '../../../src/policy/model/matrix.js';
import { readObjects } from '../../../src/policy/model/objects.js';
import type { Agent } from './pods.js';

export type Obj = Record<string, unknown>;

export const np = (namespace: string, name: string, spec: Obj): Obj => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec });

export interface PodSpec {
  readonly namespace: string;
  readonly name: string;
  readonly nodeName: string;
  readonly hostIp: string;
  /** Absent until the ADD gave the pod its address. */
  readonly ip?: string;
}

export const podObject = (p: PodSpec): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: p.name, namespace: p.namespace, labels: { app: p.name } },
  spec: { nodeName: p.nodeName, containers: [{ name: 'app', image: 'busybox' }] },
  status: { phase: 'Running', hostIP: p.hostIp, ...(p.ip !== undefined ? { podIP: p.ip } : {}) },
});

export const nodeObject = (nodeName: string, ip: string): Obj => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: nodeName, labels: {} },
  spec: {},
  status: { addresses: [{ type: 'InternalIP', address: ip }], conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready', lastHeartbeatTime: '2024-01-01T00:00:00Z', lastTransitionTime: '2024-01-01T00:00:00Z' }] },
});

export const namespaceObject = (name: string): Obj => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } });

/** The objects as one `kind: List` document (what `terway-hub policy … -f` and readObjects read). */
export const listOf = (items: readonly Obj[]): string => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });

export function sortedRecord(o: Readonly<Record<string, boolean>>): Record<string, boolean> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The evaluator's verdict for every ordered pair of distinct pods and port, keyed like `policy matrix --json`. */
export function expectedMatrix(items: readonly Obj[], ports: readonly PortProto[]): Record<string, boolean> {
  const r = readObjects(listOf(items));
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return sortedRecord(matrix(r.model, ports));
}

export interface ProbedPod {
  /** `namespace/name`. */
  readonly key: string;
  readonly ip: string;
  /** The probe agent running in the pod's netns. */
  readonly agent: Agent;
}

/** Every pod's agent connects to every other pod on every port at once; true = connected (UDP: echoed). */
export async function measureMatrix(pods: readonly ProbedPod[], ports: readonly PortProto[], timeoutMs: number): Promise<Record<string, boolean>> {
  const out: Record<string, boolean> = {};
  await Promise.all(pods.map(async (src) => {
    const targets = pods.filter((p) => p !== src).flatMap((dst) => ports.map((p) => ({ dst, p })));
    const results = await src.agent.probe(targets.map(({ dst, p }) => ({ ip: dst.ip, port: p.port, proto: p.protocol === 'UDP' ? 'UDP' as const : 'TCP' as const })), timeoutMs);
    targets.forEach(({ dst, p }, i) => { out[matrixKey(src.key, dst.key, p)] = results[i] === true; });
  }));
  return sortedRecord(out);
}
