import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpErrorOf } from '../../../src/daemon/http-errors.js';
import { HubRpcServer } from '../../../src/daemon/rpc-server.js';
import { HubService } from '../../../src/daemon/service.js';
import { LeaseStore } from '../../../src/store/store.js';
import * as E from '../../../src/lib/errors.js';
import { createNodeRpcClient, nodeExchange } from '../../../src/rpc/exchange-node.js';
import { DEADLINE_HEADER } from '../../../src/rpc/protocol.js';
import { FakeProvider, deferred, req } from './helpers/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';

describe('httpErrorOf', () => {
  it.each([
    [new E.InvalidInputError('f', 'bad'), 400, 'invalid-input'],
    [new E.ConfigError('p', 'bad'), 422, 'config'],
    [new E.BusyError('busy'), 423, 'busy'],
    [new E.ExhaustedError('none'), 503, 'exhausted'],
    [new E.ConflictError('c'), 409, 'conflict'],
    [new E.NotFoundError('n'), 404, 'not-found'],
    [new E.UnavailableError('u'), 503, 'unavailable'],
    [new E.InternalError('i'), 500, 'internal'],
    [new E.ExecError(['ip', 'link'], 1, 'boom'), 500, 'internal'],
    [new Error('plain'), 500, 'internal'],
    ['thrown string', 500, 'internal'],
  ])('%p → %i %s', (err, status, code) => {
    expect(httpErrorOf(err)).toEqual({ status, body: { code, message: E.errorMessage(err) } });
  });
});

