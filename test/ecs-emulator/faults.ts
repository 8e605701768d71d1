/**
 * Fault injection for the ECS emulator: throttling a share of calls per action (seeded, reproducible), errors for
 * the next N calls, "the action took effect but the reply is late or lost", ECS's refusal of concurrent operations
 * on one ENI, and counters of calls per action.
 */
import type { EcsErrorCode } from './errors.js';
import { prng } from '../helpers/prng.js';

export interface LateReply {
  /** `delay`: answer after `delayMs` (past the client's read timeout); `drop`: destroy the connection unanswered. */
  readonly mode: 'delay' | 'drop';
  readonly delayMs?: number;
  /** How many matching calls (default 1). */
  times: number;
}

interface FailRule {
  readonly code: EcsErrorCode;
  times: number;
}

export class Faults {
  private readonly throttleShare = new Map<string, number>();
  private readonly failNextRules = new Map<string, FailRule[]>();
  private readonly late = new Map<string, LateReply>();
  private random: () => number;
  /**
   * > 0: an operation on an ENI (attach, detach, delete, assign, unassign) holds it this long (its reply comes then);
   * another operation on the same ENI meanwhile is refused with `Operation.Conflict`, as ECS does.
   */
  eniLockMs = 0;

  constructor(seed = 1) {
    this.random = prng(seed);
  }

  reseed(seed: number): void {
    this.random = prng(seed);
  }

  /** Throttle `share` (0..1) of the calls of `action` ('*' = every action) with `Throttling`. */
  throttle(action: string, share: number): void {
    if (share <= 0) this.throttleShare.delete(action);
    else this.throttleShare.set(action, Math.min(1, share));
  }

  /** The next `times` calls of `action` fail with `code` before taking effect. */
  failNext(action: string, code: EcsErrorCode, times = 1): void {
    this.failNextRules.set(action, [...(this.failNextRules.get(action) ?? []), { code, times }]);
  }

  /** The next `times` calls of `action` take effect, then the reply is delayed or the connection dropped. */
  lateReply(action: string, r: { mode: 'delay' | 'drop'; delayMs?: number; times?: number }): void {
    this.late.set(action, { mode: r.mode, ...(r.delayMs === undefined ? {} : { delayMs: r.delayMs }), times: r.times ?? 1 });
  }

  /** ECS's one-operation-per-ENI rule: each ENI operation holds the ENI `ms` (0: off). */
  serializeEnis(ms: number): void {
    this.eniLockMs = Math.max(0, ms);
  }

  clear(): void {
    this.eniLockMs = 0;
    this.throttleShare.clear();
    this.failNextRules.clear();
    this.late.clear();
  }

  /** Decides, before the action runs, whether it fails (the error code) or not (undefined). */
  before(action: string): EcsErrorCode | undefined {
    const rules = this.failNextRules.get(action);
    const rule = rules?.[0];
    if (rules !== undefined && rule !== undefined) {
      rule.times--;
      if (rule.times <= 0) rules.shift();
      return rule.code;
    }
    const share = this.throttleShare.get(action) ?? this.throttleShare.get('*') ?? 0;
    return share > 0 && this.random() < share ? 'Throttling' : undefined;
  }

  /** After the action took effect: is its reply late? */
  after(action: string): LateReply | undefined {
    const r = this.late.get(action);
    if (r === undefined) return undefined;
    r.times--;
    if (r.times <= 0) this.late.delete(action);
    return r;
  }
}
