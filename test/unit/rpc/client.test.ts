/**
 * The daemon client (src/rpc/client.ts) against a plain node:http server on a unix socket that answers what each
 * test asks: routes, the deadline header, reply parsing, the ErrorBody → typed error mapping, client deadlines and
 * an absent daemon. With node:http (the CLI's exchange) in-process, and with bun's fetch (the plugin's exchange) in
 * a bun child process (test/fixtures/rpc-fetch-client.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  BusyError,
  ConfigError,
  ConflictError,
  ExhaustedError,
  InternalError,
  InvalidInputError,
  NotFoundError,
  UnavailableError,
  type HubError,
  type HubErrorCode,
} from '../../../src/lib/errors.js';
import { errorForReply } from '../../../src/rpc/client.js';
import { createNodeRpcClient } from '../../../src/rpc/exchange-node.js';
import { DEADLINE_HEADER, ROUTES, type MethodName } from '../../../src/rpc/protocol.js';
import { shAsync } from '../../helpers/exec.js';
import { ROOT } from '../../helpers/hub.js';
import { tempDir } from '../../helpers/tmp.js';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly contentType: string | undefined;
  readonly deadline: string | undefined;
  readonly body: string;
}
type Answer = (seen: Seen) => Promise<{ status: number; body: string }> | { status: number; body: string };

let dir: string;
let socket: string;
let server: Server;
let answer: Answer;
const seen: Seen[] = [];

const json = (status: number, body: unknown): { status: number; body: string } => ({ status, body: JSON.stringify(body) });

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const s: Seen = { method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], deadline: req.headers[DEADLINE_HEADER] as string | undefined, body: Buffer.concat(chunks).toString('utf8') };
  seen.push(s);
  const a = await answer(s);
  res.writeHead(a.status, { 'content-type': 'application/json' });
  res.end(a.body);
}

beforeAll(async () => {
  dir = tempDir('hub-rpc-');
  socket = join(dir, 'daemon.sock');
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(socket, resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  seen.length = 0;
  answer = () => json(500, { code: 'internal', message: 'no answer set' });
});

const allocation = { mode: 'vpc', ip: '10.0.0.9', subnet: '10.0.0.0/24', mtu: 1500 };
const allocReq = { containerId: 'c1', ifName: 'eth0', netns: '/var/run/netns/p', podNamespace: 'default', podName: 'web', infraContainerId: 'c1' };

/** Every call of the contract, with a valid reply (so the client's parser accepts it). */
const REPLIES: Record<MethodName, unknown> = {
  allocate: { allocation },
  lookup: { found: false },
  release: { released: true },
  confirm: { confirmed: true },
  status: { ready: true, mode: 'vpc', reason: '' },
  gc: { released: [], errors: [] },
  policyModel: { kubernetes: false, nodeName: '', objects: [], refused: [] },
  policyVerify: { backend: 'none', scopes: [], drift: [] },
  why: { pod: 'default/web', known: true, waiting: true, reason: { kind: 'throttled', text: 'throttled by aliyun', since: '2026-01-01T00:00:00.000Z', retryAt: '2026-01-01T00:00:02.000Z', detail: { cloud: 'aliyun' } }, notes: [] },
  pool: { mode: 'veth-policy-routing', pools: [{ key: 'local', stats: { enis: 1 }, enis: [{ id: 'eni-1', vSwitchId: 'vsw', ips: ['10.0.0.9'], leased: ['10.0.0.9'], idle: [], retiring: [], releasing: [], assigning: 0, busy: false, deleting: false }], creating: 0, inhibitedVSwitches: [] }] },
  mapping: { entries: [], mismatches: [{ kind: 'ip-leased-twice', detail: 'x' }], notes: [] },
};

const ERROR_CLASSES: [HubErrorCode, new (...args: never[]) => HubError][] = [
  ['invalid-input', InvalidInputError],
  ['config', ConfigError],
  ['not-found', NotFoundError],
  ['busy', BusyError],
  ['unavailable', UnavailableError],
  ['exhausted', ExhaustedError],
  ['conflict', ConflictError],
  ['internal', InternalError],
  ['exec', InternalError],
];

