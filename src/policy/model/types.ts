/**
 * The NetworkPolicy model: Namespaces, Pods, Nodes and NetworkPolicies after parsing and after the API server's
 * defaulting (policyTypes, protocol TCP, empty podSelector). Pure data; the evaluator (decide.ts) reads only this.
 */
import type { CidrBlock } from './ip.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

export type Labels = Readonly<Record<string, string>>;

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

/** A present label selector; an absent one is `undefined` where the API distinguishes the two. `{}` matches all. */
export interface LabelSelector {
  readonly matchLabels: Labels;
  readonly matchExpressions: readonly LabelRequirement[];
}

/** The label the control plane sets on every namespace (R15); the model always sets it. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface Namespace {
  readonly name: string;
  /** Always holds `kubernetes.io/metadata.name: <name>`. */
  readonly labels: Labels;
  /** True when the Namespace object was not in the input and the model made one up (only the name label). */
  readonly synthesized: boolean;
}

export interface NamedPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: Protocol;
}

export interface Pod {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  /** status.podIPs (or status.podIP), canonical text, de-duplicated; empty while the pod has no IP yet. */
  readonly ips: readonly string[];
  /** Named container ports (spec.containers[].ports[] with a name), in declaration order. */
  readonly namedPorts: readonly NamedPort[];
  readonly nodeName: string | undefined;
  readonly hostNetwork: boolean;
}

export interface Node {
  readonly name: string;
  readonly ips: readonly string[];
}

export interface IpBlock {
  /** As written in the object. */
  readonly cidr: string;
  readonly except: readonly string[];
  /** Parsed (host bits cleared); each except block is a strict subnet of `block`, same family (R6). */
  readonly block: CidrBlock;
  readonly exceptBlocks: readonly CidrBlock[];
}

/**
 * One `from`/`to` element. `pods`: podSelector and/or namespaceSelector (both present = AND); an absent
 * namespaceSelector means "the policy's namespace", an absent podSelector means "all pods" of the selected
 * namespaces. `ipBlock`: addresses in cidr minus except.
 */
export type Peer =
  | { readonly kind: 'pods'; readonly podSelector: LabelSelector | undefined; readonly namespaceSelector: LabelSelector | undefined }
  | { readonly kind: 'ipBlock'; readonly ipBlock: IpBlock };

/** A port entry after defaulting: protocol always set; `port` absent = every port of the protocol. */
export interface PolicyPort {
  readonly protocol: Protocol;
  readonly port: number | string | undefined;
  readonly endPort: number | undefined;
}

/** An ingress or egress rule. Empty `peers` = any peer; empty `ports` = any port (R12). */
export interface PolicyRule {
  readonly peers: readonly Peer[];
  readonly ports: readonly PolicyPort[];
}

export type Direction = 'ingress' | 'egress';

export interface NetworkPolicy {
  readonly namespace: string;
  readonly name: string;
  readonly podSelector: LabelSelector;
  /** After defaulting (R3): ingress always unless policyTypes says otherwise; egress iff egress rules exist. */
  readonly policyTypes: { readonly ingress: boolean; readonly egress: boolean };
  readonly ingress: readonly PolicyRule[];
  readonly egress: readonly PolicyRule[];
}

export interface PolicyModel {
  /** By name; every namespace a pod or policy lives in is present (synthesized when its object was absent). */
  readonly namespaces: ReadonlyMap<string, Namespace>;
  /** Sorted by namespace, then name. */
  readonly pods: readonly Pod[];
  /** Sorted by namespace, then name. */
  readonly policies: readonly NetworkPolicy[];
  /** By name: the addresses traffic "from the node" comes from. */
  readonly nodes: ReadonlyMap<string, Node>;
}

export function podKey(p: { readonly namespace: string; readonly name: string }): string {
  return `${p.namespace}/${p.name}`;
}
