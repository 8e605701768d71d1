/**
 * A small HTTP/2 client connection (RFC 9113) over a node:net socket, for unary request/response exchanges:
 * preface + SETTINGS, SETTINGS/PING acks, flow control both ways, HEADERS + CONTINUATION, padded DATA,
 * RST_STREAM and GOAWAY. No priorities, no push (disabled), no server-initiated streams.
 */
import net from 'node:net';
import { InternalError, UnavailableError, type HubError } from '../../lib/errors.js';
import {
  DEFAULT_WINDOW,
  ErrorCode,
  Flag,
  FrameReader,
  FrameType,
  MAX_FRAME_SIZE,
  PREFACE,
  Setting,
  encodeFrame,
  u32,
  unpad,
  type Frame,
} from './frames.js';
import { HpackDecoder, encodeHeaders, type HeaderField } from './hpack.js';

export interface H2Response {
  /** The first header block (response headers, or the whole response for a trailers-only reply). */
  readonly headers: ReadonlyMap<string, string>;
  /** The trailing header block, if the response had one. */
  readonly trailers: ReadonlyMap<string, string> | undefined;
  readonly body: Buffer;
}

export type ResponseCallback = (err: unknown, res?: H2Response) => void;

interface Stream {
  readonly id: number;
  readonly done: ResponseCallback;
  headers: Map<string, string> | undefined;
  trailers: Map<string, string> | undefined;
  readonly data: Buffer[];
  /** Bytes received but not yet credited back with WINDOW_UPDATE. */
  unacked: number;
  sendWindow: number;
  pending: Buffer;
  endPending: boolean;
}

const WINDOW_UPDATE_THRESHOLD = DEFAULT_WINDOW / 2;
const MAX_STREAM_ID = 2 ** 31 - 1;

const toMap = (fields: readonly HeaderField[]): Map<string, string> => {
  const m = new Map<string, string>();
  for (const [n, v] of fields) m.set(n, m.has(n) ? `${m.get(n) ?? ''},${v}` : v);
  return m;
};

export class H2Session {
  private readonly socket: net.Socket;
  private readonly reader = new FrameReader();
  private readonly decoder = new HpackDecoder();
  private readonly streams = new Map<number, Stream>();
  private nextStreamId = 1;
  private connSendWindow = DEFAULT_WINDOW;
  private peerInitialWindow = DEFAULT_WINDOW;
  private connUnacked = 0;
  /** A header block being continued: CONTINUATION frames must follow on this stream. */
  private continuing: { streamId: number; endStream: boolean; parts: Buffer[] } | undefined;
  private goingAway = false;
  private closing = false;
  private dead = false;
  private failure: unknown;

  constructor(socketPath: string) {
    this.socket = net.connect(socketPath);
    this.socket.on('data', (chunk: Buffer) => {
      this.onData(chunk);
    });
    this.socket.on('error', (err: Error) => {
      this.terminate(err);
    });
    this.socket.on('close', () => {
      this.terminate(new UnavailableError('daemon closed the connection'));
    });
    this.socket.write(Buffer.concat([PREFACE, encodeFrame(FrameType.SETTINGS, 0, 0, Buffer.concat([u16(Setting.ENABLE_PUSH), u32(0)]))]));
  }

  /** Octets in the HPACK dynamic table of responses (diagnostics and tests). */
  get headerTableSize(): number {
    return this.decoder.tableSize;
  }

  /** Whether new requests may be started on this connection. */
  get usable(): boolean {
    return !this.dead && !this.goingAway && !this.closing && this.nextStreamId < MAX_STREAM_ID;
  }

