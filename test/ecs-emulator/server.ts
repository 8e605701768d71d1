/**
 * The ECS OpenAPI over HTTP on 127.0.0.1 (port 0), as the real @alicloud/ecs20140526 SDK talks to it with
 * `endpoint: 127.0.0.1:PORT, protocol: 'http'`: the action from `x-acs-action` (V3) or `Action` (v2 RPC), the signature
 * verified (signature.ts), ClientToken idempotency, fault injection (faults.ts), and replies in Aliyun's JSON shapes
 * (`RequestId`, and on errors `Code`, `Message`, `HostId`, `Recommend`).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ACTIONS, unknownAction, type Body, type Params } from './actions.js';
import { EcsApiError, ecsError } from './errors.js';
import { Faults } from './faults.js';
import { verifySignature, type AccessKey, type SignatureStyle } from './signature.js';
import type { EcsState } from './state.js';

/** The actions that operate on one ENI (ECS runs one at a time per ENI). */
const ENI_OPERATIONS = new Set(['AttachNetworkInterface', 'DetachNetworkInterface', 'DeleteNetworkInterface', 'AssignPrivateIpAddresses', 'UnassignPrivateIpAddresses']);

/** Protocol parameters that are not the action's own (excluded from ClientToken comparison). */
const PROTOCOL_PARAMS = new Set(['Action', 'Version', 'Format', 'Timestamp', 'SignatureNonce', 'SignatureMethod', 'SignatureVersion', 'AccessKeyId', 'Signature', 'SecurityToken', 'ClientToken']);

export interface CallRecord {
  readonly action: string;
  readonly params: Params;
  readonly style: SignatureStyle | 'unsigned';
  readonly keyId: string;
  /** `ok`, or the error code answered. */
  readonly outcome: string;
  readonly at: number;
}

interface IdempotentEntry {
  readonly action: string;
  readonly fingerprint: string;
  readonly body: Body;
}

export class EcsApiServer {
  readonly faults = new Faults();
  readonly calls: CallRecord[] = [];
  private readonly keys = new Map<string, AccessKey>();
  private readonly nonces = new Set<string>();
  private readonly tokens = new Map<string, IdempotentEntry>();
  private readonly sockets = new Set<Socket>();
  private readonly pending = new Set<NodeJS.Timeout>();
  /** ENIs with an operation in progress (faults.serializeEnis). */
  private readonly busyEnis = new Set<string>();

  private constructor(
    private readonly server: Server,
    readonly state: EcsState,
  ) {
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(state: EcsState): Promise<EcsApiServer> {
    const server = createServer();
    const self = new EcsApiServer(server, state);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void self.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  /** `127.0.0.1:PORT`, the SDK's `endpoint`. */
  get endpoint(): string {
    const a = this.server.address() as AddressInfo;
    return `127.0.0.1:${String(a.port)}`;
  }

  addAccessKey(k: AccessKey): void {
    this.keys.set(k.id, k);
  }

  removeAccessKey(id: string): void {
    this.keys.delete(id);
  }

  /** How many calls of `action` reached it (authenticated), and how many took effect. */
  count(action: string): { readonly received: number; readonly ok: number; readonly throttled: number } {
    const mine = this.calls.filter((c) => c.action === action);
    return { received: mine.length, ok: mine.filter((c) => c.outcome === 'ok').length, throttled: mine.filter((c) => c.outcome.startsWith('Throttling')).length };
  }

  /** Calls per action, `{ CreateNetworkInterface: 3, … }`. */
  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.calls) out[c.action] = (out[c.action] ?? 0) + 1;
    return out;
  }

