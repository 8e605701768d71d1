/**
 * Text facts shared by every validator: UTF-8 length (the kernel and libcni count bytes), the mark of an undecodable
 * input, and the one way a value is quoted in an error message (bounded: a 10 MB field never reaches stdout whole).
 * Pure, no imports: the plugin loads it.
 */

/** What an error message keeps of a quoted value. */
export const QUOTE_MAX_CHARS = 64;

/** Bytes of `s` encoded as UTF-8, without encoding it (lone surrogates count 3, as TextEncoder writes U+FFFD). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Node and bun decode `process.env` (and stdin read as 'utf8') as UTF-8, replacing every invalid byte sequence with
 * U+FFFD and giving no other sign: `CNI_IFNAME=eth\xff` arrives as "eth\ufffd". The original bytes are lost, so a
 * name holding U+FFFD cannot be passed through exactly; refusing it is the only faithful answer. (A runtime that
 * really meant U+FFFD, valid UTF-8 EF BF BD, is refused too: no real interface, container or netns uses it.)
 */
export function hasReplacementChar(s: string): boolean {
  return s.includes('\ufffd');
}

/** A long string cut to its first `max` characters (never inside a surrogate pair), or undefined when it fits. */
function cut(s: string, max: number): string | undefined {
  if (s.length <= max) return undefined;
  const head = s.slice(0, max);
  const last = head.charCodeAt(head.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? head.slice(0, -1) : head;
}

/**
 * A value for an error message: JSON-quoted; a long one cut to its first QUOTE_MAX_CHARS characters and marked
 * with its size, e.g. `"aaaa"…(10485760 bytes)`. Non-strings are JSON-encoded first.
 */
export function quote(value: unknown, max = QUOTE_MAX_CHARS): string {
  if (typeof value !== 'string') {
    // JSON.stringify answers undefined (typed string) for undefined, functions and symbols
    const json = value === undefined || typeof value === 'function' || typeof value === 'symbol' ? String(value) : JSON.stringify(value);
    return clip(json, max);
  }
  const head = cut(value, max);
  return head === undefined ? JSON.stringify(value) : `${JSON.stringify(head)}…(${String(utf8Length(value))} bytes)`;
}

/** Like quote, unquoted: for messages that show a value bare (Go's skel: `unknown CNI_COMMAND: FROB`). */
export function clip(value: string, max = QUOTE_MAX_CHARS): string {
  const head = cut(value, max);
  return head === undefined ? value : `${head}…(${String(utf8Length(value))} bytes)`;
}
