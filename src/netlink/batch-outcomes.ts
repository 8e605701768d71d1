/**
 * Running one iproute2 step of a plan (./render.ts Step): an `ip|tc -force -batch` process or a pod's `nsenter …
 * sysctl`, its exit and stderr turned into one outcome per op (which failed, which were tolerated, which may have
 * taken effect when the process stopped midway). Used by ./executor.ts.
 */
import { errorMessage } from '../lib/errors.js';
import type { CommandRunner } from '../lib/exec.js';
import { parseBatchFailures, renderOp, type BatchTool, type IndexedOp, type Step } from './render.js';
import { isTolerated } from './tolerate.js';

/** What became of one op of a step. */
export interface OpOutcome {
  readonly entry: IndexedOp;
  readonly ok: boolean;
  readonly tolerated: boolean;
  readonly error: string;
  readonly cause?: unknown;
  /** Failed or not run, but it may have taken effect (the batch was cut short): rollback undoes it. */
  readonly uncertain?: boolean;
}

/**
 * iproute2 exits at once with 255 (`exit(-1)`: invarg, e.g. a netns path it cannot open) in the middle of a
 * `-force` batch, without a `Command failed` marker; a process killed by a signal (the deadline) also stops midway.
 * Either way the lines before the stop took effect, the rest did not, and where it stopped is unknown.
 */
const ABORTED_EXIT = new Set([255, -1]);

/** stderr after the last `Command failed -:N` marker (what an aborting line printed). */
function trailingText(stderr: string): string {
  const lines = stderr.split('\n');
  let last = -1;
  lines.forEach((l, i) => {
    if (/^Command failed -:\d+\s*$/u.test(l)) last = i;
  });
  return lines.slice(last + 1).join('\n').trim();
}

/** One `ip|tc -force -batch` process for the step; never throws. */
export async function runBatch(runner: CommandRunner, step: Extract<Step, { kind: BatchTool }>, signal: AbortSignal | undefined): Promise<readonly OpOutcome[]> {
  let res;
  try {
    res = await runner.run(step.command, signal);
  } catch (err) {
    // Killed by the deadline after it started: any prefix of the batch may have taken effect.
    const uncertain = signal?.aborted === true;
    return step.ops.map((entry) => ({ entry, ok: false, tolerated: false, error: errorMessage(err), cause: err, uncertain }));
  }
  const failures = parseBatchFailures(res.stderr);
  const aborted = ABORTED_EXIT.has(res.exitCode);
  if (res.exitCode !== 0 && failures.size === 0 && !aborted) {
    // The batch never ran (nsenter could not enter, ip not found): nothing in it took effect.
    const error = res.stderr.trim() || `exit ${String(res.exitCode)}`;
    return step.ops.map((entry) => ({ entry, ok: false, tolerated: false, error }));
  }
  // Lines up to the last marker ran; after it, an aborted batch leaves them unknown.
  const lastMarked = Math.max(0, ...failures.keys());
  const abortText = aborted ? `${step.kind} batch stopped (exit ${String(res.exitCode)}) at line ${String(lastMarked + 1)} or later: ${trailingText(res.stderr) || 'no message'}` : '';
  return step.ops.map((entry, i) => {
    const error = failures.get(i + 1);
    if (aborted && i + 1 > lastMarked) return { entry, ok: false, tolerated: false, error: abortText, uncertain: true };
    if (error === undefined) return { entry, ok: true, tolerated: false, error: '' };
    const tolerated = isTolerated(entry.op, error);
    return { entry, ok: tolerated, tolerated, error };
  });
}

/**
 * `nsenter … sysctl -q -w k=v …`: sysctl sets every key it can and names each failing one on stderr (its /proc/sys
 * path or dotted key); a failure naming none (nsenter could not enter, sysctl missing) fails them all.
 */
export async function runPodSysctls(runner: CommandRunner, step: Extract<Step, { kind: 'pod-sysctl' }>, signal: AbortSignal | undefined): Promise<readonly OpOutcome[]> {
  let res;
  try {
    res = await runner.run(step.command, signal);
  } catch (err) {
    return step.ops.map((entry) => ({ entry, ok: false, tolerated: false, error: errorMessage(err), cause: err }));
  }
  if (res.exitCode === 0) return step.ops.map((entry) => ({ entry, ok: true, tolerated: false, error: '' }));
  const lines = res.stderr.split('\n').filter((l) => l.trim() !== '');
  const mentions = (entry: IndexedOp): string | undefined => {
    const r = renderOp(entry.op);
    const key = entry.op.kind === 'sysctl.set' ? entry.op.key : '';
    return lines.find((l) => (r.kind === 'sysctl' && l.includes(r.path)) || (key !== '' && l.includes(`"${key}"`)) || (key !== '' && l.includes(`'${key}'`)));
  };
  const named = step.ops.map((entry) => [entry, mentions(entry)] as const);
  const any = named.some(([, line]) => line !== undefined);
  const whole = res.stderr.trim() || `exit ${String(res.exitCode)}`;
  return named.map(([entry, line]) =>
    !any ? { entry, ok: false, tolerated: false, error: whole } : line === undefined ? { entry, ok: true, tolerated: false, error: '' } : { entry, ok: false, tolerated: false, error: line.trim() },
  );
}
