/**
 * `terway-hub mapping [--socket PATH] [--timeout MS] [--json]`: pod ↔ IP ↔ ENI from the lease store vs the kernel
 * vs the pool's (cloud's) ENIs, gathered by the daemon (GET /v1/mapping, src/daemon/mapping.ts). Exit codes: 0 the
 * three views agree; 1 a mismatch (each printed: lease without kernel state, kernel route without lease, IP on no
 * ENI, IP leased twice); 2 bad flags; 3 the daemon could not be asked.
 */
import { parseArgs } from 'node:util';
import { errorMessage } from '../../lib/errors.js';
import { DEFAULT_SOCKET } from '../../rpc/protocol.js';
import type { MappingReply } from '../../rpc/operator-protocol.js';
import { askDaemon, DaemonCallError } from '../daemon-call.js';

export const MAPPING_USAGE = 'mapping  [--socket PATH] [--json]           pod <-> IP <-> ENI: lease store vs kernel vs cloud (exit 1: a mismatch)';
export const MAPPING_EXIT = { ok: 0, mismatch: 1, usage: 2, daemon: 3 } as const;

export function formatMapping(r: MappingReply): string {
  const rows = r.entries.map((e) => `${e.pod}\t${e.ip}\t${e.eni ?? '-'}\t${e.mode}\t${e.kernel ? 'ok' : 'MISSING'}\t${e.containerId.slice(0, 12)}/${e.ifName}`);
  return [
    ...(rows.length === 0 ? ['no leases'] : ['POD\tIP\tENI\tMODE\tKERNEL\tATTACHMENT', ...rows]),
    ...r.notes.map((n) => `note: ${n}`),
    r.mismatches.length === 0 ? 'OK: store, kernel and cloud agree' : `MISMATCH: ${String(r.mismatches.length)}`,
    ...r.mismatches.map((m) => `  ${m.kind}: ${m.detail}`),
    '',
  ].join('\n');
}

export async function runMapping(argv: readonly string[], ask: (socket: string, timeoutMs: number) => Promise<MappingReply> = (s, t) => askDaemon(s, t, (c) => c.mapping({}))): Promise<number> {
  let values;
  try {
    values = parseArgs({ args: [...argv], options: { socket: { type: 'string' }, json: { type: 'boolean' }, timeout: { type: 'string' } } }).values;
  } catch (e) {
    process.stderr.write(`error: ${errorMessage(e)}\nusage: terway-hub ${MAPPING_USAGE}\n`);
    return MAPPING_EXIT.usage;
  }
  let r: MappingReply;
  try {
    r = await ask(values.socket ?? DEFAULT_SOCKET, Number(values.timeout ?? '10000'));
  } catch (e) {
    if (!(e instanceof DaemonCallError)) throw e;
    process.stderr.write(`error: could not ask the daemon for the mapping (${e.details})\n`);
    return MAPPING_EXIT.daemon;
  }
  process.stdout.write(values.json === true ? `${JSON.stringify(r)}\n` : formatMapping(r));
  return r.mismatches.length === 0 ? MAPPING_EXIT.ok : MAPPING_EXIT.mismatch;
}
