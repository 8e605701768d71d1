/** The CNI boundary: every error leaves the plugin as one CniError, mapped here exactly once. */
import { HubError, InvalidInputError, errorMessage } from '../lib/errors.js';
import { CniCode } from './spec.js';

export class CniError extends Error {
  constructor(
    readonly code: number,
    readonly msg: string,
    readonly details?: string,
  ) {
    super(details === undefined ? msg : `${msg}: ${details}`);
    this.name = 'CniError';
  }
}

/** Env-variable fields (InvalidInputError.field) are code 4; every other invalid input is a config problem. */
function isEnvField(field: string): boolean {
  return field.startsWith('CNI_');
}

/** Maps by HubError.code (not class), so every producer of a code (ExecError, netlink PlanError, ...) maps alike. */
export function toCniError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  if (!(err instanceof HubError)) return new CniError(CniCode.PLUGIN_FAILED, 'unexpected plugin error', errorMessage(err));
  switch (err.code) {
    case 'invalid-input':
      return err instanceof InvalidInputError && isEnvField(err.field)
        ? new CniError(CniCode.INVALID_ENV, `invalid ${err.field}`, err.message)
        : new CniError(CniCode.INVALID_CONFIG, 'invalid network config', err.message);
    case 'config':
      return new CniError(CniCode.INVALID_CONFIG, 'invalid network config', err.message);
    case 'busy':
      return new CniError(CniCode.TRY_AGAIN_LATER, 'attachment busy, try again later', err.message);
    case 'unavailable':
      return new CniError(CniCode.TRY_AGAIN_LATER, 'daemon unavailable, try again later', err.message);
    case 'exhausted':
      return new CniError(CniCode.TRY_AGAIN_LATER, 'no free address, try again later', err.message);
    case 'exec':
      return new CniError(CniCode.DATAPLANE_FAILED, 'dataplane setup failed', err.message);
    case 'conflict':
      return new CniError(CniCode.DAEMON_REJECTED, 'daemon rejected the request', err.message);
    case 'not-found':
      return new CniError(CniCode.NOT_FOUND, 'not found', err.message);
    case 'internal':
      return new CniError(CniCode.DAEMON_FAILED, 'daemon failed', err.message);
  }
}
