/**
 * The one client of the daemon's HTTP/1.1 + JSON contract (./protocol.ts), for the plugin and the CLI alike. The
 * HTTP exchange itself is injected (`HttpExchange`): the plugin binary passes bun's native `fetch` over the unix
 * socket (./exchange-fetch.ts), Node.js callers (the CLI, tests) pass node:http (./exchange-node.ts), so the plugin
 * bundle never loads node:http or node:net. Here: routes, the deadline (client-side abort, sent to the daemon too),
 * parsing every reply, and mapping a refusal's `{code, message}` back to the typed error the daemon raised — once.
 */
import {
  BusyError,
  ConfigError,
  ConflictError,
  ExhaustedError,
  HubError,
  InternalError,
  InvalidInputError,
  NotFoundError,
  UnavailableError,
  errorMessage,
  type HubErrorCode,
} from '../lib/errors.js';
import {
  parseAllocateReply,
  parseConfirmReply,
  parseGcReply,
  parseLookupReply,
  parsePolicyModelReply,
  parsePolicyVerifyReply,
  parseReleaseReply,
  parseStatusReply,
  parseWhyReply,
} from './messages.js';
import { parseMappingReply, parsePoolReply } from './operator-messages.js';
import { CONTENT_TYPE, DEADLINE_HEADER, ROUTES, type HubAdminRpc, type HubRpc, type MethodName, type Route } from './protocol.js';

/** One HTTP/1.1 request on the daemon's unix socket. */
export interface HttpRequest {
  readonly socketPath: string;
  readonly method: Route['method'];
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** JSON text; absent for GET. */
  readonly body?: string;
  /** Aborted at the deadline: the exchange stops and rejects. */
  readonly signal: AbortSignal;
}

export interface HttpReply {
  readonly status: number;
  readonly body: string;
}

/** Sends one request and resolves with any reply; rejects only when no reply came (the error's `code`: ENOENT, EACCES...). */
export type HttpExchange = (req: HttpRequest) => Promise<HttpReply>;

export interface RpcClientOptions {
  readonly socketPath: string;
  /** Deadline of each call. */
  readonly timeoutMs: number;
  readonly exchange: HttpExchange;
}

export type HubRpcClient = HubRpc & HubAdminRpc;

const ERRORS: Record<HubErrorCode, (message: string) => HubError> = {
  'invalid-input': (m) => new InvalidInputError('request', m),
  config: (m) => new ConfigError('daemon', m),
  // the daemon maps a failed command of its own to `internal`; an `exec` code is read the same way
  exec: (m) => new InternalError(m),
  'not-found': (m) => new NotFoundError(m),
  busy: (m) => new BusyError(m),
  unavailable: (m) => new UnavailableError(m),
  exhausted: (m) => new ExhaustedError(m),
  conflict: (m) => new ConflictError(m),
  internal: (m) => new InternalError(m),
};

function isErrorCode(v: unknown): v is HubErrorCode {
  return typeof v === 'string' && Object.hasOwn(ERRORS, v);
}

/** A non-2xx reply as the typed error the daemon raised; a reply without a readable ErrorBody by its HTTP status. */
export function errorForReply(status: number, body: string, what: string): HubError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed === 'object' && parsed !== null && 'code' in parsed && isErrorCode(parsed.code)) {
    const message = 'message' in parsed && typeof parsed.message === 'string' && parsed.message !== '' ? parsed.message : `HTTP ${String(status)}`;
    return ERRORS[parsed.code](message);
  }
  const text = `${what}: HTTP ${String(status)} without an error body${body === '' ? '' : ` (${body.slice(0, 200)})`}`;
  return status === 429 || status === 502 || status === 503 || status === 504 ? new UnavailableError(text) : new InternalError(text);
}

const CONNECT_FAILURES = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'EPERM', 'ECONNRESET', 'EPIPE', 'ENOTSOCK']);

function transportError(err: unknown, socketPath: string, what: string): HubError {
  if (err instanceof HubError) return err;
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  const why = CONNECT_FAILURES.has(code) ? `daemon unreachable at ${socketPath} (${code})` : `daemon connection at ${socketPath} failed`;
  return new UnavailableError(`${why}: ${what}: ${errorMessage(err)}`, { cause: err });
}

export function createRpcClient(opts: RpcClientOptions): HubRpcClient {
  const call = async (name: MethodName, request: unknown): Promise<unknown> => {
    const route = ROUTES[name];
    const what = `${route.method} ${route.path}`;
    const ac = new AbortController();
    const timer = setTimeout(() => { ac.abort(); }, opts.timeoutMs);
    let reply: HttpReply;
    try {
      reply = await opts.exchange({
        socketPath: opts.socketPath,
        method: route.method,
        path: route.path,
        headers: {
          ...(route.method === 'POST' ? { 'content-type': CONTENT_TYPE } : {}),
          [DEADLINE_HEADER]: String(Math.max(1, Math.ceil(opts.timeoutMs))),
        },
        ...(route.method === 'POST' ? { body: JSON.stringify(request) } : {}),
        signal: ac.signal,
      });
    } catch (err) {
      if (ac.signal.aborted) throw new UnavailableError(`deadline exceeded: no reply from the daemon at ${opts.socketPath} to ${what} within ${String(opts.timeoutMs)} ms`);
      throw transportError(err, opts.socketPath, what);
    } finally {
      clearTimeout(timer);
    }
    if (reply.status < 200 || reply.status > 299) throw errorForReply(reply.status, reply.body, what);
    try {
      return JSON.parse(reply.body);
    } catch (err) {
      throw new InternalError(`daemon reply to ${what} is not JSON: ${errorMessage(err)}`);
    }
  };

  /** A reply the daemon sent but the client cannot read is a daemon fault, not invalid input from the runtime. */
  const unary = async <T>(name: MethodName, request: unknown, parse: (raw: unknown) => T): Promise<T> => {
    const raw = await call(name, request);
    try {
      return parse(raw);
    } catch (err) {
      throw new InternalError(`malformed daemon reply for ${ROUTES[name].path}: ${errorMessage(err)}`, { cause: err });
    }
  };

  return {
    allocate: (req) => unary('allocate', req, parseAllocateReply),
    lookup: (req) => unary('lookup', req, parseLookupReply),
    release: (req) => unary('release', req, parseReleaseReply),
    confirm: (req) => unary('confirm', req, parseConfirmReply),
    status: (req) => unary('status', req, parseStatusReply),
    gc: (req) => unary('gc', req, parseGcReply),
    policyModel: (req) => unary('policyModel', req, parsePolicyModelReply),
    policyVerify: (req) => unary('policyVerify', req, parsePolicyVerifyReply),
    why: (req) => unary('why', req, parseWhyReply),
    pool: (req) => unary('pool', req, parsePoolReply),
    mapping: (req) => unary('mapping', req, parseMappingReply),
  };
}
