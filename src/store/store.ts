/**
 * Crash-safe lease store (SQLite, WAL, synchronous=FULL): a write is durable when it returns — or, inside
 * `inGroup`, when its group's `durable` settles (one fsync for concurrent requests) — and the daemon replies after. The unique index on `ip` makes a double allocation impossible, even across restarts.
 */
import type Database from 'better-sqlite3';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError, InternalError, errorMessage } from '../lib/errors.js';
import type { BandwidthSpec } from '../bandwidth/types.js';
import { parseAllocation } from '../modes/allocation.js';
import type { Allocation } from '../modes/types.js';
import type { AttachmentKey } from '../rpc/protocol.js';
import type { Lease, Reservation } from './lease.js';
import { LEASES_DB, openStateDb } from './db.js';
import { GroupCommit, type GroupCommitStats } from './group-commit.js';
import { SqlitePoolJournal } from './pool-journal.js';

export { LEASES_DB, SCHEMA_VERSION } from './db.js';

interface Row {
  container_id: string;
  if_name: string;
  pod_namespace: string;
  pod_name: string;
  infra_container_id: string;
  netns: string;
  mode: string;
  ip: string;
  allocation: string;
  created_at: string;
  sticky: number;
  runtime_bandwidth: string | null;
}

interface ReservationRow {
  pod_namespace: string;
  pod_name: string;
  if_name: string;
  ip: string;
  allocation: string;
  released_at: string;
  expires_at: string;
}

export type { StateDbOptions as LeaseStoreOptions } from './db.js';
import type { StateDbOptions as LeaseStoreOptions } from './db.js';

export class LeaseStore {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement<Row>;
  readonly #get: Database.Statement<[string, string], Row>;
  readonly #del: Database.Statement<[string, string]>;
  readonly #list: Database.Statement<[], Row>;
  readonly #byIp: Database.Statement<[string], Row>;
  readonly #count: Database.Statement<[], { n: number }>;
  readonly #setAllocation: Database.Statement<[string, string, string]>;
  readonly #byPod: Database.Statement<[string, string], Row>;
  readonly #reservations: ReservationStatements;
  readonly #writes: GroupCommit;
  /** The warm pool's ENIs and in-flight cloud operations, in the same database (./pool-journal.ts). */
  readonly pool: SqlitePoolJournal;

  /** Opens (creating when needed) `<stateDir>/leases.db`; the directory is made 0700. */
  static open(stateDir: string, opts: LeaseStoreOptions = {}): LeaseStore {
    if (opts.readonly !== true) {
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      chmodSync(stateDir, 0o700);
    }
    return new LeaseStore(join(stateDir, LEASES_DB), opts);
  }

