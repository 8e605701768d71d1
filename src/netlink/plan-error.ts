/** The typed failure of applying a plan: which op failed, why, and how much had been applied (then rolled back). */
import { HubError } from '../lib/errors.js';
import type { Op } from './ops.js';

export class PlanError extends HubError {
  readonly code = 'exec';
  readonly retryable = false;
  constructor(
    /** The first op that really failed. */
    readonly failedOp: Op,
    /** Its 0-based index in the plan. */
    readonly failedIndex: number,
    /** The error text iproute2 (or the rtnetlink driver in its words, the sysctl writer, the process start) gave. */
    readonly stderr: string,
    /** How many ops had taken effect before the rollback. */
    readonly applied: number,
    /** Problems met while rolling back (best effort). */
    readonly rollbackErrors: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`plan op #${String(failedIndex)} (${failedOp.kind}) failed: ${stderr.trim() || 'unknown error'}`, options);
  }
}
