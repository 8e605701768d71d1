/** The one place hub errors become gRPC status codes. */
import {
  BusyError,
  ConfigError,
  ConflictError,
  ExhaustedError,
  InvalidInputError,
  NotFoundError,
  UnavailableError,
  errorMessage,
} from '../lib/errors.js';
import { GrpcStatus } from '../rpc/protocol.js';

export interface StatusOf {
  readonly code: number;
  readonly details: string;
}

export function grpcStatusOf(err: unknown): StatusOf {
  const details = errorMessage(err);
  const code =
    err instanceof InvalidInputError
      ? GrpcStatus.INVALID_ARGUMENT
      : err instanceof ConfigError
        ? GrpcStatus.FAILED_PRECONDITION
        : err instanceof BusyError
          ? GrpcStatus.ABORTED
          : err instanceof ExhaustedError
            ? GrpcStatus.RESOURCE_EXHAUSTED
            : err instanceof ConflictError
              ? GrpcStatus.ALREADY_EXISTS
              : err instanceof NotFoundError
                ? GrpcStatus.NOT_FOUND
                : err instanceof UnavailableError
                  ? GrpcStatus.UNAVAILABLE
                  : GrpcStatus.INTERNAL;
  return { code, details };
}

const NAMES = new Map<number, string>(Object.entries(GrpcStatus).map(([k, v]) => [v, k]));

export function grpcStatusName(code: number): string {
  return NAMES.get(code) ?? String(code);
}
