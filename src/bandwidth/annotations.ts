/**
 * Pod annotations → bandwidth limits (called by the daemon at allocate, and by the reconciler on updates).
 * `kubernetes.io/{ingress,egress}-bandwidth` (Kubernetes quantities, bits/s) win over Terway's deprecated
 * `k8s.aliyun.com/{ingress,egress}-bandwidth` (bytes/s, binary multipliers: `10M` = 10 MiB/s ≈ 83.9 Mbit/s), per
 * direction. Both must land in [1 kbit/s, 1 Pbit/s] (kubelet's bounds). The burst is the default of ./tbf.ts.
 * Bad values throw ConfigError(path = annotation name). Pure; no I/O.
 */
import { ConfigError } from '../lib/errors.js';
import { defaultBurstBits } from './burst.js';
import { ceilExact, parseQuantity, parseTerwayBytes } from './quantity.js';
import type { BandwidthSpec, Direction, RateLimit } from './types.js';
import { quote } from '../lib/text.js';

export const K8S_INGRESS = 'kubernetes.io/ingress-bandwidth';
export const K8S_EGRESS = 'kubernetes.io/egress-bandwidth';
export const TERWAY_INGRESS = 'k8s.aliyun.com/ingress-bandwidth';
export const TERWAY_EGRESS = 'k8s.aliyun.com/egress-bandwidth';
export const BANDWIDTH_ANNOTATIONS = [K8S_INGRESS, K8S_EGRESS, TERWAY_INGRESS, TERWAY_EGRESS] as const;

/** Smallest and largest accepted rate, bits/s (kubelet's `validateBandwidthIsReasonable`). */
export const MIN_RATE_BPS = 1_000n;
export const MAX_RATE_BPS = 1_000_000_000_000_000n;

function checkRange(name: string, raw: string, bits: bigint): number {
  if (bits < MIN_RATE_BPS) throw new ConfigError(name, `bandwidth ${quote(raw)} is unreasonably small (< 1kbit/s)`);
  if (bits > MAX_RATE_BPS) throw new ConfigError(name, `bandwidth ${quote(raw)} is unreasonably large (> 1Pbit/s)`);
  return Number(bits);
}

/** `kubernetes.io/*-bandwidth` value → bits/s. */
export function parseK8sBandwidth(name: string, raw: string): number {
  const q = parseQuantity(raw.trim());
  if (q === undefined) throw new ConfigError(name, `cannot parse bandwidth ${quote(raw)} as a Kubernetes quantity (e.g. 10M, 1Gi)`);
  if (q.negative) throw new ConfigError(name, `bandwidth ${quote(raw)} is negative`);
  return checkRange(name, raw, ceilExact(q));
}

/** `k8s.aliyun.com/*-bandwidth` value (bytes/s, binary multipliers) → bits/s. */
export function parseTerwayBandwidth(name: string, raw: string): number {
  const bytes = parseTerwayBytes(raw);
  if (bytes === undefined) {
    throw new ConfigError(name, `cannot parse bandwidth ${quote(raw)}: want a positive number of bytes/s with a unit B, K, M, G or T (binary, e.g. 10M)`);
  }
  if (bytes === 0n) throw new ConfigError(name, `bandwidth ${quote(raw)} is zero`);
  return checkRange(name, raw, bytes * 8n);
}

function direction(annotations: Readonly<Record<string, string>>, dir: Direction): RateLimit | undefined {
  const k8s = dir === 'ingress' ? K8S_INGRESS : K8S_EGRESS;
  const terway = dir === 'ingress' ? TERWAY_INGRESS : TERWAY_EGRESS;
  const k8sRaw = annotations[k8s];
  const terwayRaw = annotations[terway];
  // A bad value is an error even when the other scheme would win: the user asked for something we cannot honour.
  const terwayRate = terwayRaw !== undefined ? parseTerwayBandwidth(terway, terwayRaw) : undefined;
  const rate = k8sRaw !== undefined ? parseK8sBandwidth(k8s, k8sRaw) : terwayRate;
  return rate === undefined ? undefined : { rateBps: rate, burstBits: defaultBurstBits(rate) };
}

/** The limits the annotations ask for; undefined when none is set. Throws ConfigError on a bad value. */
export function parseBandwidthAnnotations(annotations: Readonly<Record<string, string>>): BandwidthSpec | undefined {
  const ingress = direction(annotations, 'ingress');
  const egress = direction(annotations, 'egress');
  if (ingress === undefined && egress === undefined) return undefined;
  return { ...(ingress !== undefined ? { ingress } : {}), ...(egress !== undefined ? { egress } : {}) };
}
