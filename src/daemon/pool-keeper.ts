/**
 * The daemon's warm pools (src/pool): one per cloud factory (`CloudProvider.factory.key`), created the first time a
 * mode needs it and kept across mode switches (veth-policy-routing ↔ ipvlan use the same ENIs, and leases of an
 * earlier mode still give their IPs back to it). At creation the pool completes what a crash cut short and reports
 * what it found; the watermarks follow the effective config. The exclusive-ENI mode (eni) gets its own pool of
 * whole ENIs (src/pool/eni-pool.ts) under its own key: the node never runs both (the daemon refuses a live switch
 * into or out of eni, as Terway).
 *
 * Schedule-time demand: the pods scheduled to this node that await their IP (./k8s/scheduled-pods.ts) are kept here
 * and expected by the pool of the current mode only — none when the mode has no pool (vpc: a static address set) or
 * `pool.scheduleAware` is off. A mode switch moves them to the new mode's pool.
 */
import { randomUUID } from 'node:crypto';
import type { CloudProvider } from '../cloud/types.js';
import type { PoolConfig } from '../config/pool-config.js';
import { ConfigError, errorMessage } from '../lib/errors.js';
import type { ResourceFactory } from '../pool/types.js';
import type { Logger } from '../lib/log.js';
import { DEFAULT_DEMAND } from '../pool/plan.js';
import { Pool, type PoolOptions } from '../pool/pool.js';
import type { RecoveryReport } from '../pool/recover.js';
import { PoolSource, type AddressSource } from '../pool/source.js';
import { EniPool, withoutDemand } from '../pool/eni-pool.js';
import { EniSource, type LinkByMac } from '../pool/eni-source.js';
import { instrumentFactory, type FactoryCallObserver, type InstrumentedFactory } from './factory-metrics.js';
import type { FactoryView } from './terway-metrics.js';
import type { LeaseStore } from '../store/store.js';
import type { PoolLevels } from '../rpc/protocol.js';
import type { PoolEntryReply } from '../rpc/operator-protocol.js';

/** Pause between attempts to start a pool whose start failed. */
export const START_RETRY_MS = 5_000;

export function poolOptionsOf(c: PoolConfig): Partial<PoolOptions> {
  return {
    minIdle: c.minIdle,
    maxIdle: c.maxIdle,
    coalesceMs: c.coalesceMs,
    demand: { ...DEFAULT_DEMAND, demandAware: c.demandAware },
    scheduledTtlMs: c.scheduledTtlSeconds * 1000,
    ...(c.reclaimAfterSeconds > 0 ? { reclaimAfterMs: c.reclaimAfterSeconds * 1000 } : {}),
    reclaimIntervalMs: c.reclaimIntervalSeconds * 1000,
    reclaimJitter: c.reclaimJitter,
    reclaimBatch: c.reclaimBatchSize,
    warmEnis: c.warmEnis,
    nodeMaxPods: c.nodeMaxPods,
    minEnis: c.minEnis,
  };
}

/** What a pool sync found (src/pool/sync.ts), for events and metrics; `enis`: every ENI the pools hold now. */
export interface PoolSyncFindings {
  readonly invalid: readonly string[];
  readonly adopted: readonly string[];
  readonly dropped: readonly string[];
  readonly enis: ReadonlySet<string>;
}

/** Where the node's scheduled pods are told (./k8s/scheduled-pods.ts). */
export interface ScheduledDemand {
  /** The pod (`namespace/name`) is bound to this node and awaits its IP. */
  expect(pod: string): void;
  /** It is gone, or has its IP. */
  forget(pod: string): void;
}

export class PoolKeeper implements ScheduledDemand {
  readonly #pools = new Map<string, { readonly pool: Pool; readonly source: PoolSource; readonly factory: InstrumentedFactory }>();
  #stopped = false;
  /** Per pool: invalid leased IPs already reported (each once while it stays invalid; a skipped round keeps them). */
  readonly #reportedInvalid = new Map<string, ReadonlySet<string>>();
  readonly #eniPools = new Map<string, { readonly pool: EniPool; readonly source: EniSource; readonly factory: InstrumentedFactory }>();
  /** Pods scheduled here awaiting their IP (what the informer says), whichever pool is current. */
  readonly #scheduled = new Set<string>();
  /** The pool that expects them: the current mode's, when it has one and schedule-time demand is on. */
  #active: Pool | undefined;

