import { cidrHas, formatIp, isStrictSubnet, parseCidrBlock, parseIpAddr } from '../../../../src/policy/model/ip.js';

describe('policy model IP addresses (v4 and v6)', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['FD00:0:0:0:0:0:0:1', 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['::ffff:10.1.2.3', '::ffff:a01:203'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:0:3:4:5:6:7:8', '1:0:3:4:5:6:7:8'],
  ])('parses %s as %s', (raw, canonical) => {
    const ip = parseIpAddr(raw);
    expect(ip === undefined ? undefined : formatIp(ip)).toBe(canonical);
  });

  it.each(['', '10.0.0', '10.0.0.256', '010.0.0.1', '1:2:3:4:5:6:7:8:9', '1::2::3', ':1', 'fd00::g', '1:2:3:4:5:6:7', 'x'])('refuses %j', (raw) => {
    expect(parseIpAddr(raw)).toBeUndefined();
  });

  it('parses CIDRs, clearing host bits, and refuses bad prefixes', () => {
    expect(parseCidrBlock('10.1.2.3/8')).toEqual({ family: 4, base: 0x0a000000n, prefix: 8 });
    expect(parseCidrBlock('fd00::1/64')).toMatchObject({ family: 6, prefix: 64 });
    expect(parseCidrBlock('10.0.0.0/33')).toBeUndefined();
    expect(parseCidrBlock('fd00::/129')).toBeUndefined();
    expect(parseCidrBlock('10.0.0.0')).toBeUndefined();
    expect(parseCidrBlock('10.0.0.0/')).toBeUndefined();
  });

  it('matches addresses by family and prefix; /0 holds every address of its family only', () => {
    const v4 = parseCidrBlock('10.0.0.0/16')!;
    expect(cidrHas(v4, parseIpAddr('10.0.255.255')!)).toBe(true);
    expect(cidrHas(v4, parseIpAddr('10.1.0.0')!)).toBe(false);
    const any4 = parseCidrBlock('0.0.0.0/0')!;
    expect(cidrHas(any4, parseIpAddr('203.0.113.9')!)).toBe(true);
    expect(cidrHas(any4, parseIpAddr('::a00:1')!)).toBe(false);
    expect(cidrHas(parseCidrBlock('fd00::/8')!, parseIpAddr('fdff::1')!)).toBe(true);
    expect(isStrictSubnet(parseCidrBlock('10.0.1.0/24')!, v4)).toBe(true);
    expect(isStrictSubnet(parseCidrBlock('10.0.0.0/16')!, v4)).toBe(false);
    expect(isStrictSubnet(parseCidrBlock('10.1.0.0/24')!, v4)).toBe(false);
  });
});
