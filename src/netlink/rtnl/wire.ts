/**
 * rtnetlink wire format, pure: building request messages (nlmsghdr + a fixed family header + nested attributes,
 * each padded to 4 bytes, host byte order = little-endian on the platforms the plugin ships for) and reading the
 * kernel's answers (NLMSG_ERROR acks with their extended-ack text, NLMSG_DONE, data messages). No I/O here: the
 * socket layer (./socket.ts) only moves these bytes.
 */

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;

/** The length of struct nlmsghdr. */
const NLMSG_HDRLEN = 16;
const NLA_HDRLEN = 4;
const NLA_F_NESTED = 0x8000;
/** NLMSGERR_ATTR_MSG, in the TLVs after an extended ack's embedded request header. */
const NLMSGERR_ATTR_MSG = 1;
/** nlmsg_flags of an NLMSG_ERROR: the request was cut off (NLM_F_CAPPED), extended-ack TLVs follow (NLM_F_ACK_TLVS). */
const NLM_F_CAPPED = 0x100;
const NLM_F_ACK_TLVS = 0x200;

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** A growing little-endian byte buffer for one message. */
export class NlWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private len = 0;

  get length(): number {
    return this.len;
  }

  private grow(need: number): void {
    if (need <= this.buf.length) return;
    const next = new Uint8Array(Math.max(need, this.buf.length * 2));
    next.set(this.buf);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Reserves `n` bytes plus padding to 4 (zeroed) and returns where they start. */
  private reserve(n: number): number {
    const at = this.len;
    this.grow(align4(at + n));
    this.len = align4(at + n);
    this.buf.fill(0, at, this.len);
    return at;
  }

  /** Reserves `n` bytes without padding (fields inside a fixed header). */
  private reserveRaw(n: number): number {
    const at = this.len;
    this.grow(at + n);
    this.len = at + n;
    return at;
  }

  u8(v: number): this {
    this.view.setUint8(this.reserveRaw(1), v);
    return this;
  }

  u16(v: number): this {
    this.view.setUint16(this.reserveRaw(2), v, true);
    return this;
  }

  u32(v: number): this {
    this.view.setUint32(this.reserveRaw(4), v >>> 0, true);
    return this;
  }

  i32(v: number): this {
    this.view.setInt32(this.reserveRaw(4), v, true);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.buf.set(b, this.reserveRaw(b.length));
    return this;
  }

  /** Pads the current length to 4 bytes (after a fixed header). */
  pad(): this {
    this.reserve(0);
    return this;
  }

  /** An attribute with a raw payload. */
  attr(type: number, payload: Uint8Array): this {
    const at = this.reserve(NLA_HDRLEN + payload.length);
    this.view.setUint16(at, NLA_HDRLEN + payload.length, true);
    this.view.setUint16(at + 2, type, true);
    this.buf.set(payload, at + NLA_HDRLEN);
    return this;
  }

  attrU8(type: number, v: number): this {
    return this.attr(type, Uint8Array.of(v));
  }

  attrU16(type: number, v: number): this {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, v, true);
    return this.attr(type, b);
  }

  attrU32(type: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    return this.attr(type, b);
  }

  /** A NUL-terminated string attribute (IFLA_IFNAME, IFLA_INFO_KIND). */
  attrStr(type: number, s: string): this {
    return this.attr(type, cString(s));
  }

  /** A nested attribute: `fill` writes its content (attributes, or a header then attributes). */
  nest(type: number, fill: (w: this) => void): this {
    const at = this.reserve(NLA_HDRLEN);
    fill(this);
    this.view.setUint16(at, this.len - at, true);
    this.view.setUint16(at + 2, type | NLA_F_NESTED, true);
    return this;
  }

  /** The bytes written so far. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  /** Writes the nlmsghdr at offset 0 (call after the body is complete; the header was reserved by `message`). */
  setHeader(type: number, flags: number, seq: number): this {
    this.view.setUint32(0, this.len, true);
    this.view.setUint16(4, type, true);
    this.view.setUint16(6, flags, true);
    this.view.setUint32(8, seq >>> 0, true);
    this.view.setUint32(12, 0, true);
    return this;
  }
}

