/**
 * The one place the daemon's errors become HTTP replies on its socket (src/rpc/protocol.ts ErrorBody): a typed
 * error keeps its code — except a failed command (`exec`), which to the caller is the daemon failing (`internal`) —
 * and gets the HTTP status an operator with curl expects. The client maps the code back (src/rpc/client.ts).
 */
import { HubError, errorMessage, type HubErrorCode } from '../lib/errors.js';
import type { ErrorBody } from '../rpc/protocol.js';

export interface HttpError {
  readonly status: number;
  readonly body: ErrorBody;
}

const STATUS: Record<HubErrorCode, number> = {
  'invalid-input': 400,
  'not-found': 404,
  conflict: 409,
  busy: 423, // Locked: another request for the pod is in progress (retryable)
  config: 422,
  internal: 500,
  exec: 500,
  unavailable: 503,
  exhausted: 503,
};

export function httpErrorOf(err: unknown): HttpError {
  const code: HubErrorCode = err instanceof HubError ? (err.code === 'exec' ? 'internal' : err.code) : 'internal';
  return { status: STATUS[code], body: { code, message: errorMessage(err) } };
}

/** The call's deadline passed (or its caller went away) before the reply: retryable, like a daemon that is not there. */
export function deadlineExceeded(message: string): HttpError {
  return { status: 504, body: { code: 'unavailable', message: `deadline exceeded: ${message}` } };
}
