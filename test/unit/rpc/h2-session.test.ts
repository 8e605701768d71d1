/* eslint-disable @typescript-eslint/require-await -- handlers implement an async interface with synchronous bodies */
import * as grpc from '@grpc/grpc-js';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { ExhaustedError, NotFoundError, UnavailableError } from '../../../src/lib/errors.js';
import { createRpcClient, decodeSingleFrame, encodeFrame, grpcRequestHeaders } from '../../../src/rpc/client.js';
import { FrameType, Flag, encodeFrame as h2Frame, u32 } from '../../../src/rpc/h2/frames.js';
import { H2Session, type H2Response } from '../../../src/rpc/h2/session.js';
import { CONTENT_TYPE, METHODS } from '../../../src/rpc/protocol.js';
import { sleep } from '../../helpers/wait.js';
import { tempDir } from '../../helpers/tmp.js';

class StatusError extends Error {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(details);
  }
}

const json = {
  serialize: (v: unknown): Buffer => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer): unknown => JSON.parse(b.toString('utf8')),
};

let dir: string;
let socket: string;
let server: grpc.Server;
let handler: (req: unknown) => Promise<unknown> = async (req) => req;

beforeAll(async () => {
  dir = tempDir('hub-h2-');
  socket = join(dir, 'daemon.sock');
  server = new grpc.Server();
  const def: grpc.ServiceDefinition = {
    status: {
      path: METHODS.status,
      requestStream: false,
      responseStream: false,
      requestSerialize: json.serialize,
      requestDeserialize: json.deserialize,
      responseSerialize: json.serialize,
      responseDeserialize: json.deserialize,
    },
  };
  server.addService(def, {
    status: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      handler(call.request).then(
        (r) => {
          cb(null, r);
        },
        (e: unknown) => {
          const { code, details } = e as StatusError;
          cb({ code, details });
        },
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) => {
      if (err) reject(err);
      else resolve();
    });
  });
});

afterAll(() => {
  server.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
});

const headers = (path: string): [string, string][] => grpcRequestHeaders(path, 2000);

const send = (s: H2Session, body: unknown, path: string = METHODS.status): Promise<H2Response> =>
  new Promise((resolve, reject) => {
    s.request(headers(path), encodeFrame(body), (err, res) => {
      if (res !== undefined) resolve(res);
      else reject(err instanceof Error ? err : new Error(String(err)));
    });
  });

describe('H2Session against grpc-js', () => {
  it('runs sequential calls on one connection, with trailers referring to the dynamic table', async () => {
    handler = async (req) => req;
    const s = new H2Session(socket);
    for (let i = 0; i < 6; i++) {
      const res = await send(s, { i });
      expect(res.headers.get(':status')).toBe('200');
      expect(res.headers.get('content-type')).toMatch(/^application\/grpc/);
      expect(res.trailers?.get('grpc-status')).toBe('0');
      expect(decodeSingleFrame(res.body)).toEqual({ i });
      if (i === 0) expect(s.headerTableSize).toBeGreaterThan(0);
    }
    expect(s.usable).toBe(true);
    s.close();
    expect(s.usable).toBe(false);
  });

  it('sends and receives messages larger than one frame and one window', async () => {
    handler = async (req) => req;
    const s = new H2Session(socket);
    for (const n of [20_000, 100_000, 300_000]) {
      const big = { blob: 'x'.repeat(n) };
      const res = await send(s, big);
      expect(res.trailers?.get('grpc-status')).toBe('0');
      expect(decodeSingleFrame(res.body)).toEqual(big);
    }
    s.close();
  });

  it('reads a trailers-only error with a Huffman-coded grpc-message', async () => {
    handler = async () => {
      throw new StatusError(grpc.status.NOT_FOUND, 'no lease for container abc/eth0: 100% gone');
    };
    const s = new H2Session(socket);
    for (let i = 0; i < 3; i++) {
      const res = await send(s, {});
      expect(res.trailers).toBeUndefined();
      expect(res.body.length).toBe(0);
      expect(res.headers.get('grpc-status')).toBe(String(grpc.status.NOT_FOUND));
      expect(decodeURIComponent(res.headers.get('grpc-message') ?? '')).toBe('no lease for container abc/eth0: 100% gone');
    }
    s.close();
  });

  it('maps errors through the client, interleaved with successes on one connection', async () => {
    const client = createRpcClient({ socketPath: socket, timeoutMs: 2000 });
    for (let i = 0; i < 3; i++) {
      handler = async () => ({ ready: true, mode: 'vpc', reason: `r${String(i)}` });
      await expect(client.status({})).resolves.toEqual({ ready: true, mode: 'vpc', reason: `r${String(i)}` });
      handler = async () => {
        throw new StatusError(grpc.status.RESOURCE_EXHAUSTED, `pool ${String(i)} empty: ünïcode`);
      };
      const err = await client.status({}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExhaustedError);
      expect((err as Error).message).toBe(`pool ${String(i)} empty: ünïcode`);
    }
    handler = async () => {
      throw new StatusError(grpc.status.NOT_FOUND, '');
    };
    await expect(client.status({})).rejects.toBeInstanceOf(NotFoundError);
    client.close();
  });
});

