/**
 * Address intervals for nftables interval sets: ipBlock `cidr − except` computed here (R16) as disjoint inclusive
 * ranges, unions of pod IPs and blocks merged (nft refuses overlapping elements without auto-merge), and rendered as
 * the shortest element text (address, prefix or range). Pure.
 */
import { formatIp, type CidrBlock, type Family } from '../model/ip.js';

export interface Interval {
  readonly lo: bigint;
  readonly hi: bigint;
}

const width = (f: Family): bigint => (f === 4 ? 32n : 128n);

export function blockInterval(b: CidrBlock): Interval {
  const size = 1n << (width(b.family) - BigInt(b.prefix));
  return { lo: b.base, hi: b.base + size - 1n };
}

/** Sorted, overlapping or adjacent intervals joined. */
export function mergeIntervals(list: readonly Interval[]): Interval[] {
  const sorted = [...list].sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
  const out: Interval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && iv.lo <= last.hi + 1n) out[out.length - 1] = { lo: last.lo, hi: iv.hi > last.hi ? iv.hi : last.hi };
    else out.push(iv);
  }
  return out;
}

/** `block` minus every `except` block, as disjoint sorted intervals. */
export function subtractBlocks(block: CidrBlock, except: readonly CidrBlock[]): Interval[] {
  let parts: Interval[] = [blockInterval(block)];
  for (const cut of mergeIntervals(except.filter((e) => e.family === block.family).map(blockInterval))) {
    parts = parts.flatMap((p) => {
      if (cut.hi < p.lo || cut.lo > p.hi) return [p];
      const keep: Interval[] = [];
      if (cut.lo > p.lo) keep.push({ lo: p.lo, hi: cut.lo - 1n });
      if (cut.hi < p.hi) keep.push({ lo: cut.hi + 1n, hi: p.hi });
      return keep;
    });
  }
  return parts;
}

/** The prefix length when `iv` is exactly one aligned CIDR block, else undefined. */
function exactPrefix(iv: Interval, family: Family): number | undefined {
  const size = iv.hi - iv.lo + 1n;
  if ((size & (size - 1n)) !== 0n || iv.lo % size !== 0n) return undefined;
  let bits = 0n;
  while (1n << bits < size) bits++;
  return Number(width(family) - bits);
}

/** nft element text: `10.0.0.1`, `10.1.0.0/16` or `10.2.0.1-10.2.0.9`. */
export function intervalElement(iv: Interval, family: Family): string {
  const ip = (value: bigint): string => formatIp({ family, value });
  if (iv.lo === iv.hi) return ip(iv.lo);
  const prefix = exactPrefix(iv, family);
  return prefix === undefined ? `${ip(iv.lo)}-${ip(iv.hi)}` : `${ip(iv.lo)}/${String(prefix)}`;
}
