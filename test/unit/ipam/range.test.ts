import { describe, expect, it } from '@jest/globals';
import { CoolDown } from '../../../src/ipam/cool-down.js';
import { freeCount, pickFree, setFromCidr, setFromSpecs, setHas, setIps, setSize, splitSpecs } from '../../../src/ipam/range.js';
import { InvalidInputError } from '../../../src/lib/errors.js';

describe('setFromCidr', () => {
  it.each([
    ['10.0.0.0/29', ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']],
    ['10.0.0.4/30', ['10.0.0.6']],
    ['10.0.0.9/29', ['10.0.0.10', '10.0.0.11', '10.0.0.12', '10.0.0.13', '10.0.0.14']],
  ])('%s skips network, broadcast and the first host', (cidr, ips) => {
    expect(setIps(setFromCidr(cidr))).toEqual(ips);
  });
  it('/24 has 253 usable addresses', () => {
    expect(setSize(setFromCidr('172.16.3.0/24'))).toBe(253);
  });
  it.each(['10.0.0.0/31', '10.0.0.0/32', '10.0.0.0', '300.0.0.0/24', '10.0.0.0/8'])('rejects %s', (cidr) => {
    expect(() => setFromCidr(cidr, 'vpc.podCIDR')).toThrow(InvalidInputError);
    expect(() => setFromCidr(cidr, 'vpc.podCIDR')).toThrow(/vpc\.podCIDR/u);
  });
});

describe('setFromSpecs', () => {
  it('expands ranges and single addresses, sorted and unique', () => {
    const s = setFromSpecs(['10.1.0.20-10.1.0.22', '10.1.0.5', '10.1.0.21']);
    expect(setIps(s)).toEqual(['10.1.0.5', '10.1.0.20', '10.1.0.21', '10.1.0.22']);
    expect(setHas(s, '10.1.0.21')).toBe(true);
    expect(setHas(s, '10.1.0.23')).toBe(false);
    expect(setHas(s, 'nope')).toBe(false);
  });
  it.each([
    [['10.1.0.9-10.1.0.5'], 'ips[0]', /before its start/u],
    [['10.1.0.5', '10.1.0.x'], 'ips[1]', /not an IPv4/u],
    [['10.1.0.1-10.1.0.2-10.1.0.3'], 'ips[0]', /not an address or range/u],
    [['10.2.0.5'], 'ips[0]', /outside/u],
    [['10.1.0.255'], 'ips[0]', /broadcast/u],
    [[], 'ips', /no addresses/u],
  ])('rejects %j naming %s', (specs, field, msg) => {
    let err: unknown;
    try {
      setFromSpecs(specs, 'ips', '10.1.0.0/24' as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).field).toBe(field);
    expect((err as Error).message).toMatch(msg);
  });
  it('splits comma lists', () => {
    expect(splitSpecs('10.0.0.1-10.0.0.3, 10.0.0.9 ,')).toEqual(['10.0.0.1-10.0.0.3', '10.0.0.9']);
  });
});

describe('pickFree', () => {
  const set = setFromSpecs(['10.0.0.10-10.0.0.14']);
  it.each([
    { used: [], cool: [], want: '10.0.0.10' },
    { used: ['10.0.0.10', '10.0.0.11'], cool: [], want: '10.0.0.12' },
    { used: [], cool: ['10.0.0.10'], want: '10.0.0.11' },
    { used: ['10.0.0.11', '10.0.0.12', '10.0.0.13', '10.0.0.14'], cool: ['10.0.0.10'], want: '10.0.0.10' },
    { used: ['10.0.0.10', '10.0.0.11', '10.0.0.12'], cool: ['10.0.0.14', '10.0.0.13'], want: '10.0.0.14' },
    { used: ['10.0.0.10', '10.0.0.11', '10.0.0.12', '10.0.0.13', '10.0.0.14'], cool: ['10.0.0.10'], want: undefined },
    { used: [], cool: ['10.9.9.9'], want: '10.0.0.10' },
  ])('used=$used cool=$cool → $want', ({ used, cool, want }) => {
    expect(pickFree(set, new Set(used), cool)).toBe(want);
  });
  it('counts free', () => {
    expect(freeCount(set, new Set(['10.0.0.10', '10.9.9.9']))).toBe(4);
  });
});

describe('CoolDown', () => {
  it('keeps the newest N releases, oldest first, and forgets taken ones', () => {
    const c = new CoolDown(2);
    c.released('a');
    c.released('b');
    c.released('a');
    expect(c.list()).toEqual(['b', 'a']);
    c.released('c');
    expect(c.list()).toEqual(['a', 'c']);
    c.taken('a');
    expect(c.list()).toEqual(['c']);
  });
});
