/**
 * A minimal unary gRPC client on a unix socket, JSON codec (see ./protocol.ts). No grpc-js and no node:http2: the
 * plugin pays its start-up for every pod, so HTTP/2 is the small client in ./h2/. One HTTP/2 connection per
 * client; each call has a deadline.
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
} from '../lib/errors.js';
import {
  parseAllocateReply,
  parseGcReply,
  parseConfirmReply,
  parseLookupReply,
  parseReleaseReply,
  parseStatusReply,
} from './messages.js';
import { H2Session, type H2Response } from './h2/session.js';
import { CONTENT_TYPE, GrpcStatus, METHODS, type HubRpc } from './protocol.js';

export interface RpcClientOptions {
  readonly socketPath: string;
  /** Deadline of each call. */
  readonly timeoutMs: number;
}

export interface HubRpcClient extends HubRpc {
  close(): void;
}

/** Maps a non-OK gRPC status to the typed error it stands for. */
export function errorForStatus(status: number, message: string): HubError {
  const msg = message === '' ? `grpc status ${String(status)}` : message;
  switch (status) {
    case GrpcStatus.UNAVAILABLE:
      return new UnavailableError(msg);
    case GrpcStatus.DEADLINE_EXCEEDED:
      return new UnavailableError(`deadline exceeded: ${msg}`);
    case GrpcStatus.ABORTED:
      return new BusyError(msg);
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return new ExhaustedError(msg);
    case GrpcStatus.INVALID_ARGUMENT:
      return new InvalidInputError('request', msg);
    case GrpcStatus.FAILED_PRECONDITION:
      return new ConfigError('daemon', msg);
    case GrpcStatus.ALREADY_EXISTS:
      return new ConflictError(msg);
    case GrpcStatus.NOT_FOUND:
      return new NotFoundError(msg);
    default:
      return new InternalError(`daemon error (grpc status ${String(status)}): ${msg}`);
  }
}

/** gRPC over HTTP/2 status mapping for responses without grpc-status. */
function statusForHttp(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
    case 403:
      return GrpcStatus.FAILED_PRECONDITION;
    case 404:
      return GrpcStatus.UNAVAILABLE; // UNIMPLEMENTED in the spec; for us: a daemon that does not serve the method yet
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}

export function encodeFrame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  return frame;
}

/** Decodes exactly one uncompressed length-prefixed message. */
export function decodeSingleFrame(data: Buffer): unknown {
  if (data.length < 5) throw new InternalError(`daemon reply too short (${String(data.length)} bytes)`);
  if (data.readUInt8(0) !== 0) throw new InternalError('daemon reply is compressed; compression is not negotiated');
  const len = data.readUInt32BE(1);
  if (data.length !== 5 + len) throw new InternalError(`daemon reply framing: ${String(data.length - 5)} bytes for a ${String(len)}-byte message`);
  try {
    return JSON.parse(data.subarray(5).toString('utf8'));
  } catch (err) {
    throw new InternalError(`daemon reply is not JSON: ${errorMessage(err)}`);
  }
}

function decodeGrpcMessage(raw: unknown): string {
  if (typeof raw !== 'string') return '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function headerNumber(raw: unknown): number | undefined {
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined;
  const n = Number(raw);
  return Number.isInteger(n) ? n : undefined;
}

const CONNECT_FAILURES = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'ECONNRESET', 'EPIPE', 'ENOTSOCK']);

function transportError(err: unknown): HubError {
  if (err instanceof HubError) return err;
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  const why = CONNECT_FAILURES.has(code) ? `daemon unreachable (${code})` : 'daemon connection failed';
  return new UnavailableError(`${why}: ${errorMessage(err)}`, { cause: err });
}

/** The request headers of a unary gRPC call with the hub's JSON codec. */
export function grpcRequestHeaders(path: string, timeoutMs: number): [string, string][] {
  return [
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', path],
    [':authority', 'localhost'],
    ['content-type', CONTENT_TYPE],
    ['te', 'trailers'],
    ['grpc-timeout', `${String(Math.min(Math.max(1, Math.ceil(timeoutMs)), 99_999_999))}m`],
  ];
}

export function createRpcClient(opts: RpcClientOptions): HubRpcClient {
  let session: H2Session | undefined;

  const getSession = (): H2Session => {
    if (session?.usable === true) return session;
    session = new H2Session(opts.socketPath);
    return session;
  };

  const settle = (path: string, res: H2Response): unknown => {
    const httpStatus = headerNumber(res.headers.get(':status')) ?? 0;
    const trailerStatus = headerNumber(res.trailers?.get('grpc-status'));
    const status = trailerStatus ?? headerNumber(res.headers.get('grpc-status'));
    if (status === undefined) throw errorForStatus(statusForHttp(httpStatus), `HTTP ${String(httpStatus)} without grpc-status (${path})`);
    if (status !== GrpcStatus.OK) {
      const raw = trailerStatus !== undefined ? res.trailers?.get('grpc-message') : res.headers.get('grpc-message');
      throw errorForStatus(status, decodeGrpcMessage(raw));
    }
    return decodeSingleFrame(res.body);
  };

  const call = (path: string, request: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err: HubError | undefined, value?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err !== undefined) reject(err);
        else resolve(value);
      };
      let handle: { cancel(): void };
      try {
        handle = getSession().request(
          grpcRequestHeaders(path, opts.timeoutMs),
          encodeFrame(request),
          (err, res) => {
            if (err !== undefined || res === undefined) {
              finish(transportError(err ?? new Error('stream closed without a response')));
              return;
            }
            try {
              finish(undefined, settle(path, res));
            } catch (e) {
              finish(e instanceof HubError ? e : new InternalError(errorMessage(e)));
            }
          },
        );
      } catch (err) {
        reject(transportError(err));
        return;
      }
      const timer = setTimeout(() => {
        finish(new UnavailableError(`deadline exceeded: no reply to ${path} within ${String(opts.timeoutMs)} ms`));
        handle.cancel();
      }, opts.timeoutMs);
    });

  /** A reply the daemon sent but the plugin cannot read is a daemon fault, not invalid input from the runtime. */
  const unary = async <T>(path: string, request: unknown, parse: (raw: unknown) => T): Promise<T> => {
    const raw = await call(path, request);
    try {
      return parse(raw);
    } catch (err) {
      throw new InternalError(`malformed daemon reply for ${path}: ${errorMessage(err)}`, { cause: err });
    }
  };

  return {
    allocate: (req) => unary(METHODS.allocate, req, parseAllocateReply),
    lookup: (req) => unary(METHODS.lookup, req, parseLookupReply),
    release: (req) => unary(METHODS.release, req, parseReleaseReply),
    confirm: (req) => unary(METHODS.confirm, req, parseConfirmReply),
    status: (req) => unary(METHODS.status, req, parseStatusReply),
    gc: (req) => unary(METHODS.gc, req, parseGcReply),
    close: () => {
      const s = session;
      session = undefined;
      s?.close();
    },
  };
}
