import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { connect, constants } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { grpcStatusOf } from '../../../src/daemon/grpc-status.js';
import { createHubClient, HubRpcError, type HubClient } from '../../../src/daemon/rpc-client.js';
import { HubRpcServer } from '../../../src/daemon/rpc-server.js';
import { HubService } from '../../../src/daemon/service.js';
import { LeaseStore } from '../../../src/store/store.js';
import * as E from '../../../src/lib/errors.js';
import { GrpcStatus, METHODS } from '../../../src/rpc/protocol.js';
import { FakeProvider, req } from './helpers/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';
import { sleep } from '../../helpers/wait.js';

describe('grpcStatusOf', () => {
  it.each([
    [new E.InvalidInputError('f', 'bad'), GrpcStatus.INVALID_ARGUMENT],
    [new E.ConfigError('p', 'bad'), GrpcStatus.FAILED_PRECONDITION],
    [new E.BusyError('busy'), GrpcStatus.ABORTED],
    [new E.ExhaustedError('none'), GrpcStatus.RESOURCE_EXHAUSTED],
    [new E.ConflictError('c'), GrpcStatus.ALREADY_EXISTS],
    [new E.NotFoundError('n'), GrpcStatus.NOT_FOUND],
    [new E.UnavailableError('u'), GrpcStatus.UNAVAILABLE],
    [new E.InternalError('i'), GrpcStatus.INTERNAL],
    [new Error('plain'), GrpcStatus.INTERNAL],
    ['thrown string', GrpcStatus.INTERNAL],
  ])('%p → %i', (err, code) => {
    expect(grpcStatusOf(err).code).toBe(code);
  });
});

describe('HubRpcServer on a unix socket', () => {
  const dir = tempDir('hub-rpc-');
  const socket = join(dir, 'run', 'daemon.sock');
  const store = LeaseStore.open(join(dir, 'state'));
  const service = new HubService({ store, provider: new FakeProvider(['10.0.0.10']), mtu: 1500 });
  const server = new HubRpcServer(service);
  let client: HubClient;

  beforeAll(async () => {
    await server.listen(socket);
    service.setReady(true);
    client = createHubClient(socket);
  });
  afterAll(async () => {
    client.close();
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
      const c = createHubClient(path);
      try {
        await expect(c.status({})).resolves.toMatchObject({ mode: 'veth-policy-routing' });
      } finally {
        c.close();
      }
    } finally {
      clearInterval(sampler);
      await other.close();
    }
  });

  it('socket is 0600 in a 0700 directory', () => {
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'run')).mode & 0o777).toBe(0o700);
  });

  it('round-trips Status, Allocate, Lookup, Gc, Release', async () => {
    expect(await client.status({})).toEqual({ ready: true, mode: 'veth-policy-routing', reason: '' });
    const { allocation } = await client.allocate(req('c1'));
    expect(allocation.ip).toBe('10.0.0.10');
    expect(allocation.mode === 'veth-policy-routing' ? allocation.eni.table : undefined).toBe(1003);
    expect(await client.lookup({ containerId: 'c1', ifName: 'eth0' })).toEqual({ found: true, allocation, netns: '/var/run/netns/c1' });
    expect(await client.gc({ validAttachments: [{ containerId: 'c1', ifName: 'eth0' }] })).toEqual({ released: [], errors: [] });
    expect(await client.release({ containerId: 'c1', ifName: 'eth0', reason: 'test' })).toEqual({ released: true });
    expect(await client.release({ containerId: 'c1', ifName: 'eth0', reason: 'test' })).toEqual({ released: false });
    expect(await client.lookup({ containerId: 'c1', ifName: 'eth0' })).toEqual({ found: false });
  });

  it('maps errors to status codes: invalid input, exhausted', async () => {
    const bad = client.allocate({ ...req('c1'), netns: 'relative' });
    await expect(bad).rejects.toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, details: expect.stringContaining('netns') });
    await client.allocate(req('a1'));
    const err: unknown = await client.allocate(req('a2')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubRpcError);
    expect((err as HubRpcError).code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    await client.release({ containerId: 'a1', ifName: 'eth0', reason: '' });
  });

  it('records RPC latency by method and result', async () => {
    const text = await service.metrics.registry.metrics();
    expect(text).toMatch(/terway_hub_rpc_duration_seconds_count\{method="allocate",result="OK"\} \d+/u);
    expect(text).toMatch(/terway_hub_rpc_duration_seconds_count\{method="allocate",result="RESOURCE_EXHAUSTED"\} 1/u);
  });

  it('refuses a call whose deadline has passed', async () => {
    const c2 = createHubClient(socket, 1);
    await sleep(5);
    await expect(c2.status({})).rejects.toMatchObject({ code: GrpcStatus.DEADLINE_EXCEEDED });
    c2.close();
  });

  it('interoperates with a plain HTTP/2 client (application/grpc+json framing)', async () => {
    const session = connect('http://localhost', { createConnection: () => netConnect(socket) });
    const body = Buffer.from(JSON.stringify({}));
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt8(0, 0);
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    const stream = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: METHODS.status,
      [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+json',
      te: 'trailers',
      'grpc-timeout': '5S',
    });
    const chunks: Buffer[] = [];
    let trailers: Record<string, unknown> = {};
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('trailers', (t) => (trailers = t as Record<string, unknown>));
    stream.end(frame);
    await new Promise<void>((resolve) => stream.on('close', () => { resolve(); }));
    session.close();
    const all = Buffer.concat(chunks);
    expect(trailers['grpc-status']).toBe('0');
    expect(all.readUInt8(0)).toBe(0);
    const len = all.readUInt32BE(1);
    expect(JSON.parse(all.subarray(5, 5 + len).toString())).toEqual({ ready: true, mode: 'veth-policy-routing', reason: '' });
  });

  it('PolicyModel: a daemon without a model source answers an empty, non-Kubernetes model; with one, its objects', async () => {
    expect(await client.policyModel({})).toEqual({ kubernetes: false, nodeName: '', objects: [], refused: [] });
    expect(await client.policyVerify({})).toEqual({ backend: 'none', scopes: [], drift: ['this daemon runs no NetworkPolicy backend'] });
    const objects = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }];
    const verify = { backend: 'builtin', scopes: ['host'], drift: ['host: missing chain pod0_in'] };
    const other = new HubRpcServer(service, undefined, { policyModel: () => ({ kubernetes: true, nodeName: 'n1', objects, refused: ['NetworkPolicy x/p: spec.x: unknown field'] }), policyVerify: () => Promise.resolve(verify) });
    const path = join(tempDir('hub-rpc-model-'), 'hub.sock');
    await other.listen(path);
    const c = createHubClient(path);
    try {
      expect(await c.policyModel({})).toEqual({ kubernetes: true, nodeName: 'n1', objects, refused: ['NetworkPolicy x/p: spec.x: unknown field'] });
      expect(await c.policyVerify({})).toEqual(verify);
    } finally {
      c.close();
      await other.close();
    }
  });
});
