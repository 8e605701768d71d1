/**
 * The one evaluator (R7–R17): is a connection src → dst:port/protocol allowed? Both ends must allow (R9): the
 * source pod's egress and the destination pod's ingress, each the union of its isolating policies (R8).
 */
import { InvalidInputError } from '../../lib/errors.js';
import type { Decision, PolicyHit, PolicyRef, RuleMiss, Verdict } from './decision.js';
import { addressOf, connectionFamily, podIndex, resolveEnd, type Endpoint, type ResolvedEnd } from './endpoint.js';
import { formatIp, parseIpAddr, type Family } from './ip.js';
import { isolatingPolicies, matchRule, type Remote } from './rule-match.js';
import { PROTOCOLS, podKey, type Direction, type NetworkPolicy, type Pod, type PolicyModel, type Protocol } from './types.js';

function ref(p: { readonly namespace: string; readonly name: string }): PolicyRef {
  return { namespace: p.namespace, name: p.name };
}

function plain(direction: Direction, subject: string, reason: Verdict['reason'], isolatedBy: readonly PolicyRef[] = []): Verdict {
  return { direction, subject, isolated: isolatedBy.length > 0, allowed: true, reason, isolatedBy, hits: [], misses: [] };
}

type Isolating = (pod: Pod, direction: Direction) => readonly NetworkPolicy[];

/** Judges one isolated-or-not side: `self` is the pod the policies protect, `remote` the other end. */
function judge(model: PolicyModel, isolating: Isolating, direction: Direction, self: Pod, remote: Remote, port: number, protocol: Protocol, dst: Pod | undefined): Verdict {
  const subject = podKey(self);
  const policies = isolating(self, direction);
  const isolatedBy = policies.map(ref);
  if (policies.length === 0) return plain(direction, subject, 'not-isolated');
  const hits: PolicyHit[] = [];
  const misses: RuleMiss[] = [];
  policies.forEach((policy, policyIndex) => {
    policy[direction].forEach((rule, ruleIndex) => {
      const m = matchRule(model, policy, rule, remote, port, protocol, dst);
      const name = `${direction}[${String(ruleIndex)}]`;
      if (m.peerOk && m.portOk) {
        hits.push({ kind: 'NetworkPolicy', action: 'Allow', policy: ref(policy), policyIndex, ruleIndex, rule: name, peerIndex: m.peerIndex, portIndex: m.portIndex });
      } else {
        misses.push({ policy: ref(policy), rule: name, failed: !m.peerOk && !m.portOk ? 'peer and port' : m.peerOk ? 'port' : 'peer' });
      }
    });
  });
  if (hits.length > 0) return { direction, subject, isolated: true, allowed: true, reason: 'allowed-by-policy', isolatedBy, hits, misses };
  const trigger = isolatedBy[0] ?? ref(self);
  const deny: PolicyHit = { kind: 'EndOfTier', action: 'Deny', policy: trigger, policyIndex: -1, ruleIndex: -1, rule: '', peerIndex: undefined, portIndex: undefined };
  return { direction, subject, isolated: true, allowed: false, reason: 'no-rule-admits', isolatedBy, hits: [deny], misses };
}

function remoteOf(end: ResolvedEnd, family: Family): Remote {
  return { pod: end.pod?.hostNetwork === true ? undefined : end.pod, ip: addressOf(end, family) };
}

/** Traffic from the node `pod` runs on: a node address, or a hostNetwork pod on that node (R7, R19). */
function fromOwnNode(model: PolicyModel, src: ResolvedEnd, pod: Pod, family: Family): boolean {
  if (pod.nodeName === undefined) return false;
  if (src.pod?.hostNetwork === true && src.pod.nodeName === pod.nodeName) return true;
  const ip = src.pod === undefined ? src.givenIp : undefined;
  if (ip === undefined) return false;
  const node = model.nodes.get(pod.nodeName);
  return (node?.ips ?? []).some((a) => {
    const n = parseIpAddr(a);
    return n !== undefined && n.family === family && n.value === ip.value;
  });
}

export interface Evaluator {
  decide(from: Endpoint, to: Endpoint, port: number, protocol: Protocol): Decision;
}

/** An evaluator over one model: pods indexed by key, each pod's isolating policies computed once. */
export function createEvaluator(model: PolicyModel): Evaluator {
  const index = podIndex(model);
  const memo = new Map<Pod, { ingress?: readonly NetworkPolicy[]; egress?: readonly NetworkPolicy[] }>();
  const isolating: Isolating = (pod, direction) => {
    const entry = memo.get(pod) ?? {};
    memo.set(pod, entry);
    return (entry[direction] ??= isolatingPolicies(model, pod, direction));
  };
  return {
    decide(from, to, port, protocol) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidInputError('port', `must be 1..65535; got ${String(port)}`);
      if (!PROTOCOLS.includes(protocol)) throw new InvalidInputError('protocol', `must be TCP, UDP or SCTP (R18); got ${protocol as string}`);
      const src = resolveEnd(model, index, from, 'from');
      const dst = resolveEnd(model, index, to, 'to');
      const family = connectionFamily(src, dst);
      const srcText = src.givenIp !== undefined && src.pod === undefined ? formatIp(src.givenIp) : src.text;
      const dstText = dst.givenIp !== undefined && dst.pod === undefined ? formatIp(dst.givenIp) : dst.text;
      const done = (egress: Verdict, ingress: Verdict): Decision => ({ allowed: egress.allowed && ingress.allowed, src: srcText, dst: dstText, port, protocol, family, egress, ingress });

      if (src.pod !== undefined && src.pod === dst.pod) {
        return done(plain('egress', srcText, 'same-pod'), plain('ingress', dstText, 'same-pod'));
      }
      const dstPod = dst.pod;
      let egress: Verdict;
      if (src.pod === undefined) egress = plain('egress', srcText, 'not-a-pod');
      else if (src.pod.hostNetwork) egress = plain('egress', srcText, 'host-network');
      else egress = judge(model, isolating, 'egress', src.pod, remoteOf(dst, family), port, protocol, dstPod?.hostNetwork === true ? undefined : dstPod);

      let ingress: Verdict;
      if (dstPod === undefined) ingress = plain('ingress', dstText, 'not-a-pod');
      else if (dstPod.hostNetwork) ingress = plain('ingress', dstText, 'host-network');
      else if (fromOwnNode(model, src, dstPod, family)) ingress = plain('ingress', dstText, 'from-own-node', isolating(dstPod, 'ingress').map(ref));
      else ingress = judge(model, isolating, 'ingress', dstPod, remoteOf(src, family), port, protocol, dstPod);
      return done(egress, ingress);
    },
  };
}

/** One connection against a model; for many, reuse `createEvaluator(model)`. */
export function decide(model: PolicyModel, from: Endpoint, to: Endpoint, port: number, protocol: Protocol): Decision {
  return createEvaluator(model).decide(from, to, port, protocol);
}
