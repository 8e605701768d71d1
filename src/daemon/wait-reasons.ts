/**
 * What a pod's network waits for, pure: the classified reasons `terway-hub why` prints and the pod's `AllocIPWaiting`
 * event names. An allocation under way waits in one phase (the pod's facts, an address from the pool — whose own
 * reason comes from src/pool/wait-reason.ts —, the ENI's host setup, the NetworkPolicy backend's rules, the lease's
 * write); an allocation that failed leaves the reason the kubelet's retried ADD will meet again (a bad annotation, a
 * backend not ready, no IP left, the config refused). Also: when the event is posted again.
 */
import { ConfigError, ExhaustedError, HubError, InvalidInputError, BusyError, ConflictError, errorMessage } from '../lib/errors.js';
import type { PoolWaitKind, PoolWaitReason } from '../pool/wait-reason.js';
import { isBandwidthAnnotationError } from './k8s/reporter.js';

export type WaitKind =
  | PoolWaitKind
  | 'pod-lookup'
  | 'eni-setup'
  | 'backend-not-ready'
  | 'storing'
  | 'bad-annotation'
  | 'config-refused'
  | 'ip-exhausted'
  | 'add-failed'
  | 'no-add-yet';

/** Where an allocation under way is. */
export type AllocationPhase = 'pod-lookup' | 'address' | 'eni-setup' | 'policy' | 'storing';

export interface WaitInfo {
  readonly kind: WaitKind;
  readonly text: string;
  /** Epoch ms. */
  readonly since: number;
  readonly retryAt?: number;
  readonly detail: Readonly<Record<string, string>>;
}

/** The reason of an allocation in `phase` since `since`; `pool` is the address source's own reason (phase `address`). */
export function phaseReason(phase: AllocationPhase, since: number, pool: PoolWaitReason | undefined, policyNotReady: string | undefined): WaitInfo {
  switch (phase) {
    case 'pod-lookup':
      return { kind: 'pod-lookup', text: 'reading the pod from the Kubernetes API (annotations, host network, stickiness)', since, detail: {} };
    case 'address':
      if (pool === undefined) return { kind: 'pool-empty', text: 'waiting for an address from the node\'s pool', since, detail: {} };
      return { kind: pool.kind, text: pool.text, since: pool.since ?? since, ...(pool.retryAt !== undefined ? { retryAt: pool.retryAt } : {}), detail: pool.detail };
    case 'eni-setup':
      return { kind: 'eni-setup', text: 'setting up the granted ENI on the host (link up, routes)', since, detail: {} };
    case 'policy':
      return { kind: 'backend-not-ready', text: `programming the pod's NetworkPolicy rules${policyNotReady !== undefined ? ` (${policyNotReady})` : ''}`, since, detail: policyNotReady !== undefined ? { policy: policyNotReady } : {} };
    case 'storing':
      return { kind: 'storing', text: 'writing the lease to disk', since, detail: {} };
  }
}

/**
 * What a failed allocation leaves the pod waiting for (the kubelet retries the ADD and meets it again), or undefined
 * when the failure is no wait: a refusal of the request itself (host-network pod, a requested IP held by another),
 * or a concurrent duplicate.
 */
export function failureReason(error: unknown, phase: AllocationPhase, at: number, policyNotReady: string | undefined): WaitInfo | undefined {
  const msg = errorMessage(error);
  if (isBandwidthAnnotationError(error)) return { kind: 'bad-annotation', text: `bad annotation ${error.message}; fix it (the kubelet retries the ADD)`, since: at, detail: { annotation: error.path } };
  if (error instanceof BusyError || error instanceof InvalidInputError || error instanceof ConflictError) return undefined;
  if (phase === 'policy') return { kind: 'backend-not-ready', text: `NetworkPolicy backend not ready: ${policyNotReady ?? msg}; the ADD is refused until its rules are programmed`, since: at, detail: { error: msg, ...(policyNotReady !== undefined ? { policy: policyNotReady } : {}) } };
  if (error instanceof ExhaustedError) return { kind: 'ip-exhausted', text: `no IP: ${msg}`, since: at, detail: { error: msg } };
  if (error instanceof ConfigError) return { kind: 'config-refused', text: `refused by the configuration: ${msg}`, since: at, detail: { field: error.path } };
  return { kind: 'add-failed', text: `the last ADD failed (${error instanceof HubError ? error.code : 'internal'}): ${msg}`, since: at, detail: { error: msg } };
}

/** What the event compares: a new kind or new facts (not a new text: counts and clocks change it every second). */
export function eventKey(w: WaitInfo): string {
  return `${w.kind} ${JSON.stringify(Object.entries(w.detail).filter(([k]) => k !== 'ips' && k !== 'calls' && k !== 'error').sort(([a], [b]) => a.localeCompare(b)))}`;
}

/** The last event of a wait, to decide whether to post again. */
export interface Posted {
  readonly key: string;
  readonly at: number;
}

/** Post when the reason changed, and at most once per `repostMs` while it stays the same. */
export function shouldPost(prev: Posted | undefined, w: WaitInfo, now: number, repostMs: number): boolean {
  return prev === undefined || prev.key !== eventKey(w) || now - prev.at >= repostMs;
}

/** The `AllocIPWaiting` message: the reason's kind, then what it says. */
export function eventMessage(w: WaitInfo): string {
  return `waiting (${w.kind}): ${w.text}`;
}