/** A message under construction: the nlmsghdr reserved; `build` fills the family header and attributes. */
export function message(type: number, flags: number, seq: number, build: (w: NlWriter) => void): Uint8Array {
  const w = new NlWriter();
  w.u32(0).u16(0).u16(0).u32(0).u32(0);
  build(w);
  return w.setHeader(type, flags, seq).finish();
}

/** One netlink message of a reply. */
export interface NlMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  /** The payload after the nlmsghdr. */
  readonly body: Uint8Array;
}

/** Splits a datagram into messages (a truncated tail is dropped). */
export function parseMessages(data: Uint8Array): readonly NlMessage[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: NlMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= data.length) {
    const len = view.getUint32(off, true);
    if (len < NLMSG_HDRLEN || off + len > data.length) break;
    out.push({ type: view.getUint16(off + 4, true), flags: view.getUint16(off + 6, true), seq: view.getUint32(off + 8, true), body: data.subarray(off + NLMSG_HDRLEN, off + len) });
    off += align4(len);
  }
  return out;
}

/** Attribute type (without the nested/byte-order flags) → payload. */
export function parseAttrs(data: Uint8Array): ReadonlyMap<number, Uint8Array> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Map<number, Uint8Array>();
  let off = 0;
  while (off + NLA_HDRLEN <= data.length) {
    const len = view.getUint16(off, true);
    if (len < NLA_HDRLEN || off + len > data.length) break;
    out.set(view.getUint16(off + 2, true) & 0x3fff, data.subarray(off + NLA_HDRLEN, off + len));
    off += align4(len);
  }
  return out;
}

export function readU32(b: Uint8Array | undefined): number | undefined {
  if (b === undefined || b.length < 4) return undefined;
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
}

/** A NUL-terminated string attribute. */
export function readStr(b: Uint8Array | undefined): string | undefined {
  if (b === undefined) return undefined;
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}

/** The answer in an NLMSG_ERROR: errno 0 is an ACK; `message` is the kernel's extended-ack text when it sent one. */
export interface NlAck {
  readonly errno: number;
  readonly message?: string;
}

export function parseAck(m: NlMessage): NlAck {
  const view = new DataView(m.body.buffer, m.body.byteOffset, m.body.byteLength);
  const errno = m.body.length >= 4 ? 0 - view.getInt32(0, true) : 0;
  if ((m.flags & NLM_F_ACK_TLVS) === 0 || m.body.length < 4 + NLMSG_HDRLEN) return { errno };
  // the echoed request: its header only when capped, else the whole message
  const echoed = (m.flags & NLM_F_CAPPED) !== 0 ? NLMSG_HDRLEN : view.getUint32(4, true);
  const text = readStr(parseAttrs(m.body.subarray(4 + align4(echoed))).get(NLMSGERR_ATTR_MSG));
  return text !== undefined && text !== '' ? { errno, message: text } : { errno };
}

/** A MAC `aa:bb:cc:dd:ee:ff` as 6 bytes. */
export function macBytes(mac: string): Uint8Array {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/u.test(p))) throw new RangeError(`not a MAC address: ${mac}`);
  return Uint8Array.from(parts.map((p) => Number.parseInt(p, 16)));
}

export function macString(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** A dotted IPv4 address as its 4 network-order bytes. */
export function ipv4Bytes(ip: string): Uint8Array {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/u.test(p) || Number(p) > 255)) throw new RangeError(`not an IPv4 address: ${ip}`);
  return Uint8Array.from(parts.map(Number));
}

/** `a.b.c.d/len` (or a bare address: /32) → address bytes and prefix length. */
export function ipv4Prefix(cidr: string): { readonly addr: Uint8Array; readonly len: number } {
  const [ip = '', len] = cidr.split('/');
  const n = len === undefined ? 32 : Number(len);
  if (!Number.isInteger(n) || n < 0 || n > 32 || (len !== undefined && !/^\d{1,2}$/u.test(len))) throw new RangeError(`not an IPv4 prefix: ${cidr}`);
  return { addr: ipv4Bytes(ip), len: n };
}

/** `s` as C wants it: UTF-8 then a NUL (string attributes, paths given to libc). */
export function cString(s: string): Uint8Array {
  const enc = new TextEncoder().encode(s);
  const b = new Uint8Array(enc.length + 1);
  b.set(enc);
  return b;
}
