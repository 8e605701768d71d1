/**
 * The daemon config's `pool` section: the warm pool of ENI secondary IPs (src/pool). With Kubernetes, eni_conf's
 * `min_pool_size` / `max_pool_size` and the `idle_ip_reclaim_*` keys take the place of the watermarks and the reclaim
 * settings. Pure; ConfigError
 * naming the field.
 */
import { ConfigError } from '../lib/errors.js';
import type { EniConf } from './eni-conf.js';
import { quote } from '../lib/text.js';

export interface PoolConfig {
  /** Idle IPs kept at least (Terway's min_pool_size). */
  readonly minIdle: number;
  /** Idle IPs kept at most (Terway's max_pool_size). */
  readonly maxIdle: number;
  /** Refill by recent demand (bursts of the last 10 min), not only to minIdle. */
  readonly demandAware: boolean;
  /** Concurrent demand within this window becomes one cloud call. */
  readonly coalesceMs: number;
  /** Idle IPs above the target go back after this long without pool changes; 0 = never (Terway's default). */
  readonly reclaimAfterSeconds: number;
  /** Once reclaim is due: a batch every interval ± jitter × interval (Terway's idle_ip_reclaim_interval, _jitter_factor). */
  readonly reclaimIntervalSeconds: number;
  readonly reclaimJitter: number;
  /** IPs given back per reclaim round (idle_ip_reclaim_batch_size). */
  readonly reclaimBatchSize: number;
  /**
   * Schedule-time demand (with Kubernetes): pods bound to this node that have no IP yet are expected, and the pool
   * brings their IPs before the kubelet's ADD (beyond maxIdle: each is a known pod).
   */
  readonly scheduleAware: boolean;
  /** A scheduled pod whose ADD has not come after this long is no longer expected. */
  readonly scheduledTtlSeconds: number;
  /**
   * How often the pool is compared with the cloud's view (a cloud provider: the metadata service's IPs of the node's
   * ENIs): leased IPs the cloud no longer lists are reported invalid, unknown IPs on the pool's ENIs adopted as idle.
   * Terway's ip_pool_sync_period (120 s; with Kubernetes eni_conf's wins).
   */
  readonly syncIntervalSeconds: number;
  /**
   * ENIs kept attached with free slots (beyond Terway): `auto` covers max(the node's max pods, the demand peak of the
   * last 10 min), at least `minEnis`, at most the instance's maxENI; a number fixes it (0: none, as Terway).
   */
  readonly warmEnis: 'auto' | number;
  /** The node's max pods when Kubernetes does not say (the Node's `status.capacity.pods` replaces it); 0: unknown. */
  readonly nodeMaxPods: number;
  /** eni_conf `min_eni` (with Kubernetes): auto warm ENIs are at least this many. */
  readonly minEnis: number;
  /** The local provider's simulated cloud latency (demos, benches): ENI creation, IP assignment, IP release. */
  readonly localLatencyMs: { readonly create: number; readonly assign: number; readonly unassign: number };
}

export const DEFAULT_POOL_CONFIG: PoolConfig = {
  minIdle: 0,
  maxIdle: 5,
  demandAware: true,
  coalesceMs: 50,
  reclaimAfterSeconds: 0,
  reclaimIntervalSeconds: 600,
  reclaimJitter: 0.1,
  reclaimBatchSize: 5,
  scheduleAware: true,
  scheduledTtlSeconds: 180,
  warmEnis: 'auto',
  nodeMaxPods: 110,
  minEnis: 0,
  syncIntervalSeconds: 120,
  localLatencyMs: { create: 0, assign: 0, unassign: 0 },
};

type Obj = Readonly<Record<string, unknown>>;

