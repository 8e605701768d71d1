/**
 * DEL: idempotent. Known attachment → teardown plan → release. Unknown → success. Daemon unreachable → tear down
 * what is the attachment's own (every mode's orphan teardown: the pod's link, rules and /32 routes of prevResult IPs,
 * ifbs), record a pending release for the daemon, succeed. One invariant on every path: an IP is released (or
 * recorded for release) only once its host state is gone; a failed teardown fails the DEL and keeps the lease, so a
 * retried DEL or GC can finish.
 * Host objects named after the pod are never removed by name while the old netns exists (the teardown goes through
 * it, as Calico's does), nor when the daemon says a newer sandbox of the pod holds them.
 */
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { NetnsPath } from '../lib/brand.js';
import type { HubRpc, LookupReply } from '../rpc/protocol.js';
import type { AttachmentEnv } from './args.js';
import { hostOnly, type Plan } from '../netlink/ops.js';
import type { HostNames } from '../modes/types.js';
import { ABSENT_NETNS, isUnavailable, nodeFacts, podIdentityOf, specFor } from './attachment.js';
import type { NetConf } from './config.js';
import type { CniDeps } from './deps.js';
import { CniError } from './errors.js';
import { CniCode } from './spec.js';

async function existingNetns(deps: CniDeps, ...candidates: readonly (string | undefined)[]): Promise<NetnsPath | undefined> {
  for (const c of candidates) {
    if (c !== undefined && c !== '' && (await deps.netnsExists(c))) return c as NetnsPath;
  }
  return undefined;
}

async function teardown(plan: Plan, netns: NetnsPath | undefined, deps: CniDeps, signal: AbortSignal): Promise<readonly string[]> {
  const effective = netns === undefined ? hostOnly(plan) : plan;
  const report = await deps.executor.teardown(effective, signal);
  return report.errors;
}

async function orphanDel(env: AttachmentEnv, config: NetConf, deps: CniDeps, log: Logger, cause: unknown, signal: AbortSignal): Promise<void> {
  log.warn('daemon unreachable during DEL: removing host leftovers and recording a pending release', { err: cause });
  const netns = await existingNetns(deps, env.netns);
  const spec = specFor(env, netns ?? ABSENT_NETNS);
  const errors = await teardown(deps.planOrphanTeardown(spec, nodeFacts(config), config.prevIps), netns, deps, signal);
  if (errors.length > 0) {
    // No pending record: the daemon would release an IP whose rules remain. The runtime retries DEL.
    throw new CniError(CniCode.DATAPLANE_FAILED, 'daemon unavailable and the dataplane teardown failed', errors.join('; '));
  }
  const pod = podIdentityOf(env);
  try {
    await deps.pending.record({
      containerId: env.containerId,
      ifName: env.ifName,
      podNamespace: pod.namespace,
      podName: pod.name,
      ips: [...config.prevIps],
      reason: `daemon unavailable during DEL: ${errorMessage(cause)}`,
      at: (deps.now?.() ?? new Date()).toISOString(),
    });
  } catch (err) {
    // Without the record the lease would leak until GC: let the runtime retry DEL.
    throw new CniError(CniCode.TRY_AGAIN_LATER, 'daemon unavailable and the pending release could not be recorded', errorMessage(err));
  }
}

export async function cmdDel(env: AttachmentEnv, config: NetConf, deps: CniDeps, rpc: HubRpc, log: Logger, signal: AbortSignal): Promise<void> {
  const key = { containerId: env.containerId, ifName: env.ifName };
  let found: LookupReply;
  try {
    found = await rpc.lookup({ ...key, intent: 'delete' });
  } catch (err) {
    if (isUnavailable(err)) return orphanDel(env, config, deps, log, err, signal);
    throw err;
  }
  if (!found.found || found.allocation === undefined) {
    log.info('no allocation for this attachment: nothing to delete');
    return;
  }
  const alloc = found.allocation;
  const netns = await existingNetns(deps, env.netns, found.netns);
  const spec = specFor(env, netns ?? ABSENT_NETNS);
  const hostNames: HostNames = found.superseded === true ? 'superseded' : netns !== undefined ? 'via-netns' : 'owned';
  const plan = deps.dataplanes(alloc.mode).planTeardown(spec, alloc, nodeFacts(config), hostNames);
  const errors = await teardown(plan, netns, deps, signal);
  if (errors.length > 0) {
    // Keep the lease so a retried DEL (or GC) can finish: releasing now could hand the IP to a pod while rules remain.
    throw new CniError(CniCode.DATAPLANE_FAILED, 'dataplane teardown failed', errors.join('; '));
  }
  try {
    await rpc.release({ ...key, reason: 'CNI DEL' });
  } catch (err) {
    if (isUnavailable(err)) return orphanDel(env, config, deps, log, err, signal);
    throw err;
  }
  log.info('deleted', { mode: alloc.mode, ip: alloc.ip, hostNames });
}
