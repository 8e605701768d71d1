/**
 * The periodic sync of the pool with what the node sees (a cloud provider: the instance metadata service's private
 * IPs of each ENI, by MAC) — pure. Per ENI the pool holds and nothing is changing (no assign, unassign or delete in
 * flight):
 *  - a leased IP the node no longer lists is invalid: its pod keeps an address the cloud took back (reported, its
 *    pod must be re-created; the lease stays until its DEL);
 *  - an idle IP the node no longer lists is dropped from the pool (never handed out);
 *  - an IP the node lists that the pool does not know (an assign whose reply was lost, a hand-made assignment) is
 *    adopted as idle (reported).
 * An ENI the node does not list at all is left for the next round (detached under our feet, or the metadata service
 * lagging): only its leased IPs are reported invalid.
 */
import type { IpAddr } from '../lib/brand.js';

export interface SyncEniView {
  readonly id: string;
  readonly ips: readonly IpAddr[];
  readonly leased: ReadonlySet<IpAddr>;
  /** An operation on it is under way (its IPs are changing). */
  readonly busy: boolean;
}

export interface SyncDecision {
  readonly invalid: readonly { readonly eniId: string; readonly ip: IpAddr }[];
  readonly dropped: readonly { readonly eniId: string; readonly ip: IpAddr }[];
  readonly adopted: readonly { readonly eniId: string; readonly ips: readonly IpAddr[] }[];
}

/** `seen`: ENI id → the IPs the node lists for it now; undefined (or absent): the node does not list the ENI. */
export function planSync(pool: readonly SyncEniView[], seen: ReadonlyMap<string, readonly IpAddr[] | undefined>): SyncDecision {
  const invalid: { eniId: string; ip: IpAddr }[] = [];
  const dropped: { eniId: string; ip: IpAddr }[] = [];
  const adopted: { eniId: string; ips: IpAddr[] }[] = [];
  for (const e of pool) {
    if (e.busy) continue;
    const listed = seen.get(e.id);
    if (listed === undefined) {
      for (const ip of e.leased) invalid.push({ eniId: e.id, ip });
      continue;
    }
    const now = new Set(listed);
    for (const ip of e.ips) {
      if (now.has(ip)) continue;
      if (e.leased.has(ip)) invalid.push({ eniId: e.id, ip });
      else dropped.push({ eniId: e.id, ip });
    }
    const known = new Set(e.ips);
    const extra = listed.filter((ip) => !known.has(ip));
    if (extra.length > 0) adopted.push({ eniId: e.id, ips: extra });
  }
  return { invalid, dropped, adopted };
}
