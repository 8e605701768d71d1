/** STATUS and GC: node-level verbs answered by the daemon. */
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { HubRpc } from '../rpc/protocol.js';
import { isUnavailable } from './attachment.js';
import { VALID_ATTACHMENTS_KEY, type NetConf } from './config.js';
import { CniError } from './errors.js';
import { CniCode } from './spec.js';

export async function cmdStatus(rpc: HubRpc, log: Logger): Promise<void> {
  let reply;
  try {
    reply = await rpc.status({});
  } catch (err) {
    if (isUnavailable(err)) throw new CniError(CniCode.NOT_AVAILABLE, 'daemon unavailable', errorMessage(err));
    throw err;
  }
  if (!reply.ready) throw new CniError(CniCode.NOT_AVAILABLE, 'daemon not ready', reply.reason === '' ? `mode ${reply.mode}` : reply.reason);
  log.debug('ready', { mode: reply.mode });
}

export async function cmdGc(config: NetConf, rpc: HubRpc, log: Logger): Promise<void> {
  // Without the list every attachment would look stale: refuse rather than release everything.
  if (config.validAttachments === undefined) throw new CniError(CniCode.INVALID_CONFIG, 'invalid network config', `${VALID_ATTACHMENTS_KEY} is missing`);
  const reply = await rpc.gc({ validAttachments: config.validAttachments });
  log.info('gc done', { released: reply.released.length, errors: reply.errors.length });
  if (reply.errors.length > 0) throw new CniError(CniCode.GC_INCOMPLETE, 'GC incomplete', reply.errors.join('; '));
}
