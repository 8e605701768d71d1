/**
 * `terway-hub mapping [--socket PATH] [--timeout MS] [--json]`: pod ↔ IP ↔ ENI from the lease store vs the kernel
 * vs the pool's (cloud's) ENIs, gathered by the daemon (GET /v1/mapping, src/daemon/mapping.ts). Exit codes: 0 the
 * three views agree; 1 a mismatch (each printed: lease without kernel state, kernel route without lease, IP on no
 * ENI, IP leased twice); 2 bad flags; 3 the daemon could not be asked.
 */
import type { MappingReply } from '../../rpc/operator-protocol.js';
import { askDaemon, runDaemonQuery } from '../daemon-call.js';

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

export function runMapping(argv: readonly string[], ask: (socket: string, timeoutMs: number) => Promise<MappingReply> = (s, t) => askDaemon(s, t, (c) => c.mapping({}))): Promise<number> {
  return runDaemonQuery(argv, {
    usage: MAPPING_USAGE,
    what: 'the mapping',
    defaultTimeoutMs: 10_000,
    ask,
    format: formatMapping,
    exitOf: (r) => (r.mismatches.length === 0 ? MAPPING_EXIT.ok : MAPPING_EXIT.mismatch),
    exits: MAPPING_EXIT,
  });
}
