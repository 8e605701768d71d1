/**
 * Why a pool cannot serve an allocation right now, pure: from a snapshot of what the pool knows (its calls in flight,
 * its inhibit windows, its pause after a failure and the last failure's kind), one classified reason — what `terway-hub
 * why` prints and what the pod's `AllocIPWaiting` event says. First match wins, most specific first:
 *
 *  1. the pool has not started (the cloud refused or did not answer its start);
 *  2. paused after a refused call (credentials, permissions: waiters fail meanwhile);
 *  3. throttled by the cloud (the last call failed with a throttling error and no call has succeeded since);
 *  4. a vSwitch out of addresses (or the account's IP quota), inhibited until T, failing over to another one;
 *  5. ENI creation paused after the instance's ENI quota was reached;
 *  6. paused after another transient failure (internal error, network);
 *  7. a new ENI being created and attached;
 *  8. IPs being assigned to attached ENIs;
 *  9. none of these: no idle IP, the next plan asks the cloud.
 */
import { isoOf } from '../lib/clock.js';
import type { FailureKind } from './types.js';

export type PoolWaitKind =
  | 'pool-not-started'
  | 'cloud-refused'
  | 'throttled'
  | 'vswitch-exhausted'
  | 'eni-quota'
  | 'cloud-retry'
  | 'eni-attaching'
  | 'pool-refilling'
  | 'pool-empty';

/** A classified wait: `detail` holds the facts a machine may want (vSwitch ids, counts); times are epoch ms. */
export interface PoolWaitReason {
  readonly kind: PoolWaitKind;
  readonly text: string;
  /** Since when this cause holds, when the pool knows it (a failure's time, a call's start). */
  readonly since?: number;
  /** When the pool tries again (end of a pause or an inhibit window). */
  readonly retryAt?: number;
  readonly detail: Readonly<Record<string, string>>;
}

/** The last failed cloud call the pool has not seen a success after. */
export interface PoolFailure {
  readonly action: 'create-eni' | 'assign' | 'unassign' | 'delete-eni';
  readonly kind: FailureKind;
  /** The factory's finer cause (`throttled`, `vswitch-ip-exhausted`, …) when it tells one. */
  readonly cause?: string;
  readonly message: string;
  readonly at: number;
  readonly vSwitchId?: string;
}

export interface PoolWaitFacts {
  readonly now: number;
  /** The factory's name (`aliyun`, `local`). */
  readonly cloud: string;
  /** Why the pool's last start failed; undefined once started. */
  readonly startFailure?: string;
  readonly started: boolean;
  /** ENIs being created: on which vSwitch, how many IPs, since when. */
  readonly creating: readonly { readonly vSwitchId: string; readonly ips: number; readonly since: number }[];
  /** IPs being assigned to attached ENIs, and the Assign calls carrying them. */
  readonly assigning: number;
  readonly assignCalls: number;
  /** The node's vSwitches with their inhibit window (epoch ms; 0 or past: usable). */
  readonly vSwitches: readonly { readonly id: string; readonly inhibitedUntil: number }[];
  readonly createInhibitedUntil: number;
  /** No new call before this (after a transient or fatal failure). */
  readonly pausedUntil: number;
  readonly fatalPause: boolean;
  readonly lastFailure?: PoolFailure;
  /** What the pool hands out: IPs of shared ENIs (default) or whole ENIs (exclusive-ENI mode). */
  readonly unit?: 'ip' | 'eni';
}


