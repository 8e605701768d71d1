/**
 * The GC runner: a pass at start and every `intervalMs`, and the CNI GC verb's path (`gcAttachments`). Each pass
 * reads the host BEFORE the leases (the plugin writes a lease before it builds anything, so every host object seen
 * has its lease already visible), gathers pod/netns facts, plans (./plan.ts), re-reads the leases to guard the
 * plan, tears down (best effort) and only then releases through the service (which keeps sticky reservations).
 * Passes are serialised.
 */
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { NodeFacts } from '../modes/types.js';
import type { Executor } from '../netlink/executor.js';
import type { Plan } from '../netlink/ops.js';
import type { GcReply, ReleaseReply, ReleaseRequest } from '../rpc/protocol.js';
import type { Lease } from '../store/lease.js';
import { podStatuses, vanishedNetns, type ConfirmGone, type PodCache } from './facts.js';
import { attachmentId, leaseHostTeardown } from './lease-host.js';
import { leaseAgeMs, planGc } from './plan.js';
import { dedupePlan, guardPlan, partitionByLease } from './plan-util.js';
import type { GcCounts, GcReason, HostView, LeaseKey } from './types.js';

export const DEFAULT_GC_INTERVAL_MS = 5 * 60_000;
export const DEFAULT_LEASE_GRACE_MS = 60_000;
export const DEFAULT_ORPHAN_GRACE_MS = 30_000;

export interface GarbageCollectorDeps {
  /** The lease store's list (read twice per pass). */
  readonly leases: () => readonly Lease[];
  /** The service's release path (stickiness is its business). */
  readonly release: (req: ReleaseRequest) => Promise<ReleaseReply>;
  /** The pod informer's cache; without it the pod check is skipped (netns and host checks still run). */
  readonly pods?: PodCache;
  /** Uncached confirmation (see confirmGoneVia); without it a cache miss never releases. */
  readonly confirmGone?: ConfirmGone;
  readonly netnsExists: (path: string) => Promise<boolean>;
  /** Host namespace links, routes (all tables) and rules (observeState(runner, HOST) fits). */
  readonly observeHost: (signal?: AbortSignal) => Promise<HostView>;
  readonly executor: Pick<Executor, 'teardown'>;
  readonly log: Logger;
  readonly node: NodeFacts;
  readonly intervalMs?: number;
  readonly leaseGraceMs?: number;
  readonly orphanGraceMs?: number;
  /** IPs the hub can own (pool subnets): rules/routes outside are never touched. */
  readonly podCidrs?: () => readonly string[];
  readonly now?: () => Date;
  /** Called after every pass (metrics). */
  readonly onResult?: (result: GcResult) => void;
}

export interface GcResult {
  readonly released: readonly LeaseKey[];
  readonly counts: GcCounts;
  /** Host ops planned (after the guard) and run. */
  readonly hostOps: number;
  readonly reasons: readonly GcReason[];
  readonly errors: readonly string[];
}

/** A NodeComponent (name/start/stop) of the daemon. */
export interface GarbageCollector {
  readonly name: 'gc';
  start(): Promise<void>;
  stop(): Promise<void>;
  runOnce(): Promise<GcResult>;
  /** CNI GC verb: tears down and releases every lease not in `valid` (young leases excepted). */
  gcAttachments(valid: readonly LeaseKey[]): Promise<GcReply>;
  readonly lastResult: GcResult | undefined;
}

