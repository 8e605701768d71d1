/**
 * The default burst when only a rate is known (annotations; runtimeConfig without a burst).
 *
 * Rule: burst = max(10 ms of the rate, 64 KiB), in bits: `max(ceil(rateBps / 100), 524288)`. 10 ms keeps the
 * bucket large against timer and scheduling jitter at high rates (a smaller bucket under-delivers: the qdisc
 * watchdog cannot dequeue often enough), and 64 KiB lets one maximal GSO/TSO packet (64 KiB on a veth) pass without
 * being segmented or dropped at low rates. The overshoot this allows is one bucket: ≤ 10 ms of traffic, or ≤ 64 KiB.
 */
export const MIN_DEFAULT_BURST_BITS = 64 * 1024 * 8;
export const DEFAULT_BURST_MS = 10;

export function defaultBurstBits(rateBps: number): number {
  return Math.max(Math.ceil((rateBps * DEFAULT_BURST_MS) / 1000), MIN_DEFAULT_BURST_BITS);
}
