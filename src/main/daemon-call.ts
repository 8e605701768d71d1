/**
 * The CLI's calls to the daemon over its socket (src/rpc/client.ts on node:http). Whatever refuses the call — the
 * daemon unreachable, its typed refusal, the deadline — becomes one DaemonCallError, the CLI's "could not ask the
 * daemon" outcome (its own exit code), kept apart from the CLI's other errors.
 */
import { errorMessage } from '../lib/errors.js';
import type { HubRpcClient } from '../rpc/client.js';
import { createNodeRpcClient } from '../rpc/exchange-node.js';

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
