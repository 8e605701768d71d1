/** Pure helpers on GC plans: de-duplication, and the last-moment guard against leases written since planning. */
import type { NodeFacts } from '../modes/types.js';
import type { Op, Plan } from '../netlink/ops.js';
import { describeOp } from '../netlink/render.js';
import type { Lease } from '../store/lease.js';
import { attachmentId, explainedBy, leaseHostTeardown } from './lease-host.js';

export function dedupePlan(plan: Plan): Plan {
  const seen = new Set<string>();
  return plan.filter((op) => {
    const k = describeOp(op);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function ipOfCidr(cidr: string | undefined): string | undefined {
  return cidr?.endsWith('/32') === true ? cidr.slice(0, -3) : undefined;
}

/** The IP a delete op would take away from a pod (a rule's or route's /32), if any. */
function ipTouched(op: Op): string | undefined {
  if (op.kind === 'rule.del') return ipOfCidr(op.to) ?? ipOfCidr(op.from);
  if (op.kind === 'route.del') return op.dst === 'default' ? undefined : ipOfCidr(op.dst);
  return undefined;
}

/**
 * Drops deletes that would hit what a lease read AFTER planning explains (an ADD that allocated in between), except
 * for the leases this pass releases. Run right before the executor.
 */
export function guardPlan(plan: Plan, fresh: readonly Lease[], releasing: ReadonlySet<string>, node: NodeFacts): { plan: Plan; dropped: readonly string[] } {
  const live = explainedBy(
    fresh.filter((l) => !releasing.has(attachmentId(l))),
    node,
  );
  const dropped: string[] = [];
  const kept = plan.filter((op) => {
    const ip = ipTouched(op);
    const hit = (op.kind === 'link.del' && live.links.has(op.name)) || (ip !== undefined && live.ips.has(ip));
    if (hit) dropped.push(describeOp(op));
    return !hit;
  });
  return { plan: kept, dropped };
}

/**
 * Splits a (guarded) plan into each releasing lease's own ops and the rest (host orphans), so a teardown failure is
 * charged to the lease whose host state remains. An op two leases would both plan goes to the first.
 */
export function partitionByLease(plan: Plan, leases: readonly Lease[], node: NodeFacts): { byLease: ReadonlyMap<string, Plan>; rest: Plan } {
  const owner = new Map<string, string>();
  for (const l of leases) {
    for (const op of leaseHostTeardown(l, node)) {
      const k = describeOp(op);
      if (!owner.has(k)) owner.set(k, attachmentId(l));
    }
  }
  const byLease = new Map<string, Op[]>(leases.map((l) => [attachmentId(l), []]));
  const rest: Op[] = [];
  for (const op of plan) {
    const id = owner.get(describeOp(op));
    (id === undefined ? rest : (byLease.get(id) ?? rest)).push(op);
  }
  return { byLease, rest };
}
