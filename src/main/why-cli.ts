/**
 * `terway-hub why NAMESPACE/POD [--json]`: what the pod's network waits for right now, asked of the node's daemon.
 * Exit codes: 0 not waiting (the pod has its IP, or needs none), 3 waiting (the reason is printed), 4 the daemon
 * knows nothing of the pod, 1 the daemon could not be asked (unreachable, refused, deadline), 2 bad arguments.
 * Also the pool levels `status` prints.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_SOCKET, type PoolLevels, type WhyReply } from '../rpc/protocol.js';
import { askDaemon } from './daemon-call.js';

export const WHY_USAGE = 'why      NAMESPACE/POD [--socket PATH] [--json]   what the pod\'s network waits for (exit 0 not waiting, 3 waiting, 4 unknown pod, 1 daemon unreachable)';

export const WHY_EXIT = { notWaiting: 0, daemonUnreachable: 1, usage: 2, waiting: 3, unknownPod: 4 } as const;

export function whyExitCode(r: WhyReply): number {
  if (!r.known) return WHY_EXIT.unknownPod;
  return r.waiting ? WHY_EXIT.waiting : WHY_EXIT.notWaiting;
}

export function formatWhy(r: WhyReply): string {
  const notes = r.notes.map((n) => `  note: ${n}`);
  if (!r.known) return [`${r.pod}: unknown to this node's daemon (not bound to this node, no allocation, no lease)`, ...notes].join('\n') + '\n';
  if (!r.waiting || r.reason === undefined) {
    const has = r.ip !== undefined ? `has IP ${r.ip}${r.since !== undefined ? ` since ${r.since}` : ''}` : 'needs no pod IP';
    return [`${r.pod}: not waiting: ${has}`, ...notes].join('\n') + '\n';
  }
  const w = r.reason;
  const detail = Object.entries(w.detail).map(([k, v]) => `${k}=${v}`).join(' ');
  return [
    `${r.pod}: waiting (${w.kind}) since ${w.since}`,
    `  ${w.text}`,
    ...(w.retryAt !== undefined ? [`  retry at: ${w.retryAt}`] : []),
    ...(detail !== '' ? [`  detail: ${detail}`] : []),
    ...notes,
  ].join('\n') + '\n';
}

/** `status` lines: one per warm pool. */
export function formatPools(pools: readonly PoolLevels[] | undefined): string[] {
  return (pools ?? []).map((p) => {
    const unit = p.kind === 'eni' ? 'enis' : 'ips';
    return `  pool ${p.key} (${p.kind}): ${unit}=${String(p.ips)} idle=${String(p.idle)} leased=${String(p.leased)} waiting=${String(p.waiting)} in-flight=${String(p.inFlight)} releasing=${String(p.releasing)}${p.kind === 'ip' ? ` enis=${String(p.enis)} held-for-scheduled=${String(p.heldForScheduled)}` : ''}`;
  });
}

export async function runWhy(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: { socket: { type: 'string' }, json: { type: 'boolean' }, timeout: { type: 'string' } } });
  const target = positionals[0] ?? '';
  const slash = target.indexOf('/');
  if (positionals.length !== 1 || slash <= 0 || slash === target.length - 1) {
    process.stderr.write(`usage: terway-hub ${WHY_USAGE}\n`);
    return WHY_EXIT.usage;
  }
  const req = { namespace: target.slice(0, slash), name: target.slice(slash + 1) };
  const r = await askDaemon(values.socket ?? DEFAULT_SOCKET, Number(values.timeout ?? '5000'), (c) => c.why(req));
  process.stdout.write(values.json === true ? `${JSON.stringify(r)}\n` : formatWhy(r));
  return whyExitCode(r);
}
