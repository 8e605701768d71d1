/**
 * The builtin backend's compiler: a PolicyModel and the pods of one scope → one nftables script applied atomically
 * with `nft -f` (the table is created, deleted and recreated in the same transaction).
 *
 * Scopes: `host` — the node's netns in the veth modes; a local pod is its host-side veth: traffic to the pod leaves
 * through it (`oifname`, hook forward), traffic from it enters through it (`iifname`, hooks forward and input).
 * `pod` — a table inside the pod's own netns (ipvlan, exclusive ENI: the host never sees that traffic): ingress is
 * `input` on the pod's interface, egress `output`.
 *
 * Egress is judged in base chains at priority `filter - 1`, ingress at `filter`: an `accept` ends only its own base
 * chain, so pod → pod traffic on one node passes the source's egress and then the destination's ingress (R9).
 * Established and related packets are accepted first (R10); pods no policy isolates are untouched (R7); ingress
 * from the node's own addresses is always accepted (R7, kubelet probes). Deterministic output. Pure.
 */
import { InvalidInputError } from '../../lib/errors.js';
import { formatIp, parseIpAddr } from '../model/ip.js';
import { isolatingPolicies } from '../model/rule-match.js';
import { podKey, type Direction, type NetworkPolicy, type Pod, type PolicyModel } from '../model/types.js';
import { comment, renderChain, renderSet, SetPool, type Chain } from './nft-text.js';
import { compilePolicyChain, peerResolver } from './policy-chain.js';

import { HOST_TABLE, POD_TABLE } from './tables.js';

export interface LocalPod {
  /** `namespace/name` of a pod of the model. */
  readonly pod: string;
  /** host scope: the pod's host-side veth; pod scope: the pod's interface inside its netns. */
  readonly ifname: string;
}

export type CompileScope =
  | { readonly kind: 'host'; readonly pods: readonly LocalPod[] }
  | { readonly kind: 'pod'; readonly pod: LocalPod };

export interface CompileInput {
  readonly model: PolicyModel;
  /** The node this scope runs on: its addresses (model.nodes) are always admitted (R7). */
  readonly nodeName: string;
  readonly scope: CompileScope;
}

export interface PodIsolation {
  readonly pod: string;
  readonly ifname: string;
  readonly ingress: readonly string[];
  readonly egress: readonly string[];
}

export interface CompiledRuleset {
  /** `inet terway-hub` or `inet terway-hub-pod`. */
  readonly table: string;
  readonly text: string;
  /** Rules (not counting set elements), sets, and set elements: the size figures. */
  readonly rules: number;
  readonly sets: number;
  readonly elements: number;
  /** Local pods with at least one isolated direction, with the isolating policies. */
  readonly isolated: readonly PodIsolation[];
  /** Local pods not in the model (nothing programmed for them). */
  readonly unknown: readonly string[];
}

const IFNAME = /^[A-Za-z0-9_.@:-]{1,15}$/u;
const SHORT: Readonly<Record<Direction, string>> = { ingress: 'in', egress: 'eg' };

