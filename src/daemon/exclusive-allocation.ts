/**
 * The exclusive-ENI part of an allocation (`EniAllocation`, src/modes/types.ts): the granted ENI (its id, MAC, host
 * link found by MAC, vSwitch gateway; its primary IP is the grant's IP) and the node facts every pod carries (host IP,
 * service CIDRs, host-stack CIDRs). Pure; parsed with the rest by parseAllocation.
 */
import { InternalError } from '../lib/errors.js';
import type { ExclusiveNodeFacts } from '../modes/types.js';
import type { Grant } from '../pool/source.js';

export function exclusiveFields(grant: Grant, node: ExclusiveNodeFacts): Record<string, unknown> {
  const e = grant.eni;
  if (e?.link === undefined) throw new InternalError(`eni mode: the grant of ${grant.ip} names no ENI host link`);
  return {
    eni: { id: e.id, mac: e.mac, link: e.link, gateway: e.gateway },
    hostIp: node.hostIp,
    serviceCidrs: node.serviceCidrs,
    hostStackCidrs: node.hostStackCidrs,
  };
}
