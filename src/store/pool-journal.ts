/**
 * The warm pool's durable state (src/pool/types.ts PoolJournal) in the daemon's database: its ENIs as last known,
 * and every cloud operation from before it is made until it finished (so a daemon killed mid-call completes or rolls
 * it back at start). Rows are JSON checked on the way back in: a malformed row is store corruption.
 */
import type Database from 'better-sqlite3';
import { parseCidr, parseIp, parseMac } from '../lib/brand.js';
import { InternalError, errorMessage } from '../lib/errors.js';
import { arr, int, obj, str } from '../lib/validate/input-fields.js';
import type { EniResource, PoolJournal, PoolOperation } from '../pool/types.js';

const OP_KINDS: readonly PoolOperation['kind'][] = ['create-eni', 'assign', 'unassign', 'delete-eni'];

export class SqlitePoolJournal implements PoolJournal {
  readonly #durably: <T>(fn: () => T) => T;
  readonly #begin: Database.Statement<[string, string, number]>;
  readonly #end: Database.Statement<[string]>;
  readonly #ops: Database.Statement<[], { id: string; op: string }>;
  readonly #clearEnis: Database.Statement;
  readonly #putEni: Database.Statement<[string, string]>;
  readonly #enis: Database.Statement<[], { id: string; resource: string }>;

  /** `durably` runs one write and returns when it is on disk (the store's group commit flushed first). */
  constructor(db: Database.Database, durably: <T>(fn: () => T) => T) {
    this.#durably = durably;
    this.#begin = db.prepare('INSERT OR REPLACE INTO pool_ops (id, op, started_at) VALUES (?, ?, ?)');
    this.#end = db.prepare('DELETE FROM pool_ops WHERE id = ?');
    this.#ops = db.prepare('SELECT id, op FROM pool_ops ORDER BY started_at, id');
    this.#clearEnis = db.prepare('DELETE FROM pool_enis');
    this.#putEni = db.prepare('INSERT INTO pool_enis (id, resource) VALUES (?, ?)');
    this.#enis = db.prepare('SELECT id, resource FROM pool_enis ORDER BY id');
  }

  begin(op: PoolOperation): void {
    this.#durably(() => this.#begin.run(op.id, JSON.stringify(op), op.startedAt));
  }

  end(id: string): void {
    this.#durably(() => this.#end.run(id));
  }

  pending(): readonly PoolOperation[] {
    return this.#ops.all().map((r) => parseRow(r.id, r.op, parseOperation));
  }

  saveEnis(enis: readonly EniResource[]): void {
    this.#durably(() => {
      this.#clearEnis.run();
      for (const e of enis) this.#putEni.run(e.id, JSON.stringify(e));
    });
  }

  loadEnis(): readonly EniResource[] {
    return this.#enis.all().map((r) => parseRow(r.id, r.resource, parseEni));
  }
}

function parseRow<T>(id: string, text: string, parse: (raw: unknown) => T): T {
  try {
    return parse(JSON.parse(text));
  } catch (e) {
    throw new InternalError(`pool row ${id}: ${errorMessage(e)}`, { cause: e });
  }
}

function parseEni(raw: unknown): EniResource {
  const o = obj(raw, 'eni');
  const f = 'eni.';
  return {
    id: str(o, 'id', f),
    mac: parseMac(str(o, 'mac', f), `${f}mac`),
    vSwitchId: str(o, 'vSwitchId', f),
    cidr: parseCidr(str(o, 'cidr', f), `${f}cidr`),
    gateway: parseIp(str(o, 'gateway', f), `${f}gateway`),
    primaryIp: parseIp(str(o, 'primaryIp', f), `${f}primaryIp`),
    ips: arr(o, 'ips', f).map((ip, i) => parseIp(String(ip), `${f}ips[${String(i)}]`)),
  };
}

function parseOperation(raw: unknown): PoolOperation {
  const o = obj(raw, 'op');
  const f = 'op.';
  const kind = str(o, 'kind', f) as PoolOperation['kind'];
  if (!OP_KINDS.includes(kind)) throw new InternalError(`unknown pool operation ${kind}`);
  const opt = (k: string): string | undefined => (o[k] === undefined ? undefined : str(o, k, f));
  const eniId = opt('eniId');
  const vSwitchId = opt('vSwitchId');
  const token = opt('token');
  return {
    id: str(o, 'id', f),
    kind,
    startedAt: int(o, 'startedAt', f, 0, Number.MAX_SAFE_INTEGER),
    ...(eniId !== undefined ? { eniId } : {}),
    ...(vSwitchId !== undefined ? { vSwitchId } : {}),
    ...(token !== undefined ? { token } : {}),
    ...(o.count !== undefined ? { count: int(o, 'count', f, 0, 1000) } : {}),
    ...(o.ips !== undefined ? { ips: arr(o, 'ips', f).map((ip, i) => parseIp(String(ip), `${f}ips[${String(i)}]`)) } : {}),
  };
}