/** A raw HTTP exchange on the socket (what curl --unix-socket does). */
const raw = (socketPath: string, method: 'GET' | 'POST', path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> =>
  nodeExchange({ socketPath, method, path, headers, ...(body !== undefined ? { body } : {}), signal: new AbortController().signal }).then((r) => ({ status: r.status, body: JSON.parse(r.body) as unknown }));

describe('HubRpcServer on a unix socket', () => {
  const dir = tempDir('hub-rpc-');
  const socket = join(dir, 'run', 'daemon.sock');
  const store = LeaseStore.open(join(dir, 'state'));
  const provider = new FakeProvider(['10.0.0.10']);
  const service = new HubService({ store, provider, mtu: 1500 });
  const server = new HubRpcServer(service);
  const client = createNodeRpcClient(socket);

  beforeAll(async () => {
    await server.listen(socket);
    service.setReady(true);
  });
  afterAll(async () => {
    await server.close();
    store.close();
  });

  it('never chmods a directory it did not create (the socket could sit in /run), yet the socket is 0600', async () => {
    const shared = tempDir('hub-rpc-shared-');
    chmodSync(shared, 0o755);
    const other = new HubRpcServer(service);
    await other.listen(join(shared, 'hub.sock'));
    try {
      expect(statSync(shared).mode & 0o777).toBe(0o755);
      expect(statSync(join(shared, 'hub.sock')).mode & 0o777).toBe(0o600);
    } finally {
      await other.close();
    }
  });
  it('binds without changing the process umask, replaces a stale socket, leaves no staging directory', async () => {
    const shared = tempDir('hub-rpc-umask-');
    const path = join(shared, 'hub.sock');
    writeFileSync(path, 'stale');
    // read from /proc (process.umask() with no argument writes the umask itself)
    const readUmask = (): number => Number.parseInt(/^Umask:\s*([0-7]+)$/mu.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 'x', 8);
    const umask = readUmask();
    const other = new HubRpcServer(service);
    const seen: number[] = [];
    const sampler = setInterval(() => { seen.push(readUmask()); }, 0);
    try {
      await other.listen(path);
      clearInterval(sampler);
      expect(seen.every((m) => m === umask)).toBe(true);
      expect(statSync(path).isSocket()).toBe(true);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(readdirSync(shared)).toEqual(['hub.sock']);
      await expect(createNodeRpcClient(path).status({})).resolves.toMatchObject({ mode: 'veth-policy-routing' });
    } finally {
      clearInterval(sampler);
      await other.close();
    }
    expect(readdirSync(shared)).toEqual([]); // close removes the socket
  });

  it('socket is 0600 in a 0700 directory', () => {
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'run')).mode & 0o777).toBe(0o700);
  });

  it('round-trips Status, Allocate, Lookup, Confirm, Gc, Release', async () => {
    expect(await client.status({})).toEqual({ ready: true, mode: 'veth-policy-routing', reason: '' });
    const { allocation } = await client.allocate(req('c1'));
    expect(allocation.ip).toBe('10.0.0.10');
    expect(allocation.mode === 'veth-policy-routing' ? allocation.eni.table : undefined).toBe(1003);
    expect(await client.lookup({ containerId: 'c1', ifName: 'eth0' })).toEqual({ found: true, allocation, netns: '/var/run/netns/c1' });
    expect(await client.confirm({ containerId: 'c1', ifName: 'eth0' })).toEqual({ confirmed: true });
    expect(await client.gc({ validAttachments: [{ containerId: 'c1', ifName: 'eth0' }] })).toEqual({ released: [], errors: [] });
    expect(await client.release({ containerId: 'c1', ifName: 'eth0', reason: 'test' })).toEqual({ released: true });
    expect(await client.release({ containerId: 'c1', ifName: 'eth0', reason: 'test' })).toEqual({ released: false });
    expect(await client.lookup({ containerId: 'c1', ifName: 'eth0' })).toEqual({ found: false });
  });

  it('what an operator sees with curl: GET /v1/status is the StatusReply as JSON', async () => {
    expect(await raw(socket, 'GET', '/v1/status')).toEqual({ status: 200, body: { ready: true, mode: 'veth-policy-routing', reason: '' } });
  });

  it('refuses a bad request with its status and {code, message}; the client gets the typed error back', async () => {
    expect(await raw(socket, 'POST', '/v1/allocate', JSON.stringify({ ...req('c1'), netns: 'relative' }))).toEqual({ status: 400, body: { code: 'invalid-input', message: expect.stringContaining('netns') as unknown } });
    await expect(client.allocate({ ...req('c1'), netns: 'relative' })).rejects.toBeInstanceOf(E.InvalidInputError);
    await client.allocate(req('a1'));
    expect(await raw(socket, 'POST', '/v1/allocate', JSON.stringify(req('a2')))).toEqual({ status: 503, body: { code: 'exhausted', message: expect.any(String) as unknown } });
    await expect(client.allocate(req('a2'))).rejects.toBeInstanceOf(E.ExhaustedError);
    await client.release({ containerId: 'a1', ifName: 'eth0', reason: '' });
  });

  it('refuses what is no call: an unknown route (404), the wrong method (405 with Allow), a body that is not JSON, a bad deadline header (400), a body too large (413)', async () => {
    expect(await raw(socket, 'POST', '/v1/nope', '{}')).toEqual({ status: 404, body: { code: 'not-found', message: expect.stringMatching(/^no route \/v1\/nope \(routes: \/v1\/allocate, /u) as unknown } });
    const wrong = await nodeExchange({ socketPath: socket, method: 'POST', path: '/v1/status', headers: {}, body: '{}', signal: new AbortController().signal });
    expect([wrong.status, JSON.parse(wrong.body)]).toEqual([405, { code: 'invalid-input', message: '/v1/status: use GET, not POST' }]);
    expect(await raw(socket, 'POST', '/v1/lookup', '{"containerId": ')).toEqual({ status: 400, body: { code: 'invalid-input', message: expect.stringMatching(/^request body: not JSON/u) as unknown } });
    expect(await raw(socket, 'GET', '/v1/status', undefined, { [DEADLINE_HEADER]: 'soon' })).toEqual({ status: 400, body: { code: 'invalid-input', message: `${DEADLINE_HEADER}: must be a count of milliseconds: "soon"` } });
    const huge = JSON.stringify({ validAttachments: [], pad: 'x'.repeat(5 << 20) });
    expect(await raw(socket, 'POST', '/v1/gc', huge)).toEqual({ status: 413, body: { code: 'invalid-input', message: 'request body: larger than 4194304 bytes' } });
  });

  it('two calls for one pod at once: the second is busy (423, BusyError: the plugin answers CNI code 11 and the runtime retries)', async () => {
    const gate = deferred();
    provider.gate = gate.promise;
    try {
      const first = client.allocate(req('b1'));
      await new Promise((r) => setTimeout(r, 50));
      await expect(client.allocate(req('b1'))).rejects.toBeInstanceOf(E.BusyError);
      gate.resolve();
      await expect(first).resolves.toMatchObject({ allocation: { ip: '10.0.0.10' } });
    } finally {
      provider.gate = undefined;
      gate.resolve();
    }
    await client.release({ containerId: 'b1', ifName: 'eth0', reason: '' });
  });

  it('honours the caller\'s deadline header: passed already → 504 at once; outlived by the work → 504 and no lease', async () => {
    expect(await raw(socket, 'GET', '/v1/status', undefined, { [DEADLINE_HEADER]: '0' })).toEqual({ status: 504, body: { code: 'unavailable', message: 'deadline exceeded: the deadline had passed before the request was handled' } });
    const gate = deferred();
    provider.gate = gate.promise;
    try {
      const late = raw(socket, 'POST', '/v1/allocate', JSON.stringify(req('d1')), { [DEADLINE_HEADER]: '100' });
      await new Promise((r) => setTimeout(r, 300));
      gate.resolve();
      expect(await late).toEqual({ status: 504, body: { code: 'unavailable', message: expect.stringMatching(/^deadline exceeded: /u) as unknown } });
    } finally {
      provider.gate = undefined;
      gate.resolve();
    }
    expect(await client.lookup({ containerId: 'd1', ifName: 'eth0' })).toEqual({ found: false });
    // a deadline beyond what a timer holds is no deadline (it used to fire after 1 ms)
    const far = deferred();
    provider.gate = far.promise;
    try {
      const slow = raw(socket, 'POST', '/v1/allocate', JSON.stringify(req('d2')), { [DEADLINE_HEADER]: '9999999999' });
      await new Promise((r) => setTimeout(r, 100));
      far.resolve();
      expect((await slow).status).toBe(200);
      expect(await client.release({ containerId: 'd2', ifName: 'eth0', reason: 'test' })).toEqual({ released: true });
    } finally {
      provider.gate = undefined;
      far.resolve();
    }
  });

  it('records RPC latency by method and result', async () => {
    const text = await service.metrics.registry.metrics();
    expect(text).toMatch(/terway_hub_rpc_duration_seconds_count\{method="allocate",result="ok"\} \d+/u);
    expect(text).toMatch(/terway_hub_rpc_duration_seconds_count\{method="allocate",result="exhausted"\} 2/u);
    expect(text).toMatch(/terway_hub_rpc_duration_seconds_count\{method="allocate",result="busy"\} 1/u);
  });

  it('PolicyModel: a daemon without a model source answers an empty, non-Kubernetes model; with one, its objects', async () => {
    expect(await client.policyModel({})).toEqual({ kubernetes: false, nodeName: '', objects: [], refused: [] });
    expect(await client.policyVerify({})).toEqual({ backend: 'none', scopes: [], drift: ['this daemon runs no NetworkPolicy backend'] });
    const objects = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }];
    const verify = { backend: 'builtin', scopes: ['host'], drift: ['host: missing chain pod0_in'] };
    const other = new HubRpcServer(service, undefined, { policyModel: () => ({ kubernetes: true, nodeName: 'n1', objects, refused: ['NetworkPolicy x/p: spec.x: unknown field'] }), policyVerify: () => Promise.resolve(verify), why: (r) => Promise.resolve({ pod: `${r.namespace}/${r.name}`, known: false, waiting: false, notes: [] }) });
    const path = join(tempDir('hub-rpc-model-'), 'hub.sock');
    await other.listen(path);
    const c = createNodeRpcClient(path);
    try {
      expect(await c.policyModel({})).toEqual({ kubernetes: true, nodeName: 'n1', objects, refused: ['NetworkPolicy x/p: spec.x: unknown field'] });
      expect(await c.policyVerify({})).toEqual(verify);
    } finally {
      await other.close();
    }
  });

  it('close() waits for a call in flight and closes idle kept-alive connections', async () => {
    const other = new HubRpcServer(service);
    const path = join(tempDir('hub-rpc-close-'), 'hub.sock');
    await other.listen(path);
    const gate = deferred();
    provider.gate = gate.promise;
    try {
      const inFlight = createNodeRpcClient(path).allocate(req('e1'));
      await new Promise((r) => setTimeout(r, 50));
      const closed = other.close(5000);
      gate.resolve();
      await expect(inFlight).resolves.toMatchObject({ allocation: { ip: '10.0.0.10' } });
      await closed;
    } finally {
      provider.gate = undefined;
      gate.resolve();
    }
    await client.release({ containerId: 'e1', ifName: 'eth0', reason: '' });
  });
});
