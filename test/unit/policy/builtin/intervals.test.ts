import { intervalElement, mergeIntervals, subtractBlocks } from '../../../../src/policy/builtin/intervals.js';
import { parseCidrBlock, type CidrBlock } from '../../../../src/policy/model/ip.js';

const block = (s: string): CidrBlock => {
  const b = parseCidrBlock(s);
  if (b === undefined) throw new Error(s);
  return b;
};
const text = (cidr: string, except: string[]): string[] => {
  const b = block(cidr);
  return subtractBlocks(b, except.map(block)).map((iv) => intervalElement(iv, b.family));
};

describe('cidr − except as nft interval elements', () => {
  it('cuts one hole: two ranges around it', () => {
    expect(text('10.0.0.0/8', ['10.9.0.0/24'])).toEqual(['10.0.0.0-10.8.255.255', '10.9.1.0-10.255.255.255']);
  });
  it('aligned remainders print as prefixes; single addresses as addresses', () => {
    expect(text('10.0.0.0/30', ['10.0.0.0/31'])).toEqual(['10.0.0.2/31']);
    expect(text('10.0.0.0/31', ['10.0.0.0/32'])).toEqual(['10.0.0.1']);
  });
  it('overlapping and nested excepts are merged first', () => {
    expect(text('172.17.0.0/16', ['172.17.1.0/24', '172.17.1.128/25', '172.17.2.0/24'])).toEqual(['172.17.0.0/24', '172.17.3.0-172.17.255.255']);
  });
  it('/0 minus a /1 leaves the other half; no except keeps the block', () => {
    expect(text('0.0.0.0/0', ['128.0.0.0/1'])).toEqual(['0.0.0.0/1']);
    expect(text('192.168.0.0/16', [])).toEqual(['192.168.0.0/16']);
  });
  it('IPv6', () => {
    expect(text('fd00::/64', ['fd00::/65'])).toEqual(['fd00::8000:0:0:0/65']);
    expect(text('fd00::/127', ['fd00::1/128'])).toEqual(['fd00::']);
  });
  it('mergeIntervals joins overlapping and adjacent intervals and keeps gaps', () => {
    expect(mergeIntervals([{ lo: 5n, hi: 9n }, { lo: 1n, hi: 4n }, { lo: 11n, hi: 12n }, { lo: 8n, hi: 9n }])).toEqual([{ lo: 1n, hi: 9n }, { lo: 11n, hi: 12n }]);
  });
});
