/**
 * Parsers of the operator's `pool` and `mapping` messages (./operator-protocol.ts), both directions. Each throws
 * InvalidInputError naming the bad field (dotted path). Pure.
 */
import { InvalidInputError } from '../lib/errors.js';
import { arr, bool, int, obj, str, type Obj } from '../lib/validate/input-fields.js';
import type { MappingEntry, MappingReply, MappingRequest, Mismatch, MismatchKind, PoolEniReply, PoolEntryReply, PoolReply, PoolRequest } from './operator-protocol.js';

const MAX = Number.MAX_SAFE_INTEGER;

function strings(o: Obj, key: string, field: string): string[] {
  return arr(o, key, field).map((v, i) => {
    if (typeof v !== 'string') throw new InvalidInputError(`${field}${key}[${String(i)}]`, 'must be a string');
    return v;
  });
}

function optStr(o: Obj, key: string, field: string): Record<string, string> {
  return o[key] === undefined ? {} : { [key]: str(o, key, field) };
}

export function parsePoolRequest(raw: unknown): PoolRequest {
  obj(raw, 'request');
  return {};
}

export function parseMappingRequest(raw: unknown): MappingRequest {
  obj(raw, 'request');
  return {};
}

function parseEni(raw: unknown, field: string): PoolEniReply {
  const o = obj(raw, field.slice(0, -1));
  return {
    id: str(o, 'id', field),
    vSwitchId: str(o, 'vSwitchId', field),
    ...optStr(o, 'link', field),
    ips: strings(o, 'ips', field),
    leased: strings(o, 'leased', field),
    idle: strings(o, 'idle', field),
    retiring: strings(o, 'retiring', field),
    releasing: strings(o, 'releasing', field),
    assigning: int(o, 'assigning', field, 0, MAX),
    busy: bool(o, 'busy', field),
    deleting: bool(o, 'deleting', field),
    ...optStr(o, 'inhibitedUntil', field),
  };
}

function parsePoolEntry(raw: unknown, field: string): PoolEntryReply {
  const o = obj(raw, field.slice(0, -1));
  const s = obj(o.stats, `${field}stats`);
  const stats: Record<string, number> = {};
  for (const k of Object.keys(s)) stats[k] = int(s, k, `${field}stats.`, 0, MAX);
  return {
    key: str(o, 'key', field),
    stats,
    enis: arr(o, 'enis', field).map((e, i) => parseEni(e, `${field}enis[${String(i)}].`)),
    creating: int(o, 'creating', field, 0, MAX),
    inhibitedVSwitches: arr(o, 'inhibitedVSwitches', field).map((v, i) => {
      const f = `${field}inhibitedVSwitches[${String(i)}].`;
      const x = obj(v, f.slice(0, -1));
      return { vSwitchId: str(x, 'vSwitchId', f), until: str(x, 'until', f) };
    }),
    ...optStr(o, 'createInhibitedUntil', field),
    ...optStr(o, 'pausedUntil', field),
    ...optStr(o, 'lastError', field),
    ...optStr(o, 'startFailure', field),
  };
}

export function parsePoolReply(raw: unknown): PoolReply {
  const o = obj(raw, 'reply');
  return { mode: str(o, 'mode', ''), pools: arr(o, 'pools', '').map((p, i) => parsePoolEntry(p, `pools[${String(i)}].`)) };
}

const KINDS: ReadonlySet<string> = new Set<MismatchKind>(['lease-without-kernel', 'kernel-without-lease', 'ip-not-on-eni', 'ip-leased-twice']);

export function parseMappingReply(raw: unknown): MappingReply {
  const o = obj(raw, 'reply');
  const entries = arr(o, 'entries', '').map((e, i): MappingEntry => {
    const f = `entries[${String(i)}].`;
    const x = obj(e, f.slice(0, -1));
    return { pod: str(x, 'pod', f), containerId: str(x, 'containerId', f), ifName: str(x, 'ifName', f), ip: str(x, 'ip', f), mode: str(x, 'mode', f), ...optStr(x, 'eni', f), kernel: bool(x, 'kernel', f) };
  });
  const mismatches = arr(o, 'mismatches', '').map((m, i): Mismatch => {
    const f = `mismatches[${String(i)}].`;
    const x = obj(m, f.slice(0, -1));
    const kind = str(x, 'kind', f);
    if (!KINDS.has(kind)) throw new InvalidInputError(`${f}kind`, `unknown mismatch kind ${JSON.stringify(kind)}`);
    return { kind: kind as MismatchKind, detail: str(x, 'detail', f) };
  });
  return { entries, mismatches, notes: strings(o, 'notes', '') };
}
