/**
 * Composition root of the CNI plugin binary (bun --compile). Keep the import graph small: every pod pays for the
 * start-up. Only stdout carries the result/error JSON; logs go to `logFile` or stderr.
 */
import { fstatSync, writeSync } from 'node:fs';
import { bunGlobal } from '../lib/bun.js';
import { createBunRunner } from '../lib/exec-bun.js';
import { InternalError } from '../lib/errors.js';
import { createLogger, type LogSink } from '../lib/log.js';
import { fileLogSink } from '../lib/log-file.js';
import { netnsProblem, netnsUsable } from '../lib/netns-check.js';
import { pendingDirFor, recordPendingRelease } from '../lib/pending-release.js';
import { dataplaneFor, planOrphanTeardown } from '../modes/registry.js';
import { createExecutor } from '../netlink/executor.js';
import { rtnlDriverSource } from '../netlink/rtnl/load.js';
import { createStateProbe } from '../netlink/probe.js';
import { createRpcClient, type HubRpcClient } from '../rpc/client.js';
import { createFetchExchange } from '../rpc/exchange-fetch.js';
import { invoke, type Invocation } from '../cni/commands.js';
import type { NetConf } from '../cni/config.js';
import type { CniDeps } from '../cni/deps.js';
import { CniCode } from '../cni/spec.js';

/** The plugin runs only as the bun binary: bun's runtime is what it reads stdin, spawns and calls the daemon with. */
const NOT_BUN = 'the CNI plugin runs only as the bun binary (dist/bin/terway-hub), not under Node.js';

async function readStdin(): Promise<string> {
  const bun = bunGlobal();
  if (bun === undefined) throw new InternalError(NOT_BUN);
  // a terminal (or /dev/null) has no config to read: do not wait for one
  return fstatSync(0).isCharacterDevice() ? '' : bun.stdin.text();
}

function sinkFor(config: NetConf): LogSink {
  return config.logFile === undefined ? { write: (l) => void writeSync(2, l) } : fileLogSink(config.logFile);
}

async function main(): Promise<number> {
  const env = process.env;
  let stdin = '';
  if (env.CNI_COMMAND !== undefined && env.CNI_COMMAND !== '') {
    try {
      stdin = await readStdin();
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      writeSync(1, `${JSON.stringify({ cniVersion: '1.1.0', code: CniCode.IO_FAILURE, msg: 'error reading from stdin', details: msg })}\n`);
      return 1;
    }
  }
  let client: HubRpcClient | undefined;
  const rpcFor = (config: NetConf): HubRpcClient => {
    // bun's fetch over the unix socket; node:http stays out of the bundle (test/unit/lint/plugin-bundle.test.ts)
    const exchange = createFetchExchange();
    if (exchange === undefined) throw new InternalError(NOT_BUN);
    return createRpcClient({ socketPath: config.socket, timeoutMs: config.timeoutMs, exchange });
  };
  const makeDeps = (config: NetConf): CniDeps => {
    const log = createLogger(sinkFor(config), config.logLevel);
    const runner = createBunRunner();
    if (runner === undefined) throw new InternalError(NOT_BUN);
    return {
      rpc: (c) => (client ??= rpcFor(c)),
      // only ADD and DEL program links: CHECK, STATUS and GC do not load bun:ffi and libc
      executor: createExecutor({ runner, log, netnsExists: netnsUsable, ...(env.CNI_COMMAND === 'ADD' || env.CNI_COMMAND === 'DEL' ? { ip: rtnlDriverSource(env) } : {}) }),
      probe: createStateProbe({ runner }),
      dataplanes: dataplaneFor,
      planOrphanTeardown,
      pending: { record: (rec) => recordPendingRelease(pendingDirFor(config.socket), rec) },
      netnsExists: netnsUsable,
      netnsProblem,
      // loaded only on the branch that shapes (the two-shaper check): not on every pod's start-up path
      readNetworkConflist: async (dir, name) => (await import('../lib/conflist-file.js')).readNetworkConflist(dir, name),
      log,
    };
  };
  // The process exits right after writing its answer: a kept-alive connection to the daemon is not closed first;
  // the daemon sees the socket close, which costs the runtime nothing.
  const out: Invocation = await invoke(env, stdin, makeDeps);
  if (out.stdout !== '') writeSync(1, out.stdout);
  if (out.stderr !== '') writeSync(2, out.stderr);
  return out.exitCode;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    writeSync(2, `terway-hub CNI plugin crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