  constructor(
    readonly store: LeaseStore,
    readonly log: Logger,
    /** Told what recovery found (invalid leases, adopted IPs, completed operations). */
    readonly onRecovery: (report: RecoveryReport) => void,
    /** Finds an exclusive ENI's host link by its MAC (src/cloud/host-links.ts). */
    readonly linkByMac?: LinkByMac,
    /** Told of every cloud call the pools make (metrics: ./factory-metrics.ts). */
    readonly observeFactory?: FactoryCallObserver,
  ) {}

  #instrument(f: ResourceFactory): InstrumentedFactory {
    return instrumentFactory(f, (c) => { this.observeFactory?.(c); });
  }

  /**
   * The pool source for `provider`, created (and recovered) on first use; undefined: a static address set. The
   * source returned is the current one: the scheduled pods are expected by its pool from now on.
   */
  async sourceFor(provider: CloudProvider, config: PoolConfig): Promise<AddressSource | undefined> {
    const f = provider.factory;
    if (f === undefined || provider.mode === 'eni') {
      this.#activate(undefined); // the whole-ENI pool does not take schedule-time demand (yet)
      return f === undefined ? undefined : this.#eniSourceFor(f, config);
    }
    let have = this.#pools.get(f.key);
    if (have !== undefined) {
      have.pool.configure(poolOptionsOf(config));
    } else {
      const known = (): ReadonlySet<string> => new Set([...this.store.usedIps(), ...this.store.pool.loadEnis().flatMap((e) => e.ips)]);
      const factory = this.#instrument(f.create(known));
      const pool = new Pool({ factory, journal: this.store.pool, log: this.log, newToken: randomUUID, options: poolOptionsOf(config) });
      await this.#start(pool, f.key);
      have = { pool, source: new PoolSource(pool, factory.name), factory };
      this.#pools.set(f.key, have);
    }
    this.#activate(config.scheduleAware ? have.pool : undefined);
    return have.source;
  }

  /**
   * Starts a pool (recovery included). A start the cloud refuses or cannot answer is not fatal to the daemon: the
   * pool fails allocations at once saying why (src/pool/pool.ts) and its start is tried again every
   * START_RETRY_MS until it succeeds.
   */
  async #start(pool: Pool, key: string): Promise<void> {
    try {
      this.onRecovery(await pool.start(new Set(this.store.usedIps())));
    } catch (e) {
      this.log.error('pool start failed; allocations fail until it starts (retrying)', { pool: key, err: errorMessage(e), retryMs: START_RETRY_MS });
      const t = setTimeout(() => { if (!this.#stopped) void this.#start(pool, key); }, START_RETRY_MS);
      t.unref();
    }
  }

  expect(pod: string): void {
    this.#scheduled.add(pod);
    this.#active?.expect(pod);
  }

  forget(pod: string): void {
    if (!this.#scheduled.delete(pod)) return;
    this.#active?.forget(pod);
  }

  #activate(next: Pool | undefined): void {
    if (next === this.#active) return;
    for (const pod of this.#scheduled) this.#active?.forget(pod);
    this.#active = next;
    for (const pod of this.#scheduled) next?.expect(pod);
    if (this.#scheduled.size > 0) this.log.info(next === undefined ? 'scheduled pods: no pool expects them in this mode' : 'scheduled pods: expected by the current pool', { pods: this.#scheduled.size });
  }

  async #eniSourceFor(f: NonNullable<CloudProvider['factory']>, config: PoolConfig): Promise<AddressSource> {
    const key = `${f.key}#exclusive`;
    const options = withoutDemand(poolOptionsOf(config));
    const have = this.#eniPools.get(key);
    if (have !== undefined) {
      have.pool.configure(options);
      return have.source;
    }
    if (this.linkByMac === undefined) throw new ConfigError('mode', 'eni mode needs the host link lookup by MAC (not wired in this daemon)');
    const factory = this.#instrument(f.create(() => new Set([...this.store.usedIps(), ...this.store.pool.loadEnis().flatMap((e) => e.ips)])));
    const pool = new EniPool({ factory, journal: this.store.pool, log: this.log, newToken: randomUUID, options });
    this.onRecovery(await pool.start(new Set(this.store.usedIps())));
    const source = new EniSource(pool, this.linkByMac);
    this.#eniPools.set(key, { pool, source, factory });
    return source;
  }

  /**
   * Compares every pool with what the node sees (its factory's `nodeView`: the metadata service), applies the
   * decision (src/pool/sync.ts) and returns the findings: invalid leased IPs are reported once while they stay
   * invalid. A view that fails is logged and skipped (the next round tries again).
   */
  async sync(): Promise<PoolSyncFindings> {
    const invalid: string[] = [];
    const adopted: string[] = [];
    const dropped: string[] = [];
    for (const key of [...this.#reportedInvalid.keys()]) if (!this.#pools.has(key)) this.#reportedInvalid.delete(key);
    for (const [key, { pool, factory }] of this.#pools) {
      if (factory.nodeView === undefined) continue;
      const seq = pool.opSeq;
      let seen;
      try {
        seen = await factory.nodeView(pool.enis());
      } catch (e) {
        this.log.warn('pool sync: the node\'s view is unavailable; next round', { pool: key, err: errorMessage(e) });
        continue;
      }
      const d = pool.sync(seq, seen);
      if (d === undefined) continue;
      const reported = this.#reportedInvalid.get(key);
      for (const { ip } of d.invalid) if (reported?.has(ip) !== true) invalid.push(ip);
      this.#reportedInvalid.set(key, new Set(d.invalid.map((x) => x.ip)));
      adopted.push(...d.adopted.flatMap((a) => a.ips));
      dropped.push(...d.dropped.map((x) => x.ip));
    }
    return { invalid, adopted, dropped, enis: new Set([...this.#pools.values()].flatMap((p) => p.pool.enis().map((e) => e.id))) };
  }

  /** The secondary ENIs the instance may have (exclusive-ENI mode: the pods it can take); undefined without an ENI pool. */
  exclusiveEniCapacity(): number | undefined {
    for (const p of this.#eniPools.values()) return p.pool.maxEnis;
    return undefined;
  }

  /** Every pool's numbers, for status and metrics. */
  stats(): readonly { readonly key: string; readonly stats: ReturnType<Pool['stats']> }[] {
    return [...this.#pools].map(([key, p]) => ({ key, stats: p.pool.stats() }));
  }

  /** Every pool's levels for `terway-hub status` (IP pools, then whole-ENI pools). */
  levels(): readonly PoolLevels[] {
    const ip = [...this.#pools].map(([key, p]): PoolLevels => {
      const s = p.pool.stats();
      return { key, kind: 'ip', enis: s.enis, ips: s.ips, idle: s.idle, leased: s.leased, waiting: s.waiting, inFlight: s.inFlight, releasing: s.releasing, heldForScheduled: s.heldForScheduled };
    });
    const eni = [...this.#eniPools].map(([key, p]): PoolLevels => {
      const s = p.pool.stats();
      return { key, kind: 'eni', enis: s.enis, ips: s.enis, idle: s.idle, leased: s.leased, waiting: s.waiting, inFlight: s.inFlight, releasing: 0, heldForScheduled: 0 };
    });
    return [...ip, ...eni];
  }

  /** Every pool's factory as the Terway factory gauges show it: its ENIs (by MAC) and their IPs, its limits. */
  factories(): readonly FactoryView[] {
    const limits = (f: InstrumentedFactory) => {
      const l = f.knownLimits;
      return l === undefined ? {} : { maxEnis: l.maxEnis, ipsPerEni: l.ipsPerEni };
    };
    return [
      ...[...this.#pools.values()].map(({ pool, factory }) => ({ name: factory.name, ...limits(factory), enis: pool.enis().map((e) => ({ mac: e.mac, ips: e.ips.length })) })),
      // the exclusive-ENI pool: the ENIs its factory listed or created and did not delete
      ...[...this.#eniPools.values()].map(({ factory }) => ({ name: factory.name, ...limits(factory), enis: factory.knownEnis() })),
    ];
  }

  /** Every pool's ENIs, IPs by state, cloud calls and inhibits (the operator's `pool` call). */
  detail(): readonly PoolEntryReply[] {
    return [...this.#pools].map(([key, p]) => ({ key, stats: { ...p.pool.stats() }, ...p.pool.detail() }));
  }

  /** Resolves once every pool's cloud calls under way are journaled (or their grace ran out). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#pools.values(), ...this.#eniPools.values()].map((p) => p.pool.stop()));
  }
}
