/** Nearest-rank percentile of `xs` (`p` in percent, 0 < p ≤ 100); NaN for an empty list. */
export function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}