export function compileRuleset(input: CompileInput): CompiledRuleset {
  const { model, scope } = input;
  const locals = scope.kind === 'host' ? scope.pods : [scope.pod];
  const byKey = new Map(model.pods.map((p) => [podKey(p), p]));
  const policyIndex = new Map<NetworkPolicy, number>(model.policies.map((p, i) => [p, i]));
  const seen = new Set<string>();
  const unknown: string[] = [];
  const members: { pod: Pod; local: LocalPod; ingress: NetworkPolicy[]; egress: NetworkPolicy[] }[] = [];
  for (const local of [...locals].sort((a, b) => (a.ifname < b.ifname ? -1 : a.ifname > b.ifname ? 1 : 0))) {
    if (!IFNAME.test(local.ifname)) throw new InvalidInputError('ifname', `not an interface name: ${JSON.stringify(local.ifname)}`);
    if (seen.has(local.ifname)) throw new InvalidInputError('ifname', `${local.ifname} given for two pods`);
    seen.add(local.ifname);
    const pod = byKey.get(local.pod);
    if (pod === undefined) {
      unknown.push(local.pod);
      continue;
    }
    if (pod.hostNetwork) continue;
    const ingress = isolatingPolicies(model, pod, 'ingress');
    const egress = isolatingPolicies(model, pod, 'egress');
    if (ingress.length > 0 || egress.length > 0) members.push({ pod, local, ingress, egress });
  }

  const peers = peerResolver(model);
  const pool = new SetPool();
  const chains: Chain[] = [];
  const policyChains = new Map<string, string>();
  const protectedBy = (policy: NetworkPolicy): Pod[] => members.filter((m) => m.ingress.includes(policy)).map((m) => m.pod);
  const policyChain = (policy: NetworkPolicy, direction: Direction): string => {
    const name = `np${String(policyIndex.get(policy))}_${SHORT[direction]}`;
    if (!policyChains.has(name)) {
      policyChains.set(name, name);
      const destinations = direction === 'ingress' ? protectedBy(policy) : peers.pods;
      chains.push({ name, hook: undefined, rules: compilePolicyChain(policy, direction, name, destinations, peers, pool) });
    }
    return name;
  };

  const nodeIps = (model.nodes.get(input.nodeName)?.ips ?? []).map(parseIpAddr).filter((ip) => ip !== undefined);
  const node4 = [...new Set(nodeIps.filter((ip) => ip.family === 4).map((ip) => ip.value))];
  const node6 = [...new Set(nodeIps.filter((ip) => ip.family === 6).map((ip) => ip.value))];
  const fromNode: string[] = [];
  for (const [family, values] of [[4, node4], [6, node6]] as const) {
    if (values.length === 0) continue;
    const name = pool.intern({ name: `node_v${String(family)}`, type: family === 4 ? 'ipv4_addr' : 'ipv6_addr', interval: false, elements: values.sort((a, b) => (a < b ? -1 : 1)).map((value) => formatIp({ family, value })) });
    fromNode.push(`${family === 4 ? 'ip' : 'ip6'} saddr @${name} accept ${comment('from the node (kubelet probes)')}`);
  }

  const vmap: Record<Direction, string[]> = { ingress: [], egress: [] };
  members.forEach((m, j) => {
    for (const direction of ['ingress', 'egress'] as const) {
      const policies = m[direction];
      if (policies.length === 0) continue;
      const name = `pod${String(j)}_${SHORT[direction]}`;
      const who = podKey(m.pod);
      const rules = [
        'ct state invalid drop',
        ...(direction === 'ingress' ? fromNode : []),
        ...policies.map((p) => `jump ${policyChain(p, direction)} ${comment(`${p.namespace}/${p.name}`)}`),
        `drop ${comment(`${who} ${direction} isolated by ${policies.map((p) => `${p.namespace}/${p.name}`).join(', ')}`)}`,
      ];
      chains.push({ name, hook: undefined, rules });
      vmap[direction].push(`"${m.local.ifname}" : jump ${name}`);
    }
  });

  const maps = (['ingress', 'egress'] as const).map((d) => `\tmap ${d}_pods { type ifname : verdict;${vmap[d].length === 0 ? '' : ` elements = { ${vmap[d].join(', ')} };`} }`);
  const base = (name: string, hook: string, priority: string, key: string, map: string): Chain => ({
    name,
    hook: `type filter hook ${hook} priority ${priority}; policy accept;`,
    rules: ['ct state established,related accept', `${key} vmap @${map}`],
  });
  const baseChains: Chain[] = scope.kind === 'host'
    ? [base('egress_forward', 'forward', 'filter - 1', 'iifname', 'egress_pods'), base('egress_input', 'input', 'filter - 1', 'iifname', 'egress_pods'), base('ingress_forward', 'forward', 'filter', 'oifname', 'ingress_pods')]
    : [base('egress_output', 'output', 'filter - 1', 'oifname', 'egress_pods'), base('ingress_input', 'input', 'filter', 'iifname', 'ingress_pods')];

  const table = `inet ${scope.kind === 'host' ? HOST_TABLE : POD_TABLE}`;
  const all = [...baseChains, ...chains];
  const text = [
    `table ${table}`,
    `delete table ${table}`,
    `table ${table} {`,
    ...pool.sets.map(renderSet),
    ...maps,
    ...all.map(renderChain),
    '}',
    '',
  ].join('\n');
  return {
    table,
    text,
    rules: all.reduce((n, c) => n + c.rules.length, 0),
    sets: pool.sets.length + maps.length,
    elements: pool.sets.reduce((n, s) => n + s.elements.length, 0) + vmap.ingress.length + vmap.egress.length,
    isolated: members.map((m) => ({ pod: podKey(m.pod), ifname: m.local.ifname, ingress: m.ingress.map((p) => `${p.namespace}/${p.name}`), egress: m.egress.map((p) => `${p.namespace}/${p.name}`) })),
    unknown,
  };
}
