import { defaultBurstBits } from '../../../src/bandwidth/burst.js';
import { tbfParams, validateRateAndBurst } from '../../../src/bandwidth/tbf.js';
import { maxBurstUs, parsePsched } from '../../../src/netlink/tbf-units.js';
import { InvalidInputError } from '../../../src/lib/errors.js';

const MAX_U32 = 4294967295;

describe('tbfParams: the reference plugin vectors (cni-spec-and-oracles §2.1)', () => {
  it.each([
    // rate bits/s, burst bits, rateB, buffer ticks, limit B
    [8, 8, 1, 15625000, 1],
    [8000, 80, 1000, 156250, 35],
    [8000, 16000, 1000, 31250000, 2025],
    [1000000, 1000000, 125000, 15625000, 128125],
    [10000000, 80000, 1250000, 125000, 41250],
    [100000000, 800000, 12500000, 125000, 412500],
    [1000000000, 8000000, 125000000, 125000, 4125000],
    [40000000000, 80000000, 5000000000, 31250, 135000000],
    [100000000, MAX_U32, 12500000, 671088625, 537183411],
    [1000000000, MAX_U32, 125000000, 67108859, 539995911],
  ])('rate %d burst %d → rate %d B/s, buffer %d, limit %d', (rate, burst, rateB, buffer, limit) => {
    const p = tbfParams(rate, burst, 15.625);
    expect(p).toMatchObject({ rateBytes: rateB, bufferTicks: buffer, limitBytes: limit, clamped: false });
  });
  it.each([
    // where the reference wraps (buffer 2684354435 / 2415919079): clamped to the longest u32 bucket, 274.877906 s
    [1000000, MAX_U32, 125000, 34359738, 4294967281, 34362863],
    [10000000, MAX_U32, 1250000, 343597382, 4294967281, 343628632],
  ])('rate %d burst %d (wraps in the reference) → clamped', (rate, burst, rateB, burstB, buffer, limit) => {
    expect(tbfParams(rate, burst, 15.625)).toEqual({ rateBytes: rateB, burstBytes: burstB, bufferTicks: buffer, limitBytes: limit, clamped: true });
  });
  it('the clamp bound is the u32 tick range', () => {
    expect(maxBurstUs(15.625)).toBe(274877906);
    expect(parsePsched('000003e8 00000040 000f4240 3b9aca00\n')).toBe(15.625);
  });
  it('rejects a rate under 1 byte/s (the reference fails with EINVAL)', () => {
    expect(() => tbfParams(7, 8)).toThrow(InvalidInputError);
  });
});

describe('validateRateAndBurst (reference validation vectors)', () => {
  it.each([
    [5000, 4 * 1024 ** 3 * 8 - 16, true],
    [5000, 4 * 1024 ** 3 * 8, false],
    [0, 1, false],
    [0, 0, true],
  ])('rate %d burst %d ok=%s', (rate, burst, ok) => {
    const f = (): void => {
      validateRateAndBurst('ingress', rate, burst);
    };
    if (ok) expect(f).not.toThrow();
    else expect(f).toThrow(InvalidInputError);
  });
  it('burst without rate names the field', () => {
    expect(() => {
      validateRateAndBurst('egress', 0, 123);
    }).toThrow(/egressBurst.*if burst is set, rate must also be set/u);
  });
});

describe('default burst', () => {
  it('is max(10 ms of the rate, 64 KiB)', () => {
    expect(defaultBurstBits(10_000_000)).toBe(524288);
    expect(defaultBurstBits(100_000_000)).toBe(1_000_000);
    expect(defaultBurstBits(1_000_000_000)).toBe(10_000_000);
  });
});
