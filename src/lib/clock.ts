/** Time, injectable: the real clock in the daemon, a fake one in unit tests (test/helpers/fake-clock.ts). */

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Epoch ms. */
  now(): number;
  /** Calls `fn` once after `ms`. */
  after(ms: number, fn: () => void): Timer;
}

export const realClock: Clock = {
  now: () => Date.now(),
  after: (ms, fn) => {
    // unref'd: a pending retry or sync tick never keeps a process alive by itself (the daemon lives by its servers)
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return { cancel: () => { clearTimeout(t); } };
  },
};

/** Epoch milliseconds as an ISO-8601 timestamp (what replies and events carry). */
export function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}
