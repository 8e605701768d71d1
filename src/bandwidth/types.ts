/** Pod bandwidth limits (issue 4). Pure types, shared by the daemon, the plugin, the planners and GC. */

/** One direction's token bucket: rate in bits/s, burst in bits (the CNI `bandwidth` capability's units). */
export interface RateLimit {
  readonly rateBps: number;
  readonly burstBits: number;
}

/** `ingress` = traffic INTO the pod, `egress` = traffic OUT of the pod. An absent direction is unshaped. */
export interface BandwidthSpec {
  readonly ingress?: RateLimit;
  readonly egress?: RateLimit;
}

export type Direction = 'ingress' | 'egress';

/** True when no direction is shaped. */
export function isEmptySpec(spec: BandwidthSpec | undefined): boolean {
  return spec === undefined || (spec.ingress === undefined && spec.egress === undefined);
}

export function sameLimit(a: RateLimit | undefined, b: RateLimit | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.rateBps === b.rateBps && a.burstBits === b.burstBits;
}

export function sameSpec(a: BandwidthSpec | undefined, b: BandwidthSpec | undefined): boolean {
  return sameLimit(a?.ingress, b?.ingress) && sameLimit(a?.egress, b?.egress);
}
