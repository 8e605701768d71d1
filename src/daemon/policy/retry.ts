/**
 * The builtin enforcer's retry after a failed run: one timer at a time, the delay backing off over failures in a
 * row (src/policy/supervisor/backoff.ts: 1 s doubling to 1 min, ±20 % so nodes do not line up), reset by a success.
 */
import { realClock, type Clock, type Timer } from '../../lib/clock.js';
import { backoffDelay } from '../../policy/supervisor/backoff.js';

const BACKOFF = { baseMs: 1000, capMs: 60_000, jitter: 0.2 };

export class RetryAfterFailure {
  #failures = 0;
  #timer: Timer | undefined;

  /** `delayMs(n)`: the wait after the n-th failure in a row (default: the backoff above). */
  constructor(
    private readonly delayMs: (failures: number) => number = (n) => backoffDelay(n, BACKOFF, Math.random),
    private readonly clock: Clock = realClock,
  ) {}

  /** A run failed: `retry` runs later unless a retry is already pending. */
  failed(retry: () => void): void {
    this.#failures++;
    if (this.#timer !== undefined) return;
    this.#timer = this.clock.after(this.delayMs(this.#failures), () => {
      this.#timer = undefined;
      retry();
    });
  }

  /** A run succeeded: the streak ends and a pending retry is dropped. */
  succeeded(): void {
    this.#failures = 0;
    this.cancel();
  }

  cancel(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }
}
