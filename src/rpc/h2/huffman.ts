/**
 * The HPACK Huffman code (RFC 7541 Appendix B). It is a canonical Huffman code: the codes follow from the bit
 * lengths alone (assigned in order of length, then symbol), so only the 257 lengths are stored — one base-32
 * digit per symbol 0..255, then EOS (256).
 */
import { InternalError } from '../../lib/errors.js';

const LENGTHS =
  'dnsssssssoussussssssssusssssssss6aacd68baa8b8666555666666678f6cad67777777777777777777777878djde6f56565666577666567655677777fbedskmkkmmmnmnnnnnonoomnonnnnlmnmnnomlkmmnnlnmmolmnnllmlnmnnkmmmnmmnqqkjmnmpqqqrrqopjlqrrqrollqqsrrrkoklmllnmmppooqnqrqqrrrrrsrrrrrqu';
const EOS = 256;
const MAX_LEN = 30;

interface Canonical {
  /** Bit length of each symbol. */
  readonly lengths: readonly number[];
  /** Code of each symbol, right-aligned. */
  readonly codes: readonly number[];
  /** Per length: the first code of that length, how many codes, and where they start in `sorted`. */
  readonly first: readonly number[];
  readonly count: readonly number[];
  readonly offset: readonly number[];
  readonly sorted: readonly number[];
}

function build(): Canonical {
  const lengths = Array.from({ length: LENGTHS.length }, (_, i) => parseInt(LENGTHS.charAt(i), 32));
  const sorted = lengths.map((_, s) => s).sort((a, b) => (lengths[a] ?? 0) - (lengths[b] ?? 0) || a - b);
  const codes: number[] = new Array<number>(lengths.length).fill(0);
  const first: number[] = new Array<number>(MAX_LEN + 1).fill(0);
  const count: number[] = new Array<number>(MAX_LEN + 1).fill(0);
  const offset: number[] = new Array<number>(MAX_LEN + 1).fill(0);
  let code = 0;
  let prev = 0;
  sorted.forEach((sym, i) => {
    const len = lengths[sym] ?? 0;
    if (i > 0) code = (code + 1) * 2 ** (len - prev);
    if ((count[len] ?? 0) === 0) {
      first[len] = code;
      offset[len] = i;
    }
    count[len] = (count[len] ?? 0) + 1;
    codes[sym] = code;
    prev = len;
  });
  return { lengths, codes, first, count, offset, sorted };
}

const TABLE = build();

/** Decodes a Huffman-coded string; padding must be fewer than 8 bits, all ones (a prefix of EOS). */
export function huffmanDecode(src: Uint8Array): Buffer {
  const out: number[] = [];
  let code = 0;
  let len = 0;
  for (const byte of src) {
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1);
      len++;
      const idx = code - (TABLE.first[len] ?? 0);
      if (idx >= 0 && idx < (TABLE.count[len] ?? 0)) {
        const sym = TABLE.sorted[(TABLE.offset[len] ?? 0) + idx] ?? EOS;
        if (sym === EOS) throw new InternalError('hpack: EOS symbol inside a Huffman-coded string');
        out.push(sym);
        code = 0;
        len = 0;
      } else if (len >= MAX_LEN) {
        throw new InternalError('hpack: invalid Huffman code');
      }
    }
  }
  if (len > 7) throw new InternalError('hpack: Huffman padding longer than 7 bits');
  if (code !== 2 ** len - 1) throw new InternalError('hpack: Huffman padding is not a prefix of EOS');
  return Buffer.from(out);
}

/** Huffman-encodes octets (used by tests and available to an encoder that wants it). */
export function huffmanEncode(src: Uint8Array): Buffer {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const byte of src) {
    const len = TABLE.lengths[byte] ?? 0;
    const code = TABLE.codes[byte] ?? 0;
    for (let i = len - 1; i >= 0; i--) {
      acc = (acc << 1) | (Math.floor(code / 2 ** i) & 1);
      bits++;
      if (bits === 8) {
        out.push(acc);
        acc = 0;
        bits = 0;
      }
    }
  }
  if (bits > 0) out.push(((acc << (8 - bits)) | (0xff >> bits)) & 0xff);
  return Buffer.from(out);
}

/** The code and bit length of a symbol (0..256), for tests. */
export function huffmanCode(sym: number): { readonly code: number; readonly bits: number } {
  return { code: TABLE.codes[sym] ?? 0, bits: TABLE.lengths[sym] ?? 0 };
}
