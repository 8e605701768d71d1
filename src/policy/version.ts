/** Release versions of backend binaries (`v3.28.2`, `1.18.10`, `1.12.7-terway`): parsing and minor-level ranges. Pure. */

export interface Release {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

const RELEASE = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.-]+)?$/u;

export function parseRelease(raw: string): Release | undefined {
  const m = RELEASE.exec(raw);
  if (m === null) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

/** Negative, zero or positive as `a` is older than, the same minor as, or newer than `major.minor`. */
export function compareMinor(a: Release, major: number, minor: number): number {
  return a.major !== major ? a.major - major : a.minor - minor;
}

export function atLeast(a: Release, major: number, minor: number): boolean {
  return compareMinor(a, major, minor) >= 0;
}

/** An inclusive range of minor releases, e.g. 3.24 … 3.32. */
export interface MinorRange {
  readonly from: readonly [number, number];
  readonly to: readonly [number, number];
}

export function inRange(r: Release, range: MinorRange): boolean {
  return compareMinor(r, ...range.from) >= 0 && compareMinor(r, ...range.to) <= 0;
}

export function rangeText(range: MinorRange): string {
  return `${range.from.join('.')}.x to ${range.to.join('.')}.x`;
}
