/**
 * The GC composed from the daemon's context: leases from the store, release through the service (stickiness),
 * pods from the node agent's informer confirmed with the uncached getPod, host state and teardown through the real
 * observer and executor, pool subnet as the scope of rules/routes.
 */
import { access, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UnavailableError } from '../../lib/errors.js';
import { createProcessRunner, type CommandRunner } from '../../lib/exec.js';
import { createExecutor, type Executor } from '../../netlink/executor.js';
import { observeState } from '../../netlink/observe.js';
import { HOST } from '../../netlink/ops.js';
import type { DaemonContext } from '../daemon.js';
import { createGarbageCollector, type GarbageCollector, type GcResult } from './collector.js';
import { confirmGoneVia } from './facts.js';

export interface GcComponentOptions {
  readonly runner?: CommandRunner;
  readonly executor?: Executor;
  readonly intervalMs?: number;
  readonly leaseGraceMs?: number;
  readonly orphanGraceMs?: number;
  readonly onResult?: (result: GcResult) => void;
}

/**
 * GC's netns check: false only when the netns is provably gone — ENOENT while its directory is visible. A path the
 * daemon cannot see into (a `/proc/<pid>/ns/net` of another PID namespace, a runtime directory not mounted into
 * the daemon's container) or any other error rejects: undecided, the lease is kept.
 */
export async function netnsPresent(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const dir = dirname(path);
  if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) {
    throw new UnavailableError(`netns ${path}: its directory ${dir} is not visible to the daemon; cannot tell whether it vanished`);
  }
  return false;
}

export function gcComponent(ctx: DaemonContext, opts: GcComponentOptions = {}): GarbageCollector {
  const runner = opts.runner ?? createProcessRunner();
  const log = ctx.log.child({ component: 'gc' });
  const executor = opts.executor ?? createExecutor({ runner, log });
  return createGarbageCollector({
    leases: () => ctx.store.list(),
    release: (req) => ctx.service.release(req),
    ...(ctx.agent !== undefined ? { pods: ctx.agent.pods } : {}),
    ...(ctx.kube !== undefined ? { confirmGone: confirmGoneVia(ctx.kube) } : {}),
    netnsExists: netnsPresent,
    observeHost: (signal) => observeState(runner, HOST, signal),
    executor,
    log,
    node: { vethPrefix: ctx.config.vethPrefix },
    podCidrs: () => [ctx.service.runtime.provider.ipSource().subnet],
    ...(opts.intervalMs !== undefined ? { intervalMs: opts.intervalMs } : {}),
    ...(opts.leaseGraceMs !== undefined ? { leaseGraceMs: opts.leaseGraceMs } : {}),
    ...(opts.orphanGraceMs !== undefined ? { orphanGraceMs: opts.orphanGraceMs } : {}),
    ...(opts.onResult !== undefined ? { onResult: opts.onResult } : {}),
  });
}
