/** Unique names and address ranges for test objects. */
import { randomBytes } from 'node:crypto';
import { parseIp, type IpAddr } from '../../src/lib/brand.js';

/** `n` random lowercase alphanumerics: a tag for link, netns, pod and container names. */
export function rand(n = 5): string {
  return Math.random().toString(36).slice(2, 2 + n).padEnd(n, '0');
}

/**
 * A /24 unique to this run inside a test range: the first two octets are per test file (so files never share a
 * subnet), the third random.
 */
export function testSubnet(first2: string): { readonly subnet3: string; readonly ip: (last: number) => IpAddr } {
  const subnet3 = `${first2}.${String(1 + ((randomBytes(1)[0] ?? 0) % 250))}`;
  return { subnet3, ip: (last) => parseIp(`${subnet3}.${String(last)}`) };
}
