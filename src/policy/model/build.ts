/**
 * Assembles a PolicyModel from parsed objects: sorts pods and policies, synthesizes a Namespace for every namespace
 * a pod or policy lives in whose object is absent (labels: only kubernetes.io/metadata.name, R15), and merges node
 * addresses from Node objects and from pods' status.hostIP(s).
 */
import { namespaceOf } from './parse-namespace.js';
import type { Namespace, NetworkPolicy, Node, Pod, PolicyModel } from './types.js';

export interface ModelInput {
  readonly namespaces?: readonly Namespace[];
  readonly pods?: readonly Pod[];
  readonly policies?: readonly NetworkPolicy[];
  readonly nodes?: readonly Node[];
}

function byKey(a: { readonly namespace: string; readonly name: string }, b: { readonly namespace: string; readonly name: string }): number {
  return a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function buildModel(input: ModelInput): PolicyModel {
  const namespaces = new Map<string, Namespace>();
  for (const ns of input.namespaces ?? []) namespaces.set(ns.name, namespaceOf(ns.name, ns.labels, ns.synthesized));
  const pods = [...(input.pods ?? [])].sort(byKey);
  const policies = [...(input.policies ?? [])].sort(byKey);
  for (const owner of [...pods, ...policies]) {
    if (!namespaces.has(owner.namespace)) namespaces.set(owner.namespace, namespaceOf(owner.namespace));
  }
  const nodes = new Map<string, Node>();
  for (const n of input.nodes ?? []) {
    const prev = nodes.get(n.name)?.ips ?? [];
    nodes.set(n.name, { name: n.name, ips: [...prev, ...n.ips.filter((ip) => !prev.includes(ip))] });
  }
  return { namespaces: new Map([...namespaces.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), pods, policies, nodes };
}
