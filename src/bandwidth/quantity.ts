/**
 * Exact parsers for the two annotation unit schemes, in BigInt so `1.1k` is 1100, not 1100.0000000000002. Pure.
 * - Kubernetes resource quantities (`resource.ParseQuantity`): `10M` = 10^7, `1Gi` = 2^30, `500m` = 0.5, `1e3`.
 * - Terway's `k8s.aliyun.com/*-bandwidth`: a positive number + K|KB|KIB|M|MB|MIB|G|GB|GIB|T|TB|TIB|B,
 *   case-insensitive, binary multipliers, in BYTES per second; a bare number is rejected.
 */

const DECIMAL_SUFFIX: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const QUANTITY_RE = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/u;

/** A non-negative rational value n / d (d > 0), or a sign flag for negatives. */
export interface Exact {
  readonly negative: boolean;
  readonly num: bigint;
  readonly den: bigint;
}

function decimal(digits: string): { num: bigint; scale: number } {
  const [whole = '', frac = ''] = digits.split('.');
  return { num: BigInt(`${whole}${frac}` || '0'), scale: frac.length };
}

/** Parses a Kubernetes quantity exactly; undefined when it is not one. */
export function parseQuantity(raw: string): Exact | undefined {
  const m = QUANTITY_RE.exec(raw);
  if (m === null) return undefined;
  const [, sign = '', digits = '', suffix = ''] = m;
  const { num, scale } = decimal(digits);
  let exp10 = -scale;
  let exp2 = 0;
  if (suffix in BINARY_SUFFIX) exp2 = BINARY_SUFFIX[suffix] ?? 0;
  else if (suffix.length > 1 && (suffix.startsWith('e') || suffix.startsWith('E'))) {
    const e = Number(suffix.slice(1));
    if (!Number.isSafeInteger(e) || Math.abs(e) > 100) return undefined;
    exp10 += e;
  } else exp10 += DECIMAL_SUFFIX[suffix] ?? 0;
  let n = num * 2n ** BigInt(exp2);
  let d = 1n;
  if (exp10 >= 0) n *= 10n ** BigInt(exp10);
  else d = 10n ** BigInt(-exp10);
  return { negative: sign === '-' && num !== 0n, num: n, den: d };
}

/** Ceiling of a non-negative exact value (Quantity.Value() rounds up). */
export function ceilExact(x: Exact): bigint {
  return (x.num + x.den - 1n) / x.den;
}

const TERWAY_SUFFIX: Readonly<Record<string, number>> = {
  B: 0,
  K: 10, KB: 10, KIB: 10,
  M: 20, MB: 20, MIB: 20,
  G: 30, GB: 30, GIB: 30,
  T: 40, TB: 40, TIB: 40,
};
const TERWAY_RE = /^(\d+(?:\.\d*)?|\.\d+)([A-Z]+)$/u;

/** Terway's bytes/s with binary multipliers; whole bytes (truncated, like Go's uint64(float)); undefined if invalid. */
export function parseTerwayBytes(raw: string): bigint | undefined {
  const m = TERWAY_RE.exec(raw.trim().toUpperCase());
  if (m === null) return undefined;
  const [, digits = '', suffix = ''] = m;
  const shift = TERWAY_SUFFIX[suffix];
  if (shift === undefined) return undefined;
  const { num, scale } = decimal(digits);
  return (num * 2n ** BigInt(shift)) / 10n ** BigInt(scale);
}
