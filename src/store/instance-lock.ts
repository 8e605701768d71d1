/**
 * One daemon per state directory. Two daemons on one node would share `leases.db` with two in-flight maps (per-pod
 * serialisation silently gone) and the second would unlink the first's socket. The lock is a kernel lock: SQLite's
 * POSIX record lock on `<stateDir>/daemon.lock` held in exclusive locking mode for the daemon's lifetime, so the
 * kernel drops it when the process dies, `kill -9` included — no stale lock file to judge. The holder's PID is
 * written beside it (`daemon.pid`, after the lock is held) so a refused daemon can name it.
 */
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HubError } from '../lib/errors.js';

export const LOCK_FILE = 'daemon.lock';
export const PID_FILE = 'daemon.pid';

export class AlreadyRunningError extends HubError {
  readonly code = 'conflict';
  readonly retryable = false;
  constructor(
    readonly lockPath: string,
    readonly holderPid: number | undefined,
  ) {
    super(`another terway-hub daemon${holderPid !== undefined ? ` (PID ${String(holderPid)})` : ''} holds ${lockPath}: one daemon per state directory`);
  }
}

function readPid(path: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

export class InstanceLock {
  readonly #db: Database.Database;
  readonly path: string;

  private constructor(db: Database.Database, path: string) {
    this.#db = db;
    this.path = path;
  }

  /** Takes the lock at once or throws AlreadyRunningError naming the holder. */
  static acquire(stateDir: string, pid = process.pid): InstanceLock {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const path = join(stateDir, LOCK_FILE);
    const db = new Database(path, { timeout: 0 });
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE'); // held until the connection closes (exclusive locking mode)
    } catch (err) {
      db.close();
      if (isBusy(err)) throw new AlreadyRunningError(path, readPid(join(stateDir, PID_FILE)));
      throw err;
    }
    writeFileSync(join(stateDir, PID_FILE), `${String(pid)}\n`, { mode: 0o644 });
    return new InstanceLock(db, path);
  }

  /** Idempotent. The PID file stays: the next holder overwrites it. */
  release(): void {
    if (this.#db.open) this.#db.close();
  }
}
