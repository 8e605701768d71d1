/**
 * Resolves the two ends of a connection: `{ pod: 'ns/name' }` or `{ ip }`. An IP held by a (non-hostNetwork) pod of
 * the model is that pod; any other IP is an external or node address. Picks the address family the connection uses.
 */
import { InvalidInputError } from '../../lib/errors.js';
import { quote } from '../../lib/text.js';
import { parseIpAddr, type Family, type Ip } from './ip.js';
import { podKey, type Pod, type PolicyModel } from './types.js';

export type Endpoint = { readonly pod: string } | { readonly ip: string };

export interface ResolvedEnd {
  /** Any pod of the model, hostNetwork included. */
  readonly pod: Pod | undefined;
  /** The address given, when the end was given as an IP. */
  readonly givenIp: Ip | undefined;
  readonly text: string;
}

/** Pods by `ns/name`, for resolving many ends against one model. */
export function podIndex(model: PolicyModel): ReadonlyMap<string, Pod> {
  return new Map(model.pods.map((p) => [podKey(p), p]));
}

export function resolveEnd(model: PolicyModel, index: ReadonlyMap<string, Pod>, end: Endpoint, field: string): ResolvedEnd {
  if ('pod' in end) {
    const pod = index.get(end.pod);
    if (pod === undefined) throw new InvalidInputError(field, `no pod ${quote(end.pod)} in the model (expected NAMESPACE/POD)`);
    return { pod, givenIp: undefined, text: end.pod };
  }
  const ip = parseIpAddr(end.ip);
  if (ip === undefined) throw new InvalidInputError(field, `not an IP address: ${quote(end.ip)}`);
  const pod = model.pods.find((p) => !p.hostNetwork && p.ips.some((a) => sameIp(a, ip)));
  return { pod, givenIp: ip, text: pod === undefined ? end.ip : podKey(pod) };
}

function sameIp(text: string, ip: Ip): boolean {
  const a = parseIpAddr(text);
  return a !== undefined && a.family === ip.family && a.value === ip.value;
}

export function podIp(pod: Pod | undefined, family: Family): Ip | undefined {
  for (const text of pod?.ips ?? []) {
    const ip = parseIpAddr(text);
    if (ip?.family === family) return ip;
  }
  return undefined;
}

/** The family of a given IP; else IPv4 unless both pods have IPv6 and one lacks IPv4. */
export function connectionFamily(src: ResolvedEnd, dst: ResolvedEnd): Family {
  const given = src.givenIp ?? dst.givenIp;
  if (src.givenIp !== undefined && dst.givenIp !== undefined && src.givenIp.family !== dst.givenIp.family) {
    throw new InvalidInputError('to', 'source and destination addresses are of different families');
  }
  if (given !== undefined) return given.family;
  const has = (e: ResolvedEnd, f: Family): boolean => podIp(e.pod, f) !== undefined;
  if (has(src, 4) && has(dst, 4)) return 4;
  if (has(src, 6) && has(dst, 6)) return 6;
  return 4;
}

/** The address this end uses in the connection (a hostNetwork pod's status.podIP is its node's address). */
export function addressOf(end: ResolvedEnd, family: Family): Ip | undefined {
  return end.givenIp ?? podIp(end.pod, family);
}
