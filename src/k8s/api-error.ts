/** Maps Kubernetes API failures (client-node's ApiException, watch errors, network errors) to HubErrors, once. */
import type { HubError } from '../lib/errors.js';
import { ConfigError, ConflictError, InternalError, InvalidInputError, NotFoundError, UnavailableError, errorMessage } from '../lib/errors.js';

/** The HTTP status of a failed request: ApiException.code, the watch's statusCode, or a Status object's code. */
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const r = err as Readonly<Record<string, unknown>>;
  for (const key of ['code', 'statusCode']) {
    const v = r[key];
    if (typeof v === 'number') return v;
  }
  return undefined;
}

/** The human message of a metav1.Status body (ApiException.body is parsed JSON or raw text). */
export function statusMessageOf(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const raw: unknown = (err as Readonly<Record<string, unknown>>)['body'];
    let body = raw;
    if (typeof raw === 'string') {
      try {
        body = JSON.parse(raw) as unknown;
      } catch {
        return raw === '' ? errorMessage(err) : raw;
      }
    }
    if (typeof body === 'object' && body !== null) {
      const msg = (body as Readonly<Record<string, unknown>>)['message'];
      if (typeof msg === 'string') return msg;
    }
  }
  return errorMessage(err).split('\n')[0] ?? '';
}

export function toHubError(err: unknown, what: string): HubError {
  const code = httpStatusOf(err);
  const message = `${what}: ${code === undefined ? '' : `HTTP ${String(code)}: `}${statusMessageOf(err)}`;
  if (code === undefined || code === 429 || code >= 500) return new UnavailableError(message, { cause: err });
  if (code === 404) return new NotFoundError(message, { cause: err });
  if (code === 409) return new ConflictError(message, { cause: err });
  if (code === 401 || code === 403) return new ConfigError('kubeconfig', message, { cause: err });
  if (code === 400 || code === 415 || code === 422) return new InvalidInputError(what, message);
  return new InternalError(message, { cause: err });
}
