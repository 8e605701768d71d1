/**
 * HPACK (RFC 7541): a complete decoder (static + dynamic table, Huffman) and a minimal encoder (static-indexed
 * fields and literals without indexing, raw strings). Pure; names and values are octets read as latin1.
 */
import { InternalError } from '../../lib/errors.js';
import { huffmanDecode } from './huffman.js';

export type HeaderField = readonly [name: string, value: string];

export const DEFAULT_TABLE_SIZE = 4096;
const ENTRY_OVERHEAD = 32;
const MAX_INT = 2 ** 31 - 1;

/** RFC 7541 Appendix A; index 1 is STATIC_TABLE[0]. */
export const STATIC_TABLE: readonly HeaderField[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''],
  ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''],
  ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
];

function fail(what: string): never {
  throw new InternalError(`hpack: ${what}`);
}

/** Reads an integer with an N-bit prefix (RFC 7541 5.1) starting at `pos`. */
export function decodeInteger(buf: Uint8Array, pos: number, prefixBits: number): { value: number; next: number } {
  const max = (1 << prefixBits) - 1;
  const first = buf[pos];
  if (first === undefined) fail('truncated integer');
  let value = first & max;
  let p = pos + 1;
  if (value < max) return { value, next: p };
  let shift = 0;
  for (;;) {
    const b = buf[p++];
    if (b === undefined) fail('truncated integer');
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (value > MAX_INT) fail('integer overflow');
    if ((b & 0x80) === 0) return { value, next: p };
  }
}

/** Encodes an integer with an N-bit prefix; `flags` are the high bits of the first octet. */
export function encodeInteger(value: number, prefixBits: number, flags = 0): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [flags | value];
  const out = [flags | max];
  let rest = value - max;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return out;
}

function decodeString(buf: Uint8Array, pos: number): { value: string; next: number } {
  const huffman = ((buf[pos] ?? 0) & 0x80) !== 0;
  const { value: len, next } = decodeInteger(buf, pos, 7);
  if (next + len > buf.length) fail('truncated string');
  const raw = buf.subarray(next, next + len);
  const bytes = huffman ? huffmanDecode(raw) : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  return { value: bytes.toString('latin1'), next: next + len };
}

function encodeString(s: string): Buffer {
  const bytes = Buffer.from(s, 'latin1');
  return Buffer.concat([Buffer.from(encodeInteger(bytes.length, 7)), bytes]);
}

const entrySize = (f: HeaderField): number => f[0].length + f[1].length + ENTRY_OVERHEAD;

/** One direction's decoding context: the dynamic table persists across header blocks of a connection. */
export class HpackDecoder {
  private readonly entries: HeaderField[] = []; // newest first
  private size = 0;
  private capacity: number;

  /** @param maxTableSize the SETTINGS_HEADER_TABLE_SIZE this endpoint advertised (the upper bound of updates). */
  constructor(private maxTableSize = DEFAULT_TABLE_SIZE) {
    this.capacity = maxTableSize;
  }

  /** Current dynamic table, newest first (for tests). */
  get table(): readonly HeaderField[] {
    return this.entries;
  }
  get tableSize(): number {
    return this.size;
  }

  /** A new advertised limit (after our SETTINGS was acknowledged). */
  setMaxTableSize(max: number): void {
    this.maxTableSize = max;
    if (this.capacity > max) this.resize(max);
  }

  decode(block: Uint8Array): HeaderField[] {
    const out: HeaderField[] = [];
    let pos = 0;
    let fieldSeen = false;
    while (pos < block.length) {
      const b = block[pos] ?? 0;
      if ((b & 0x80) !== 0) {
        const { value, next } = decodeInteger(block, pos, 7);
        out.push(this.lookup(value));
        pos = next;
        fieldSeen = true;
      } else if ((b & 0xe0) === 0x20) {
        if (fieldSeen) fail('dynamic table size update after a header field');
        const { value, next } = decodeInteger(block, pos, 5);
        if (value > this.maxTableSize) fail(`table size update ${String(value)} above ${String(this.maxTableSize)}`);
        this.resize(value);
        pos = next;
      } else {
        const incremental = (b & 0xc0) === 0x40;
        const { value: index, next } = decodeInteger(block, pos, incremental ? 6 : 4);
        pos = next;
        let name: string;
        if (index === 0) {
          const s = decodeString(block, pos);
          name = s.value;
          pos = s.next;
        } else {
          name = this.lookup(index)[0];
        }
        const v = decodeString(block, pos);
        pos = v.next;
        const field: HeaderField = [name, v.value];
        if (incremental) this.add(field);
        out.push(field);
        fieldSeen = true;
      }
    }
    return out;
  }

  private lookup(index: number): HeaderField {
    if (index === 0) fail('index 0');
    const f = index <= STATIC_TABLE.length ? STATIC_TABLE[index - 1] : this.entries[index - STATIC_TABLE.length - 1];
    if (f === undefined) fail(`index ${String(index)} out of range`);
    return f;
  }

  private add(field: HeaderField): void {
    const size = entrySize(field);
    this.evict(this.capacity - size);
    if (size > this.capacity) return; // larger than the table: the table is emptied, nothing added
    this.entries.unshift(field);
    this.size += size;
  }

  private resize(capacity: number): void {
    this.capacity = capacity;
    this.evict(capacity);
  }

  private evict(limit: number): void {
    while (this.size > Math.max(0, limit)) {
      const last = this.entries.pop();
      if (last === undefined) break;
      this.size -= entrySize(last);
    }
  }
}

/** Static-table entries the encoder emits as fully indexed fields. */
const INDEXED: ReadonlyMap<string, number> = new Map([
  [':method\0POST', 3],
  [':scheme\0http', 6],
]);
/** Static-table names the encoder references by index in literals. */
const NAME_INDEX: ReadonlyMap<string, number> = new Map(STATIC_TABLE.map(([n], i) => [n, i + 1] as const).reverse());

/** Encodes a header block without touching any dynamic table (literal without indexing, raw strings). */
export function encodeHeaders(fields: readonly HeaderField[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    const indexed = INDEXED.get(`${name}\0${value}`);
    if (indexed !== undefined) {
      parts.push(Buffer.from(encodeInteger(indexed, 7, 0x80)));
      continue;
    }
    const nameIndex = NAME_INDEX.get(name);
    if (nameIndex !== undefined) parts.push(Buffer.from(encodeInteger(nameIndex, 4)));
    else parts.push(Buffer.from([0]), encodeString(name));
    parts.push(encodeString(value));
  }
  return Buffer.concat(parts);
}
