/**
 * Group commit for the state database. With `synchronous=FULL` every COMMIT is an fsync (≈ 1–5 ms here, and
 * better-sqlite3 runs it on the event loop): 110 concurrent ADDs after a node restart paid 110 of them, one after
 * the other. Writes made inside `inGroup` instead join one open transaction, each in its own savepoint (a write that
 * fails rolls back alone), and are visible to every read on this connection at once; the transaction commits on the
 * next turn of the event loop — once for every write made meanwhile — and `durable` settles when that COMMIT
 * returned. A caller replies to its client only after `durable`: what it answered is on disk.
 *
 * Every other write (`write`) commits the open group first, then commits itself before it returns, as before:
 * callers that rely on "durable when it returns" (the pool journal writes before each cloud call) keep that.
 */
import type Database from 'better-sqlite3';
import { InternalError, errorMessage } from '../lib/errors.js';

interface OpenGroup {
  readonly done: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
  writes: number;
}

export interface GroupCommitStats {
  /** Transactions committed by the group path (each one fsync). */
  readonly groupCommits: number;
  /** Writes those commits carried. */
  readonly groupedWrites: number;
}

export class GroupCommit {
  readonly #db: Database.Database;
  #group: OpenGroup | undefined;
  #inScope = false;
  #commits = 0;
  #writes = 0;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  /**
   * Runs `fn` (synchronous; it calls the store's write methods) with its writes in the open group, opening one when
   * none is. `durable` rejects with InternalError when the group's COMMIT failed (then none of its writes stayed).
   */
  inGroup<T>(fn: () => T): { readonly value: T; readonly durable: Promise<void> } {
    if (this.#inScope) throw new InternalError('state database: nested write groups');
    this.#inScope = true;
    try {
      const value = fn();
      // a durable write inside fn may have committed the group: what is left is in the group open now, if any
      return { value, durable: this.#group?.done ?? Promise.resolve() };
    } finally {
      this.#inScope = false;
    }
  }

  /** One write (a transaction, or a savepoint of the open group inside `inGroup`). */
  write<T>(fn: () => T): T {
    if (this.#inScope) {
      const g = this.#open();
      g.writes++;
      return this.#db.transaction(fn)();
    }
    return this.durableWrite(fn);
  }

  /** A write that is on disk when it returns, also inside `inGroup` (the open group commits first: order kept). */
  durableWrite<T>(fn: () => T): T {
    this.flush();
    return this.#db.transaction(fn)();
  }

  /** Commits the open group now (before close, and before any durable write). */
  flush(): void {
    const g = this.#group;
    if (g === undefined) return;
    this.#group = undefined;
    try {
      this.#db.exec('COMMIT');
      this.#commits++;
      this.#writes += g.writes;
      g.resolve();
    } catch (e) {
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      g.reject(new InternalError(`state database: commit of ${String(g.writes)} write(s) failed: ${errorMessage(e)}`, { cause: e }));
    }
  }

  stats(): GroupCommitStats {
    return { groupCommits: this.#commits, groupedWrites: this.#writes };
  }

  #open(): OpenGroup {
    if (this.#group !== undefined) return this.#group;
    this.#db.exec('BEGIN IMMEDIATE');
    let resolve = (): void => undefined;
    let reject: (e: Error) => void = () => undefined;
    const done = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
    done.catch(() => undefined); // every caller awaits its own `durable`; none left unhandled meanwhile
    const g: OpenGroup = { done, resolve, reject, writes: 0 };
    this.#group = g;
    setImmediate(() => { if (this.#group === g) this.flush(); });
    return g;
  }
}
