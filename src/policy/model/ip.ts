/**
 * IPv4 and IPv6 addresses and CIDRs as numbers, for ipBlock matching (R16: a v4 block never matches v6 traffic).
 * Pure; src/lib/net.ts covers IPv4 only, NetworkPolicy needs both families.
 */

export type Family = 4 | 6;

export interface Ip {
  readonly family: Family;
  readonly value: bigint;
}

export interface CidrBlock {
  readonly family: Family;
  /** The network address (host bits cleared). */
  readonly base: bigint;
  readonly prefix: number;
}

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/u;

function parseV4(s: string): bigint | undefined {
  if (!V4.test(s)) return undefined;
  return s.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function parseV6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/u.test(s) || s.split('::').length > 2) return undefined;
  let text = s;
  let tail: bigint[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = parseV4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [v4 >> 16n, v4 & 0xffffn];
    const prefix = text.slice(0, lastColon + 1);
    text = prefix.endsWith('::') ? prefix : prefix.slice(0, -1);
  }
  const groups = (part: string): bigint[] | undefined => {
    if (part === '') return [];
    const out: bigint[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/u.test(g)) return undefined;
      out.push(BigInt(`0x${g}`));
    }
    return out;
  };
  const [headText, restText] = text.split('::');
  const head = groups(headText ?? '');
  const rest = restText === undefined ? [] : groups(restText);
  if (head === undefined || rest === undefined) return undefined;
  const given = head.length + rest.length + tail.length;
  let all: bigint[];
  if (restText === undefined) {
    if (given !== 8) return undefined;
    all = [...head, ...tail];
  } else {
    if (given > 7) return undefined;
    all = [...head, ...Array<bigint>(8 - given).fill(0n), ...rest, ...tail];
  }
  return all.reduce((acc, g) => (acc << 16n) | g, 0n);
}

export function parseIpAddr(raw: string): Ip | undefined {
  const v4 = parseV4(raw);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = raw.includes(':') ? parseV6(raw) : undefined;
  return v6 === undefined ? undefined : { family: 6, value: v6 };
}

function bits(f: Family): number {
  return f === 4 ? 32 : 128;
}

export function parseCidrBlock(raw: string): CidrBlock | undefined {
  const slash = raw.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIpAddr(raw.slice(0, slash));
  const lenText = raw.slice(slash + 1);
  if (ip === undefined || !/^\d{1,3}$/u.test(lenText)) return undefined;
  const prefix = Number(lenText);
  if (prefix > bits(ip.family)) return undefined;
  return { family: ip.family, base: ip.value & mask(ip.family, prefix), prefix };
}

function mask(f: Family, prefix: number): bigint {
  const total = BigInt(bits(f));
  const all = (1n << total) - 1n;
  return all ^ ((1n << (total - BigInt(prefix))) - 1n);
}

export function cidrHas(block: CidrBlock, ip: Ip): boolean {
  return block.family === ip.family && (ip.value & mask(ip.family, block.prefix)) === block.base;
}

/** `inner` lies inside `outer` and is strictly smaller (R6: each except must be a strict subset of cidr). */
export function isStrictSubnet(inner: CidrBlock, outer: CidrBlock): boolean {
  return inner.family === outer.family && inner.prefix > outer.prefix && cidrHas(outer, { family: inner.family, value: inner.base });
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run compressed). */
export function formatIp(ip: Ip): string {
  if (ip.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((ip.value >> BigInt(112 - 16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