/** A hand-written server: answers the preface with `reply` frames for stream 1. */
async function withRawServer(reply: (sock: net.Socket) => void, run: (path: string) => Promise<void>): Promise<Buffer> {
  const path = join(dir, `raw-${String(Math.random()).slice(2)}.sock`);
  const received: Buffer[] = [];
  const srv = net.createServer((sock) => {
    let replied = false;
    sock.on('data', (d: Buffer) => {
      received.push(d);
      if (!replied && Buffer.concat(received).includes(Buffer.from([0, 0, 0, FrameType.DATA]))) {
        replied = true;
        reply(sock);
      }
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => srv.listen(path, resolve));
  try {
    await run(path);
  } finally {
    await new Promise<void>((resolve) => srv.close(() => { resolve(); }));
  }
  return Buffer.concat(received);
}

describe('H2Session against a hand-written server', () => {
  const serverSettings = h2Frame(FrameType.SETTINGS, 0, 0);

  it('acks SETTINGS and PING, and fails a reset stream as unavailable', async () => {
    const got = await withRawServer(
      (sock) => {
        sock.write(Buffer.concat([serverSettings, h2Frame(FrameType.PING, 0, 0, Buffer.from('12345678')), h2Frame(FrameType.RST_STREAM, 0, 1, u32(2))]));
      },
      async (path) => {
        const client = createRpcClient({ socketPath: path, timeoutMs: 1000 });
        const err = await client.status({}).catch((e: unknown) => e);
        client.close();
        expect(err).toBeInstanceOf(UnavailableError);
        expect((err as Error).message).toMatch(/reset/);
      },
    );
    await sleep(20);
    expect(got.includes(h2Frame(FrameType.SETTINGS, Flag.ACK, 0))).toBe(true);
    expect(got.includes(h2Frame(FrameType.PING, Flag.ACK, 0, Buffer.from('12345678')))).toBe(true);
  });

  it('fails streams above GOAWAY last-stream-id as unavailable, and handles CONTINUATION and padded DATA', async () => {
    await withRawServer(
      (sock) => {
        sock.write(h2Frame(FrameType.GOAWAY, 0, 0, Buffer.concat([u32(0), u32(0)])));
      },
      async (path) => {
        const client = createRpcClient({ socketPath: path, timeoutMs: 1000 });
        const err = await client.status({}).catch((e: unknown) => e);
        client.close();
        expect(err).toBeInstanceOf(UnavailableError);
        expect((err as Error).message).toMatch(/going away/);
      },
    );
    const msg = encodeFrame({ ready: true, mode: 'vpc', reason: '' });
    const padded = Buffer.concat([Buffer.from([3]), msg, Buffer.alloc(3)]);
    await withRawServer(
      (sock) => {
        sock.write(
          Buffer.concat([
            serverSettings,
            h2Frame(FrameType.HEADERS, 0, 1, Buffer.from([0x88])), // :status 200, continued
            h2Frame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, Buffer.from([0x5f, CONTENT_TYPE.length, ...Buffer.from(CONTENT_TYPE)])),
            h2Frame(FrameType.DATA, Flag.PADDED, 1, padded),
            h2Frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, Buffer.from([0x40, 0x0b, ...Buffer.from('grpc-status'), 0x01, 0x30])),
          ]),
        );
      },
      async (path) => {
        const client = createRpcClient({ socketPath: path, timeoutMs: 1000 });
        await expect(client.status({})).resolves.toEqual({ ready: true, mode: 'vpc', reason: '' });
        client.close();
      },
    );
  });
});