  async close(): Promise<void> {
    for (const t of this.pending) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => { resolve(); }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    // a form body (the SDK sends none for ECS) carries parameters too
    if (body.length > 0 && (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) query[k] = v;
    }
    const headerAction = req.headers['x-acs-action'];
    const action = (typeof headerAction === 'string' ? headerAction : undefined) ?? query.Action ?? '';
    const requestId = randomUUID().toUpperCase();
    let keyId = '';
    let style: SignatureStyle | 'unsigned' = 'unsigned';
    const params: Params = Object.fromEntries(Object.entries(query).filter(([k]) => !PROTOCOL_PARAMS.has(k) || k === 'ClientToken'));
    try {
      const v = verifySignature({ method: req.method ?? 'GET', path: url.pathname, query: sigQuery(query, body, req), headers: req.headers, body }, (id) => this.keys.get(id), this.nonces);
      keyId = v.keyId;
      style = v.style;
      const version = (typeof req.headers['x-acs-version'] === 'string' ? req.headers['x-acs-version'] : undefined) ?? query.Version;
      if (version !== '2014-05-26') throw new EcsApiError(400, 'InvalidVersion', `Specified parameter Version is not valid. (${String(version)})`);
      const handler = ACTIONS[action];
      if (handler === undefined) throw unknownAction(action);
      const injected = this.faults.before(action);
      if (injected !== undefined) throw ecsError(injected);
      const lockMs = this.faults.eniLockMs;
      const eniId = lockMs > 0 && ENI_OPERATIONS.has(action) ? params.NetworkInterfaceId : undefined;
      if (eniId !== undefined && this.busyEnis.has(eniId)) throw ecsError('Operation.Conflict', `(${eniId}: another operation on it is in progress)`);
      const out = this.runIdempotent(action, params, handler);
      this.record(action, params, style, keyId, 'ok');
      if (eniId !== undefined) {
        // the operation holds the ENI until it is done: its reply comes then
        this.busyEnis.add(eniId);
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            this.pending.delete(t);
            resolve();
          }, lockMs);
          this.pending.add(t);
        });
        this.busyEnis.delete(eniId);
      }
      const late = this.faults.after(action);
      if (late?.mode === 'drop') {
        req.socket.destroy();
        return;
      }
      const send = (): void => {
        sendJson(res, 200, { RequestId: requestId, ...out });
      };
      if (late?.mode === 'delay') {
        const t = setTimeout(() => {
          this.pending.delete(t);
          send();
        }, late.delayMs ?? 30_000);
        this.pending.add(t);
        return;
      }
      send();
    } catch (e) {
      const err = e instanceof EcsApiError ? e : new EcsApiError(500, 'InternalError', 'The request processing has failed due to some unknown error, exception or failure.');
      if (keyId !== '') this.record(action, params, style, keyId, err.code);
      sendJson(res, err.status, {
        RequestId: requestId,
        HostId: `ecs.${this.state.regionId}.aliyuncs.com`,
        Code: err.code,
        Message: err.message,
        Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(err.code)}&product=Ecs`,
      });
    }
  }

  /** Same ClientToken and same parameters → the first success's body again (no second effect). */
  private runIdempotent(action: string, params: Params, handler: (s: EcsState, p: Params) => Body): Body {
    const token = params.ClientToken;
    if (token === undefined || token === '') return handler(this.state, params);
    const fingerprint = createHash('sha256')
      .update(JSON.stringify(Object.entries(params).filter(([k]) => k !== 'ClientToken').sort(([a], [b]) => a.localeCompare(b))))
      .digest('hex');
    const prior = this.tokens.get(token);
    if (prior !== undefined) {
      if (prior.action !== action || prior.fingerprint !== fingerprint) throw ecsError('IdempotentParameterMismatch');
      return prior.body;
    }
    const body = handler(this.state, params);
    this.tokens.set(token, { action, fingerprint, body });
    return body;
  }

  private record(action: string, params: Params, style: SignatureStyle | 'unsigned', keyId: string, outcome: string): void {
    this.calls.push({ action, params, style, keyId, outcome, at: Date.now() });
  }
}

/** The parameters the signature covers: the query only (the SDK signs the form body's hash, not its fields, in V3). */
function sigQuery(query: Record<string, string>, body: Buffer, req: IncomingMessage): Record<string, string> {
  if (body.length === 0 || req.headers.authorization?.startsWith('ACS3-') !== true) return query;
  const url = new URL(req.url ?? '/', 'http://x');
  return Object.fromEntries(url.searchParams);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
