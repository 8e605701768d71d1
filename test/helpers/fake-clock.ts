/** A manual clock (the Clock seam of src/policy/supervisor): time moves only when a test advances it. */
import type { Clock, Timer } from '../../src/policy/supervisor/clock.js';

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Lets promise chains and setImmediate callbacks run (the code under test awaits between timer callbacks). */
export async function flushAsync(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => { setImmediate(r); });
}

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Pending[] = [];

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  after(ms: number, fn: () => void): Timer {
    const t: Pending = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(t);
    return { cancel: () => { t.cancelled = true; } };
  }

  /** Timers not yet fired nor cancelled. */
  pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, firing due timers in order (and letting async work run after each). */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await flushAsync();
    for (;;) {
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.#timers.splice(this.#timers.indexOf(due), 1);
      this.#now = due.at;
      due.fn();
      await flushAsync();
    }
    this.#now = target;
    await flushAsync();
  }
}