function int(o: Obj, key: string, path: string, dflt: number, max: number): number {
  const v = o[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new ConfigError(`${path}.${key}`, `must be an integer in 0..${String(max)}; got ${quote(v)}`);
  return v;
}

function positive(v: number, path: string): number {
  if (v === 0) throw new ConfigError(path, 'must be at least 1');
  return v;
}

function fraction(o: Obj, key: string, path: string, dflt: number): number {
  const v = o[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) throw new ConfigError(`${path}.${key}`, `must be a number in 0..1; got ${quote(v)}`);
  return v;
}

function object(raw: unknown, path: string): Obj {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(path, 'must be an object');
  return raw as Obj;
}

function only(o: Obj, path: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new ConfigError(`${path}.${k}`, 'unknown field');
}

export function parsePoolConfig(raw: unknown, path = 'pool'): PoolConfig {
  if (raw === undefined) return DEFAULT_POOL_CONFIG;
  const o = object(raw, path);
  only(o, path, ['minIdle', 'maxIdle', 'demandAware', 'coalesceMs', 'reclaimAfterSeconds', 'reclaimIntervalSeconds', 'reclaimJitter', 'reclaimBatchSize', 'scheduleAware', 'scheduledTtlSeconds', 'warmEnis', 'nodeMaxPods', 'syncIntervalSeconds', 'localLatencyMs']);
  const d = DEFAULT_POOL_CONFIG;
  const minIdle = int(o, 'minIdle', path, d.minIdle, 10_000);
  const maxIdle = int(o, 'maxIdle', path, d.maxIdle, 10_000);
  if (minIdle > maxIdle) throw new ConfigError(`${path}.minIdle`, `must not exceed maxIdle (${String(minIdle)} > ${String(maxIdle)})`);
  const demandAware = o.demandAware ?? d.demandAware;
  if (typeof demandAware !== 'boolean') throw new ConfigError(`${path}.demandAware`, 'must be a boolean');
  const scheduleAware = o.scheduleAware ?? d.scheduleAware;
  if (typeof scheduleAware !== 'boolean') throw new ConfigError(`${path}.scheduleAware`, 'must be a boolean');
  const scheduledTtlSeconds = int(o, 'scheduledTtlSeconds', path, d.scheduledTtlSeconds, 86_400);
  if (scheduledTtlSeconds < 1) throw new ConfigError(`${path}.scheduledTtlSeconds`, `must be at least 1; got ${quote(scheduledTtlSeconds)}`);
  const w = o.warmEnis ?? d.warmEnis;
  if (w !== 'auto' && (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > 1000)) throw new ConfigError(`${path}.warmEnis`, `must be "auto" or an integer in 0..1000; got ${quote(w)}`);
  const warmEnis: 'auto' | number = w;
  const lat = o.localLatencyMs === undefined ? {} : object(o.localLatencyMs, `${path}.localLatencyMs`);
  only(lat, `${path}.localLatencyMs`, ['create', 'assign', 'unassign']);
  return {
    minIdle,
    maxIdle,
    demandAware,
    coalesceMs: int(o, 'coalesceMs', path, d.coalesceMs, 5_000),
    reclaimAfterSeconds: int(o, 'reclaimAfterSeconds', path, d.reclaimAfterSeconds, 86_400),
    reclaimIntervalSeconds: positive(int(o, 'reclaimIntervalSeconds', path, d.reclaimIntervalSeconds, 86_400), `${path}.reclaimIntervalSeconds`),
    reclaimJitter: fraction(o, 'reclaimJitter', path, d.reclaimJitter),
    reclaimBatchSize: positive(int(o, 'reclaimBatchSize', path, d.reclaimBatchSize, 1_000), `${path}.reclaimBatchSize`),
    scheduleAware,
    scheduledTtlSeconds,
    warmEnis,
    nodeMaxPods: int(o, 'nodeMaxPods', path, d.nodeMaxPods, 10_000),
    minEnis: d.minEnis,
    syncIntervalSeconds: positive(int(o, 'syncIntervalSeconds', path, d.syncIntervalSeconds, 86_400), `${path}.syncIntervalSeconds`),
    localLatencyMs: {
      create: int(lat, 'create', `${path}.localLatencyMs`, 0, 600_000),
      assign: int(lat, 'assign', `${path}.localLatencyMs`, 0, 600_000),
      unassign: int(lat, 'unassign', `${path}.localLatencyMs`, 0, 600_000),
    },
  };
}

/** With Kubernetes the cluster's eni_conf sets the watermarks and idle reclaim, as in Terway (pure). */
export function poolFromEniConf(local: PoolConfig, c: EniConf): PoolConfig {
  return {
    ...local,
    minIdle: c.minPoolSize,
    maxIdle: c.maxPoolSize,
    reclaimAfterSeconds: c.idleIpReclaimAfterMs === undefined ? 0 : Math.ceil(c.idleIpReclaimAfterMs / 1000),
    reclaimIntervalSeconds: Math.max(1, Math.ceil(c.idleIpReclaimIntervalMs / 1000)),
    reclaimJitter: Math.min(1, c.idleIpReclaimJitterFactor),
    reclaimBatchSize: c.idleIpReclaimBatchSize,
    minEnis: c.minEni,
    syncIntervalSeconds: Math.max(1, Math.ceil(c.ipPoolSyncPeriodMs / 1000)),
  };
}

/** The Node's `status.capacity.pods`, when known, is the node's max pods (pure). */
export function poolWithNodeMaxPods(c: PoolConfig, maxPods: number | undefined): PoolConfig {
  return maxPods === undefined ? c : { ...c, nodeMaxPods: maxPods };
}
