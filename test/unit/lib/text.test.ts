import { describe, expect, it } from '@jest/globals';
import { clip, hasReplacementChar, quote, utf8Length } from '../../../src/lib/text.js';

describe('utf8Length', () => {
  it.each<[string, number]>([
    ['', 0],
    ['eth0', 4],
    ['é', 2],
    ['éééééééé', 16],
    ['€', 3],
    ['😀', 4],
    ['\ud800', 3], // a lone surrogate is written as U+FFFD
  ])('%j is %d bytes', (s, n) => {
    expect(utf8Length(s)).toBe(n);
    expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
  });
});

describe('quote and clip', () => {
  it('quotes short values as JSON, whole', () => {
    expect(quote('a"b')).toBe('"a\\"b"');
    expect(quote(42)).toBe('42');
    expect(quote(undefined)).toBe('undefined');
    expect(clip('FROB')).toBe('FROB');
  });
  it('cuts long values to 64 characters and names their size in bytes', () => {
    const big = 'x'.repeat(10 * 1024 * 1024);
    expect(quote(big)).toBe(`"${'x'.repeat(64)}"…(10485760 bytes)`);
    expect(clip(big)).toBe(`${'x'.repeat(64)}…(10485760 bytes)`);
    expect(quote(['a'.repeat(100)]).length).toBeLessThan(90);
  });
  it('never splits a surrogate pair', () => {
    const s = `${'a'.repeat(63)}😀tail`;
    expect(quote(s)).toBe(`"${'a'.repeat(63)}"…(${String(63 + 4 + 4)} bytes)`);
  });
});

describe('hasReplacementChar', () => {
  it('is the sign of an env value that was not valid UTF-8', () => {
    expect(hasReplacementChar(Buffer.from([0x65, 0x74, 0x68, 0xff]).toString('utf8'))).toBe(true);
    expect(hasReplacementChar('eth0')).toBe(false);
  });
});
