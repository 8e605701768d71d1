/**
 * Per-pod serialization: a second request for an attachment or pod that is already being handled fails at once
 * with BusyError (retryable). Not a queue: the plugin retries, as with Terway's PodIsProcessing.
 */
import { BusyError } from '../lib/errors.js';

export class InFlight {
  readonly #held = new Set<string>();

  /** Claims every key or none; returns the release function. */
  claim(keys: readonly string[], what: string): () => void {
    const busy = keys.find((k) => this.#held.has(k));
    if (busy !== undefined) throw new BusyError(`${what}: another request for ${busy} is in progress`);
    for (const k of keys) this.#held.add(k);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      for (const k of keys) this.#held.delete(k);
    };
  }

  has(key: string): boolean {
    return this.#held.has(key);
  }

  /** Runs `fn` while holding the keys. */
  async run<T>(keys: readonly string[], what: string, fn: () => Promise<T>): Promise<T> {
    const release = this.claim(keys, what);
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

export function attachmentKeyOf(containerId: string, ifName: string): string {
  return `attachment ${containerId}/${ifName}`;
}

export function podKeyOf(namespace: string, name: string): string | undefined {
  return name === '' ? undefined : `pod ${namespace}/${name}`;
}
