/** Branded primitive types: a value of these types has been validated once, at a boundary. */
import { InvalidInputError } from './errors.js';
import { quote, utf8Length } from './text.js';
import { netnsPathProblem } from './validate/paths.js';

declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type IfName = Brand<string, 'IfName'>;
export type IpAddr = Brand<string, 'IpAddr'>; // dotted IPv4
export type Cidr = Brand<string, 'Cidr'>; // a.b.c.d/len
export type MacAddr = Brand<string, 'MacAddr'>; // lower-case aa:bb:cc:dd:ee:ff
export type NetnsPath = Brand<string, 'NetnsPath'>;

const IFNAMSIZ = 16;

/**
 * Linux interface name rules (kernel dev_valid_name, libcni ValidateInterfaceName): 1..15 bytes (IFNAMSIZ 16
 * includes the NUL; the kernel counts bytes, so "éééééééé" is 16), not . or .., no / : or whitespace.
 */
export function ifNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'interface name is empty';
  const bytes = utf8Length(name);
  if (bytes >= IFNAMSIZ) return `interface name is too long (${bytes} > ${IFNAMSIZ - 1} bytes)`;
  if (name === '.' || name === '..') return 'interface name is . or ..';
  if (/[/:\s]/u.test(name)) return 'interface name contains / : or whitespace';
  return undefined;
}

export function parseIfName(raw: string, field = 'ifName'): IfName {
  const problem = ifNameProblem(raw);
  if (problem !== undefined) throw new InvalidInputError(field, `${problem}: ${quote(raw)}`);
  return raw as IfName;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/u;

export function isIpv4(raw: string): raw is IpAddr {
  return IPV4.test(raw);
}

export function parseIp(raw: string, field = 'ip'): IpAddr {
  if (!isIpv4(raw)) throw new InvalidInputError(field, `not an IPv4 address: ${quote(raw)}`);
  return raw;
}

export function parseCidr(raw: string, field = 'cidr'): Cidr {
  const [ip, len, ...rest] = raw.split('/');
  const n = Number(len);
  if (rest.length > 0 || ip === undefined || !isIpv4(ip) || len === undefined || !/^\d{1,2}$/u.test(len) || n > 32) {
    throw new InvalidInputError(field, `not an IPv4 CIDR: ${quote(raw)}`);
  }
  return raw as Cidr;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/u;

/** A unicast Ethernet address, lower-cased (`AA:BB:…` is accepted). */
export function parseMac(raw: string, field = 'mac'): MacAddr {
  const mac = raw.toLowerCase();
  if (!MAC.test(mac)) throw new InvalidInputError(field, `not a MAC address: ${quote(raw)}`);
  if ((Number.parseInt(mac.slice(0, 2), 16) & 1) === 1) throw new InvalidInputError(field, `a multicast MAC address: ${quote(raw)}`);
  return mac as MacAddr;
}

export function parseNetnsPath(raw: string, field = 'netns'): NetnsPath {
  const problem = netnsPathProblem(raw);
  if (problem !== undefined) throw new InvalidInputError(field, `${problem}: ${quote(raw)}`);
  return raw as NetnsPath;
}
