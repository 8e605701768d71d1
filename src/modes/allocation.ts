/**
 * The one parser of `Allocation` (RPC messages both ways, lease store rows): the common fields, then the mode's
 * variant. Throws InvalidInputError naming the field (dotted path). Pure.
 */
import { parseCidr, parseIfName, parseIp, parseMac } from '../lib/brand.js';
import { InternalError, InvalidInputError } from '../lib/errors.js';
import { quote } from '../lib/text.js';
import type { BandwidthSpec, RateLimit } from '../bandwidth/types.js';
import { isModeName, type Allocation, type AllocationOf, type EniFacts, type ModeName } from './types.js';
import { int, obj, str } from '../lib/validate/input-fields.js';


export function parseEni(raw: unknown, field: string): EniFacts {
  const o = obj(raw, field.slice(0, -1));
  return {
    link: parseIfName(str(o, 'link', field), `${field}link`),
    ifindex: int(o, 'ifindex', field, 1, 2 ** 31 - 1),
    gateway: parseIp(str(o, 'gateway', field), `${field}gateway`),
    table: int(o, 'table', field, 1, 2 ** 32 - 1),
  };
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
