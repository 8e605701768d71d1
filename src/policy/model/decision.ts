/**
 * The evaluator's answer, shaped after Calico Goldmane's PolicyTrace: per direction, the policies that isolate the
 * pod, the rules that admitted the connection (`PolicyHit` with action Allow, policy and rule index), or one
 * `EndOfTier` Deny hit whose trigger is the first isolating policy; plus, per rule that did not admit, which clause
 * failed (peer, port, or both).
 */
import type { Direction, Protocol } from './types.js';

export interface PolicyRef {
  readonly namespace: string;
  readonly name: string;
}

export interface PolicyHit {
  readonly kind: 'NetworkPolicy' | 'EndOfTier';
  readonly action: 'Allow' | 'Deny';
  /** The admitting policy; for EndOfTier the trigger (first isolating policy, by namespace/name). */
  readonly policy: PolicyRef;
  /** Index of the policy among those isolating the pod in this direction (sorted by namespace/name). */
  readonly policyIndex: number;
  /** Index in spec.ingress / spec.egress; -1 for EndOfTier. */
  readonly ruleIndex: number;
  /** `ingress[2]`, `egress[0]`; empty for EndOfTier. */
  readonly rule: string;
  /** The `from`/`to` element that matched; undefined when the rule has no peers (any peer). */
  readonly peerIndex: number | undefined;
  /** The `ports` element that matched; undefined when the rule has no ports (any port). */
  readonly portIndex: number | undefined;
}

export interface RuleMiss {
  readonly policy: PolicyRef;
  readonly rule: string;
  readonly failed: 'peer' | 'port' | 'peer and port';
}

export type VerdictReason =
  /** This end is not a pod of the model (external IP, node): NetworkPolicy does not apply to it. */
  | 'not-a-pod'
  /** hostNetwork pods are never isolated (R19). */
  | 'host-network'
  /** No policy selects the pod for this direction (R7). */
  | 'not-isolated'
  /** A pod cannot block access to itself (R7). */
  | 'same-pod'
  /** Ingress from the destination pod's own node is always allowed (R7: kubelet probes). */
  | 'from-own-node'
  | 'allowed-by-policy'
  /** Isolated and no rule of any isolating policy admits the connection. */
  | 'no-rule-admits';

export interface Verdict {
  readonly direction: Direction;
  /** The end this side judges: the source for egress, the destination for ingress (`ns/pod` or an IP). */
  readonly subject: string;
  readonly isolated: boolean;
  readonly allowed: boolean;
  readonly reason: VerdictReason;
  readonly isolatedBy: readonly PolicyRef[];
  readonly hits: readonly PolicyHit[];
  readonly misses: readonly RuleMiss[];
}

export interface Decision {
  readonly allowed: boolean;
  readonly src: string;
  readonly dst: string;
  readonly port: number;
  readonly protocol: Protocol;
  /** The address family the connection was judged in (ipBlock matching uses addresses of this family). */
  readonly family: 4 | 6;
  readonly egress: Verdict;
  readonly ingress: Verdict;
}