  /** Starts a request; `done` is called exactly once unless the request is cancelled first. */
  request(headers: readonly HeaderField[], body: Buffer, done: ResponseCallback): { cancel(): void } {
    if (!this.usable) throw new UnavailableError('http/2 connection is not usable');
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const block = encodeHeaders(headers);
    if (block.length > MAX_FRAME_SIZE) throw new InternalError('h2: request headers too large');
    const stream: Stream = {
      id,
      done,
      headers: undefined,
      trailers: undefined,
      data: [],
      unacked: 0,
      sendWindow: this.peerInitialWindow,
      pending: body,
      endPending: true,
    };
    this.streams.set(id, stream);
    this.socket.write(encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, id, block));
    this.flush(stream);
    return {
      cancel: () => {
        if (this.streams.delete(id)) {
          if (!this.dead) this.socket.write(encodeFrame(FrameType.RST_STREAM, 0, id, u32(ErrorCode.CANCEL)));
          this.maybeEnd();
        }
      },
    };
  }

  /** Graceful close: no new requests; the socket ends once in-flight requests are done. */
  close(): void {
    this.closing = true;
    this.maybeEnd();
  }

  private maybeEnd(): void {
    if ((this.closing || this.goingAway) && this.streams.size === 0 && !this.dead) {
      this.dead = true;
      this.socket.end(encodeFrame(FrameType.GOAWAY, 0, 0, Buffer.concat([u32(0), u32(ErrorCode.NO_ERROR)])));
    }
  }

  /** Sends as much pending request body as the flow-control windows allow. */
  private flush(s: Stream): void {
    while (s.pending.length > 0 || s.endPending) {
      const n = Math.min(s.pending.length, s.sendWindow, this.connSendWindow, MAX_FRAME_SIZE);
      if (n === 0 && s.pending.length > 0) return;
      const chunk = s.pending.subarray(0, n);
      s.pending = s.pending.subarray(n);
      s.sendWindow -= n;
      this.connSendWindow -= n;
      const last = s.pending.length === 0;
      this.socket.write(encodeFrame(FrameType.DATA, last ? Flag.END_STREAM : 0, s.id, chunk));
      if (last) s.endPending = false;
    }
  }

  private onData(chunk: Buffer): void {
    try {
      for (const frame of this.reader.push(chunk)) this.onFrame(frame);
    } catch (err) {
      const code = err instanceof InternalError && err.message.startsWith('hpack') ? ErrorCode.COMPRESSION_ERROR : ErrorCode.PROTOCOL_ERROR;
      if (!this.dead) this.socket.write(encodeFrame(FrameType.GOAWAY, 0, 0, Buffer.concat([u32(0), u32(code)])));
      this.terminate(err);
      this.socket.destroy();
    }
  }

  private onFrame(f: Frame): void {
    if (this.continuing !== undefined && (f.type !== FrameType.CONTINUATION || f.streamId !== this.continuing.streamId)) {
      throw new InternalError('h2: header block interrupted before END_HEADERS');
    }
    switch (f.type) {
      case FrameType.DATA:
        this.onDataFrame(f);
        return;
      case FrameType.HEADERS: {
        let payload = unpad(f);
        if ((f.flags & Flag.PRIORITY) !== 0) payload = payload.subarray(5);
        this.onHeaderFragment(f.streamId, payload, (f.flags & Flag.END_HEADERS) !== 0, (f.flags & Flag.END_STREAM) !== 0, true);
        return;
      }
      case FrameType.CONTINUATION:
        if (this.continuing === undefined) throw new InternalError('h2: unexpected CONTINUATION');
        this.onHeaderFragment(f.streamId, f.payload, (f.flags & Flag.END_HEADERS) !== 0, this.continuing.endStream, false);
        return;
      case FrameType.RST_STREAM: {
        const code = f.payload.length === 4 ? f.payload.readUInt32BE(0) : -1;
        this.finish(f.streamId, new UnavailableError(`daemon reset the stream (http/2 error ${String(code)})`));
        return;
      }
      case FrameType.SETTINGS:
        this.onSettings(f);
        return;
      case FrameType.PING:
        if ((f.flags & Flag.ACK) === 0) this.socket.write(encodeFrame(FrameType.PING, Flag.ACK, 0, f.payload));
        return;
      case FrameType.GOAWAY:
        this.onGoaway(f);
        return;
      case FrameType.WINDOW_UPDATE:
        this.onWindowUpdate(f);
        return;
      case FrameType.PUSH_PROMISE:
        throw new InternalError('h2: PUSH_PROMISE although push is disabled');
      default:
        return; // PRIORITY and unknown frame types are ignored
    }
  }

  private onDataFrame(f: Frame): void {
    // Flow control counts the whole payload, padding included, even for streams we no longer track.
    this.connUnacked += f.payload.length;
    if (this.connUnacked >= WINDOW_UPDATE_THRESHOLD) {
      this.socket.write(encodeFrame(FrameType.WINDOW_UPDATE, 0, 0, u32(this.connUnacked)));
      this.connUnacked = 0;
    }
    const s = this.streams.get(f.streamId);
    if (s === undefined) return;
    s.data.push(unpad(f));
    const end = (f.flags & Flag.END_STREAM) !== 0;
    s.unacked += f.payload.length;
    if (!end && s.unacked >= WINDOW_UPDATE_THRESHOLD) {
      this.socket.write(encodeFrame(FrameType.WINDOW_UPDATE, 0, s.id, u32(s.unacked)));
      s.unacked = 0;
    }
    if (end) this.complete(s);
  }

  private onHeaderFragment(streamId: number, fragment: Buffer, endHeaders: boolean, endStream: boolean, first: boolean): void {
    if (streamId === 0) throw new InternalError('h2: header block on stream 0');
    const parts = first ? [fragment] : [...(this.continuing?.parts ?? []), fragment];
    if (!endHeaders) {
      this.continuing = { streamId, endStream, parts };
      return;
    }
    this.continuing = undefined;
    // Decoded even when the stream is gone: the dynamic table must stay in step with the server's.
    const fields = this.decoder.decode(parts.length === 1 ? (parts[0] ?? Buffer.alloc(0)) : Buffer.concat(parts));
    const s = this.streams.get(streamId);
    if (s === undefined) return;
    const map = toMap(fields);
    const status = Number(map.get(':status') ?? '0');
    if (s.headers === undefined) {
      if (status >= 100 && status < 200) return; // informational; the real response follows
      s.headers = map;
    } else {
      s.trailers = map;
    }
    if (endStream) this.complete(s);
  }

  private onSettings(f: Frame): void {
    if ((f.flags & Flag.ACK) !== 0) return;
    if (f.payload.length % 6 !== 0) throw new InternalError('h2: malformed SETTINGS');
    for (let off = 0; off < f.payload.length; off += 6) {
      const id = f.payload.readUInt16BE(off);
      const value = f.payload.readUInt32BE(off + 2);
      if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > 2 ** 31 - 1) throw new InternalError('h2: SETTINGS_INITIAL_WINDOW_SIZE too large');
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const s of this.streams.values()) s.sendWindow += delta;
      }
      // HEADER_TABLE_SIZE bounds the server's decoder; our encoder never indexes. MAX_FRAME_SIZE >= 16384 always.
    }
    this.socket.write(encodeFrame(FrameType.SETTINGS, Flag.ACK, 0));
    for (const s of [...this.streams.values()]) this.flush(s);
  }

  private onGoaway(f: Frame): void {
    if (f.payload.length < 8) throw new InternalError('h2: malformed GOAWAY');
    const lastStreamId = f.payload.readUInt32BE(0) & 0x7fffffff;
    const code = f.payload.readUInt32BE(4);
    this.goingAway = true;
    for (const id of [...this.streams.keys()]) {
      if (id > lastStreamId) this.finish(id, new UnavailableError(`daemon is going away (http/2 error ${String(code)})`));
    }
    this.maybeEnd();
  }

  private onWindowUpdate(f: Frame): void {
    if (f.payload.length !== 4) throw new InternalError('h2: malformed WINDOW_UPDATE');
    const inc = f.payload.readUInt32BE(0) & 0x7fffffff;
    if (f.streamId === 0) {
      this.connSendWindow += inc;
      for (const s of [...this.streams.values()]) this.flush(s);
      return;
    }
    const s = this.streams.get(f.streamId);
    if (s === undefined) return;
    s.sendWindow += inc;
    this.flush(s);
  }

  private complete(s: Stream): void {
    if (!this.streams.delete(s.id)) return;
    if (s.headers === undefined) {
      s.done(new UnavailableError('daemon ended the stream without response headers'));
    } else {
      s.done(undefined, { headers: s.headers, trailers: s.trailers, body: Buffer.concat(s.data) });
    }
    this.maybeEnd();
  }

  private finish(id: number, err: HubError): void {
    const s = this.streams.get(id);
    if (s === undefined) return;
    this.streams.delete(id);
    s.done(err);
    this.maybeEnd();
  }

  /** The connection is gone: every in-flight request fails with the first cause seen. */
  private terminate(err: unknown): void {
    this.failure ??= err;
    this.dead = true;
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const s of streams) s.done(this.failure);
  }
}

function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value, 0);
  return b;
}