export function createGarbageCollector(deps: GarbageCollectorDeps): GarbageCollector {
  const log = deps.log;
  const now = deps.now ?? (() => new Date());
  const leaseGraceMs = deps.leaseGraceMs ?? DEFAULT_LEASE_GRACE_MS;
  const orphanGraceMs = deps.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
  let orphanSince = new Map<string, number>();
  let chain: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let last: GcResult | undefined;
  let stopped = false;

  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  }

  async function teardown(plan: Plan, what: string): Promise<readonly string[]> {
    if (plan.length === 0) return [];
    try {
      return (await deps.executor.teardown(plan)).errors;
    } catch (err) {
      return [`teardown${what}: ${errorMessage(err)}`];
    }
  }

  /**
   * Guard, teardown, release: shared by both paths. A planned lease whose attachment holds a different lease by now
   * (DEL and ADD of the same attachment since planning) is not released, and the guard keeps its host side. Each
   * lease's own ops run as their own teardown and the lease is released only when they all succeeded: an IP is
   * never handed out again while its rules or routes remain (the next pass retries the rest).
   */
  async function execute(plan: Plan, planned: readonly Lease[], reason: string): Promise<{ released: LeaseKey[]; errors: string[]; hostOps: number }> {
    const fresh = deps.leases();
    const freshById = new Map(fresh.map((l) => [attachmentId(l), l]));
    const replaced = planned.filter((l) => {
      const now = freshById.get(attachmentId(l));
      return now !== undefined && (now.createdAt !== l.createdAt || now.allocation.ip !== l.allocation.ip);
    });
    if (replaced.length > 0) log.info('gc: attachments leased again since planning; kept', { attachments: replaced.map(attachmentId) });
    const releasing = planned.filter((l) => !replaced.includes(l));
    const guarded = guardPlan(plan, fresh, new Set(releasing.map(attachmentId)), deps.node);
    if (guarded.dropped.length > 0) log.info('gc: leases written since planning; kept', { dropped: guarded.dropped });
    const { byLease, rest } = partitionByLease(guarded.plan, releasing, deps.node);
    const errors: string[] = [...(await teardown(rest, ' (orphans)'))];
    const released: LeaseKey[] = [];
    for (const lease of releasing) {
      const id = attachmentId(lease);
      const failed = await teardown(byLease.get(id) ?? [], ` ${id}`);
      if (failed.length > 0) {
        errors.push(...failed, `${id}: host teardown failed, lease kept`);
        continue;
      }
      const key = { containerId: lease.containerId, ifName: lease.ifName };
      try {
        const r = await deps.release({ ...key, reason });
        if (r.released) released.push(key);
      } catch (err) {
        errors.push(`release ${id}: ${errorMessage(err)}`);
      }
    }
    return { released, errors, hostOps: guarded.plan.length };
  }

  async function pass(): Promise<GcResult> {
    const started = now();
    const host = await deps.observeHost(); // before the leases: see the module comment
    const leases = deps.leases();
    const old = leases.filter((l) => leaseAgeMs(l, started) >= leaseGraceMs);
    const [podStatus, netnsGone] = [await podStatuses(old, deps.pods, deps.confirmGone, log), await vanishedNetns(old, deps.netnsExists, log)];
    const podCidrs = deps.podCidrs?.();
    const plan = planGc({
      now: started,
      node: deps.node,
      leases,
      podStatus,
      netnsGone,
      host,
      graceMs: leaseGraceMs,
      orphanSince,
      orphanGraceMs,
      ...(podCidrs !== undefined ? { podCidrs } : {}),
    });
    const t = started.getTime();
    orphanSince = new Map(plan.orphans.map((o) => [o.key, orphanSince.get(o.key) ?? t]));
    const byId = new Map(leases.map((l) => [attachmentId(l), l]));
    const out = await execute(plan.hostPlan, plan.release.flatMap((k) => byId.get(attachmentId(k)) ?? []), 'gc');
    for (const r of plan.reasons) if (r.action !== 'keep' && r.action !== 'skip') log.info(`gc: ${r.action} ${r.subject}`, { why: r.why });
    const result: GcResult = { released: out.released, counts: { ...plan.counts, released: out.released.length }, hostOps: out.hostOps, reasons: plan.reasons, errors: out.errors };
    if (out.errors.length > 0) log.warn('gc pass incomplete', { errors: out.errors });
    log.info('gc pass', { ...result.counts, hostOps: result.hostOps });
    return result;
  }

  function runOnce(): Promise<GcResult> {
    return serial(async () => {
      const r = await pass();
      last = r;
      deps.onResult?.(r);
      return r;
    });
  }

  async function gcAttachmentsNow(valid: readonly LeaseKey[]): Promise<GcReply> {
    const keep = new Set(valid.map(attachmentId));
    const at = now();
    const gone: Lease[] = [];
    for (const l of deps.leases()) {
      if (keep.has(attachmentId(l))) continue;
      if (leaseAgeMs(l, at) < leaseGraceMs) {
        log.info('gc verb: young lease kept', { attachment: attachmentId(l) });
        continue;
      }
      gone.push(l);
    }
    // ifbs are planned unconditionally (a missing link is tolerated); the guard keeps the veth of a live lease.
    const plan = dedupePlan(gone.flatMap((l) => leaseHostTeardown(l, deps.node)));
    const out = await execute(plan, gone, 'cni gc');
    log.info('gc verb', { released: out.released.length, errors: out.errors.length });
    return { released: out.released, errors: out.errors };
  }

  return {
    name: 'gc',
    runOnce,
    gcAttachments: (valid) => serial(() => gcAttachmentsNow(valid)),
    get lastResult() {
      return last;
    },
    start() {
      stopped = false;
      const tick = (): void => {
        if (stopped) return;
        runOnce().catch((err: unknown) => {
          log.warn('gc pass failed', { err: errorMessage(err) });
        });
      };
      tick();
      timer = setInterval(tick, deps.intervalMs ?? DEFAULT_GC_INTERVAL_MS);
      timer.unref();
      return Promise.resolve();
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await chain;
    },
  };
}
