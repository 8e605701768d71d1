/** Sleeping and polling for tests. */

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => {
    setTimeout(r, ms);
  });
}

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly stepMs?: number;
  /** Appended to the timeout error (a function is called only on timeout, e.g. for daemon logs). */
  readonly what?: string | (() => string);
}

/** Polls `cond` until it holds; rejects with "condition not met in time" (plus `what`) after `timeoutMs`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, opts: WaitOptions = {}): Promise<void> {
  const { timeoutMs = 5000, stepMs = 50, what } = opts;
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) {
      const detail = typeof what === 'function' ? what() : what;
      throw new Error(`condition not met in time${detail === undefined ? '' : `: ${detail}`}`);
    }
    await sleep(stepMs);
  }
}

/** Polls `check` until it returns without throwing (jest `expect` inside is fine); rethrows its last error. */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 3000, stepMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(stepMs);
    }
  }
}
