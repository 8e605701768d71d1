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
 * The kernel's units (ticks, u32 limits, the buffer CHECK expects) are src/netlink/tbf-units.ts.
 */
import { InvalidInputError } from '../lib/errors.js';
import { DEFAULT_TICK_IN_USEC, maxBurstUs, TIME_UNITS_PER_SEC, U32_MAX } from '../netlink/tbf-units.js';

export const LATENCY_MS = 25;

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
