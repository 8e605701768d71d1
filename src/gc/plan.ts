/**
 * The GC planner (pure): which leases to release and which host objects to delete, with a reason for each
 * decision. A lease is released when its pod is CONFIRMED gone or its netns vanished (never on a cache miss or an
 * API error); young leases are skipped. Host objects are deleted only when provably the hub's (./host-orphans.ts),
 * unexplained by every lease, and unexplained for at least `orphanGraceMs`.
 */
import { dedupePlan } from './plan-util.js';
import { findHostOrphans } from './host-orphans.js';
import { allDataplanes } from '../modes/registry.js';
import { attachmentId, explainedBy, leaseFootprint, leaseHostTeardown } from './lease-host.js';
import type { Lease } from '../store/lease.js';
import type { Op } from '../netlink/ops.js';
import type { GcAction, GcCounts, GcInput, GcPlan, GcReason, LeaseKey, OrphanCandidate } from './types.js';

/** Age of a lease in ms; NaN (unparseable time) counts as young: never collect what we cannot date. */
export function leaseAgeMs(lease: Lease, now: Date): number {
  const t = Date.parse(lease.createdAt);
  return Number.isNaN(t) ? -1 : now.getTime() - t;
}

interface Verdict {
  readonly action: Extract<GcAction, 'release' | 'keep' | 'skip'>;
  readonly why: string;
  readonly cause?: 'pod' | 'netns' | 'unconfirmed' | 'young';
}

function judge(lease: Lease, input: GcInput): Verdict {
  const id = attachmentId(lease);
  const age = leaseAgeMs(lease, input.now);
  if (age < input.graceMs) return { action: 'skip', why: `younger than ${String(input.graceMs)} ms (ADD may be in flight)`, cause: 'young' };
  if (input.netnsGone.has(id)) return { action: 'release', why: `netns ${lease.netns} vanished without DEL`, cause: 'netns' };
  switch (input.podStatus.get(id)) {
    case 'gone':
      return { action: 'release', why: `pod ${lease.podNamespace}/${lease.podName} confirmed gone`, cause: 'pod' };
    case 'unknown':
      return { action: 'keep', why: `pod ${lease.podNamespace}/${lease.podName} not in cache and not confirmed gone`, cause: 'unconfirmed' };
    case 'present':
      return { action: 'keep', why: 'pod present' };
    case undefined:
      return { action: 'keep', why: 'pod not checked' };
  }
}

export function planGc(input: GcInput): GcPlan {
  const reasons: GcReason[] = [];
  const release: LeaseKey[] = [];
  const releasing: Lease[] = [];
  const kept: Lease[] = [];
  let podGone = 0;
  let netnsGone = 0;
  let keptUnconfirmed = 0;
  let skippedYoung = 0;

  for (const lease of input.leases) {
    const v = judge(lease, input);
    reasons.push({ subject: `lease ${attachmentId(lease)} (${lease.allocation.ip})`, action: v.action, why: v.why });
    if (v.action === 'release') {
      releasing.push(lease);
      release.push({ containerId: lease.containerId, ifName: lease.ifName });
      if (v.cause === 'pod') podGone += 1;
      else netnsGone += 1;
    } else {
      kept.push(lease);
      if (v.cause === 'unconfirmed') keptUnconfirmed += 1;
      if (v.cause === 'young') skippedYoung += 1;
    }
  }

  // A released lease's host link (veth) name can be the name of a kept lease's link (a new sandbox of the same
  // pod): keep it.
  const keptExplained = explainedBy(kept, input.node);
  const leaseOps: Op[] = releasing.flatMap((l) =>
    leaseHostTeardown(l, input.node).filter((op) => !(op.kind === 'link.del' && keptExplained.links.has(op.name))),
  );
  const linksDeleted = new Set(leaseOps.flatMap((op) => (op.kind === 'link.del' ? [op.name as string] : [])));

  const orphans = findHostOrphans(input.host, {
    node: input.node,
    dataplanes: input.dataplanes ?? allDataplanes(),
    explained: explainedBy(input.leases, input.node),
    linksDeleted,
    ...(input.podCidrs !== undefined ? { podCidrs: input.podCidrs } : {}),
  });
  const nowMs = input.now.getTime();
  const counts = { veths: 0, rules: 0, routes: 0, ifbs: 0, orphansWaiting: 0 };
  const orphanOps: Op[] = [];
  for (const o of orphans) {
    const since = input.orphanSince.get(o.key) ?? nowMs;
    if (nowMs - since < input.orphanGraceMs) {
      counts.orphansWaiting += 1;
      reasons.push({ subject: o.subject, action: 'wait', why: `unexplained for ${String(nowMs - since)} ms (< ${String(input.orphanGraceMs)} ms)` });
      continue;
    }
    orphanOps.push(o.op);
    counts[o.kind === 'rule' ? 'rules' : o.kind === 'route' ? 'routes' : o.kind === 'ifb' ? 'ifbs' : 'veths'] += 1;
    reasons.push({ subject: o.subject, action: 'delete', why: 'the hub\'s, and no lease explains it' });
  }
  for (const l of releasing) {
    for (const link of leaseFootprint(l, input.node).links) {
      if (keptExplained.links.has(link)) reasons.push({ subject: `link ${link}`, action: 'keep', why: `also a host link of a live lease of pod ${l.podNamespace}/${l.podName}` });
    }
  }

  const result: GcCounts = {
    leases: input.leases.length,
    released: release.length,
    podGone,
    netnsGone,
    keptUnconfirmed,
    skippedYoung,
    ...counts,
  };
  const candidates: OrphanCandidate[] = orphans.map((o) => ({ key: o.key, subject: o.subject }));
  return { release, hostPlan: dedupePlan([...leaseOps, ...orphanOps]), reasons, orphans: candidates, counts: result };
}
