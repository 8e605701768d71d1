/**
 * The "cluster" without a cluster: the repo's Kubernetes API emulator (test/k8s-emulator, the one the privileged
 * tests use) holding what an API server would — the Node (InternalIP, the daemon's name for "the node"), the daemon's
 * ConfigMap, the Namespaces, the Pods (with bandwidth annotations) and the NetworkPolicy. The daemon talks to it
 * through a kubeconfig exactly as to a real one; the builtin policy backend has no other source of policy objects.
 */
import { startKubeEmulator, type KubeEmulator } from '../../test/k8s-emulator/index.js';
import { matrix, matrixKey, type PortProto } from '../../src/policy/model/matrix.js';
import { readObjects } from '../../src/policy/model/objects.js';
import { NODE_IP } from './host.js';

export type Obj = Record<string, unknown>;

export const NODE_NAME = 'dm-node';
export const CONFIGMAP = 'dm-eni-config';
export const WEB_PORT: PortProto = { port: 80, protocol: 'TCP' };
/** vpc mode: the pods' addresses come from the Node's spec.podCIDR. */
export const POD_CIDR = '10.198.0.0/24';

export type DemoMode = 'veth-policy-routing' | 'vpc';

export interface DemoPod {
  readonly namespace: string;
  readonly name: string;
  /** The netns playing the pod. */
  readonly netns: string;
  readonly annotations: Readonly<Record<string, string>>;
}

/** Ingress (into web) and egress (out of web) limits, as annotations and in bits/s. */
export const WEB_INGRESS_BPS = 20_000_000;
export const WEB_EGRESS_BPS = 10_000_000;

export const PODS: readonly DemoPod[] = [
  { namespace: 'shop', name: 'web', netns: 'dm-shop-web', annotations: { 'kubernetes.io/ingress-bandwidth': '20M', 'kubernetes.io/egress-bandwidth': '10M' } },
  { namespace: 'shop', name: 'client', netns: 'dm-shop-client', annotations: {} },
  { namespace: 'outside', name: 'stranger', netns: 'dm-outside-stranger', annotations: {} },
];

export const key = (p: { namespace: string; name: string }): string => `${p.namespace}/${p.name}`;

export const namespaceObject = (ns: string): Obj => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } } });

export function podObject(p: DemoPod, ip?: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: p.namespace, labels: { app: p.name }, annotations: p.annotations },
    spec: { nodeName: NODE_NAME, containers: [{ name: 'app', image: 'busybox', ports: [{ containerPort: 80 }] }] },
    status: { phase: 'Running', hostIP: NODE_IP, ...(ip !== undefined ? { podIP: ip, podIPs: [{ ip }] } : {}) },
  };
}

const nodeObject = (mode: DemoMode): Obj => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: NODE_NAME, labels: {} },
  spec: mode === 'vpc' ? { podCIDR: POD_CIDR, podCIDRs: [POD_CIDR] } : {},
  status: {
    addresses: [{ type: 'InternalIP', address: NODE_IP }, { type: 'Hostname', address: NODE_NAME }],
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready', lastHeartbeatTime: '2024-01-01T00:00:00Z', lastTransitionTime: '2024-01-01T00:00:00Z' }],
  },
});

/** shop/web accepts TCP 80 only from pods labelled app=client in its own namespace. */
export const POLICY: Obj = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'web-from-client', namespace: 'shop' },
  spec: {
    podSelector: { matchLabels: { app: 'web' } },
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ protocol: 'TCP', port: 80 }] }],
  },
};

export async function startCluster(mode: DemoMode): Promise<KubeEmulator> {
  const emu = await startKubeEmulator();
  emu.put('Node', nodeObject(mode));
  emu.put('ConfigMap', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CONFIGMAP, namespace: 'kube-system' }, data: { eni_conf: JSON.stringify({ version: '1' }), daemon_mode: mode === 'vpc' ? 'VPC' : 'ENIMultiIP' } });
  for (const ns of new Set(PODS.map((p) => p.namespace))) emu.put('Namespace', namespaceObject(ns));
  for (const p of PODS) emu.put('Pod', podObject(p));
  return emu;
}

/** What the NetworkPolicy semantics say (the project's evaluator over the same objects): pod pair → allowed. */
export function expectedMatrix(ips: ReadonlyMap<string, string>, policies: readonly Obj[]): Record<string, boolean> {
  const items = [...new Set(PODS.map((p) => p.namespace))].map(namespaceObject).concat(PODS.map((p) => podObject(p, ips.get(key(p)))), [nodeObject('veth-policy-routing')], policies);
  const r = readObjects(JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const m = matrix(r.model, [WEB_PORT]);
  const out: Record<string, boolean> = {};
  for (const s of PODS) for (const d of PODS) if (s !== d) out[matrixKey(key(s), key(d), WEB_PORT)] = m[matrixKey(key(s), key(d), WEB_PORT)] === true;
  return out;
}
