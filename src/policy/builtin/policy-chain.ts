/**
 * One NetworkPolicy direction compiled to a shared chain (`np<k>_in` / `np<k>_eg`): one or more `accept` rules per
 * spec rule, each commented `ns/name ingress[i]`. Peers become interval sets of addresses (selector peers resolved
 * to pod IPs now; ipBlock `cidr − except` as disjoint intervals); numeric ports, ranges (endPort) and protocol-only
 * entries a `meta l4proto . th dport` interval set; named ports `ip daddr . meta l4proto . th dport` elements
 * resolved on the destination pods (R17). A policy chain accepts or falls through; the pod chain ends in drop. Pure.
 */
import { parseIpAddr, type Family } from '../model/ip.js';
import { peerMatches } from '../model/rule-match.js';
import type { Direction, NetworkPolicy, Peer, Pod, PolicyModel, PolicyRule, Protocol } from '../model/types.js';
import { intervalElement, mergeIntervals, subtractBlocks, type Interval } from './intervals.js';
import { comment, protoName, type SetPool } from './nft-text.js';

export const FAMILIES: readonly Family[] = [4, 6];
const addrType = (f: Family): string => (f === 4 ? 'ipv4_addr' : 'ipv6_addr');
const addrKey = (f: Family): string => (f === 4 ? 'ip' : 'ip6');
const suffix = (f: Family): string => (f === 4 ? 'v4' : 'v6');

export function podAddresses(pod: Pod, family: Family): bigint[] {
  return pod.ips.flatMap((t) => {
    const ip = parseIpAddr(t);
    return ip?.family === family ? [ip.value] : [];
  });
}

/**
 * The pods a selector peer can name (not hostNetwork (R19), with an address), indexed by namespace, and the pods
 * each distinct selector peer resolves to, memoized: policies repeat the same peers.
 */
export interface PeerResolver {
  /** Every peerable pod (named-port destinations for egress). */
  readonly pods: readonly Pod[];
  podsOf(policy: NetworkPolicy, peer: Extract<Peer, { kind: 'pods' }>): readonly Pod[];
}

export function peerResolver(model: PolicyModel): PeerResolver {
  const pods = model.pods.filter((p) => !p.hostNetwork && p.ips.length > 0);
  const byNamespace = new Map<string, Pod[]>();
  for (const p of pods) byNamespace.set(p.namespace, [...(byNamespace.get(p.namespace) ?? []), p]);
  const memo = new Map<string, readonly Pod[]>();
  return {
    pods,
    podsOf(policy, peer) {
      const key = JSON.stringify([peer.namespaceSelector === undefined ? policy.namespace : '', peer.namespaceSelector, peer.podSelector]);
      let out = memo.get(key);
      if (out === undefined) {
        const candidates = peer.namespaceSelector === undefined ? (byNamespace.get(policy.namespace) ?? []) : pods;
        out = candidates.filter((pod) => peerMatches(model, policy, peer, { pod, ip: undefined }));
        memo.set(key, out);
      }
      return out;
    },
  };
}

/** Addresses the rule's peers admit, per family; undefined = any peer (R12). */
function peerIntervals(policy: NetworkPolicy, rule: PolicyRule, peers: PeerResolver, family: Family): Interval[] | undefined {
  if (rule.peers.length === 0) return undefined;
  const out: Interval[] = [];
  for (const peer of rule.peers) {
    if (peer.kind === 'ipBlock') {
      if (peer.ipBlock.block.family === family) out.push(...subtractBlocks(peer.ipBlock.block, peer.ipBlock.exceptBlocks));
      continue;
    }
    for (const pod of peers.podsOf(policy, peer)) out.push(...podAddresses(pod, family).map((v) => ({ lo: v, hi: v })));
  }
  return mergeIntervals(out);
}

