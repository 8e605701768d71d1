/**
 * The daemon's warm pools (src/pool): one per cloud factory (`CloudProvider.factory.key`), created the first time a
 * mode needs it and kept across mode switches (veth-policy-routing ↔ ipvlan use the same ENIs, and leases of an
 * earlier mode still give their IPs back to it). At creation the pool completes what a crash cut short and reports
 * what it found; the watermarks follow the effective config.
 */
import { randomUUID } from 'node:crypto';
import type { CloudProvider } from '../cloud/types.js';
import type { PoolConfig } from '../config/pool-config.js';
import type { Logger } from '../lib/log.js';
import { DEFAULT_DEMAND } from '../pool/plan.js';
import { Pool, type PoolOptions } from '../pool/pool.js';
import type { RecoveryReport } from '../pool/recover.js';
import { PoolSource, type AddressSource } from '../pool/source.js';
import type { LeaseStore } from '../store/store.js';

export function poolOptionsOf(c: PoolConfig): Partial<PoolOptions> {
  return {
    minIdle: c.minIdle,
    maxIdle: c.maxIdle,
    coalesceMs: c.coalesceMs,
    demand: { ...DEFAULT_DEMAND, demandAware: c.demandAware },
    ...(c.reclaimAfterSeconds > 0 ? { reclaimAfterMs: c.reclaimAfterSeconds * 1000 } : {}),
  };
}

export class PoolKeeper {
  readonly #pools = new Map<string, { readonly pool: Pool; readonly source: PoolSource }>();

  constructor(
    readonly store: LeaseStore,
    readonly log: Logger,
    /** Told what recovery found (invalid leases, adopted IPs, completed operations). */
    readonly onRecovery: (report: RecoveryReport) => void,
  ) {}

  /** The pool source for `provider`, created (and recovered) on first use; undefined: a static address set. */
  async sourceFor(provider: CloudProvider, config: PoolConfig): Promise<AddressSource | undefined> {
    const f = provider.factory;
    if (f === undefined) return undefined;
    const have = this.#pools.get(f.key);
    if (have !== undefined) {
      have.pool.configure(poolOptionsOf(config));
      return have.source;
    }
    const known = (): ReadonlySet<string> => new Set([...this.store.usedIps(), ...this.store.pool.loadEnis().flatMap((e) => e.ips)]);
    const factory = f.create(known);
    const pool = new Pool({ factory, journal: this.store.pool, log: this.log, newToken: randomUUID, options: poolOptionsOf(config) });
    const report = await pool.start(new Set(this.store.usedIps()));
    this.onRecovery(report);
    const source = new PoolSource(pool, factory.name);
    this.#pools.set(f.key, { pool, source });
    return source;
  }

  /** Every pool's numbers, for status and metrics. */
  stats(): readonly { readonly key: string; readonly stats: ReturnType<Pool['stats']> }[] {
    return [...this.#pools].map(([key, p]) => ({ key, stats: p.pool.stats() }));
  }

  stop(): void {
    for (const p of this.#pools.values()) p.pool.stop();
  }
}
