/**
 * The CLI's calls to the daemon over its socket (src/rpc/client.ts on node:http). Whatever refuses the call — the
 * daemon unreachable, its typed refusal, the deadline — becomes one DaemonCallError, the CLI's "could not ask the
 * daemon" outcome (its own exit code), kept apart from the CLI's other errors.
 */
import { parseArgs } from 'node:util';
import { errorMessage } from '../lib/errors.js';
import type { HubRpcClient } from '../rpc/client.js';
import { createNodeRpcClient } from '../rpc/exchange-node.js';
import { DEFAULT_SOCKET } from '../rpc/protocol.js';

export class DaemonCallError extends Error {
  constructor(
    readonly details: string,
    options?: { cause?: unknown },
  ) {
    super(`daemon call failed: ${details}`, options);
    this.name = 'DaemonCallError';
  }
}

export async function askDaemon<T>(socket: string, timeoutMs: number, call: (client: HubRpcClient) => Promise<T>): Promise<T> {
  try {
    return await call(createNodeRpcClient(socket, timeoutMs));
  } catch (e) {
    throw new DaemonCallError(errorMessage(e), { cause: e });
  }
}

/** One read-only operator query (`pool`, `mapping`): the flags, the call, the output and the exit code. */
export interface DaemonQuery<T> {
  /** The command's usage line (after `terway-hub `). */
  readonly usage: string;
  /** What is asked, for the error line: "could not ask the daemon for WHAT". */
  readonly what: string;
  readonly defaultTimeoutMs: number;
  readonly ask: (socket: string, timeoutMs: number) => Promise<T>;
  readonly format: (reply: T) => string;
  /** The exit code for a reply. */
  readonly exitOf: (reply: T) => number;
  readonly exits: { readonly usage: number; readonly daemon: number };
}

/** `--socket PATH --timeout MS --json`; bad flags → usage exit, an unreachable daemon → daemon exit. */
export async function runDaemonQuery<T>(argv: readonly string[], q: DaemonQuery<T>): Promise<number> {
  let values;
  try {
    values = parseArgs({ args: [...argv], options: { socket: { type: 'string' }, json: { type: 'boolean' }, timeout: { type: 'string' } } }).values;
  } catch (e) {
    process.stderr.write(`error: ${errorMessage(e)}\nusage: terway-hub ${q.usage}\n`);
    return q.exits.usage;
  }
  let r: T;
  try {
    r = await q.ask(values.socket ?? DEFAULT_SOCKET, Number(values.timeout ?? String(q.defaultTimeoutMs)));
  } catch (e) {
    if (!(e instanceof DaemonCallError)) throw e;
    process.stderr.write(`error: could not ask the daemon for ${q.what} (${e.details})\n`);
    return q.exits.daemon;
  }
  process.stdout.write(values.json === true ? `${JSON.stringify(r)}\n` : q.format(r));
  return q.exitOf(r);
}
