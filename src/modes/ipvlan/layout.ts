/**
 * ipvlan's names and constants (Terway §2.3): the host slave `ipvl_<ENI ifindex>` and the prefs of the service
 * redirect filters on the ENI's clsact egress hook.
 */
import type { IfName } from '../../lib/brand.js';
import type { EniFacts } from '../types.js';

export const HOST_SLAVE_PREFIX = 'ipvl_';

/**
 * The prefs of the redirect filters: one per CIDR, from Terway's 40000 on. The node plan deletes every pref of the
 * range before adding the current ones, so a CIDR dropped from the config loses its filter (Terway's cleanup looked
 * at 4000 while it added at 40000, and stale filters stayed forever).
 */
export const REDIRECT_PREF_BASE = 40000;
export const MAX_REDIRECTS = 16;

/** `ipvl_<ifindex>`: ≤ 15 bytes for every ifindex (5 + at most 10 digits). */
export function hostSlaveName(eni: Pick<EniFacts, 'ifindex'>): IfName {
  return `${HOST_SLAVE_PREFIX}${String(eni.ifindex)}` as IfName;
}

/** The ENI ifindex a host slave name encodes, or undefined when the name is not of that form. */
export function ifindexOfHostSlave(name: string): number | undefined {
  const m = /^ipvl_([1-9]\d{0,9})$/u.exec(name);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}
