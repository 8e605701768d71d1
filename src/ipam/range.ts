/**
 * Pure address-set arithmetic for IPAM: which IPv4 addresses a pool may hand out, and which one to pick next.
 * No I/O. Sets are kept as sorted uint32 arrays so picking is deterministic.
 */
import type { Cidr, IpAddr } from '../lib/brand.js';
import { isIpv4, parseCidr } from '../lib/brand.js';
import { InvalidInputError } from '../lib/errors.js';
import { cidrContains, cidrParts, intToIp, ipToInt } from '../lib/net.js';
import { quote } from '../lib/text.js';

/** The largest set a pool may describe (guards against typos such as a /8 podCIDR). */
export const MAX_SET_SIZE = 65536;

export interface AddressSet {
  /** Sorted, unique addresses as uint32. */
  readonly addrs: readonly number[];
}

export function setSize(set: AddressSet): number {
  return set.addrs.length;
}

export function setHas(set: AddressSet, ip: IpAddr | string): boolean {
  if (!isIpv4(ip)) return false;
  return binarySearch(set.addrs, ipToInt(ip));
}

export function setIps(set: AddressSet): readonly IpAddr[] {
  return set.addrs.map(intToIp);
}

/**
 * Host addresses of a CIDR usable for pods: skips the network address, the broadcast address and the first
 * host (the gateway by convention). Needs at least one usable address (prefix ≤ 30).
 */
export function setFromCidr(raw: string, field = 'cidr'): AddressSet {
  const cidr = parseCidr(raw, field);
  const { network, prefix, size } = cidrParts(cidr);
  if (prefix > 30) throw new InvalidInputError(field, `prefix /${String(prefix)} leaves no usable address (need ≤ /30)`);
  const first = network + 2;
  const last = network + size - 2; // inclusive; size-1 is broadcast
  const count = last - first + 1;
  if (count > MAX_SET_SIZE) throw new InvalidInputError(field, `${raw} has ${String(count)} addresses (max ${String(MAX_SET_SIZE)})`);
  const addrs: number[] = [];
  for (let n = first; n <= last; n++) addrs.push(n);
  return { addrs };
}

/**
 * An explicit set: each item is either one address (`10.0.0.5`) or an inclusive range (`10.0.0.5-10.0.0.9`).
 * When `within` is given, every address must lie inside it and must not be its network or broadcast address.
 */
export function setFromSpecs(specs: readonly string[], field = 'ips', within?: Cidr): AddressSet {
  const all = new Set<number>();
  specs.forEach((spec, i) => {
    const f = `${field}[${String(i)}]`;
    const [a, b, ...rest] = spec.split('-').map((s) => s.trim());
    if (a === undefined || rest.length > 0) throw new InvalidInputError(f, `not an address or range: ${quote(spec)}`);
    if (!isIpv4(a)) throw new InvalidInputError(f, `not an IPv4 address: ${quote(a)}`);
    const end = b ?? a;
    if (!isIpv4(end)) throw new InvalidInputError(f, `not an IPv4 address: ${quote(end)}`);
    const lo = ipToInt(a);
    const hi = ipToInt(end);
    if (hi < lo) throw new InvalidInputError(f, `range end ${end} is before its start ${a}`);
    if (hi - lo + 1 + all.size > MAX_SET_SIZE) throw new InvalidInputError(f, `more than ${String(MAX_SET_SIZE)} addresses`);
    for (let n = lo; n <= hi; n++) {
      if (within !== undefined) checkWithin(within, n, f);
      all.add(n);
    }
  });
  if (all.size === 0) throw new InvalidInputError(field, 'no addresses');
  return { addrs: [...all].sort((x, y) => x - y) };
}

/** Parses "a-b" or "a" or a comma-separated list of those into specs. */
export function splitSpecs(raw: string | readonly string[]): readonly string[] {
  const items = typeof raw === 'string' ? raw.split(',') : raw;
  return items.map((s) => s.trim()).filter((s) => s.length > 0);
}

function checkWithin(cidr: Cidr, n: number, field: string): void {
  const ip = intToIp(n);
  if (!cidrContains(cidr, ip)) throw new InvalidInputError(field, `${ip} is outside ${cidr}`);
  const { network, size, prefix } = cidrParts(cidr);
  if (prefix < 31 && (n === network || n === network + size - 1)) {
    throw new InvalidInputError(field, `${ip} is the network or broadcast address of ${cidr}`);
  }
}

/**
 * Picks the address to hand out next, deterministically: the lowest free address that is not cooling down.
 * `coolDown` lists recently released addresses, oldest first; they are reused only when nothing else is free,
 * and then the one released longest ago first. Returns undefined when the set is exhausted.
 */
export function pickFree(set: AddressSet, used: ReadonlySet<string>, coolDown: readonly string[] = []): IpAddr | undefined {
  const cooling = new Set(coolDown);
  for (const n of set.addrs) {
    const ip = intToIp(n);
    if (!used.has(ip) && !cooling.has(ip)) return ip;
  }
  for (const ip of coolDown) {
    if (!used.has(ip) && setHas(set, ip)) return ip as IpAddr;
  }
  return undefined;
}

/** Number of addresses of the set not in `used`. */
export function freeCount(set: AddressSet, used: ReadonlySet<string>): number {
  let n = 0;
  for (const a of set.addrs) if (!used.has(intToIp(a))) n++;
  return n;
}

function binarySearch(sorted: readonly number[], x: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid] ?? 0;
    if (v === x) return true;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
