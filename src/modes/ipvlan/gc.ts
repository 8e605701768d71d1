/**
 * GC's proof that a host link is ipvlan's host slave: named `ipvl_<N>`, its lower device (in the host netns) has
 * ifindex N, and it has that device's MAC (an ipvlan slave shares its parent's; a macvlan or a renamed veth does not).
 * Node state: never deleted by GC; its `/32` routes are the mode's (an orphan when no lease explains the IP).
 */
import type { HostLinkFacts, LinkClaim } from '../types.js';
import { ifindexOfHostSlave } from './layout.js';

export function claimHostSlave(link: HostLinkFacts): LinkClaim | undefined {
  const n = ifindexOfHostSlave(link.name);
  if (n === undefined || link.parent === undefined) return undefined;
  return link.parent.ifindex === n && link.parent.mac !== '' && link.parent.mac === link.mac ? { role: 'node', kind: 'link' } : undefined;
}
