/**
 * The only thing that applies plans. Runs steps in order (one `ip -force -batch -` per run of same-namespace ops,
 * sysctls written directly), learns from iproute2's `Command failed -:N` markers exactly which ops failed, and on a
 * real failure rolls back what took effect (inverse ops, reverse order, one batch per namespace) before throwing
 * a PlanError. Before a step with a `link.move` that names a MAC, it checks the link has it (./move-guard.ts).
 * With an ip driver (./ip-driver.ts; the plugin binary's rtnetlink one, ./rtnl) the ip ops it supports are
 * programmed through it instead of `ip -batch`, op by op with the same tolerances, rollback and teardown rules; the
 * rest (tc, sysctls, unsupported ip ops) run as above.
 */
import { writeFile } from 'node:fs/promises';
import { errorMessage } from '../lib/errors.js';
import type { CommandRunner } from '../lib/exec.js';
import type { Logger } from '../lib/log.js';
import { pathExists } from '../lib/path-exists.js';
import { inverseOf, type NsRef, type Op, type Plan } from './ops.js';
import { PlanError } from './plan-error.js';
import {
  batchCommand,
  describeNs,
  describeOp,
  nsKey,
  parseBatchFailures,
  planSteps,
  renderOp,
  type BatchTool,
  type IndexedOp,
  type Step,
} from './render.js';
import { isTolerated } from './tolerate.js';
import { checkMove, checkMoveWith, isGuardedMove } from './move-guard.js';
import { driverRuns, type IpDriver, type IpDriverSource } from './ip-driver.js';
import { runBatch, runPodSysctls, type OpOutcome } from './batch-outcomes.js';

export { PlanError } from './plan-error.js';

/** Writes `value` to a /proc/sys path (host namespace; pod namespaces go through `nsenter … sysctl`, render.ts). */
export type SysctlWriter = (path: string, value: string) => Promise<void>;

/** The real writer: /proc/sys paths come from sysctlPath (render.ts). */
export const procSysctlWriter: SysctlWriter = (path, value) => writeFile(path, value);

export interface ExecutorDeps {
  readonly runner: CommandRunner;
  readonly log: Logger;
  /** Defaults to writing /proc/sys (tests inject a recorder). */
  readonly writeSysctl?: SysctlWriter;
  /** Whether a pod netns path still exists (teardown skips vanished namespaces). Defaults to pathExists. */
  readonly netnsExists?: (path: string) => Promise<boolean>;
  /** How long a rollback may take (its own deadline: the apply's may have passed already). Default 10 s. */
  readonly rollbackDeadlineMs?: number;
  /**
   * Programs ip ops without `ip` processes when it loads (the plugin binary: ./rtnl); loaded once, on first use.
   * Ops it does not support, and every op when it does not load, go through `ip -batch`.
   */
  readonly ip?: IpDriverSource;
}

export const DEFAULT_ROLLBACK_DEADLINE_MS = 10_000;

export interface ApplyReport {
  /** Ops that took effect (on failure, PlanError.applied also counts ops of a cut-short batch that may have). */
  readonly applied: number;
  /** Ops whose error meant "already so" (rule exists, link already gone). */
  readonly tolerated: number;
  readonly steps: number;
}

export interface TeardownReport {
  readonly errors: readonly string[];
}

export interface Executor {
  apply(plan: Plan, signal?: AbortSignal): Promise<ApplyReport>;
  teardown(plan: Plan, signal?: AbortSignal): Promise<TeardownReport>;
}

/**
 * Builds an executor logging to `log` (the caller's component logger). The daemon and GC receive one, injected;
 * src/main builds the real one (createExecutor over the process runner), tests a fake.
 */
export type ExecutorFactory = (log: Logger) => Executor;

