/**
 * ADD: allocate → plan → apply; a failed ADD rolls back and releases the allocation. When the rollback itself
 * failed, host state of the attachment remains: the lease is kept (never release an IP while its host state
 * remains) for the runtime's DEL, or GC, to finish. Bandwidth: the
 * runtimeConfig's limits are validated before allocating, then merged over the daemon's annotation-derived ones;
 * with `"shaping": false` (a chained plugin shapes) neither is used. About to shape, the ADD first checks that its
 * network's conflist has no second shaper (./shapers.ts): before allocating for runtimeConfig limits, right after
 * allocating (then releasing) for the daemon's.
 */
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { NetnsPath } from '../lib/brand.js';
import { PlanError } from '../netlink/plan-error.js';
import type { HubRpc } from '../rpc/protocol.js';
import type { AttachmentEnv } from './args.js';
import { nodeFacts, specFor } from './attachment.js';
import type { NetConf } from './config.js';
import type { CniDeps } from './deps.js';
import { mergeBandwidth, runtimeBandwidth, withBandwidth } from './bandwidth.js';
import { requestedIp } from './requested-ip.js';
import { buildAddResult, type AddResult } from './result.js';
import { refuseTwoShapers } from './shapers.js';

async function releaseAfterFailure(rpc: HubRpc, env: AttachmentEnv, err: unknown, log: Logger): Promise<void> {
  const reason = `rollback: ${errorMessage(err)}`;
  try {
    await rpc.release({ containerId: env.containerId, ifName: env.ifName, reason });
  } catch (releaseErr) {
    // The daemon's GC reclaims it; the ADD error is what the runtime must see.
    log.warn('release after failed ADD failed', { err: releaseErr });
  }
}

/**
 * Tells the daemon the dataplane is built, so a live bandwidth update cannot race this ADD's own tc ops. Only pods
 * with a Kubernetes identity have live updates. A failure is logged, not fatal: the daemon stops waiting for the
 * Confirm after its build deadline.
 */
async function confirm(rpc: HubRpc, env: AttachmentEnv, log: Logger, netlinkMs: number): Promise<void> {
  if (env.args.podName === '') return;
  try {
    // the plugin's phases for the daemon's ADD histogram: performance.now() counts from the process start
    await rpc.confirm({ containerId: env.containerId, ifName: env.ifName, timings: { netlinkMs, pluginMs: performance.now() } });
  } catch (err) {
    log.warn('could not confirm the ADD to the daemon (live updates wait for its deadline)', { err });
  }
}

export async function cmdAdd(
  env: AttachmentEnv & { readonly netns: NetnsPath },
  config: NetConf,
  deps: CniDeps,
  rpc: HubRpc,
  log: Logger,
  signal: AbortSignal,
): Promise<AddResult> {
  const runtimeLimits = config.shaping ? runtimeBandwidth(config.runtimeConfig) : undefined;
  if (runtimeLimits !== undefined) await refuseTwoShapers(config, deps);
  const ip = requestedIp(env, config);
  const { allocation: allocated } = await rpc.allocate({
    containerId: env.containerId,
    ifName: env.ifName,
    netns: env.netns,
    podNamespace: env.args.podNamespace,
    podName: env.args.podName,
    infraContainerId: env.args.infraContainerId,
    // recorded on the lease: live annotation updates leave these directions alone
    ...(runtimeLimits !== undefined ? { runtimeBandwidth: runtimeLimits } : {}),
    ...(ip !== undefined ? { requestedIp: ip } : {}),
  });
  const allocation = withBandwidth(allocated, config.shaping ? mergeBandwidth(runtimeLimits, allocated.bandwidth) : undefined);
  const { bandwidth } = allocation;
  if (runtimeLimits === undefined && bandwidth !== undefined) {
    try {
      await refuseTwoShapers(config, deps);
    } catch (err) {
      await releaseAfterFailure(rpc, env, err, log);
      throw err;
    }
  }
  log.info('allocated', { mode: allocation.mode, ip: allocation.ip, ...(bandwidth !== undefined ? { bandwidth } : {}) });
  const spec = specFor(env, env.netns);
  const node = nodeFacts(config);
  try {
    const { plan, result } = deps.dataplanes(allocation.mode).planSetup(spec, allocation, node);
    const started = performance.now();
    const report = await deps.executor.apply(plan, signal);
    const netlinkMs = performance.now() - started;
    log.info('dataplane set up', { ops: plan.length, applied: report.applied, ms: Math.round(netlinkMs * 10) / 10 });
    await confirm(rpc, env, log, netlinkMs);
    return buildAddResult(config.cniVersion, result);
  } catch (err) {
    if (err instanceof PlanError && err.rollbackErrors.length > 0) {
      log.error('ADD failed and its rollback failed: lease kept for DEL or GC', { err, rollbackErrors: err.rollbackErrors });
      throw err;
    }
    log.error('ADD failed, releasing', { err });
    await releaseAfterFailure(rpc, env, err, log);
    throw err;
  }
}