  constructor(file: string, opts: LeaseStoreOptions = {}) {
    this.#db = openStateDb(file, opts);
    this.#writes = new GroupCommit(this.#db);
    this.pool = new SqlitePoolJournal(this.#db, (fn) => this.#writes.durableWrite(fn));
    this.#insert = this.#db.prepare(
      `INSERT INTO leases (container_id, if_name, pod_namespace, pod_name, infra_container_id, netns, mode, ip, allocation, created_at, sticky, runtime_bandwidth)
       VALUES (@container_id, @if_name, @pod_namespace, @pod_name, @infra_container_id, @netns, @mode, @ip, @allocation, @created_at, @sticky, @runtime_bandwidth)`,
    );
    this.#get = this.#db.prepare('SELECT * FROM leases WHERE container_id = ? AND if_name = ?');
    this.#del = this.#db.prepare('DELETE FROM leases WHERE container_id = ? AND if_name = ?');
    this.#list = this.#db.prepare('SELECT * FROM leases ORDER BY created_at, container_id, if_name');
    this.#byIp = this.#db.prepare('SELECT * FROM leases WHERE ip = ?');
    this.#count = this.#db.prepare('SELECT count(*) AS n FROM leases');
    this.#byPod = this.#db.prepare('SELECT * FROM leases WHERE pod_namespace = ? AND pod_name = ? ORDER BY created_at, container_id, if_name');
    this.#setAllocation = this.#db.prepare('UPDATE leases SET allocation = ? WHERE container_id = ? AND if_name = ?');
    this.#reservations = {
      upsert: this.#db.prepare(
        `INSERT OR REPLACE INTO reservations (pod_namespace, pod_name, if_name, ip, allocation, released_at, expires_at)
         VALUES (@pod_namespace, @pod_name, @if_name, @ip, @allocation, @released_at, @expires_at)`,
      ),
      get: this.#db.prepare('SELECT * FROM reservations WHERE pod_namespace = ? AND pod_name = ? AND if_name = ?'),
      byIp: this.#db.prepare('SELECT * FROM reservations WHERE ip = ?'),
      del: this.#db.prepare('DELETE FROM reservations WHERE pod_namespace = ? AND pod_name = ? AND if_name = ?'),
      list: this.#db.prepare('SELECT * FROM reservations ORDER BY expires_at, pod_namespace, pod_name, if_name'),
      expired: this.#db.prepare('SELECT * FROM reservations WHERE expires_at <= ? ORDER BY expires_at'),
    };
  }

  /** Durable when it returns. Throws ConflictError if the attachment already has a lease or the IP is taken. */
  put(lease: Lease): void {
    this.#writes.write(() => {
      const reserved = this.#reservations.byIp.get(lease.allocation.ip);
      if (reserved !== undefined) {
        const same = reserved.pod_namespace === lease.podNamespace && reserved.pod_name === lease.podName && lease.podName !== '';
        if (!same) throw new ConflictError(`ip ${lease.allocation.ip} is reserved for pod ${reserved.pod_namespace}/${reserved.pod_name} until ${reserved.expires_at}`);
        this.#reservations.del.run(reserved.pod_namespace, reserved.pod_name, reserved.if_name);
      }
      this.#insertLease(lease);
    });
  }

  #insertLease(lease: Lease): void {
    try {
      this.#insert.run({
        container_id: lease.containerId,
        if_name: lease.ifName,
        pod_namespace: lease.podNamespace,
        pod_name: lease.podName,
        infra_container_id: lease.infraContainerId,
        netns: lease.netns,
        mode: lease.allocation.mode,
        ip: lease.allocation.ip,
        allocation: JSON.stringify(lease.allocation),
        created_at: lease.createdAt,
        sticky: lease.sticky === true ? 1 : 0,
        runtime_bandwidth: lease.runtimeBandwidth === undefined ? null : JSON.stringify(lease.runtimeBandwidth),
      });
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        const other = this.findByIp(lease.allocation.ip);
        throw new ConflictError(
          other !== undefined && (other.containerId !== lease.containerId || other.ifName !== lease.ifName)
            ? `ip ${lease.allocation.ip} is already leased to ${other.containerId}/${other.ifName}`
            : `attachment ${lease.containerId}/${lease.ifName} already has a lease`,
          { cause: e },
        );
      }
      throw e;
    }
  }

  get(key: AttachmentKey): Lease | undefined {
    const row = this.#get.get(key.containerId, key.ifName);
    return row === undefined ? undefined : rowToLease(row);
  }

  /**
   * Replaces the annotation-derived limits of a lease's allocation (after a live update: CHECK, DEL and a daemon
   * restart then see what is in place). Returns whether the lease exists.
   */
  setAllocationBandwidth(key: AttachmentKey, bandwidth: BandwidthSpec | undefined): boolean {
    return this.#writes.write((): boolean => {
      const lease = this.get(key);
      if (lease === undefined) return false;
      const allocation: Record<string, unknown> = { ...lease.allocation };
      delete allocation.bandwidth;
      if (bandwidth !== undefined) allocation.bandwidth = bandwidth;
      return this.#setAllocation.run(JSON.stringify(allocation), key.containerId, key.ifName).changes > 0;
    });
  }

  /** Returns whether a lease was deleted. */
  delete(key: AttachmentKey): boolean {
    return this.#writes.write(() => this.#del.run(key.containerId, key.ifName).changes > 0);
  }

  list(): readonly Lease[] {
    return this.#list.all().map(rowToLease);
  }

  /** The leases of one Kubernetes pod (every sandbox and interface). */
  listByPod(podNamespace: string, podName: string): readonly Lease[] {
    return this.#byPod.all(podNamespace, podName).map(rowToLease);
  }

  findByIp(ip: string): Lease | undefined {
    const row = this.#byIp.get(ip);
    return row === undefined ? undefined : rowToLease(row);
  }

  count(): number {
    return this.#count.get()?.n ?? 0;
  }

  /** Leased and reserved addresses (expired reservations count until purged). */
  usedIps(): ReadonlySet<string> {
    return new Set([...this.#list.all().map((r) => r.ip), ...this.#reservations.list.all().map((r) => r.ip)]);
  }

  /**
   * Deletes the lease and keeps its IP for the pod until `expiresAt` (one transaction). Returns the reservation, or
   * undefined when there was no lease.
   */
  releaseToReservation(key: AttachmentKey, releasedAt: Date, expiresAt: Date): Reservation | undefined {
    return this.#writes.write((): Reservation | undefined => {
      const lease = this.get(key);
      if (lease === undefined) return undefined;
      this.#del.run(key.containerId, key.ifName);
      const row: ReservationRow = {
        pod_namespace: lease.podNamespace,
        pod_name: lease.podName,
        if_name: lease.ifName,
        ip: lease.allocation.ip,
        allocation: JSON.stringify(lease.allocation),
        released_at: releasedAt.toISOString(),
        expires_at: expiresAt.toISOString(),
      };
      const clash = this.#reservations.byIp.get(row.ip);
      if (clash !== undefined) this.#reservations.del.run(clash.pod_namespace, clash.pod_name, clash.if_name);
      this.#reservations.upsert.run(row);
      return rowToReservation(row);
    });
  }

  reservation(podNamespace: string, podName: string, ifName: string): Reservation | undefined {
    const row = this.#reservations.get.get(podNamespace, podName, ifName);
    return row === undefined ? undefined : rowToReservation(row);
  }

  reservations(): readonly Reservation[] {
    return this.#reservations.list.all().map(rowToReservation);
  }

  deleteReservation(podNamespace: string, podName: string, ifName: string): boolean {
    return this.#writes.write(() => this.#reservations.del.run(podNamespace, podName, ifName).changes > 0);
  }

  /** Removes reservations whose expiry is at or before `now`; returns them (their IPs are free again). */
  purgeExpiredReservations(now: Date): readonly Reservation[] {
    return this.#writes.write(() => {
      const rows = this.#reservations.expired.all(now.toISOString());
      for (const r of rows) this.#reservations.del.run(r.pod_namespace, r.pod_name, r.if_name);
      return rows.map(rowToReservation);
    });
  }

  schemaVersion(): number {
    return Number(this.#db.pragma('user_version', { simple: true }));
  }

  /**
   * Runs `fn`'s writes as part of one group commit with the other requests' writes of this turn of the event loop
   * (./group-commit.ts): visible at once, on disk when `durable` settles — reply only after it.
   */
  inGroup<T>(fn: () => T): { readonly value: T; readonly durable: Promise<void> } {
    return this.#writes.inGroup(fn);
  }

  commitStats(): GroupCommitStats {
    return this.#writes.stats();
  }

  close(): void {
    if (!this.#db.open) return;
    this.#writes.flush();
    this.#db.close();
  }
}

interface ReservationStatements {
  readonly upsert: Database.Statement<ReservationRow>;
  readonly get: Database.Statement<[string, string, string], ReservationRow>;
  readonly byIp: Database.Statement<[string], ReservationRow>;
  readonly del: Database.Statement<[string, string, string]>;
  readonly list: Database.Statement<[], ReservationRow>;
  readonly expired: Database.Statement<[string], ReservationRow>;
}

function rowToReservation(row: ReservationRow): Reservation {
  const allocation = parseStoredAllocation(row.allocation, { container_id: `${row.pod_namespace}/${row.pod_name}`, if_name: row.if_name });
  return {
    podNamespace: row.pod_namespace,
    podName: row.pod_name,
    ifName: row.if_name,
    ip: allocation.ip,
    allocation,
    releasedAt: row.released_at,
    expiresAt: row.expires_at,
  };
}

function rowToLease(row: Row): Lease {
  return {
    ...(row.sticky === 1 ? { sticky: true } : {}),
    containerId: row.container_id,
    ifName: row.if_name,
    podNamespace: row.pod_namespace,
    podName: row.pod_name,
    infraContainerId: row.infra_container_id,
    netns: row.netns,
    allocation: parseStoredAllocation(row.allocation, row),
    createdAt: row.created_at,
    ...(row.runtime_bandwidth !== null ? { runtimeBandwidth: parseStoredBandwidth(row.runtime_bandwidth, row) } : {}),
  };
}

function isLimit(v: unknown): boolean {
  if (v === undefined) return true;
  const l = v as Partial<Record<'rateBps' | 'burstBits', unknown>>;
  return typeof v === 'object' && v !== null && Number.isSafeInteger(l.rateBps) && Number.isSafeInteger(l.burstBits);
}

/** The JSON of `runtime_bandwidth` (written by put); a malformed value is store corruption. */
function parseStoredBandwidth(text: string, row: Pick<Row, 'container_id' | 'if_name'>): BandwidthSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InternalError(`lease ${row.container_id}/${row.if_name}: corrupt runtime_bandwidth JSON`, { cause: e });
  }
  const b = raw as Partial<Record<'ingress' | 'egress', unknown>>;
  if (typeof raw !== 'object' || raw === null || !isLimit(b.ingress) || !isLimit(b.egress)) {
    throw new InternalError(`lease ${row.container_id}/${row.if_name}: malformed runtime_bandwidth`);
  }
  return b as BandwidthSpec;
}

function parseStoredAllocation(text: string, row: Pick<Row, 'container_id' | 'if_name'>): Allocation {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InternalError(`lease ${row.container_id}/${row.if_name}: corrupt allocation JSON`, { cause: e });
  }
  try {
    // the same parser as the RPC boundary: rows written by every earlier version parse (they are its subset)
    return parseAllocation(raw);
  } catch (e) {
    throw new InternalError(`lease ${row.container_id}/${row.if_name}: malformed allocation: ${errorMessage(e)}`, { cause: e });
  }
}
