/** Does one rule's peer list and port list match a connection (R12, R13, R16, R17)? Pure. */
import { cidrHas, type Ip } from './ip.js';
import { selectorMatches } from './selector.js';
import type { NetworkPolicy, Peer, Pod, PolicyModel, PolicyPort, PolicyRule, Protocol } from './types.js';

/** The other end of the connection as a rule sees it: a pod of the model and/or an address. */
export interface Remote {
  /** A pod of the model that is not hostNetwork; undefined for external IPs, nodes and hostNetwork pods. */
  readonly pod: Pod | undefined;
  /** The address in the connection's family; undefined when unknown (a pod without an IP yet). */
  readonly ip: Ip | undefined;
}

function ipBlockMatches(peer: Extract<Peer, { kind: 'ipBlock' }>, ip: Ip | undefined): boolean {
  if (ip === undefined || !cidrHas(peer.ipBlock.block, ip)) return false;
  return !peer.ipBlock.exceptBlocks.some((b) => cidrHas(b, ip));
}

export function peerMatches(model: PolicyModel, policy: NetworkPolicy, peer: Peer, remote: Remote): boolean {
  if (peer.kind === 'ipBlock') return ipBlockMatches(peer, remote.ip);
  const pod = remote.pod;
  if (pod === undefined) return false; // selectors never match non-pod addresses (R13)
  if (peer.namespaceSelector === undefined) {
    if (pod.namespace !== policy.namespace) return false;
  } else {
    const ns = model.namespaces.get(pod.namespace);
    if (ns === undefined || !selectorMatches(peer.namespaceSelector, ns.labels)) return false;
  }
  return peer.podSelector === undefined || selectorMatches(peer.podSelector, pod.labels);
}

/** `dst` resolves named ports (R17): the destination pod's container ports, name and protocol equal. */
export function portMatches(entry: PolicyPort, port: number, protocol: Protocol, dst: Pod | undefined): boolean {
  if (entry.protocol !== protocol) return false;
  if (entry.port === undefined) return true;
  if (typeof entry.port === 'number') return entry.endPort === undefined ? port === entry.port : port >= entry.port && port <= entry.endPort;
  const name = entry.port;
  return dst !== undefined && dst.namedPorts.some((n) => n.name === name && n.protocol === protocol && n.port === port);
}

export interface RuleMatch {
  /** Index of the first matching peer (-1: none); undefined when the rule has no peers (any peer). */
  readonly peerIndex: number | undefined;
  readonly portIndex: number | undefined;
  readonly peerOk: boolean;
  readonly portOk: boolean;
}

export function matchRule(model: PolicyModel, policy: NetworkPolicy, rule: PolicyRule, remote: Remote, port: number, protocol: Protocol, dst: Pod | undefined): RuleMatch {
  const peerIndex = rule.peers.length === 0 ? undefined : rule.peers.findIndex((p) => peerMatches(model, policy, p, remote));
  const portIndex = rule.ports.length === 0 ? undefined : rule.ports.findIndex((p) => portMatches(p, port, protocol, dst));
  return { peerIndex, portIndex, peerOk: peerIndex === undefined || peerIndex >= 0, portOk: portIndex === undefined || portIndex >= 0 };
}

/** Policies of the pod's namespace whose podSelector selects it and whose policyTypes hold the direction (R1, R7). */
export function isolatingPolicies(model: PolicyModel, pod: Pod, direction: 'ingress' | 'egress'): NetworkPolicy[] {
  return model.policies.filter((p) => p.namespace === pod.namespace && p.policyTypes[direction] && selectorMatches(p.podSelector, pod.labels));
}
