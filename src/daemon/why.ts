/**
 * `terway-hub why NAMESPACE/POD` on the daemon's side: the answer from its live state, first match wins —
 *  1. an allocation under way, or one that failed lately: its reason (./waits.ts);
 *  2. the pod holds a lease: not waiting (its IP, since when);
 *  3. the pod is bound to this node (informer) without an IP: no ADD has come yet — `config-refused` when the node's
 *     cluster config is refused meanwhile (the operator's first suspect), else `no-add-yet`; a host-network pod
 *     waits for nothing;
 *  4. none of these: unknown.
 * Node-wide facts that bear on every pod (a refused cluster config, a NetworkPolicy backend not ready) go into
 * `notes`. Pure over its sources.
 */
import { isoOf } from '../lib/clock.js';
import type { PodInfo } from '../k8s/types.js';
import type { WhyReason, WhyReply, WhyRequest } from '../rpc/protocol.js';
import type { Lease } from '../store/lease.js';
import type { WaitInfo } from './wait-reasons.js';

export interface WhySources {
  /** The registry's reason for the pod (./waits.ts `reason`). */
  readonly wait: (namespace: string, name: string) => WaitInfo | undefined;
  readonly leases: (namespace: string, name: string) => readonly Lease[];
  /** The pod as this node's informer knows it (absent without Kubernetes). */
  readonly pod?: (namespace: string, name: string) => PodInfo | undefined;
  readonly configError: () => string | undefined;
  readonly policyNotReady: () => string | undefined;
  /** The mode the node runs now. */
  readonly mode: () => string;
}


export function whyReply(req: WhyRequest, s: WhySources, now: number): WhyReply {
  const pod = `${req.namespace}/${req.name}`;
  const configError = s.configError();
  const policy = s.policyNotReady();
  const notes = [
    ...(configError !== undefined ? [`the node's cluster config is refused (the last good config, mode ${s.mode()}, serves): ${configError}`] : []),
    ...(policy !== undefined ? [`NetworkPolicy: ${policy}`] : []),
  ];
  const wait = s.wait(req.namespace, req.name);
  if (wait !== undefined) return { pod, known: true, waiting: true, reason: reasonOf(wait), notes };
  const lease = [...s.leases(req.namespace, req.name)].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))[0];
  if (lease !== undefined) return { pod, known: true, waiting: false, ip: lease.allocation.ip, since: lease.createdAt, notes };
  const info = s.pod?.(req.namespace, req.name);
  if (info === undefined || info.deletionTimestamp !== undefined) return { pod, known: false, waiting: false, notes };
  if (info.hostNetwork) return { pod, known: true, waiting: false, notes: ['the pod uses the host network: it gets no pod IP', ...notes] };
  if (info.podIp !== undefined && info.podIp !== '') return { pod, known: true, waiting: false, ip: info.podIp, notes: ['the IP is the pod status\'s: this node holds no lease for the pod', ...notes] };
  const reason: WaitInfo =
    configError !== undefined
      ? { kind: 'config-refused', text: `no CNI ADD has come for this pod yet, and the node's cluster config is refused: ${configError} (new pods get the last good config, mode ${s.mode()})`, since: now, detail: { error: configError } }
      : { kind: 'no-add-yet', text: 'bound to this node, but no CNI ADD has come for it yet (the kubelet has not created its sandbox)', since: now, detail: {} };
  return { pod, known: true, waiting: true, reason: reasonOf(reason), notes };
}

function reasonOf(w: WaitInfo): WhyReason {
  return { kind: w.kind, text: w.text, since: isoOf(w.since), ...(w.retryAt !== undefined ? { retryAt: isoOf(w.retryAt) } : {}), detail: w.detail };
}