export function createExecutor(deps: ExecutorDeps): Executor {
  const netnsExists = deps.netnsExists ?? pathExists;
  const writeSysctl = deps.writeSysctl ?? procSysctlWriter;
  let loading: Promise<IpDriver | undefined> | undefined;
  /** The ip driver, or undefined (iproute2 for every op) when there is none or it failed to load. */
  const driver = (): Promise<IpDriver | undefined> =>
    (loading ??= (deps.ip?.() ?? Promise.resolve(undefined)).then(
      (d) => {
        if (d !== undefined) deps.log.debug('ip ops through the driver', { driver: d.name });
        return d;
      },
      (err: unknown) => {
        deps.log.debug('ip driver did not load: ip ops through ip -batch', { error: errorMessage(err) });
        return undefined;
      },
    ));

  /** Runs one step; never throws: every op gets an outcome. */
  async function runStep(step: Step, signal: AbortSignal | undefined): Promise<readonly OpOutcome[]> {
    if (step.kind === 'sysctl') {
      try {
        await writeSysctl(step.path, step.value);
        return [{ entry: step.entry, ok: true, tolerated: false, error: '' }];
      } catch (err) {
        return [{ entry: step.entry, ok: false, tolerated: false, error: errorMessage(err), cause: err }];
      }
    }
    if (step.kind === 'pod-sysctl') return runPodSysctls(deps.runner, step, signal);
    const d = step.kind === 'ip' ? await driver() : undefined;
    if (d === undefined) return runBatch(deps.runner, step, signal);
    // the driver's runs and `ip -batch` for the ops it does not support, in plan order
    const out: OpOutcome[] = [];
    for (const run of driverRuns(step.ops, d)) {
      if (!run.driver) {
        const sub = restep(step, run.entries);
        if (sub !== undefined) out.push(...(await runBatch(deps.runner, sub, signal)));
        continue;
      }
      const errors = await d.run(step.ns, run.entries.map((e) => e.op), signal);
      run.entries.forEach((entry, i) => {
        const error = errors[i] ?? '';
        const tolerated = error !== '' && isTolerated(entry.op, error);
        out.push({ entry, ok: error === '' || tolerated, tolerated, error });
      });
    }
    return out;
  }

  /** Best-effort undo: inverse ops in reverse order, grouped into one batch per tool and namespace. */
  async function rollback(applied: readonly Op[]): Promise<readonly string[]> {
    const inverses = [...applied].reverse().flatMap((op) => {
      const inv = inverseOf(op);
      return inv ? [inv] : [];
    });
    const byNs = new Map<string, { tool: BatchTool; ns: NsRef; ops: Op[] }>();
    for (const op of inverses) {
      const r = renderOp(op);
      if (r.kind === 'sysctl') continue;
      const key = `${r.kind}|${nsKey(op.ns)}`;
      const g = byNs.get(key) ?? { tool: r.kind, ns: op.ns, ops: [] };
      g.ops.push(op);
      byNs.set(key, g);
    }
    const errors: string[] = [];
    const deadline = AbortSignal.timeout(deps.rollbackDeadlineMs ?? DEFAULT_ROLLBACK_DEADLINE_MS);
    for (const g of byNs.values()) {
      if (deadline.aborted) {
        errors.push(`rollback in ${describeNs(g.ns)}: not run, the rollback deadline passed`);
        continue;
      }
      try {
        const d = g.tool === 'ip' ? await driver() : undefined;
        const runs = d !== undefined ? driverRuns(g.ops.map((op) => ({ op })), d) : [{ driver: false, entries: g.ops.map((op) => ({ op })) }];
        for (const run of runs) {
          const ops = run.entries.map((e) => e.op);
          if (d !== undefined && run.driver) {
            const failed = await d.run(g.ns, ops, deadline);
            ops.forEach((op, i) => {
              const e = failed[i] ?? '';
              if (e !== '' && !isTolerated(op, e)) errors.push(`rollback ${describeOp(op)}: ${e}`);
            });
            continue;
          }
          const lines = ops.map((op) => renderOp(op)).flatMap((r) => (r.kind === 'sysctl' ? [] : [r.tokens]));
          const res = await deps.runner.run(batchCommand(g.ns, lines, g.tool), deadline);
          const failures = parseBatchFailures(res.stderr);
          if (res.exitCode !== 0 && failures.size === 0) errors.push(`rollback in ${describeNs(g.ns)}: ${res.stderr.trim()}`);
          ops.forEach((op, i) => {
            const e = failures.get(i + 1);
            if (e !== undefined && !isTolerated(op, e)) errors.push(`rollback ${describeOp(op)}: ${e}`);
          });
        }
      } catch (err) {
        errors.push(`rollback in ${describeNs(g.ns)}: ${errorMessage(err)}`);
      }
    }
    return errors;
  }

  /**
   * The MAC guard (./move-guard.ts) of the step's guarded moves, in order: the ops refused, and (teardown) the ones
   * whose link is already gone.
   */
  async function guardStep(step: Step, signal: AbortSignal | undefined): Promise<{ readonly refused: readonly OpOutcome[]; readonly missing: readonly OpOutcome[] }> {
    const refused: OpOutcome[] = [];
    const missing: OpOutcome[] = [];
    if (step.kind === 'sysctl') return { refused, missing };
    for (const entry of step.ops) {
      if (!isGuardedMove(entry.op)) continue;
      const d = await driver();
      const v = d !== undefined && d.supports(entry.op) ? await checkMoveWith(d, entry.op) : await checkMove(deps.runner, entry.op, signal);
      if (v.kind === 'refused') refused.push({ entry, ok: false, tolerated: false, error: v.error });
      if (v.kind === 'missing') missing.push({ entry, ok: false, tolerated: false, error: v.error });
    }
    return { refused, missing };
  }

  /** The step without the given ops (same tool and namespace: one step, or none when nothing is left). */
  function without(step: Step, drop: readonly OpOutcome[]): Step | undefined {
    if (drop.length === 0 || step.kind === 'sysctl') return step;
    const gone = new Set(drop.map((o) => o.entry.index));
    return restep(step, step.ops.filter((e) => !gone.has(e.index)));
  }

  /** A step of the same tool and namespace with only `kept` (of its ops), their plan indices kept. */
  function restep<S extends Exclude<Step, { kind: 'sysctl' }>>(step: S, kept: readonly IndexedOp[]): S | undefined {
    if (kept.length === 0) return undefined;
    const [rebuilt] = planSteps(kept.map((e) => e.op));
    if (rebuilt?.kind !== step.kind) return undefined;
    return { ...(rebuilt as S), ops: rebuilt.ops.map((e, i) => ({ index: kept[i]?.index ?? e.index, op: e.op })) };
  }

  async function fail(applied: readonly Op[], failed: OpOutcome, cause?: unknown): Promise<never> {
    const rollbackErrors = await rollback(applied);
    const log = deps.log.child({ op: failed.entry.op.kind, index: failed.entry.index });
    log.warn('plan failed; rolled back', { error: failed.error, applied: applied.length, rollbackErrors });
    throw new PlanError(failed.entry.op, failed.entry.index, failed.error, applied.length, rollbackErrors, {
      ...(cause !== undefined ? { cause } : {}),
    });
  }

  return {
    async apply(plan, signal) {
      const steps = planSteps(plan);
      const applied: Op[] = [];
      let tolerated = 0;
      for (const step of steps) {
        if (signal?.aborted === true) {
          const entry = step.kind === 'sysctl' ? step.entry : step.ops[0];
          if (entry) await fail(applied, { entry, ok: false, tolerated: false, error: 'aborted' }, signal.reason);
        }
        const guard = await guardStep(step, signal);
        // a moved link that is not where the op says, or has another MAC, is never moved
        const [blocked] = [...guard.refused, ...guard.missing].sort((a, b) => a.entry.index - b.entry.index);
        if (blocked) await fail(applied, blocked);
        const outcomes = await runStep(step, signal);
        for (const o of outcomes) {
          if ((o.ok && !o.tolerated) || o.uncertain === true) applied.push(o.entry.op);
          if (o.tolerated) tolerated += 1;
        }
        const firstFailure = outcomes.find((o) => !o.ok);
        if (firstFailure) await fail(applied, firstFailure, firstFailure.cause);
      }
      deps.log.debug('plan applied', { ops: plan.length, applied: applied.length, tolerated, steps: steps.length });
      return { applied: applied.length, tolerated, steps: steps.length };
    },

    async teardown(plan, signal) {
      const errors: string[] = [];
      const gone = new Set<string>();
      for (const step of planSteps(plan)) {
        if (step.kind !== 'sysctl' && step.ns.kind === 'pod') {
          const key = nsKey(step.ns);
          if (gone.has(key) || !(await netnsExists(step.ns.path))) {
            gone.add(key);
            continue;
          }
        }
        // a guarded move whose link is gone already ran (a second teardown); one with another MAC is refused
        const guard = await guardStep(step, signal);
        for (const o of guard.refused) errors.push(`${describeOp(o.entry.op)}: ${o.error}`);
        const rest = without(step, [...guard.refused, ...guard.missing]);
        if (rest === undefined) continue;
        const outcomes = await runStep(rest, signal);
        for (const o of outcomes) if (!o.ok) errors.push(`${describeOp(o.entry.op)}: ${o.error}`);
      }
      if (errors.length > 0) deps.log.warn('teardown incomplete', { errors });
      return { errors };
    },
  };
}
