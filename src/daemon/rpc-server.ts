/**
 * The daemon's side of the plugin <-> daemon contract (src/rpc/protocol.ts): HTTP/1.1 + JSON with node:http on a
 * unix socket (dir 0700, socket 0600: root only). One handler per route; every request is parsed
 * (src/rpc/messages.ts), the caller's deadline (DEADLINE_HEADER) aborts the call's work, and errors become an HTTP
 * status + ErrorBody once (./http-errors.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmod, mkdir, mkdtemp, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UnavailableError, errorMessage } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { parseAllocateRequest, parseConfirmRequest, parseGcRequest, parseLookupRequest, parsePolicyModelRequest, parsePolicyVerifyRequest, parseReleaseRequest, parseStatusRequest, parseWhyRequest } from '../rpc/messages.js';
import { CONTENT_TYPE, DEADLINE_HEADER, ROUTES, type MethodName, type PolicyModelReply, type PolicyVerifyReply, type WhyReply, type WhyRequest } from '../rpc/protocol.js';
import { parseMappingRequest, parsePoolRequest } from '../rpc/operator-messages.js';
import type { MappingReply, PoolReply } from '../rpc/operator-protocol.js';
import { deadlineExceeded, httpErrorOf, type HttpError } from './http-errors.js';
import type { HubService } from './service.js';

type Handler = (raw: unknown, signal: AbortSignal) => Promise<unknown>;

/** A request body larger than this is refused (a Gc of 10 000 attachments is ≈ 1 MiB). */
const MAX_BODY = 4 << 20;

/** The operator calls beyond the service (absent: the daemon answers them with an empty model). */
export interface AdminSources {
  readonly policyModel: () => PolicyModelReply;
  readonly policyVerify: () => Promise<PolicyVerifyReply>;
  /** `terway-hub why`: what the pod's network waits for now (src/daemon/why.ts). */
  readonly why: (req: WhyRequest) => Promise<WhyReply>;
  readonly pool?: () => PoolReply;
  readonly mapping?: (signal: AbortSignal) => Promise<MappingReply>;
}

const NO_ADMIN: AdminSources = {
  policyModel: () => ({ kubernetes: false, nodeName: '', objects: [], refused: [] }),
  policyVerify: () => Promise.resolve({ backend: 'none', scopes: [], drift: ['this daemon runs no NetworkPolicy backend'] }),
  why: (req) => Promise.resolve({ pod: `${req.namespace}/${req.name}`, known: false, waiting: false, notes: ['this daemon keeps no wait registry'] }),
};

function handlersFor(service: HubService, admin: AdminSources): Record<MethodName, Handler> {
  return {
    allocate: (raw, signal) => service.allocate(parseAllocateRequest(raw), signal),
    lookup: (raw) => service.lookup(parseLookupRequest(raw)),
    release: (raw) => service.release(parseReleaseRequest(raw)),
    confirm: (raw) => service.confirm(parseConfirmRequest(raw)),
    status: (raw) => {
      parseStatusRequest(raw);
      return service.status();
    },
    gc: (raw) => service.gc(parseGcRequest(raw)),
    policyModel: (raw) => {
      parsePolicyModelRequest(raw);
      return Promise.resolve(admin.policyModel());
    },
    policyVerify: (raw) => {
      parsePolicyVerifyRequest(raw);
      return admin.policyVerify();
    },
    why: (raw) => admin.why(parseWhyRequest(raw)),
    pool: (raw) => {
      parsePoolRequest(raw);
      return Promise.resolve(admin.pool?.() ?? { mode: '', pools: [] });
    },
    mapping: (raw, signal) => {
      parseMappingRequest(raw);
      return admin.mapping?.(signal) ?? Promise.resolve({ entries: [], mismatches: [], notes: ['this daemon does not gather the mapping'] });
    },
  };
}

const BY_PATH = new Map<string, MethodName>((Object.entries(ROUTES) as [MethodName, (typeof ROUTES)[MethodName]][]).map(([name, r]) => [r.path, name]));

/** The milliseconds the caller still waits; undefined: no deadline; an HttpError: a malformed header. */
function deadlineOf(req: IncomingMessage): number | undefined | HttpError {
  const raw = req.headers[DEADLINE_HEADER];
  if (raw === undefined) return undefined;
  const ms = typeof raw === 'string' && /^\d{1,10}$/u.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(ms)) return { status: 400, body: { code: 'invalid-input', message: `${DEADLINE_HEADER}: must be a count of milliseconds: ${JSON.stringify(raw)}` } };
  // longer than a timer can hold (≈ 24.8 days; setTimeout would fire after 1 ms): no deadline in practice
  return ms > MAX_TIMER_MS ? undefined : ms;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

type Body = { readonly value: unknown } | { readonly refused: HttpError };

