/** Branded primitive types: a value of these types has been validated once, at a boundary. */
import { InvalidInputError } from './errors.js';

declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type IfName = Brand<string, 'IfName'>;
export type IpAddr = Brand<string, 'IpAddr'>; // dotted IPv4
export type Cidr = Brand<string, 'Cidr'>; // a.b.c.d/len
export type MacAddr = Brand<string, 'MacAddr'>; // lower-case aa:bb:cc:dd:ee:ff
export type NetnsPath = Brand<string, 'NetnsPath'>;

const IFNAMSIZ = 16;

/** Linux interface name rules (libcni ValidateInterfaceName): 1..15 chars, not . or .., no / : or whitespace. */
export function ifNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'interface name is empty';
  if (name.length >= IFNAMSIZ) return `interface name is too long (${name.length} > ${IFNAMSIZ - 1} characters)`;
  if (name === '.' || name === '..') return 'interface name is . or ..';
  if (/[/:\s]/u.test(name)) return 'interface name contains / : or whitespace';
  return undefined;
}

export function parseIfName(raw: string, field = 'ifName'): IfName {
  const problem = ifNameProblem(raw);
  if (problem !== undefined) throw new InvalidInputError(field, `${problem}: ${JSON.stringify(raw)}`);
  return raw as IfName;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/u;

export function isIpv4(raw: string): raw is IpAddr {
  return IPV4.test(raw);
}

export function parseIp(raw: string, field = 'ip'): IpAddr {
  if (!isIpv4(raw)) throw new InvalidInputError(field, `not an IPv4 address: ${JSON.stringify(raw)}`);
  return raw;
}

export function parseCidr(raw: string, field = 'cidr'): Cidr {
  const [ip, len, ...rest] = raw.split('/');
  const n = Number(len);
  if (rest.length > 0 || ip === undefined || !isIpv4(ip) || len === undefined || !/^\d{1,2}$/u.test(len) || n > 32) {
    throw new InvalidInputError(field, `not an IPv4 CIDR: ${JSON.stringify(raw)}`);
  }
  return raw as Cidr;
}

export function parseNetnsPath(raw: string, field = 'netns'): NetnsPath {
  if (!raw.startsWith('/') || raw.includes('\0') || /\s/u.test(raw)) {
    throw new InvalidInputError(field, `netns must be an absolute path: ${JSON.stringify(raw)}`);
  }
  return raw as NetnsPath;
}
