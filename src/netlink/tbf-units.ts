/**
 * The kernel's tbf units, shared by the planner (src/bandwidth/tbf.ts) and CHECK (./diff.ts): psched ticks, the
 * u32 limits of the netlink attributes, and the buffer the kernel derives from a rate and a burst in bytes. Pure.
 * Lives in netlink (the low level) so that netlink never depends on bandwidth.
 */
import { InvalidInputError } from '../lib/errors.js';
import { quote } from '../lib/text.js';

export const TIME_UNITS_PER_SEC = 1_000_000;
/** tick-in-usec on this kernel: /proc/net/psched `000003e8 00000040` → 1000 / 64. */
export const DEFAULT_TICK_IN_USEC = 15.625;
export const U32_MAX = 0xffff_ffff;

/** Largest bucket duration (µs) whose tick count fits in u32. */
export function maxBurstUs(tickInUsec: number): number {
  return Math.min(U32_MAX, Math.floor(U32_MAX / tickInUsec));
}

/** tick-in-usec from the text of /proc/net/psched (`t2us us2t clock_res hz`, hex). */
export function parsePsched(text: string): number {
  const [t2us, us2t] = text.trim().split(/\s+/u).map((h) => Number.parseInt(h, 16));
  if (t2us === undefined || us2t === undefined || !(t2us > 0) || !(us2t > 0)) throw new InvalidInputError('/proc/net/psched', `unexpected content ${quote(text)}`);
  return t2us / us2t;
}

/** The buffer (psched ticks) the kernel derives from a tbf's rate and burst in bytes (what CHECK expects to see). */
export function bufferTicksOf(rateBytes: number, burstBytes: number, tickInUsec = DEFAULT_TICK_IN_USEC): number {
  return Math.min(U32_MAX, Math.trunc(Math.trunc((burstBytes * TIME_UNITS_PER_SEC) / rateBytes) * tickInUsec));
}