/** The request's JSON (GET: `{}`), or the HttpError refusing it. */
async function bodyOf(req: IncomingMessage): Promise<Body> {
  if (req.method === 'GET') {
    req.resume();
    return { value: {} };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size <= MAX_BODY) chunks.push(b); // past it: read on (the reply must reach the caller), keep nothing
  }
  if (size > MAX_BODY) return { refused: { status: 413, body: { code: 'invalid-input', message: `request body: larger than ${String(MAX_BODY)} bytes` } } };
  try {
    return { value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch (e) {
    return { refused: { status: 400, body: { code: 'invalid-input', message: `request body: not JSON: ${errorMessage(e)}` } } };
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

export class HubRpcServer {
  readonly #service: HubService;
  readonly #log: Logger;
  readonly #server: Server;
  readonly #handlers: Record<MethodName, Handler>;
  #socket: string | undefined;

  constructor(service: HubService, log: Logger = silentLogger, admin: AdminSources = NO_ADMIN) {
    this.#service = service;
    this.#log = log;
    this.#handlers = handlersFor(service, admin);
    this.#server = createServer((req, res) => void this.#route(req, res));
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const name = BY_PATH.get(path);
    if (name === undefined) {
      req.resume();
      send(res, 404, { code: 'not-found', message: `no route ${path} (routes: ${[...BY_PATH.keys()].join(', ')})` });
      return;
    }
    const route = ROUTES[name];
    if (req.method !== route.method) {
      req.resume();
      send(res, 405, { code: 'invalid-input', message: `${path}: use ${route.method}, not ${String(req.method)}` }, { allow: route.method });
      return;
    }
    await this.#call(name, req, res);
  }

  async #call(name: MethodName, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const done = (status: number, body: unknown, result: string): void => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.#service.metrics.observeRpc(name, result, seconds);
      send(res, status, body);
    };
    const fail = (e: HttpError): void => { done(e.status, e.body, e.body.code); };
    const deadline = deadlineOf(req);
    if (typeof deadline === 'object') {
      req.resume();
      fail(deadline);
      return;
    }
    if (deadline === 0) {
      req.resume();
      fail(deadlineExceeded('the deadline had passed before the request was handled'));
      return;
    }
    const ac = new AbortController();
    // the caller went away (its own deadline, a killed plugin): stop the call's work as at the deadline
    res.on('close', () => { if (!res.writableFinished) ac.abort(); });
    const timer = deadline === undefined ? undefined : setTimeout(() => { ac.abort(); }, deadline);
    try {
      const body = await bodyOf(req);
      if ('refused' in body) {
        fail(body.refused);
        return;
      }
      const reply = await this.#handlers[name](body.value, ac.signal);
      if (ac.signal.aborted) fail(deadlineExceeded(`${ROUTES[name].path} finished after the caller's deadline`));
      else done(200, reply, 'ok');
    } catch (e) {
      if (ac.signal.aborted && e instanceof UnavailableError) fail(deadlineExceeded(errorMessage(e)));
      else {
        const err = httpErrorOf(e);
        if (err.body.code === 'internal') this.#log.error('rpc failed', { method: name, err: e });
        else this.#log.info('rpc refused', { method: name, code: err.body.code, details: err.body.message });
        fail(err);
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /**
   * Binds the socket without touching the process-wide umask: the socket is bound inside a fresh 0700 directory
   * beside its final path (unreachable by others whatever its own mode), chmodded 0600, then renamed over the final
   * path (atomic; replaces a stale socket). The socket's directory is created 0700 when missing (an existing one is
   * never chmodded: the socket could sit in /run).
   */
  async listen(socket: string): Promise<void> {
    const dir = dirname(socket);
    const created = await mkdir(dir, { recursive: true, mode: 0o700 });
    if (created !== undefined) await chmod(dir, 0o700);
    const staging = await mkdtemp(join(dir, '.bind-')); // mode 0700
    const staged = join(staging, 'sock');
    try {
      await new Promise<void>((resolve, reject) => {
        this.#server.once('error', reject);
        this.#server.listen(staged, () => {
          this.#server.off('error', reject);
          resolve();
        });
      });
      await chmod(staged, 0o600);
      await rename(staged, socket);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    this.#socket = socket;
    this.#log.info('rpc serving', { socket });
  }

  /** Graceful shutdown (in-flight calls finish, idle keep-alive connections close), forced after `graceMs`; removes the socket. */
  async close(graceMs = 5000): Promise<void> {
    if (this.#server.listening) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.#server.closeAllConnections();
          resolve();
        }, graceMs);
        this.#server.close(() => {
          clearTimeout(t);
          resolve();
        });
        this.#server.closeIdleConnections();
      });
    }
    if (this.#socket !== undefined) await unlink(this.#socket).catch(() => undefined);
    this.#socket = undefined;
  }
}
