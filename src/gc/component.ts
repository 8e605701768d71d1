/**
 * The GC composed from what the daemon offers (GcHost): leases from the store, release through the service
 * (stickiness), pods from the node agent's informer confirmed with the uncached getPod, host state and teardown
 * through the injected runner and executor (src/main builds the real ones), pool subnet as the scope of
 * rules/routes.
 */
import { access, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { KubeApi } from '../k8s/types.js';
import { UnavailableError } from '../lib/errors.js';
import type { CommandRunner } from '../lib/exec.js';
import type { Logger } from '../lib/log.js';
import type { NodeFacts } from '../modes/types.js';
import type { ExecutorFactory } from '../netlink/executor.js';
import { observeState } from '../netlink/observe.js';
import { HOST } from '../netlink/ops.js';
import type { ReleaseReply, ReleaseRequest } from '../rpc/protocol.js';
import type { Lease } from '../store/lease.js';
import { createGarbageCollector, type GarbageCollector, type GcResult } from './collector.js';
import { confirmGoneVia, type PodCache } from './facts.js';

/**
 * What GC uses of the node daemon, structurally (src/main hands it the daemon's context, which fits): GC never
 * imports src/daemon.
 */
export interface GcHost {
  readonly config: Pick<NodeFacts, 'vethPrefix'>;
  readonly store: { list(): readonly Lease[] };
  readonly service: {
    release(req: ReleaseRequest): Promise<ReleaseReply>;
    /** The current provider; its pool subnet scopes which rules/routes can be the hub's. */
    readonly runtime: { readonly provider: { ipSource(): { readonly subnet: string } } };
  };
  readonly log: Logger;
  readonly kube?: Pick<KubeApi, 'getPod'>;
  /** The Kubernetes glue's pod informer, when Kubernetes is configured. */
  readonly agent?: { readonly pods: PodCache };
}

export interface GcComponentOptions {
  /** Runs `ip -j` to observe the host (src/main: the process runner). */
  readonly runner: CommandRunner;
  /** Builds GC's executor for the host teardown (src/main: createExecutor over the same runner). */
  readonly executorFor: ExecutorFactory;
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

export function gcComponent(host: GcHost, opts: GcComponentOptions): GarbageCollector {
  const { runner } = opts;
  const log = host.log.child({ component: 'gc' });
  return createGarbageCollector({
    leases: () => host.store.list(),
    release: (req) => host.service.release(req),
    ...(host.agent !== undefined ? { pods: host.agent.pods } : {}),
    ...(host.kube !== undefined ? { confirmGone: confirmGoneVia(host.kube) } : {}),
    netnsExists: netnsPresent,
    observeHost: (signal) => observeState(runner, HOST, signal),
    executor: opts.executorFor(log),
    log,
    node: { vethPrefix: host.config.vethPrefix },
    podCidrs: () => [host.service.runtime.provider.ipSource().subnet],
    ...(opts.intervalMs !== undefined ? { intervalMs: opts.intervalMs } : {}),
    ...(opts.leaseGraceMs !== undefined ? { leaseGraceMs: opts.leaseGraceMs } : {}),
    ...(opts.orphanGraceMs !== undefined ? { orphanGraceMs: opts.orphanGraceMs } : {}),
    ...(opts.onResult !== undefined ? { onResult: opts.onResult } : {}),
  });
}
