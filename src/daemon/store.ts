/**
 * Crash-safe lease store (SQLite, WAL, synchronous=FULL): a `put` is durable when it returns, so the daemon
 * writes before replying. The unique index on `ip` makes a double allocation impossible, even across restarts.
 */
import Database from 'better-sqlite3';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { isIpv4 } from '../lib/brand.js';
import { ConfigError, ConflictError, InternalError } from '../lib/errors.js';
import { isModeName, type Allocation } from '../modes/types.js';
import type { AttachmentKey } from '../rpc/protocol.js';
import type { Lease } from './lease.js';

export const SCHEMA_VERSION = 1;
export const LEASES_DB = 'leases.db';

const MIGRATIONS: readonly string[] = [
  // v1
  `CREATE TABLE leases (
     container_id TEXT NOT NULL,
     if_name TEXT NOT NULL,
     pod_namespace TEXT NOT NULL,
     pod_name TEXT NOT NULL,
     infra_container_id TEXT NOT NULL,
     netns TEXT NOT NULL,
     mode TEXT NOT NULL,
     ip TEXT NOT NULL,
     allocation TEXT NOT NULL,
     created_at TEXT NOT NULL,
     PRIMARY KEY (container_id, if_name)
   ) STRICT;
   CREATE UNIQUE INDEX leases_ip ON leases (ip);
   CREATE INDEX leases_pod ON leases (pod_namespace, pod_name);`,
];

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
}

export interface LeaseStoreOptions {
  readonly readonly?: boolean;
}

export class LeaseStore {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement<Row>;
  readonly #get: Database.Statement<[string, string], Row>;
  readonly #del: Database.Statement<[string, string]>;
  readonly #list: Database.Statement<[], Row>;
  readonly #byIp: Database.Statement<[string], Row>;
  readonly #count: Database.Statement<[], { n: number }>;

  /** Opens (creating when needed) `<stateDir>/leases.db`; the directory is made 0700. */
  static open(stateDir: string, opts: LeaseStoreOptions = {}): LeaseStore {
    if (opts.readonly !== true) {
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      chmodSync(stateDir, 0o700);
    }
    return new LeaseStore(join(stateDir, LEASES_DB), opts);
  }

  constructor(file: string, opts: LeaseStoreOptions = {}) {
    const ro = opts.readonly === true;
    this.#db = new Database(file, ro ? { readonly: true, fileMustExist: true } : {});
    if (!ro) {
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = FULL');
      this.#db.pragma('busy_timeout = 5000');
      this.#migrate();
      chmodSync(file, 0o600);
    } else {
      const v = this.#db.pragma('user_version', { simple: true });
      if (v !== SCHEMA_VERSION) throw new ConfigError(file, `lease store schema version ${String(v)}, expected ${String(SCHEMA_VERSION)}`);
    }
    this.#insert = this.#db.prepare(
      `INSERT INTO leases (container_id, if_name, pod_namespace, pod_name, infra_container_id, netns, mode, ip, allocation, created_at)
       VALUES (@container_id, @if_name, @pod_namespace, @pod_name, @infra_container_id, @netns, @mode, @ip, @allocation, @created_at)`,
    );
    this.#get = this.#db.prepare('SELECT * FROM leases WHERE container_id = ? AND if_name = ?');
    this.#del = this.#db.prepare('DELETE FROM leases WHERE container_id = ? AND if_name = ?');
    this.#list = this.#db.prepare('SELECT * FROM leases ORDER BY created_at, container_id, if_name');
    this.#byIp = this.#db.prepare('SELECT * FROM leases WHERE ip = ?');
    this.#count = this.#db.prepare('SELECT count(*) AS n FROM leases');
  }

  #migrate(): void {
    const v = Number(this.#db.pragma('user_version', { simple: true }));
    if (v > MIGRATIONS.length) {
      throw new ConfigError('leases.db', `schema version ${String(v)} is newer than this daemon supports (${String(MIGRATIONS.length)})`);
    }
    for (let i = v; i < MIGRATIONS.length; i++) {
      const sql = MIGRATIONS[i] ?? '';
      this.#db.transaction(() => {
        this.#db.exec(sql);
        this.#db.pragma(`user_version = ${String(i + 1)}`);
      })();
    }
  }

  /** Durable when it returns. Throws ConflictError if the attachment already has a lease or the IP is taken. */
  put(lease: Lease): void {
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

  /** Returns whether a lease was deleted. */
  delete(key: AttachmentKey): boolean {
    return this.#del.run(key.containerId, key.ifName).changes > 0;
  }

  list(): readonly Lease[] {
    return this.#list.all().map(rowToLease);
  }

  findByIp(ip: string): Lease | undefined {
    const row = this.#byIp.get(ip);
    return row === undefined ? undefined : rowToLease(row);
  }

  count(): number {
    return this.#count.get()?.n ?? 0;
  }

  usedIps(): ReadonlySet<string> {
    return new Set(this.#list.all().map((r) => r.ip));
  }

  schemaVersion(): number {
    return Number(this.#db.pragma('user_version', { simple: true }));
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

function rowToLease(row: Row): Lease {
  return {
    containerId: row.container_id,
    ifName: row.if_name,
    podNamespace: row.pod_namespace,
    podName: row.pod_name,
    infraContainerId: row.infra_container_id,
    netns: row.netns,
    allocation: parseStoredAllocation(row.allocation, row),
    createdAt: row.created_at,
  };
}

function parseStoredAllocation(text: string, row: Row): Allocation {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InternalError(`lease ${row.container_id}/${row.if_name}: corrupt allocation JSON`, { cause: e });
  }
  const a = raw as Partial<Record<keyof Allocation, unknown>>;
  if (typeof raw !== 'object' || raw === null || !isModeName(a.mode) || typeof a.ip !== 'string' || !isIpv4(a.ip) || typeof a.subnet !== 'string' || typeof a.mtu !== 'number') {
    throw new InternalError(`lease ${row.container_id}/${row.if_name}: malformed allocation`);
  }
  return raw as Allocation;
}
