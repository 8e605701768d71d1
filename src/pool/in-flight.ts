import type { Clock } from '../lib/clock.js';

/** How long stopping waits for cloud calls under way (an ECS call's own timeout is about as long). */
export const STOP_GRACE_MS = 10_000;

/**
 * The cloud calls a pool has under way, so that stopping can wait for them: a call that lands after the store is
 * closed could not journal its end. Past the grace the pool is `closed` and late completions write nothing; the
 * journal then still lists them as begun, and the next start reconciles them against the cloud (as after a crash).
 */
export class InFlightCalls {
  readonly #calls = new Set<Promise<void>>();
  #closed = false;

  get closed(): boolean { return this.#closed; }

  /** `settled` is the call with its completion handling; it must not reject. */
  track(settled: Promise<void>): void {
    this.#calls.add(settled);
    void settled.finally(() => this.#calls.delete(settled));
  }

  /** Resolves with how many calls were still under way when it gave up (0: all settled within `graceMs`; 0 ms: no wait). */
  async drain(clock: Clock, graceMs: number): Promise<number> {
    if (this.#calls.size > 0 && graceMs > 0) {
      let timer: { cancel(): void } | undefined;
      const grace = new Promise<void>((resolve) => { timer = clock.after(graceMs, resolve); });
      await Promise.race([Promise.allSettled([...this.#calls]), grace]);
      timer?.cancel();
    }
    this.#closed = true;
    return this.#calls.size;
  }
}
