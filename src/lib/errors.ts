/**
 * Typed errors. Each carries data (code, retryable, cause); each boundary (CNI result, the daemon socket's HTTP
 * status + `{code, message}`, the metrics/health HTTP) maps them exactly once.
 */
export type HubErrorCode =
  | 'invalid-input'
  | 'config'
  | 'exec'
  | 'not-found'
  | 'busy'
  | 'unavailable'
  | 'exhausted'
  | 'conflict'
  | 'internal';

export abstract class HubError extends Error {
  abstract readonly code: HubErrorCode;
  abstract readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A value from outside (env, stdin, RPC, file) is malformed; `field` names where. */
export class InvalidInputError extends HubError {
  readonly code = 'invalid-input';
  readonly retryable = false;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** A configuration (conflist, daemon config, ConfigMap) is invalid. */
export class ConfigError extends HubError {
  readonly code = 'config';
  readonly retryable = false;
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${message}`, options);
  }
}

/** A command (ip, tc, nsenter) failed. `failedStep` is the 0-based index inside a batch when known. */
export class ExecError extends HubError {
  readonly code = 'exec';
  readonly retryable = false;
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(`${argv.join(' ')} failed (exit ${String(exitCode)}): ${stderr.trim()}`, options);
  }
}

export class NotFoundError extends HubError {
  readonly code = 'not-found';
  readonly retryable = false;
}

/** Another request for the same pod is in progress; the caller should retry. */
export class BusyError extends HubError {
  readonly code = 'busy';
  readonly retryable = true;
}

/** The daemon (or a cloud API) cannot be reached or is not ready. */
export class UnavailableError extends HubError {
  readonly code = 'unavailable';
  readonly retryable = true;
}

/** No free address/ENI is left. */
export class ExhaustedError extends HubError {
  readonly code = 'exhausted';
  readonly retryable = true;
}

/** The request contradicts recorded state (for example a lease of another mode). */
export class ConflictError extends HubError {
  readonly code = 'conflict';
  readonly retryable = false;
}

export class InternalError extends HubError {
  readonly code = 'internal';
  readonly retryable = false;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A thrown value as an Error (a rejection must carry one). */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