/** `tcp . 80`, `udp . 5000-5010`, `sctp . 0-65535` (protocol only), merged per protocol. */
function portElements(rule: PolicyRule): string[] {
  const byProto = new Map<Protocol, Interval[]>();
  for (const p of rule.ports) {
    if (typeof p.port === 'string') continue;
    const lo = p.port ?? 0;
    const hi = p.port === undefined ? 65535 : (p.endPort ?? p.port);
    byProto.set(p.protocol, [...(byProto.get(p.protocol) ?? []), { lo: BigInt(lo), hi: BigInt(hi) }]);
  }
  return [...byProto.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).flatMap(([proto, list]) =>
    mergeIntervals(list).map((iv) => `${protoName(proto)} . ${iv.lo === iv.hi ? String(iv.lo) : `${String(iv.lo)}-${String(iv.hi)}`}`));
}

/** Per destination list (egress: every peerable pod, shared by all policies), per named entries and family. */
const namedMemo = new WeakMap<readonly Pod[], Map<string, string[]>>();

/** Named ports resolved on candidate destination pods: `10.0.0.5 . tcp . 8080`, sorted, unique. */
function namedElements(rule: PolicyRule, destinations: readonly Pod[], family: Family): string[] {
  const names = rule.ports.filter((p) => typeof p.port === 'string');
  if (names.length === 0) return [];
  const memo = namedMemo.get(destinations) ?? new Map<string, string[]>();
  namedMemo.set(destinations, memo);
  const key = JSON.stringify([family, names.map((n) => [n.port, n.protocol])]);
  const known = memo.get(key);
  if (known !== undefined) return known;
  const out = new Set<string>();
  for (const pod of destinations) {
    for (const entry of names) {
      for (const np of pod.namedPorts) {
        if (np.name !== entry.port || np.protocol !== entry.protocol) continue;
        for (const v of podAddresses(pod, family)) out.add(`${intervalElement({ lo: v, hi: v }, family)} . ${protoName(np.protocol)} . ${String(np.port)}`);
      }
    }
  }
  const sorted = [...out].sort();
  memo.set(key, sorted);
  return sorted;
}


/**
 * `destinations`: the pods named ports resolve on — for ingress the protected pods of this scope, for egress every
 * peerable pod of the model (the peer match then narrows to the rule's peers). Sets go to `pool` (shared, deduplicated);
 * returns the chain's rules.
 */
export function compilePolicyChain(policy: NetworkPolicy, direction: Direction, chain: string, destinations: readonly Pod[], peers: PeerResolver, pool: SetPool): string[] {
  const rules: string[] = [];
  const peerKey = direction === 'ingress' ? 'saddr' : 'daddr';
  policy[direction].forEach((rule, i) => {
    const base = `${chain}_${String(i)}`;
    const note = comment(`${policy.namespace}/${policy.name} ${direction}[${String(i)}]`);
    const ports = rule.ports.length === 0 ? undefined : portElements(rule);
    const portSet = ports !== undefined && ports.length > 0 ? pool.intern({ name: `${base}_ports`, type: 'inet_proto . inet_service', interval: true, elements: ports }) : '';
    const anyPeer = rule.peers.length === 0;
    // Port-only alternatives need no family when any peer is admitted.
    if (anyPeer && ports === undefined) rules.push(`accept ${note}`);
    if (anyPeer && ports !== undefined && ports.length > 0) rules.push(`meta l4proto . th dport @${portSet} accept ${note}`);
    for (const family of FAMILIES) {
      const admitted = peerIntervals(policy, rule, peers, family);
      if (admitted !== undefined && admitted.length === 0) continue;
      let peerMatch = '';
      if (admitted !== undefined) {
        const name = pool.intern({ name: `${base}_peers_${suffix(family)}`, type: addrType(family), interval: true, elements: admitted.map((iv) => intervalElement(iv, family)) });
        peerMatch = `${addrKey(family)} ${peerKey} @${name} `;
        if (ports === undefined) rules.push(`${peerMatch}accept ${note}`);
        if (ports !== undefined && ports.length > 0) rules.push(`${peerMatch}meta l4proto . th dport @${portSet} accept ${note}`);
      }
      if (ports === undefined) continue;
      const named = namedElements(rule, destinations, family);
      if (named.length === 0) continue;
      const namedSet = pool.intern({ name: `${base}_named_${suffix(family)}`, type: `${addrType(family)} . inet_proto . inet_service`, interval: false, elements: named });
      rules.push(`${peerMatch}${addrKey(family)} daddr . meta l4proto . th dport @${namedSet} accept ${note}`);
    }
  });
  return rules;
}
