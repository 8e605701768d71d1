import { InternalError } from '../../../src/lib/errors.js';
import { HpackDecoder, decodeInteger, encodeHeaders, encodeInteger, type HeaderField } from '../../../src/rpc/h2/hpack.js';
import { huffmanCode, huffmanDecode, huffmanEncode } from '../../../src/rpc/h2/huffman.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const size = (t: readonly HeaderField[]): number => t.reduce((n, [a, b]) => n + a.length + b.length + 32, 0);

describe('integers (RFC 7541 C.1)', () => {
  it('C.1.1 encodes 10 with a 5-bit prefix', () => {
    expect(encodeInteger(10, 5)).toEqual([0x0a]);
    expect(decodeInteger(Buffer.from([0x0a]), 0, 5)).toEqual({ value: 10, next: 1 });
  });
  it('C.1.2 encodes 1337 with a 5-bit prefix', () => {
    expect(encodeInteger(1337, 5)).toEqual([0x1f, 0x9a, 0x0a]);
    expect(decodeInteger(Buffer.from([0xff, 0x9a, 0x0a]), 0, 5)).toEqual({ value: 1337, next: 3 });
  });
  it('C.1.3 encodes 42 starting at an octet boundary', () => {
    expect(encodeInteger(42, 8)).toEqual([0x2a]);
    expect(decodeInteger(Buffer.from([0x2a]), 0, 8)).toEqual({ value: 42, next: 1 });
  });
  it('rejects truncated and overflowing integers', () => {
    expect(() => decodeInteger(Buffer.from([0x1f, 0x80]), 0, 5)).toThrow(InternalError);
    expect(() => decodeInteger(Buffer.from([0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f]), 0, 5)).toThrow(/overflow/);
  });
});

