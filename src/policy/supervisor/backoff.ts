/** Exponential backoff with jitter (pure). */
import type { BackoffOptions } from './types.js';

/**
 * The delay before the start that follows the `crashes`-th crash in a row (1-based): base·2^(crashes−1) capped
 * at capMs, then ± jitter·delay using `random` ∈ [0, 1), never above capMs nor below 0.
 */
export function backoffDelay(crashes: number, o: BackoffOptions, random: () => number): number {
  const n = Math.max(1, Math.floor(crashes));
  // 2^(n-1) overflows to Infinity for large n; min() keeps it at the cap
  const raw = Math.min(o.capMs, o.baseMs * 2 ** (n - 1));
  const j = Math.min(1, Math.max(0, o.jitter));
  const jittered = raw * (1 + j * (2 * random() - 1));
  return Math.round(Math.min(o.capMs, Math.max(0, jittered)));
}
