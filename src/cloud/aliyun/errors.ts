/**
 * The one mapping of ECS OpenAPI failures (SDK ResponseErrors with an Aliyun `Code`, and network errors) onto the
 * typed errors of src/lib/errors.ts. Each mapped error keeps the Aliyun code, request id and a `kind` the pool
 * uses (quota / vSwitch exhaustion for its inhibit windows). Messages are redacted (redact.ts).
 */
import { ConfigError, ConflictError, ExhaustedError, InternalError, NotFoundError, UnavailableError, type HubError } from '../../lib/errors.js';
import type { Redactor } from './redact.js';

export type AliyunErrorKind =
  | 'throttled'
  | 'internal'
  | 'network'
  | 'vswitch-ip-exhausted'
  | 'ip-quota'
  | 'eni-quota'
  | 'not-found'
  | 'ip-unassigned'
  | 'invalid-state'
  | 'conflict'
  | 'idempotent-mismatch'
  | 'auth'
  | 'forbidden'
  | 'rejected';

export interface AliyunErrorInfo {
  readonly action: string;
  /** Aliyun's `Code` (`InvalidVSwitchId.IpNotEnough`, …); `Network` for transport failures. */
  readonly aliyunCode: string;
  readonly kind: AliyunErrorKind;
  readonly httpStatus?: number;
  readonly requestId?: string;
}

export interface HasAliyun {
  readonly aliyun: AliyunErrorInfo;
}

export class AliyunExhaustedError extends ExhaustedError implements HasAliyun {
  constructor(readonly aliyun: AliyunErrorInfo, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
export class AliyunUnavailableError extends UnavailableError implements HasAliyun {
  constructor(readonly aliyun: AliyunErrorInfo, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
export class AliyunNotFoundError extends NotFoundError implements HasAliyun {
  constructor(readonly aliyun: AliyunErrorInfo, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
export class AliyunConflictError extends ConflictError implements HasAliyun {
  constructor(readonly aliyun: AliyunErrorInfo, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
export class AliyunInternalError extends InternalError implements HasAliyun {
  constructor(readonly aliyun: AliyunErrorInfo, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
/** Credentials refused or not permitted: a configuration problem (eni_conf access_key/access_secret, RAM policy). */
export class AliyunCredentialsError extends ConfigError implements HasAliyun {
  constructor(readonly aliyun: AliyunErrorInfo, path: string, message: string) {
    super(path, message);
  }
}

/** The Aliyun details of an error of this folder (undefined for any other error). */
export function aliyunErrorOf(e: unknown): AliyunErrorInfo | undefined {
  return typeof e === 'object' && e !== null && 'aliyun' in e ? (e as HasAliyun).aliyun : undefined;
}

const CODE_KINDS: readonly (readonly [RegExp, AliyunErrorKind])[] = [
  [/Throttling/u, 'throttled'],
  [/^(InternalError|ServiceUnavailable|UnknownError)$/u, 'internal'],
  [/^InvalidVSwitchId\.IpNotEnough$/u, 'vswitch-ip-exhausted'],
  [/^(QuotaExceeded\.PrivateIpAddress|InvalidOperation\.Ipv4CountExceeded|InvalidOperation\.Ipv6CountExceeded)$/u, 'ip-quota'],
  [/^(EniPerInstanceLimitExceeded|SecurityGroupInstanceLimitExceed|QuotaExceed\.)/u, 'eni-quota'],
  [/^(InvalidEniId\.NotFound|InvalidEcsId\.NotFound|InvalidInstanceId\.NotFound)$/u, 'not-found'],
  [/^InvalidIp\.IpUnassigned$/u, 'ip-unassigned'],
  [/^InvalidOperation\.InvalidEniState$/u, 'invalid-state'],
  [/Conflict$/u, 'conflict'],
  [/^(IdempotentParameterMismatch|IdempotentFailed)$/u, 'idempotent-mismatch'],
  [/^(SignatureDoesNotMatch|IncompleteSignature|InvalidAccessKeyId|InvalidSecurityToken|MissingSecurityToken)/u, 'auth'],
  [/^(Forbidden|NoPermission)/u, 'forbidden'],
];

export function kindOfCode(code: string): AliyunErrorKind {
  return CODE_KINDS.find(([re]) => re.test(code))?.[1] ?? 'rejected';
}

/** Retryable inside one call (Terway: throttling, internal and network errors; conflicts of concurrent operations). */
export function isRetryable(kind: AliyunErrorKind): boolean {
  return kind === 'throttled' || kind === 'internal' || kind === 'network' || kind === 'conflict';
}

interface SdkErrorShape {
  readonly code?: unknown;
  readonly statusCode?: unknown;
  readonly requestId?: unknown;
  readonly data?: unknown;
  readonly message?: unknown;
  readonly name?: unknown;
}

/** Reads an SDK or transport error into its Aliyun details and the cloud's message (not yet redacted). */
export function readSdkError(action: string, e: unknown): { info: AliyunErrorInfo; cloudMessage: string } {
  const x = (typeof e === 'object' && e !== null ? e : {}) as SdkErrorShape;
  const data = (typeof x.data === 'object' && x.data !== null ? x.data : undefined) as Record<string, unknown> | undefined;
  const code = typeof data?.Code === 'string' ? data.Code : undefined;
  if (code === undefined) {
    // no Aliyun body: the request never got an answer (refused, reset, timed out) or the answer was not JSON
    return { info: { action, aliyunCode: 'Network', kind: 'network' }, cloudMessage: typeof x.message === 'string' ? x.message : String(e) };
  }
  const requestId = typeof data?.RequestId === 'string' ? data.RequestId : undefined;
  const status = typeof x.statusCode === 'number' ? x.statusCode : undefined;
  return {
    info: { action, aliyunCode: code, kind: kindOfCode(code), ...(status === undefined ? {} : { httpStatus: status }), ...(requestId === undefined ? {} : { requestId }) },
    cloudMessage: typeof data?.Message === 'string' ? data.Message : '',
  };
}

/** The typed error for a final failure (after retries). */
export function toHubError(info: AliyunErrorInfo, cloudMessage: string, redactor: Redactor, attempts: number): HubError {
  const where = [info.httpStatus === undefined ? undefined : `HTTP ${String(info.httpStatus)}`, info.requestId === undefined ? undefined : `request ${info.requestId}`, attempts > 1 ? `${String(attempts)} attempts` : undefined]
    .filter((s) => s !== undefined)
    .join(', ');
  const msg = redactor.redact(`ECS ${info.action}: ${info.aliyunCode}${where === '' ? '' : ` (${where})`}${cloudMessage === '' ? '' : `: ${cloudMessage}`}`);
  switch (info.kind) {
    case 'throttled':
    case 'internal':
    case 'network':
    case 'conflict':
      return new AliyunUnavailableError(info, msg);
    case 'vswitch-ip-exhausted':
    case 'ip-quota':
    case 'eni-quota':
      return new AliyunExhaustedError(info, msg);
    case 'not-found':
    case 'ip-unassigned':
      return new AliyunNotFoundError(info, msg);
    case 'invalid-state':
    case 'idempotent-mismatch':
      return new AliyunConflictError(info, msg);
    case 'auth':
    case 'forbidden':
      return new AliyunCredentialsError(info, 'eni_conf.access_key', msg);
    case 'rejected':
      return new AliyunInternalError(info, msg);
  }
}
