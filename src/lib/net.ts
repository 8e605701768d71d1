/** Pure IPv4 arithmetic. */
import type { Cidr, IpAddr } from './brand.js';
import { InvalidInputError } from './errors.js';

export function ipToInt(ip: IpAddr | string): number {
  const p = ip.split('.').map(Number);
  return (((p[0] ?? 0) << 24) >>> 0) + ((p[1] ?? 0) << 16) + ((p[2] ?? 0) << 8) + (p[3] ?? 0);
}

export function intToIp(n: number): IpAddr {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.') as IpAddr;
}

export interface CidrParts {
  readonly network: number; // first address as uint32
  readonly prefix: number;
  readonly size: number; // number of addresses
}

export function cidrParts(cidr: Cidr | string): CidrParts {
  const [ip, len] = cidr.split('/');
  const prefix = Number(len);
  if (ip === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new InvalidInputError('cidr', cidr);
  const size = 2 ** (32 - prefix);
  const network = prefix === 0 ? 0 : Math.floor(ipToInt(ip) / size) * size;
  return { network, prefix, size };
}

export function cidrContains(cidr: Cidr | string, ip: IpAddr | string): boolean {
  const { network, size } = cidrParts(cidr);
  const n = ipToInt(ip);
  return n >= network && n < network + size;
}

export function hostCidr(ip: IpAddr): Cidr {
  return `${ip}/32` as Cidr;
}

export function networkCidr(cidr: Cidr | string): Cidr {
  const { network, prefix } = cidrParts(cidr);
  return `${intToIp(network)}/${String(prefix)}` as Cidr;
}