describe('rpc client over node:http', () => {
  const client = (): ReturnType<typeof createNodeRpcClient> => createNodeRpcClient(socket, 2000);

  it('POSTs the request as JSON to its versioned route with the deadline, and parses the reply', async () => {
    answer = () => json(200, REPLIES.allocate);
    await expect(client().allocate(allocReq)).resolves.toEqual({ allocation });
    expect(seen).toEqual([{ method: 'POST', url: '/v1/allocate', contentType: 'application/json', deadline: '2000', body: JSON.stringify(allocReq) }]);
  });

  it('every call goes to its route: GET without a body for status and the policy reads', async () => {
    answer = (s) => {
      const name = (Object.keys(ROUTES) as MethodName[]).find((n) => ROUTES[n].path === s.url);
      return name === undefined ? json(404, { code: 'not-found', message: s.url }) : json(200, REPLIES[name]);
    };
    const c = client();
    for (const name of Object.keys(ROUTES) as MethodName[]) {
      await expect((c[name] as (r: unknown) => Promise<unknown>)(name === 'allocate' ? allocReq : {})).resolves.toEqual(REPLIES[name]);
    }
    expect(seen.map((s) => `${s.method} ${s.url}${s.body === '' ? '' : ' +body'}`)).toEqual([
      'POST /v1/allocate +body',
      'POST /v1/lookup +body',
      'POST /v1/release +body',
      'POST /v1/confirm +body',
      'GET /v1/status',
      'POST /v1/gc +body',
      'GET /v1/policy/model',
      'GET /v1/policy/verify',
      'POST /v1/why +body',
      'GET /v1/pool',
      'GET /v1/mapping',
    ]);
  });

  it('concurrent calls each get their own reply', async () => {
    answer = (s) => json(200, s.url === '/v1/status' ? REPLIES.status : { found: false });
    const c = client();
    const [a, b, d] = await Promise.all([c.lookup({ containerId: 'c', ifName: 'eth0' }), c.status({}), c.lookup({ containerId: 'd', ifName: 'eth0' })]);
    expect([a, b, d]).toEqual([{ found: false }, REPLIES.status, { found: false }]);
  });

  it.each(ERROR_CLASSES)('an error body with code %s becomes its typed error, message kept', async (code, type) => {
    answer = () => json(409, { code, message: 'lease of pod web: 50% done, ünïcode' });
    const err = await client().release({ containerId: 'c1', ifName: 'eth0', reason: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toContain('lease of pod web: 50% done, ünïcode');
  });

  it('a refusal without an error body: 502/503/504 unavailable (retryable), anything else internal; both name the route', async () => {
    answer = () => ({ status: 503, body: 'overloaded' });
    const u = await client().gc({ validAttachments: [] }).catch((e: unknown) => e);
    expect(u).toBeInstanceOf(UnavailableError);
    expect((u as Error).message).toMatch(/POST \/v1\/gc: HTTP 503.*overloaded/u);
    answer = () => json(404, { error: 'not ours' });
    const i = await client().gc({ validAttachments: [] }).catch((e: unknown) => e);
    expect(i).toBeInstanceOf(InternalError);
    expect((i as Error).message).toMatch(/HTTP 404/u);
    expect(errorForReply(400, JSON.stringify({ code: 'no-such-code', message: 'm' }), 'x')).toBeInstanceOf(InternalError);
  });

  it('a malformed or non-JSON reply is an internal error naming the field or route', async () => {
    answer = () => json(200, { allocation: { ...allocation, ip: 'nope' } });
    const bad = await client().allocate(allocReq).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InternalError);
    expect((bad as Error).message).toMatch(/malformed daemon reply.*allocation\.ip/u);
    answer = () => ({ status: 200, body: '{"ready": tru' });
    await expect(client().status({})).rejects.toThrow(/reply to GET \/v1\/status is not JSON/u);
  });

  it('enforces the client-side deadline: unavailable, naming the socket and the route', async () => {
    answer = () => new Promise((resolve) => setTimeout(() => { resolve(json(200, REPLIES.status)); }, 600));
    const t0 = Date.now();
    const err = await createNodeRpcClient(socket, 150).status({}).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(550);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toBe(`deadline exceeded: no reply from the daemon at ${socket} to GET /v1/status within 150 ms`);
    expect(seen[0]?.deadline).toBe('150');
  });

  it('a missing socket is UnavailableError naming it (daemon absent)', async () => {
    const absent = join(dir, 'absent.sock');
    const err = await createNodeRpcClient(absent, 1000).status({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain(`daemon unreachable at ${absent} (ENOENT)`);
  });
});

describe('rpc client over bun fetch (the plugin binary\'s exchange)', () => {
  const BUN = join(ROOT, 'node_modules', '.bin', 'bun');
  const run = async (sock: string, timeoutMs: number, ...calls: string[]): Promise<unknown[]> =>
    (await shAsync(BUN, join(ROOT, 'test', 'fixtures', 'rpc-fetch-client.ts'), sock, String(timeoutMs), ...calls))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);

  it('the same requests, replies, typed errors, deadline and absent-daemon errors as over node:http', async () => {
    answer = (s) =>
      s.url === '/v1/status'
        ? json(200, REPLIES.status)
        : s.url === '/v1/lookup'
          ? new Promise((resolve) => setTimeout(() => { resolve(json(200, REPLIES.lookup)); }, 1500))
          : json(423, { code: 'busy', message: 'c1/eth0: another request is in progress' });
    const out = await run(socket, 500, 'status', `allocate:${JSON.stringify(allocReq)}`, `lookup:${JSON.stringify({ containerId: 'c1', ifName: 'eth0' })}`);
    expect(out).toEqual([
      { reply: REPLIES.status },
      { error: 'BusyError', message: 'c1/eth0: another request is in progress' },
      { error: 'UnavailableError', message: `deadline exceeded: no reply from the daemon at ${socket} to POST /v1/lookup within 500 ms` },
    ]);
    expect(seen.slice(0, 2)).toEqual([
      { method: 'GET', url: '/v1/status', contentType: undefined, deadline: '500', body: '' },
      { method: 'POST', url: '/v1/allocate', contentType: 'application/json', deadline: '500', body: JSON.stringify(allocReq) },
    ]);
    const absent = join(dir, 'absent.sock');
    expect(await run(absent, 500, 'status')).toEqual([{ error: 'UnavailableError', message: expect.stringContaining(`daemon unreachable at ${absent} (ENOENT)`) as unknown }]);
  });
});
