/**
 * Node setup (Dataplane.planNode: sysctls, the ENI table's route, ipvlan's host slave), applied so that one
 * failing part never skips the others: every host sysctl is its own part, read first and written only when its
 * value differs (a read-only /proc/sys that already says the right thing is success, as in a container whose
 * privileged init step set it), and each run of other ops is one part (the executor applies it all or rolls it back).
 * A failure is loud: the keeper reports it (Warning `NodeSetupFailed` node event, /readyz, `terway-hub status`),
 * retries it periodically and clears it when a run succeeds. `terway-hub node-setup` applies the same parts once.
 */
import { readFile } from 'node:fs/promises';
import { errorMessage } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';
import type { Executor } from '../netlink/executor.js';
import { PlanError } from '../netlink/plan-error.js';
import type { Op, Plan } from '../netlink/ops.js';
import { describeOp, sysctlPath } from '../netlink/render.js';

/** Reads a /proc/sys file (its value without the trailing newline). */
export type SysctlReader = (path: string) => Promise<string>;

export const procSysctlReader: SysctlReader = async (path) => (await readFile(path, 'utf8')).trim();

export const NODE_SETUP_RETRY_MS = 60_000;

export interface NodeSetupFailure {
  /** The op that failed (`sysctl net.ipv4.ip_forward=1`, `route replace default … table 1007`), or `plan`. */
  readonly op: string;
  readonly error: string;
}

export interface NodeSetupOutcome {
  /** Ops that took effect. */
  readonly applied: number;
  /** Sysctls that already had their value (not written). */
  readonly alreadySet: readonly string[];
  readonly failures: readonly NodeSetupFailure[];
}

const isHostSysctl = (op: Op): op is Extract<Op, { kind: 'sysctl.set' }> => op.kind === 'sysctl.set' && op.ns.kind === 'host';

/** Pure: the plan cut into independent parts, in plan order: each host sysctl alone, each run of other ops together. */
export function nodeSetupParts(plan: Plan): readonly Plan[] {
  const parts: Op[][] = [];
  let run: Op[] | undefined;
  for (const op of plan) {
    if (isHostSysctl(op)) {
      parts.push([op]);
      run = undefined;
      continue;
    }
    if (run === undefined) {
      run = [];
      parts.push(run);
    }
    run.push(op);
  }
  return parts;
}

/** Applies every part (a failing part does not stop the next); never throws. */
export async function applyNodePlan(plan: Plan, executor: Executor, readSysctl: SysctlReader): Promise<NodeSetupOutcome> {
  let applied = 0;
  const alreadySet: string[] = [];
  const failures: NodeSetupFailure[] = [];
  for (const part of nodeSetupParts(plan)) {
    const [first] = part;
    if (first === undefined) continue;
    if (part.length === 1 && isHostSysctl(first)) {
      const now = await readSysctl(sysctlPath(first.key)).catch(() => undefined);
      if (now === first.value) {
        alreadySet.push(first.key);
        continue;
      }
    }
    try {
      applied += (await executor.apply(part)).applied;
    } catch (e) {
      failures.push(e instanceof PlanError ? { op: describeOp(e.failedOp), error: e.stderr.trim() || errorMessage(e) } : { op: describeOp(first), error: errorMessage(e) });
    }
  }
  return { applied, alreadySet, failures };
}

/** `sysctl net.ipv4.ip_forward=1: EROFS: read-only file system; …` */
export function describeFailures(failures: readonly NodeSetupFailure[]): string {
  return failures.map((f) => `${f.op}: ${f.error}`).join('; ');
}

export interface NodeSetupKeeperDeps {
  readonly executor: () => Executor;
  readonly readSysctl: SysctlReader;
  /** A new failure (or a different one): the Warning node event. */
  readonly failed: (message: string) => void;
  /** Failing before, succeeded now. */
  readonly recovered?: () => void;
  readonly retryMs?: number;
  readonly log?: Logger;
}

/** Runs the node setup of the current mode, keeps its failure for /readyz and status, retries it until it succeeds. */
export class NodeSetupKeeper {
  readonly #deps: NodeSetupKeeperDeps;
  readonly #log: Logger;
  #plan: (() => Promise<Plan>) | undefined;
  #failures: readonly NodeSetupFailure[] = [];
  #reported = '';
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #running: Promise<NodeSetupOutcome> | undefined;

  constructor(deps: NodeSetupKeeperDeps) {
    this.#deps = deps;
    this.#log = deps.log ?? silentLogger;
  }

  /** The failures of the last run (empty when it succeeded). */
  /** For /readyz: undefined when the last run succeeded. */
  notReadyReason(): string | undefined {
    return this.#failures.length === 0 ? undefined : `node setup failed (retrying): ${describeFailures(this.#failures)}`;
  }

  /** Sets the plan (the current mode's) and applies it now; later runs retry it while it fails. */
  async run(plan: () => Promise<Plan>): Promise<NodeSetupOutcome> {
    this.#plan = plan;
    return this.#runNow();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Resolves when a run under way is done. */
  async idle(): Promise<void> {
    await this.#running;
  }

  async #runNow(): Promise<NodeSetupOutcome> {
    await this.#running;
    const p = this.#once();
    this.#running = p;
    return p;
  }

  async #once(): Promise<NodeSetupOutcome> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const plan = this.#plan;
    if (plan === undefined) return { applied: 0, alreadySet: [], failures: [] };
    let outcome: NodeSetupOutcome;
    try {
      outcome = await applyNodePlan(await plan(), this.#deps.executor(), this.#deps.readSysctl);
    } catch (e) {
      outcome = { applied: 0, alreadySet: [], failures: [{ op: 'plan', error: errorMessage(e) }] };
    }
    const was = this.#failures;
    this.#failures = outcome.failures;
    if (outcome.failures.length > 0) {
      const message = describeFailures(outcome.failures);
      this.#log.error('node setup failed; retrying', { failures: message, applied: outcome.applied, retryMs: this.#deps.retryMs ?? NODE_SETUP_RETRY_MS });
      if (message !== this.#reported) this.#deps.failed(message);
      this.#reported = message;
      this.#schedule();
    } else {
      this.#reported = '';
      if (was.length > 0) {
        this.#log.info('node setup succeeded after failures', { applied: outcome.applied });
        this.#deps.recovered?.();
      } else this.#log.info('node setup done', { applied: outcome.applied, alreadySet: outcome.alreadySet });
    }
    return outcome;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => { void this.#runNow(); }, this.#deps.retryMs ?? NODE_SETUP_RETRY_MS);
    this.#timer.unref();
  }
}
