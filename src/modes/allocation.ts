/**
 * The one parser of `Allocation` (RPC messages both ways, lease store rows): the common fields, then the mode's
 * variant. Throws InvalidInputError naming the field (dotted path). Pure.
 */
import { parseCidr, parseIfName, parseIp, parseMac, type Cidr } from '../lib/brand.js';
import { InternalError, InvalidInputError } from '../lib/errors.js';
import { quote } from '../lib/text.js';
import type { BandwidthSpec, RateLimit } from '../bandwidth/types.js';
import { isModeName, type Allocation, type AllocationOf, type EniFacts, type ExclusiveEniFacts, type ModeName } from './types.js';
import { arr, int, obj, str, type Obj } from '../lib/validate/input-fields.js';


export function parseEni(raw: unknown, field: string): EniFacts {
  const o = obj(raw, field.slice(0, -1));
  return {
    link: parseIfName(str(o, 'link', field), `${field}link`),
    ifindex: int(o, 'ifindex', field, 1, 2 ** 31 - 1),
    gateway: parseIp(str(o, 'gateway', field), `${field}gateway`),
    table: int(o, 'table', field, 1, 2 ** 32 - 1),
  };
}

/** Cloud ENI ids (`eni-2ze…`); the local provider and the emulator use the same form. */
const ENI_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/u;

/** An exclusive ENI: `{id, mac, link, gateway}`. */
export function parseExclusiveEni(raw: unknown, field: string): ExclusiveEniFacts {
  const o = obj(raw, field.slice(0, -1));
  const id = str(o, 'id', field);
  if (!ENI_ID.test(id)) throw new InvalidInputError(`${field}id`, `not an ENI id: ${quote(id)}`);
  return {
    id,
    mac: parseMac(str(o, 'mac', field), `${field}mac`),
    link: parseIfName(str(o, 'link', field), `${field}link`),
    gateway: parseIp(str(o, 'gateway', field), `${field}gateway`),
  };
}

/** At most this many CIDRs per list (each one is a route in the pod). */
const MAX_CIDRS = 64;

function cidrList(o: Obj, key: string, field: string): readonly Cidr[] {
  const list = arr(o, key, field);
  if (list.length > MAX_CIDRS) throw new InvalidInputError(`${field}${key}`, `at most ${String(MAX_CIDRS)} CIDRs; got ${String(list.length)}`);
  return list.map((c, i) => {
    const f = `${field}${key}[${String(i)}]`;
    if (typeof c !== 'string') throw new InvalidInputError(f, 'must be a string');
    return parseCidr(c, f);
  });
}

function parseRateLimit(raw: unknown, field: string): RateLimit {
  const o = obj(raw, field.slice(0, -1));
  return {
    rateBps: int(o, 'rateBps', field, 8, Number.MAX_SAFE_INTEGER),
    burstBits: int(o, 'burstBits', field, 8, Number.MAX_SAFE_INTEGER),
  };
}

/** `{ingress?: {rateBps, burstBits}, egress?: ...}`; an empty object means no shaping. */
export function parseBandwidth(raw: unknown, field = 'allocation.bandwidth.'): BandwidthSpec {
  const o = obj(raw, field.slice(0, -1));
  const ingress = o.ingress === undefined ? undefined : parseRateLimit(o.ingress, `${field}ingress.`);
  const egress = o.egress === undefined ? undefined : parseRateLimit(o.egress, `${field}egress.`);
  return { ...(ingress !== undefined ? { ingress } : {}), ...(egress !== undefined ? { egress } : {}) };
}

/**
 * `field` is the dotted prefix of the allocation's fields (`allocation.`). Unknown keys are ignored (a newer peer
 * may add some); a key the mode needs (veth-policy-routing's `eni`) is required; an `eni` on a vpc allocation is
 * dropped (older daemons never wrote one there).
 */
export function parseAllocation(raw: unknown, field = 'allocation.'): Allocation {
  const o = obj(raw, field.slice(0, -1));
  const mode = o.mode;
  if (!isModeName(mode)) throw new InvalidInputError(`${field}mode`, `unknown mode ${quote(mode)}`);
  const bandwidth = o.bandwidth === undefined ? undefined : parseBandwidth(o.bandwidth, `${field}bandwidth.`);
  const common = {
    ip: parseIp(str(o, 'ip', field), `${field}ip`),
    subnet: parseCidr(str(o, 'subnet', field), `${field}subnet`),
    mtu: int(o, 'mtu', field, 68, 65_535),
    ...(bandwidth !== undefined ? { bandwidth } : {}),
  };
  switch (mode) {
    case 'vpc':
      return { mode, ...common };
    case 'veth-policy-routing':
      if (o.eni === undefined) throw new InvalidInputError(`${field}eni`, 'required in veth-policy-routing mode');
      return { mode, ...common, eni: parseEni(o.eni, `${field}eni.`) };
    case 'ipvlan':
      for (const k of ['eni', 'eniMac', 'hostIp']) if (o[k] === undefined) throw new InvalidInputError(`${field}${k}`, 'required in ipvlan mode');
      return {
        mode,
        ...common,
        eni: parseEni(o.eni, `${field}eni.`),
        eniMac: parseMac(str(o, 'eniMac', field), `${field}eniMac`),
        hostIp: parseIp(str(o, 'hostIp', field), `${field}hostIp`),
      };
    case 'eni':
      for (const k of ['eni', 'hostIp', 'serviceCidrs']) if (o[k] === undefined) throw new InvalidInputError(`${field}${k}`, 'required in eni mode');
      return {
        mode,
        ...common,
        eni: parseExclusiveEni(o.eni, `${field}eni.`),
        hostIp: parseIp(str(o, 'hostIp', field), `${field}hostIp`),
        serviceCidrs: cidrList(o, 'serviceCidrs', field),
        hostStackCidrs: o.hostStackCidrs === undefined ? [] : cidrList(o, 'hostStackCidrs', field),
      };
  }
}

/**
 * Narrows an allocation to the mode a dataplane plans for. A mismatch is a bug in the caller (the registry picks the
 * dataplane by `alloc.mode`).
 */
export function allocationFor<M extends ModeName>(alloc: Allocation, mode: M): AllocationOf<M> {
  if (alloc.mode !== mode) throw new InternalError(`a ${alloc.mode} allocation given to the ${mode} dataplane`);
  return alloc as AllocationOf<M>;
}