export function poolWaitReason(f: PoolWaitFacts): PoolWaitReason {
  const { now, cloud } = f;
  const last = f.lastFailure;
  const paused = f.pausedUntil > now;
  if (!f.started) {
    return { kind: 'pool-not-started', text: `the ${cloud} ENI pool has not started${f.startFailure !== undefined ? `: ${f.startFailure}` : ''}; retrying`, detail: { cloud, ...(f.startFailure !== undefined ? { error: f.startFailure } : {}) } };
  }
  if (paused && f.fatalPause) {
    return { kind: 'cloud-refused', text: `${cloud} refused the last call (${last?.message ?? 'unknown error'}); the pool tries again at ${isoOf(f.pausedUntil)}`, ...sinceOf(last), retryAt: f.pausedUntil, detail: { cloud, ...failureDetail(last) } };
  }
  if (last !== undefined && (last.cause === 'throttled' || /throttl/iu.test(last.message)) && last.kind === 'transient') {
    const when = paused ? `tries again at ${isoOf(f.pausedUntil)}` : 'is trying again now';
    return { kind: 'throttled', text: `throttled by ${cloud} (${last.action}: ${last.message}); the pool ${when}`, since: last.at, ...(paused ? { retryAt: f.pausedUntil } : {}), detail: { cloud, ...failureDetail(last) } };
  }
  const inhibited = f.vSwitches.filter((v) => v.inhibitedUntil > now);
  if (inhibited.length > 0 && (last === undefined || last.kind === 'vswitch-exhausted')) {
    const first = [...inhibited].sort((a, b) => (a.id === last?.vSwitchId ? -1 : b.id === last?.vSwitchId ? 1 : a.inhibitedUntil - b.inhibitedUntil))[0] ?? inhibited[0];
    const others = f.vSwitches.filter((v) => !(v.inhibitedUntil > now)).map((v) => v.id);
    const on = f.creating.find((c) => others.includes(c.vSwitchId))?.vSwitchId;
    const failover = on !== undefined ? `failing over: a new ENI is being created on ${on}` : others.length > 0 ? `failing over to ${others.join(', ')}` : 'no other vSwitch of the zone is usable';
    const ids = inhibited.map((v) => v.id).join(', ');
    return {
      kind: 'vswitch-exhausted',
      text: `vSwitch ${ids} has no free IP (inhibited until ${isoOf(first?.inhibitedUntil ?? now)}); ${failover}`,
      ...sinceOf(last),
      retryAt: Math.min(...inhibited.map((v) => v.inhibitedUntil)),
      detail: { cloud, vSwitch: ids, ...(others.length > 0 ? { failover: on ?? others.join(',') } : {}), ...failureDetail(last) },
    };
  }
  if (f.createInhibitedUntil > now && f.creating.length === 0 && f.assigning === 0) {
    return { kind: 'eni-quota', text: `the instance has all the ENIs it may have; ENI creation is paused until ${isoOf(f.createInhibitedUntil)}`, ...sinceOf(last), retryAt: f.createInhibitedUntil, detail: { cloud, ...failureDetail(last) } };
  }
  if (paused && f.creating.length === 0 && f.assigning === 0) {
    return { kind: 'cloud-retry', text: `the last call to ${cloud} failed (${last?.message ?? 'unknown error'}); the pool tries again at ${isoOf(f.pausedUntil)}`, ...sinceOf(last), retryAt: f.pausedUntil, detail: { cloud, ...failureDetail(last) } };
  }
  if (f.creating.length > 0) {
    const ips = f.creating.reduce((n, c) => n + c.ips, 0);
    const vsw = [...new Set(f.creating.map((c) => c.vSwitchId))].join(', ');
    return { kind: 'eni-attaching', text: `waiting for a new ENI from ${cloud} (${String(f.creating.length)} being created and attached on vSwitch ${vsw}, ${String(ips)} IPs)`, since: Math.min(...f.creating.map((c) => c.since)), detail: { cloud, vSwitch: vsw, enis: String(f.creating.length), ips: String(ips) } };
  }
  if (f.assigning > 0) {
    return { kind: 'pool-refilling', text: `waiting for ${String(f.assigning)} IPs being assigned by ${cloud} (${String(f.assignCalls)} calls in flight)`, detail: { cloud, ips: String(f.assigning), calls: String(f.assignCalls) } };
  }
  return { kind: 'pool-empty', text: f.unit === 'eni' ? `no idle ENI on this node: asking ${cloud} for one` : `no idle IP on this node: asking ${cloud} for more`, detail: { cloud } };
}

function sinceOf(last: PoolFailure | undefined): { since?: number } {
  return last === undefined ? {} : { since: last.at };
}

function failureDetail(last: PoolFailure | undefined): Record<string, string> {
  if (last === undefined) return {};
  return { action: last.action, error: last.message, ...(last.cause !== undefined ? { cause: last.cause } : {}) };
}
