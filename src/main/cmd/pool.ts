/**
 * `terway-hub pool [--socket PATH] [--timeout MS] [--json]`: the daemon's warm pools (GET /v1/pool): per pool its
 * counters, then per ENI its IPs leased/idle/retiring/releasing, the cloud calls in flight, inhibits and the last
 * cloud error. Exit codes: 0 shown; 1 a pool failed to start or its last cloud call failed while calls are paused;
 * 2 bad flags; 3 the daemon could not be asked.
 */
import type { PoolEntryReply, PoolReply } from '../../rpc/operator-protocol.js';
import { askDaemon, runDaemonQuery } from '../daemon-call.js';

export const POOL_USAGE = 'pool     [--socket PATH] [--json]           the daemon\'s pools: ENIs, IPs by state, cloud calls, inhibits, last cloud error (exit 1: a pool is failing)';
export const POOL_EXIT = { ok: 0, failing: 1, usage: 2, daemon: 3 } as const;

const list = (ips: readonly string[]): string => (ips.length === 0 ? '-' : ips.join(','));

function formatPool(p: PoolEntryReply): string[] {
  const s = p.stats;
  const n = (k: string): string => String(s[k] ?? 0);
  return [
    `pool ${p.key}: enis=${n('enis')} ips=${n('ips')} leased=${n('leased')} idle=${n('idle')} held-for-scheduled=${n('heldForScheduled')} releasing=${n('releasing')} waiting=${n('waiting')} in-flight=${n('inFlight')} creating=${String(p.creating)}`,
    ...(p.startFailure !== undefined ? [`  start-failure: ${p.startFailure}`] : []),
    ...(p.lastError !== undefined ? [`  last-cloud-error: ${p.lastError}`] : []),
    ...(p.pausedUntil !== undefined ? [`  cloud calls paused until ${p.pausedUntil}`] : []),
    ...(p.createInhibitedUntil !== undefined ? [`  ENI creation inhibited until ${p.createInhibitedUntil} (ENI quota)`] : []),
    ...p.inhibitedVSwitches.map((v) => `  vSwitch ${v.vSwitchId} inhibited until ${v.until} (out of addresses)`),
    ...p.enis.map((e) =>
      [
        `  eni ${e.id} vsw=${e.vSwitchId}${e.link !== undefined ? ` link=${e.link}` : ''}${e.busy ? ' busy' : ''}${e.deleting ? ' deleting' : ''}${e.assigning > 0 ? ` assigning=${String(e.assigning)}` : ''}${e.inhibitedUntil !== undefined ? ` inhibited-until=${e.inhibitedUntil}` : ''}`,
        `    leased=${list(e.leased)} idle=${list(e.idle)} retiring=${list(e.retiring)} releasing=${list(e.releasing)}`,
      ].join('\n'),
    ),
  ];
}

export function formatPoolReply(r: PoolReply): string {
  if (r.pools.length === 0) return `mode ${r.mode}: no pool (the mode uses a static address set, or no pool has started yet)\n`;
  return `${[`mode ${r.mode}`, ...r.pools.flatMap(formatPool)].join('\n')}\n`;
}

/** A pool that cannot serve: never started, or paused after a failed cloud call. */
export function poolFailing(r: PoolReply): boolean {
  return r.pools.some((p) => p.startFailure !== undefined || (p.pausedUntil !== undefined && p.lastError !== undefined));
}

export function runPool(argv: readonly string[], ask: (socket: string, timeoutMs: number) => Promise<PoolReply> = (s, t) => askDaemon(s, t, (c) => c.pool({}))): Promise<number> {
  return runDaemonQuery(argv, {
    usage: POOL_USAGE,
    what: 'its pools',
    defaultTimeoutMs: 5000,
    ask,
    format: formatPoolReply,
    exitOf: (r) => (poolFailing(r) ? POOL_EXIT.failing : POOL_EXIT.ok),
    exits: POOL_EXIT,
  });
}