describe('literal header fields (RFC 7541 C.2)', () => {
  it('C.2.1 literal with indexing', () => {
    const d = new HpackDecoder();
    expect(d.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'))).toEqual([['custom-key', 'custom-header']]);
    expect(d.table).toEqual([['custom-key', 'custom-header']]);
    expect(d.tableSize).toBe(55);
  });
  it('C.2.2 literal without indexing', () => {
    const d = new HpackDecoder();
    expect(d.decode(hex('040c 2f73 616d 706c 652f 7061 7468'))).toEqual([[':path', '/sample/path']]);
    expect(d.table).toEqual([]);
  });
  it('C.2.3 literal never indexed', () => {
    const d = new HpackDecoder();
    expect(d.decode(hex('1008 7061 7373 776f 7264 0673 6563 7265 74'))).toEqual([['password', 'secret']]);
    expect(d.table).toEqual([]);
  });
  it('C.2.4 indexed field', () => {
    expect(new HpackDecoder().decode(hex('82'))).toEqual([[':method', 'GET']]);
  });
});

const req1: HeaderField[] = [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']];
const req2: HeaderField[] = [...req1, ['cache-control', 'no-cache']];
const req3: HeaderField[] = [[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']];
const reqTable3: HeaderField[] = [['custom-key', 'custom-value'], ['cache-control', 'no-cache'], [':authority', 'www.example.com']];

describe('requests sharing one dynamic table (RFC 7541 C.3, C.4)', () => {
  it('C.3 without Huffman, then C.4 with Huffman', () => {
    const d = new HpackDecoder();
    expect(d.decode(hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'))).toEqual(req1);
    expect(d.table).toEqual([[':authority', 'www.example.com']]);
    expect(d.tableSize).toBe(57);
    expect(d.decode(hex('8286 84be 5808 6e6f 2d63 6163 6865'))).toEqual(req2);
    expect(d.tableSize).toBe(110);
    expect(d.decode(hex('8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65'))).toEqual(req3);
    expect(d.table).toEqual(reqTable3);
    expect(d.tableSize).toBe(164);

    const h = new HpackDecoder();
    expect(h.decode(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff'))).toEqual(req1);
    expect(h.decode(hex('8286 84be 5886 a8eb 1064 9cbf'))).toEqual(req2);
    expect(h.decode(hex('8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf'))).toEqual(req3);
    expect(h.table).toEqual(reqTable3);
    expect(h.tableSize).toBe(164);
  });

  it('C.3, C.4 decoded in sequence on one decoder (the C.4 blocks reference C.3 entries)', () => {
    const d = new HpackDecoder();
    d.decode(hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'));
    // C.4.2 refers to index 62 (:authority from the previous block) exactly as C.3.2 does.
    expect(d.decode(hex('8286 84be 5886 a8eb 1064 9cbf'))).toEqual(req2);
  });
});

const resp1: HeaderField[] = [[':status', '302'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com']];
const resp2: HeaderField[] = [[':status', '307'], ...resp1.slice(1)];
const resp3: HeaderField[] = [
  [':status', '200'],
  ['cache-control', 'private'],
  ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
  ['location', 'https://www.example.com'],
  ['content-encoding', 'gzip'],
  ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
];
const respTable3: HeaderField[] = [
  ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
  ['content-encoding', 'gzip'],
  ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
];

describe('responses with eviction at table size 256 (RFC 7541 C.5, C.6)', () => {
  const withSize256 = (): HpackDecoder => {
    const d = new HpackDecoder(256);
    return d;
  };
  it('C.5 without Huffman', () => {
    const d = withSize256();
    expect(
      d.decode(
        hex(`4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d
             546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`),
      ),
    ).toEqual(resp1);
    expect(d.tableSize).toBe(222);
    expect(d.decode(hex('4803 3330 37c1 c0bf'))).toEqual(resp2);
    expect(d.table[0]).toEqual([':status', '307']);
    expect(d.tableSize).toBe(222);
    expect(
      d.decode(
        hex(`88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f
             6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b
             2076 6572 7369 6f6e 3d31`),
      ),
    ).toEqual(resp3);
    expect(d.table).toEqual(respTable3);
    expect(d.tableSize).toBe(215);
    expect(size(d.table)).toBe(215);
  });
  it('C.6 with Huffman', () => {
    const d = withSize256();
    expect(
      d.decode(hex('4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3')),
    ).toEqual(resp1);
    expect(d.tableSize).toBe(222);
    expect(d.decode(hex('4883 640e ffc1 c0bf'))).toEqual(resp2);
    expect(d.tableSize).toBe(222);
    expect(
      d.decode(
        hex(`88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335
             dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07`),
      ),
    ).toEqual(resp3);
    expect(d.table).toEqual(respTable3);
    expect(d.tableSize).toBe(215);
  });
});

describe('dynamic table size updates', () => {
  it('shrinks and evicts, and refuses updates above the advertised limit or after a field', () => {
    const d = new HpackDecoder();
    d.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
    expect(d.decode(Buffer.from([0x20]))).toEqual([]);
    expect(d.table).toEqual([]);
    expect(() => d.decode(Buffer.from(encodeInteger(4097, 5, 0x20)))).toThrow(/above 4096/);
    expect(() => d.decode(Buffer.from([0x82, 0x20]))).toThrow(/after a header field/);
    expect(() => d.decode(Buffer.from([0xbe]))).toThrow(/out of range/);
  });
  it('an entry larger than the table empties it', () => {
    const d = new HpackDecoder(40);
    d.decode(Buffer.concat([Buffer.from([0x40, 1]), Buffer.from('a'), Buffer.from([1]), Buffer.from('b')]));
    expect(d.tableSize).toBe(34);
    d.decode(Buffer.concat([Buffer.from([0x40, 1]), Buffer.from('a'), Buffer.from([9]), Buffer.from('123456789')]));
    expect(d.table).toEqual([]);
  });
  it('decodes the trailers grpc-js sends (Huffman names, raw values) and refers back to them', () => {
    const d = new HpackDecoder();
    expect(d.decode(hex('40 88 9acac8b21234da8f 01 30 40 89 9acac8b5254207317f 02 4f4b'))).toEqual([
      ['grpc-status', '0'],
      ['grpc-message', 'OK'],
    ]);
    expect(d.decode(hex('bf be'))).toEqual([
      ['grpc-status', '0'],
      ['grpc-message', 'OK'],
    ]);
  });
});

describe('Huffman code (RFC 7541 Appendix B)', () => {
  it('has the published codes', () => {
    expect(huffmanCode(0)).toEqual({ code: 0x1ff8, bits: 13 });
    expect(huffmanCode(0x30)).toEqual({ code: 0x0, bits: 5 });
    expect(huffmanCode(0x61)).toEqual({ code: 0x3, bits: 5 });
    expect(huffmanCode(0x5c)).toEqual({ code: 0x7fff0, bits: 19 });
    expect(huffmanCode(0xff)).toEqual({ code: 0x3ffffee, bits: 26 });
    expect(huffmanCode(10)).toEqual({ code: 0x3ffffffc, bits: 30 });
    expect(huffmanCode(256)).toEqual({ code: 0x3fffffff, bits: 30 });
  });
  it('round-trips every octet', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(huffmanDecode(huffmanEncode(all))).toEqual(all);
    for (let i = 0; i < 256; i++) expect(huffmanDecode(huffmanEncode(Buffer.from([i, 255 - i, i])))).toEqual(Buffer.from([i, 255 - i, i]));
  });
  it('rejects EOS, long padding and padding that is not all ones', () => {
    expect(() => huffmanDecode(hex('ffffffff'))).toThrow(/EOS/);
    expect(() => huffmanDecode(hex('1fff'))).toThrow(/padding/); // '0' (00000) then 11 one bits of padding
    expect(() => huffmanDecode(hex('00'))).toThrow(/padding/); // '0' then 000 padding
    expect(huffmanDecode(hex('07'))).toEqual(Buffer.from('0')); // '0' then 111 padding
  });
});

describe('encoder', () => {
  it('emits static indices for :method POST and :scheme http and literals without indexing otherwise', () => {
    const block = encodeHeaders([
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', '/a'],
      ['te', 'trailers'],
    ]);
    expect(block.subarray(0, 2)).toEqual(Buffer.from([0x83, 0x86]));
    const d = new HpackDecoder();
    expect(d.decode(block)).toEqual([
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', '/a'],
      ['te', 'trailers'],
    ]);
    expect(d.table).toEqual([]);
  });
});
