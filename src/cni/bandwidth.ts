/**
 * CNI `runtimeConfig.bandwidth` (`ingressRate`, `ingressBurst`, `egressRate`, `egressBurst`; bits/s and bits) and
 * its merge over the daemon's annotation-derived `Allocation.bandwidth`: per direction, a runtimeConfig rate wins.
 * Validation like the reference plugin: a burst without a rate is an error (code 7 naming the field); a rate
 * without a burst gets the default burst (src/bandwidth/burst.ts). Pure.
 */
import { defaultBurstBits } from '../bandwidth/burst.js';
import { validateRateAndBurst } from '../bandwidth/tbf.js';
import type { BandwidthSpec, RateLimit } from '../bandwidth/types.js';
import { errorMessage } from '../lib/errors.js';
import { quote } from '../lib/text.js';
import type { Allocation } from '../modes/types.js';
import { isJsonObject, type JsonObject } from './config.js';
import { CniError } from './errors.js';
import { CniCode } from './spec.js';

function invalid(field: string, problem: string): CniError {
  return new CniError(CniCode.INVALID_CONFIG, 'invalid network config', `runtimeConfig.bandwidth.${field}: ${problem}`);
}

/** Go's JSON decoding is case-insensitive (the upstream test sends `bandWidth`). */
function key(o: JsonObject, name: string): unknown {
  const k = Object.keys(o).find((x) => x.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : o[k];
}

function count(o: JsonObject, name: string): number {
  const v = key(o, name);
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalid(name, `must be a non-negative integer, got ${quote(v)}`);
  return v;
}

function direction(o: JsonObject, dir: 'ingress' | 'egress'): RateLimit | undefined {
  const rate = count(o, `${dir}Rate`);
  const burst = count(o, `${dir}Burst`);
  try {
    validateRateAndBurst(dir, rate, burst);
  } catch (err) {
    throw new CniError(CniCode.INVALID_CONFIG, 'invalid network config', `runtimeConfig.bandwidth.${errorMessage(err)}`);
  }
  if (rate === 0) return undefined;
  return { rateBps: rate, burstBits: burst === 0 ? defaultBurstBits(rate) : burst };
}

/** The limits of `runtimeConfig.bandwidth`; undefined when absent or all zero. Throws CniError code 7. */
export function runtimeBandwidth(runtimeConfig: JsonObject | undefined): BandwidthSpec | undefined {
  if (runtimeConfig === undefined) return undefined;
  const raw = key(runtimeConfig, 'bandwidth');
  if (raw === undefined || raw === null) return undefined;
  if (!isJsonObject(raw)) throw invalid('', 'must be an object');
  const ingress = direction(raw, 'ingress');
  const egress = direction(raw, 'egress');
  if (ingress === undefined && egress === undefined) return undefined;
  return { ...(ingress !== undefined ? { ingress } : {}), ...(egress !== undefined ? { egress } : {}) };
}

/** Per direction: runtimeConfig > annotations (the daemon's `base`). */
export function mergeBandwidth(runtime: BandwidthSpec | undefined, base: BandwidthSpec | undefined): BandwidthSpec | undefined {
  const ingress = runtime?.ingress ?? base?.ingress;
  const egress = runtime?.egress ?? base?.egress;
  if (ingress === undefined && egress === undefined) return undefined;
  return { ...(ingress !== undefined ? { ingress } : {}), ...(egress !== undefined ? { egress } : {}) };
}

/** The allocation the plugin plans with: its bandwidth merged with the runtimeConfig's. */
export function withRuntimeBandwidth(alloc: Allocation, runtimeConfig: JsonObject | undefined): Allocation {
  return withBandwidth(alloc, mergeBandwidth(runtimeBandwidth(runtimeConfig), alloc.bandwidth));
}

/** `alloc` with its bandwidth replaced (removed when undefined). */
export function withBandwidth(alloc: Allocation, bandwidth: BandwidthSpec | undefined): Allocation {
  if (bandwidth !== undefined) return { ...alloc, bandwidth };
  const out = { ...alloc };
  delete out.bandwidth;
  return out;
}
