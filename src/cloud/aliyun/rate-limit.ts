/**
 * Client-side rate limits per ECS action (Terway pkg/aliyun/client/ratelimit.go): a token bucket per action, the
 * value in calls per minute (QPS = v/60, burst = v), Terway's defaults, overridable by `eni_conf.rate_limit`
 * (`{"CreateNetworkInterface": 100, …}`; key `default` for the other actions).
 */
import type { Clock } from './clock.js';

export const DEFAULT_RATE_LIMITS: Readonly<Record<string, number>> = {
  default: 500,
  AttachNetworkInterface: 500,
  CreateNetworkInterface: 500,
  DeleteNetworkInterface: 500,
  DescribeNetworkInterfaces: 800,
  DescribeNetworkInterfaceAttribute: 2000,
  DetachNetworkInterface: 400,
  AssignPrivateIpAddresses: 400,
  UnassignPrivateIpAddresses: 400,
  AssignIpv6Addresses: 400,
  UnassignIpv6Addresses: 400,
  DescribeInstanceTypes: 400,
  DescribeVSwitches: 300,
};

class Bucket {
  private tokens: number;
  private at: number;
  constructor(
    private readonly perMinute: number,
    now: number,
  ) {
    this.tokens = perMinute;
    this.at = now;
  }

  /** Reserves one token; returns how long to wait for it (ms). */
  reserve(now: number): number {
    const qpms = this.perMinute / 60_000;
    this.tokens = Math.min(this.perMinute, this.tokens + (now - this.at) * qpms);
    this.at = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : -this.tokens / qpms;
  }
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly limits: Readonly<Record<string, number>>;

  constructor(
    overrides: Readonly<Record<string, number>>,
    private readonly clock: Clock,
    private readonly onLongWait: (action: string, ms: number) => void = () => undefined,
  ) {
    this.limits = { ...DEFAULT_RATE_LIMITS, ...overrides };
  }

  perMinute(action: string): number {
    return this.limits[action] ?? this.limits.default ?? 500;
  }

  /** Waits for `action`'s turn (a limit of 0 means unlimited). */
  async take(action: string, signal?: AbortSignal): Promise<void> {
    const limit = this.perMinute(action);
    if (limit <= 0) return;
    let bucket = this.buckets.get(action);
    if (bucket === undefined) {
      bucket = new Bucket(limit, this.clock.now());
      this.buckets.set(action, bucket);
    }
    const wait = bucket.reserve(this.clock.now());
    if (wait <= 0) return;
    if (wait >= 5000) this.onLongWait(action, wait);
    await this.clock.sleep(wait, signal);
  }
}
