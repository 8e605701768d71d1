/**
 * tbf parameters for a rate and a burst, the reference CNI `bandwidth` plugin's math (plugins/meta/bandwidth,
 * ifb_creator.go) with one deliberate difference. Pure.
 *
 *   rateB  = floor(rateBits / 8)                       bytes/s
 *   burstB = floor(burstBits / 8)                      bytes
 *   buffer = u32(u32(burstB * 1e6 / rateB) * tick)     psched ticks (tick = tick-in-usec from /proc/net/psched)
 *   limit  = u32(rateB * 25000 / 1e6) + burstB         bytes (25 ms of queue + the bucket)
 *
 * The reference computes these in float64 → uint32 and WRAPS (e.g. containerd's MaxUint32-bit burst at 1 Mbit/s
 * gives a buffer of 2684354435 ticks instead of 67108863875: a few seconds instead of 72 minutes).
 *
 * Clamp rule: instead of wrapping, the burst is clamped to the longest bucket the kernel's u32 buffer can hold,
 * `floor((2^32 - 1) / tick)` µs (274.877906 s at tick 15.625), i.e. burstB = floor(thatUs * rateB / 1e6); and the
 * limit is clamped to 2^32 - 1 bytes. Every input that does not wrap in the reference yields exactly its values.
 */
import { InvalidInputError } from '../lib/errors.js';
import { quote } from '../lib/text.js';

export const LATENCY_MS = 25;
export const TIME_UNITS_PER_SEC = 1_000_000;
/** tick-in-usec on this kernel: /proc/net/psched `000003e8 00000040` → 1000 / 64. */
export const DEFAULT_TICK_IN_USEC = 15.625;
export const U32_MAX = 0xffff_ffff;

export interface TbfParams {
  /** bytes/s */
  readonly rateBytes: number;
  /** bytes in the bucket (after clamping) */
  readonly burstBytes: number;
  /** psched ticks */
  readonly bufferTicks: number;
  /** bytes */
  readonly limitBytes: number;
  /** Whether the burst was clamped (the reference would have wrapped). */
  readonly clamped: boolean;
}

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

/** Checks one direction's rate/burst like the reference's validateRateAndBurst; `field` names it in errors. */
export function validateRateAndBurst(field: string, rateBits: number, burstBits: number): void {
  const ok = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
  if (!ok(rateBits)) throw new InvalidInputError(`${field}Rate`, `must be a non-negative integer (bits/s), got ${String(rateBits)}`);
  if (!ok(burstBits)) throw new InvalidInputError(`${field}Burst`, `must be a non-negative integer (bits), got ${String(burstBits)}`);
  if (rateBits === 0 && burstBits !== 0) throw new InvalidInputError(`${field}Burst`, `if burst is set, rate must also be set (${field}Burst=${String(burstBits)})`);
  if (burstBits !== 0 && Math.floor(burstBits / 8) >= U32_MAX) throw new InvalidInputError(`${field}Burst`, `burst cannot be more than 4GB (${String(burstBits)} bits)`);
  if (rateBits !== 0 && rateBits < 8) throw new InvalidInputError(`${field}Rate`, `must be at least 8 bits/s (1 byte/s), got ${String(rateBits)}`);
  if (rateBits !== 0 && burstBits !== 0 && burstBits < 8) throw new InvalidInputError(`${field}Burst`, `must be at least 8 bits (1 byte), got ${String(burstBits)}`);
}

/** The buffer (psched ticks) the kernel derives from a tbf's rate and burst in bytes (what CHECK expects to see). */
export function bufferTicksOf(rateBytes: number, burstBytes: number, tickInUsec = DEFAULT_TICK_IN_USEC): number {
  return Math.min(U32_MAX, Math.trunc(Math.trunc((burstBytes * TIME_UNITS_PER_SEC) / rateBytes) * tickInUsec));
}

/** The tbf for `rateBits` bits/s with a `burstBits`-bit bucket. Throws InvalidInputError on a rate < 1 byte/s. */
export function tbfParams(rateBits: number, burstBits: number, tickInUsec = DEFAULT_TICK_IN_USEC): TbfParams {
  validateRateAndBurst('', rateBits, burstBits);
  const rateBytes = Math.floor(rateBits / 8);
  if (rateBytes < 1 || burstBits < 8) throw new InvalidInputError('rate', `a tbf needs at least 1 byte/s and a 1-byte bucket (rate ${String(rateBits)} bits/s, burst ${String(burstBits)} bits)`);
  let burstBytes = Math.floor(burstBits / 8);
  let burstUs = Math.trunc((burstBytes * TIME_UNITS_PER_SEC) / rateBytes);
  const maxUs = maxBurstUs(tickInUsec);
  const clamped = burstUs > maxUs;
  if (clamped) {
    burstUs = maxUs;
    burstBytes = Math.floor((maxUs * rateBytes) / TIME_UNITS_PER_SEC);
  }
  const bufferTicks = Math.min(U32_MAX, Math.trunc(burstUs * tickInUsec));
  const queued = Math.trunc((rateBytes * LATENCY_MS * 1000) / TIME_UNITS_PER_SEC);
  const limitBytes = Math.min(U32_MAX, queued + burstBytes);
  return { rateBytes, burstBytes, bufferTicks, limitBytes, clamped };
}
