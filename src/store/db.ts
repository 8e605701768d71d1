/**
 * The daemon's state database (`<stateDir>/leases.db`, SQLite): opened once, WAL with synchronous=FULL (a write is
 * durable when it returns, so the daemon writes before replying), migrated in order. Its tables belong to their
 * stores: leases and reservations (./store.ts), the warm pool's ENIs and in-flight cloud operations
 * (./pool-journal.ts).
 */
import Database from 'better-sqlite3';
import { chmodSync } from 'node:fs';
import { ConfigError } from '../lib/errors.js';

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
  // v2: sticky leases (StatefulSet & co.) and the reservations they turn into on release
  `ALTER TABLE leases ADD COLUMN sticky INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE reservations (
     pod_namespace TEXT NOT NULL,
     pod_name TEXT NOT NULL,
     if_name TEXT NOT NULL,
     ip TEXT NOT NULL,
     allocation TEXT NOT NULL,
     released_at TEXT NOT NULL,
     expires_at TEXT NOT NULL,
     PRIMARY KEY (pod_namespace, pod_name, if_name)
   ) STRICT;
   CREATE UNIQUE INDEX reservations_ip ON reservations (ip);`,
  // v3: the limits of the plugin's CNI runtimeConfig.bandwidth (JSON BandwidthSpec; NULL = none)
  `ALTER TABLE leases ADD COLUMN runtime_bandwidth TEXT;`,
  // v4: the warm pool (issue 9): its ENIs as last known, and every cloud operation from before it is made to after
  `CREATE TABLE pool_enis (
     id TEXT PRIMARY KEY,
     resource TEXT NOT NULL
   ) STRICT;
   CREATE TABLE pool_ops (
     id TEXT PRIMARY KEY,
     op TEXT NOT NULL,
     started_at INTEGER NOT NULL
   ) STRICT;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export interface StateDbOptions {
  readonly readonly?: boolean;
}

export function openStateDb(file: string, opts: StateDbOptions = {}): Database.Database {
  const ro = opts.readonly === true;
  const db = new Database(file, ro ? { readonly: true, fileMustExist: true } : {});
  if (ro) {
    const v = db.pragma('user_version', { simple: true });
    if (v !== SCHEMA_VERSION) throw new ConfigError(file, `lease store schema version ${String(v)}, expected ${String(SCHEMA_VERSION)}`);
    return db;
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  chmodSync(file, 0o600);
  return db;
}

function migrate(db: Database.Database): void {
  const v = Number(db.pragma('user_version', { simple: true }));
  if (v > MIGRATIONS.length) {
    throw new ConfigError(LEASES_DB, `schema version ${String(v)} is newer than this daemon supports (${String(MIGRATIONS.length)})`);
  }
  for (let i = v; i < MIGRATIONS.length; i++) {
    const sql = MIGRATIONS[i] ?? '';
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${String(i + 1)}`);
    })();
  }
}
