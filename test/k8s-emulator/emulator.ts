/**
 * An in-process Kubernetes API server emulator (core/v1 over plain node:http on 127.0.0.1) that speaks the wire
 * protocol well enough for the real @kubernetes/client-node: list/get/watch/create/replace/patch/delete, selectors,
 * a global resourceVersion, compaction (410 Gone), the nodes/status subresource, plus test hooks.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Reply } from './handlers.js';
import { handleCreate, handleDelete, handleGet, handlePatch, handleReplace } from './handlers.js';
import { writeKubeconfig } from './kubeconfig.js';
import type { Json, KubeObject } from './object.js';
import { clone, isObject, status } from './object.js';
import type { Route } from './routes.js';
import { parseRoute, resourceByKind } from './routes.js';
import { SelectorError } from './selectors.js';
import { ApiError, Store } from './store.js';
import type { GoneMode, OpenWatch } from './watch.js';
import { serveWatch } from './watch.js';

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType: string;
  readonly authorization: string;
  /** Parsed JSON when the body is JSON, the raw text otherwise, undefined when empty. */
  readonly body: unknown;
}

export interface FailureRule {
  readonly method?: string;
  /** Matches the request path (string: prefix). */
  readonly path?: string | RegExp;
  readonly watch?: boolean;
  readonly status: number;
  /** How many matching requests fail (default 1). */
  times?: number;
}

export interface EmulatorOptions {
  /** How a watch from a compacted resourceVersion fails: an ERROR watch event (like kube-apiserver) or HTTP 410. */
  readonly goneMode?: GoneMode;
}

export class KubeEmulator {
  readonly requests: RequestRecord[] = [];
  goneMode: GoneMode;
  private readonly store = new Store();
  private readonly openWatches = new Set<OpenWatch>();
  private readonly sockets = new Set<Socket>();
  private readonly failures: FailureRule[] = [];
  private kubeconfigPath: string | undefined;

  private constructor(
    private readonly server: Server,
    options: EmulatorOptions,
  ) {
    this.goneMode = options.goneMode ?? 'event';
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(options: EmulatorOptions = {}): Promise<KubeEmulator> {
    const server = createServer();
    const emu = new KubeEmulator(server, options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => { emu.onRequest(req, res); });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => { resolve(); });
    });
    return emu;
  }

  get url(): string {
    const addr = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${String(addr.port)}`;
  }

  /** A kubeconfig file (written once) whose current context points at this emulator. */
  kubeconfigFile(): string {
    this.kubeconfigPath ??= writeKubeconfig(this.url);
    return this.kubeconfigPath;
  }

  /** Create or replace an object (kind: "Pod", "Node", "ConfigMap", …); returns it with resourceVersion/uid. */
  put(kind: string, obj: object): KubeObject {
    const json: unknown = JSON.parse(JSON.stringify(obj));
    if (!isObject(json)) throw new Error('object expected');
    const def = resourceByKind(kind);
    if (def === undefined) throw new Error(`unknown kind ${kind}`);
    const md = json['metadata'];
    if (def.namespaced && isObject(md) && typeof md['namespace'] !== 'string') md['namespace'] = 'default';
    return this.store.upsert(kind, json);
  }

  delete(kind: string, namespace: string, name: string): boolean {
    try {
      this.store.remove(kind, namespace, name);
      return true;
    } catch {
      return false;
    }
  }

  get(kind: string, namespace: string, name: string): KubeObject | undefined {
    return this.store.get(kind, namespace, name);
  }

  list(kind: string, namespace?: string): KubeObject[] {
    return this.store.list(kind, namespace);
  }

  resourceVersion(): string {
    return String(this.store.resourceVersion());
  }

  /** Close every open watch stream; abrupt (default) destroys the socket, otherwise the stream ends cleanly. */
  dropWatches(abrupt = true): number {
    const open = [...this.openWatches];
    for (const w of open) {
      this.store.watchers.delete(w.watcher);
      this.openWatches.delete(w);
      w.close(abrupt);
    }
    return open.length;
  }

  watchCount(kind?: string): number {
    return [...this.openWatches].filter((w) => kind === undefined || w.watcher.kind === kind).length;
  }

  /** From now on, watches/lists from a resourceVersion older than the current one get 410 Gone. */
  compact(): string {
    return String(this.store.compact());
  }

  /** Send a BOOKMARK with the current resourceVersion to watches that allowed bookmarks. */
  bookmark(): void {
    const rv = this.resourceVersion();
    for (const w of this.openWatches) {
      if (w.bookmarks) w.watcher.send('BOOKMARK', { kind: w.watcher.kind, apiVersion: 'v1', metadata: { resourceVersion: rv } });
    }
  }

  /** Make the next matching request(s) fail with `status`. */
  failNext(rule: FailureRule): void {
    this.failures.push({ ...rule, times: rule.times ?? 1 });
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  async close(): Promise<void> {
    this.dropWatches(true);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => { resolve(); }));
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        this.dispatch(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        respondError(res, err);
      }
    });
  }

  private dispatch(req: IncomingMessage, res: ServerResponse, text: string): void {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    const body = parseBody(text);
    this.requests.push({
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType,
      authorization: req.headers.authorization ?? '',
      body,
    });
    const route = parseRoute(url.pathname);
    if (route === undefined) throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
    const watch = route.watchPath || url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    this.injectFailure(method, url.pathname, watch);
    if (method === 'GET' && watch) {
      serveWatch(this.store, route, url.searchParams, req, res, this.goneMode, this.openWatches);
      return;
    }
    send(res, this.rest(method, route, url.searchParams, contentType, body ?? null));
  }

  private rest(method: string, route: Route, query: URLSearchParams, contentType: string, body: unknown): Reply {
    const json = (body ?? null) as Json;
    switch (method) {
      case 'GET':
        return handleGet(this.store, route, query);
      case 'POST':
        return handleCreate(this.store, route, json);
      case 'PUT':
        return handleReplace(this.store, route, json);
      case 'PATCH':
        return handlePatch(this.store, route, contentType, json);
      case 'DELETE':
        return handleDelete(this.store, route);
      default:
        throw new ApiError(405, 'MethodNotAllowed', `method ${method} is not allowed`);
    }
  }

  private injectFailure(method: string, path: string, watch: boolean): void {
    const idx = this.failures.findIndex(
      (f) =>
        (f.method === undefined || f.method === method) &&
        (f.watch === undefined || f.watch === watch) &&
        (f.path === undefined || (typeof f.path === 'string' ? path.startsWith(f.path) : f.path.test(path))),
    );
    const rule = this.failures[idx];
    if (rule === undefined) return;
    rule.times = (rule.times ?? 1) - 1;
    if (rule.times <= 0) this.failures.splice(idx, 1);
    throw new ApiError(rule.status, rule.status === 410 ? 'Expired' : 'InternalError', `injected failure ${String(rule.status)}`);
  }
}

export function startKubeEmulator(options: EmulatorOptions = {}): Promise<KubeEmulator> {
  return KubeEmulator.start(options);
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
}

function respondError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body =
    err instanceof ApiError
      ? err.toStatus()
      : err instanceof SelectorError
        ? status(400, 'BadRequest', err.message)
        : status(500, 'InternalError', err instanceof Error ? err.message : String(err));
  const code = typeof body['code'] === 'number' ? body['code'] : 500;
  res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(clone(body)));
}
