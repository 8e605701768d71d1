/* eslint-disable @typescript-eslint/require-await -- handlers implement an async interface with synchronous bodies */
import * as grpc from '@grpc/grpc-js';
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
} from '../../../src/lib/errors.js';
import { createRpcClient, decodeSingleFrame, encodeFrame, type HubRpcClient } from '../../../src/rpc/client.js';
import { parseAllocateRequest } from '../../../src/rpc/messages.js';
import { METHODS, type MethodName } from '../../../src/rpc/protocol.js';
import { tempDir } from '../../helpers/tmp.js';

type Handler = (req: unknown) => Promise<unknown>;

const json = {
  serialize: (v: unknown): Buffer => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer): unknown => JSON.parse(b.toString('utf8')),
};

function serviceDefinition(): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, path] of Object.entries(METHODS)) {
    def[name] = {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: json.serialize,
      requestDeserialize: json.deserialize,
      responseSerialize: json.serialize,
      responseDeserialize: json.deserialize,
    };
  }
  return def;
}

class StatusError extends Error {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(details);
  }
}

let dir: string;
let socket: string;
let server: grpc.Server;
const handlers = new Map<MethodName, Handler>();
const seen: { method: MethodName; req: unknown; deadline: string }[] = [];
let client: HubRpcClient;

beforeAll(async () => {
  dir = tempDir('hub-rpc-');
  socket = join(dir, 'daemon.sock');
  server = new grpc.Server();
  const impl: grpc.UntypedServiceImplementation = {};
  for (const name of Object.keys(METHODS) as MethodName[]) {
    impl[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      seen.push({ method: name, req: call.request, deadline: String(call.getDeadline()) });
      const h = handlers.get(name);
      if (h === undefined) {
        cb({ code: grpc.status.UNIMPLEMENTED, details: 'no handler' });
        return;
      }
      h(call.request).then(
        (reply) => {
          cb(null, reply);
        },
        (err: unknown) => {
          cb(err instanceof StatusError ? { code: err.code, details: err.details } : { code: grpc.status.INTERNAL, details: String(err) });
        },
      );
    };
  }
  server.addService(serviceDefinition(), impl);
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) => {
      if (err) reject(err);
      else resolve();
    });
  });
  client = createRpcClient({ socketPath: socket, timeoutMs: 2000 });
});

afterAll(async () => {
  client.close();
  server.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  handlers.clear();
  seen.length = 0;
});

const allocation = { mode: 'vpc', ip: '10.0.0.9', subnet: '10.0.0.0/24', mtu: 1500 };
const allocReq = { containerId: 'c1', ifName: 'eth0', netns: '/var/run/netns/p', podNamespace: 'default', podName: 'web', infraContainerId: 'c1' };

describe('rpc client against a grpc-js server', () => {
  it('sends the request as JSON and parses the reply', async () => {
    handlers.set('allocate', async (req) => ({ allocation: { ...allocation, podName: parseAllocateRequest(req).podName } }));
    await expect(client.allocate(allocReq)).resolves.toEqual({ allocation });
    expect(seen).toEqual([{ method: 'allocate', req: allocReq, deadline: expect.not.stringMatching(/^Infinity$/) as unknown }]);
  });

  it('reuses one session for several calls, including concurrent ones', async () => {
    handlers.set('lookup', async () => ({ found: false }));
    handlers.set('status', async () => ({ ready: true, mode: 'vpc', reason: '' }));
    const [a, b, c] = await Promise.all([client.lookup({ containerId: 'c', ifName: 'eth0' }), client.status({}), client.lookup({ containerId: 'd', ifName: 'eth0' })]);
    expect([a, b, c]).toEqual([{ found: false }, { ready: true, mode: 'vpc', reason: '' }, { found: false }]);
  });

  it.each<[string, grpc.status, new (...args: never[]) => Error]>([
    ['UNAVAILABLE', grpc.status.UNAVAILABLE, UnavailableError],
    ['DEADLINE_EXCEEDED', grpc.status.DEADLINE_EXCEEDED, UnavailableError],
    ['ABORTED', grpc.status.ABORTED, BusyError],
    ['RESOURCE_EXHAUSTED', grpc.status.RESOURCE_EXHAUSTED, ExhaustedError],
    ['INVALID_ARGUMENT', grpc.status.INVALID_ARGUMENT, InvalidInputError],
    ['FAILED_PRECONDITION', grpc.status.FAILED_PRECONDITION, ConfigError],
    ['ALREADY_EXISTS', grpc.status.ALREADY_EXISTS, ConflictError],
    ['NOT_FOUND', grpc.status.NOT_FOUND, NotFoundError],
    ['INTERNAL', grpc.status.INTERNAL, InternalError],
    ['UNKNOWN', grpc.status.UNKNOWN, InternalError],
  ])('maps %s to its typed error with the message', async (_n, code, type) => {
    handlers.set('release', async () => {
      throw new StatusError(code, 'lease of pod web: 50% done, ünïcode');
    });
    const err = await client.release({ containerId: 'c1', ifName: 'eth0', reason: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toContain('lease of pod web: 50% done, ünïcode');
  });

  it('an unserved method is an internal error', async () => {
    await expect(client.gc({ validAttachments: [] })).rejects.toBeInstanceOf(InternalError);
  });

  it('a malformed reply is an internal error naming the field', async () => {
    handlers.set('allocate', async () => ({ allocation: { ...allocation, ip: 'nope' } }));
    await expect(client.allocate(allocReq)).rejects.toThrow(/malformed daemon reply.*allocation\.ip/);
    expect(await client.allocate(allocReq).catch((e: unknown) => e)).toBeInstanceOf(InternalError);
  });

  it('enforces the client-side deadline', async () => {
    const slow = createRpcClient({ socketPath: socket, timeoutMs: 150 });
    handlers.set('status', () =>
      new Promise((resolve) => {
        setTimeout(() => {
          resolve({ ready: true, mode: 'vpc', reason: '' });
        }, 400);
      }),
    );
    const t0 = Date.now();
    const err = await slow.status({}).catch((e: unknown) => e);
    slow.close();
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toMatch(/deadline/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('a missing socket is UnavailableError (daemon absent)', async () => {
    const absent = createRpcClient({ socketPath: join(dir, 'absent.sock'), timeoutMs: 1000 });
    const err = await absent.status({}).catch((e: unknown) => e);
    absent.close();
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toMatch(/ENOENT/);
  });

  it('reconnects after close()', async () => {
    handlers.set('lookup', async () => ({ found: false }));
    client.close();
    await expect(client.lookup({ containerId: 'c', ifName: 'eth0' })).resolves.toEqual({ found: false });
  });
});

describe('grpc framing', () => {
  it('encodes a 5-byte prefix and decodes it back', () => {
    const frame = encodeFrame({ a: 1 });
    expect([...frame.subarray(0, 5)]).toEqual([0, 0, 0, 0, 7]);
    expect(decodeSingleFrame(frame)).toEqual({ a: 1 });
  });
  it('rejects compressed, short, and mis-sized frames', () => {
    const frame = encodeFrame({ a: 1 });
    expect(() => decodeSingleFrame(frame.subarray(0, 3))).toThrow(InternalError);
    expect(() => decodeSingleFrame(Buffer.concat([frame, Buffer.from('x')]))).toThrow(/framing/);
    const compressed = Buffer.from(frame);
    compressed[0] = 1;
    expect(() => decodeSingleFrame(compressed)).toThrow(/compressed/);
  });
});
