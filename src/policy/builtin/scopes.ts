/**
 * Where the builtin backend's rules go for the node's attachments (pure): a pod of a veth mode is its host veth in
 * the host table (the name is deterministic, so the rule exists before the link does); a pod of ipvlan or eni owns
 * its link, so it gets a table inside its own netns on its interface. Also the model the node enforces: the live
 * model with the node's just-allocated pods laid over it (their IP is not in the API yet when their ADD runs).
 */
import { podIdentity, vethName } from '../../lib/veth-name.js';
import type { ModeName } from '../../modes/types.js';
import { buildModel } from '../model/build.js';
import { podKey, type Pod, type PolicyModel } from '../model/types.js';
import type { LocalPod } from './compile.js';

/** One pod attachment of this node (a lease with a Kubernetes pod name). */
export interface LocalAttachment {
  readonly podNamespace: string;
  readonly podName: string;
  readonly containerId: string;
  readonly ifName: string;
  readonly netns: string;
  readonly mode: ModeName;
}

export interface PodScope {
  readonly netns: string;
  readonly pod: LocalPod;
}

export interface ScopePlan {
  readonly host: readonly LocalPod[];
  readonly pods: readonly PodScope[];
}

const HOST_SCOPED: readonly ModeName[] = ['vpc', 'veth-policy-routing'];

export function isHostScoped(mode: ModeName): boolean {
  return HOST_SCOPED.includes(mode);
}

/** The host veth of a veth-mode attachment (what the plugin names it: src/modes/common/veth.ts). */
export function hostIfnameOf(a: LocalAttachment, vethPrefix: string): string {
  return vethName(vethPrefix, podIdentity(a.podNamespace, a.podName, a.containerId), a.ifName);
}

export function scopesOf(attachments: readonly LocalAttachment[], vethPrefix: string): ScopePlan {
  const host: LocalPod[] = [];
  const pods: PodScope[] = [];
  const seen = new Set<string>();
  for (const a of attachments) {
    if (a.podName === '') continue;
    const pod = `${a.podNamespace}/${a.podName}`;
    if (isHostScoped(a.mode)) {
      const ifname = hostIfnameOf(a, vethPrefix);
      if (seen.has(ifname)) continue; // two sandboxes of one pod share the host name: the newest owns the link
      seen.add(ifname);
      host.push({ pod, ifname });
    } else {
      pods.push({ netns: a.netns, pod: { pod, ifname: a.ifName } });
    }
  }
  return { host, pods };
}

/**
 * The model with `local` pods laid over it: a pod the model lacks is added; a pod the model has without an IP gets
 * the local one's IPs. A pod the model has with IPs is the model's (the API is the truth once it knows the IP).
 */
export function overlayPods(model: PolicyModel, local: readonly Pod[]): PolicyModel {
  if (local.length === 0) return model;
  const byKey = new Map(model.pods.map((p) => [podKey(p), p]));
  let changed = false;
  for (const l of local) {
    const have = byKey.get(podKey(l));
    if (have !== undefined && have.ips.length > 0) continue;
    byKey.set(podKey(l), have === undefined ? l : { ...have, ips: l.ips });
    changed = true;
  }
  if (!changed) return model;
  return buildModel({ namespaces: [...model.namespaces.values()], pods: [...byKey.values()], policies: model.policies, nodes: [...model.nodes.values()] });
}
