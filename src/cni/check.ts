/** CHECK: the attachment's network must be what its setup plan says. */
import type { NetnsPath } from '../lib/brand.js';
import type { Logger } from '../lib/log.js';
import type { HubRpc } from '../rpc/protocol.js';
import type { AttachmentEnv } from './args.js';
import { nodeFacts, specFor } from './attachment.js';
import { withBandwidth, withRuntimeBandwidth } from './bandwidth.js';
import type { NetConf } from './config.js';
import type { CniDeps } from './deps.js';
import { CniError } from './errors.js';
import { podLinkOverrides } from './prev-result.js';
import { CniCode } from './spec.js';

function checkFailed(details: readonly string[]): CniError {
  return new CniError(CniCode.CHECK_MISMATCH, 'CHECK failed', details.join('; '));
}

export async function cmdCheck(
  env: AttachmentEnv & { readonly netns: NetnsPath },
  config: NetConf,
  deps: CniDeps,
  rpc: HubRpc,
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  const found = await rpc.lookup({ containerId: env.containerId, ifName: env.ifName });
  if (!found.found || found.allocation === undefined) {
    // CNI spec: "3 - Container unknown or does not exist"; 101 is for a known attachment whose network differs.
    throw new CniError(CniCode.UNKNOWN_CONTAINER, 'unknown container', `no allocation for container ${env.containerId} interface ${env.ifName}`);
  }
  // "shaping": false: a chained plugin owns the qdiscs, CHECK expects none of the hub's
  const alloc = config.shaping ? withRuntimeBandwidth(found.allocation, config.runtimeConfig) : withBandwidth(found.allocation, undefined);
  if (config.prevIps.length > 0 && !config.prevIps.includes(alloc.ip)) {
    throw checkFailed([`prevResult IPs [${config.prevIps.join(',')}] do not include the allocated ${alloc.ip}`]);
  }
  const { plan } = deps.dataplanes(alloc.mode).planSetup(specFor(env, env.netns), alloc, nodeFacts(config));
  // a later plugin of the chain may have changed the pod link's MAC or MTU on purpose: prevResult says so
  const missing = await deps.probe.missing(plan, signal, podLinkOverrides(config.prevResult, env.ifName, env.netns, plan));
  if (missing.length > 0) {
    log.warn('CHECK found missing state', { missing });
    throw checkFailed(missing);
  }
}
