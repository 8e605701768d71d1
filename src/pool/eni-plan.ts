/**
 * The exclusive-ENI pool's decisions, pure (Terway's ENIOnly mode: the same `min_pool_size` / `max_pool_size`,
 * counted in ENIs). Each pod gets a whole secondary ENI (its primary IP is the pod IP), so the pool keeps whole
 * idle ENIs warm instead of IPs:
 *  - refill: waiting allocations + min idle − (idle + being created) new ENIs, each with one IP (its primary), on
 *    the vSwitch with the most free addresses that is not inhibited, while the instance type allows (maxEnis: the
 *    ENIs the node holds, leased, idle, set aside or on their way, never exceed it);
 *  - shrink: idle ENIs above max idle (or above min idle once idle reclaim is due) are detached and deleted, the
 *    most recently released first (those idle longest are handed out first, so their addresses have aged out of
 *    peers' ARP and conntrack caches). Nothing is deleted while allocations wait or ENIs are being created.
 * The runtime (./eni-pool.ts) executes the actions and plans again when anything changes.
 */
import { pickVSwitch, type PoolAction, type VSwitchView } from './plan.js';

export interface EniPoolLimits {
  /** `min_pool_size`, `max_pool_size`: idle ENIs kept at least / at most. */
  readonly minIdle: number;
  readonly maxIdle: number;
  /** Secondary ENIs this instance may have (⌊Adapters × eni_cap_ratio⌋ + eni_cap_shift − 1, capped by max_eni). */
  readonly maxEnis: number;
}

export interface EniSlotView {
  readonly id: string;
  /** Free for a pod now (not leased, not being deleted, not set aside). */
  readonly idle: boolean;
  /** When it became idle (epoch ms); the shrink deletes the most recent first. */
  readonly idleSince?: number;
}

export interface EniPoolSnapshot {
  readonly now: number;
  /** Every ENI the pool holds (leased, idle, being deleted, set aside). */
  readonly enis: readonly EniSlotView[];
  /** ENIs being created now. */
  readonly creating: number;
  readonly vSwitches: readonly VSwitchView[];
  /** Allocations waiting for an ENI now. */
  readonly waiting: number;
  /** `idle_ip_reclaim_after` passed without pool changes: shrink to min idle. */
  readonly reclaimDue: boolean;
}

const idleCount = (s: EniPoolSnapshot): number => s.enis.filter((e) => e.idle).length;

/** ENIs to create now (one IP each), for what waits and the min idle, within the instance's ENI capacity. */
export function planEniRefill(limits: EniPoolLimits, s: EniPoolSnapshot): readonly PoolAction[] {
  const minIdle = Math.min(limits.minIdle, limits.maxIdle);
  const want = s.waiting + minIdle - idleCount(s) - s.creating;
  const room = limits.maxEnis - s.enis.length - s.creating;
  const n = Math.min(want, room);
  if (n <= 0) return [];
  const vsw = pickVSwitch(s.vSwitches, s.now);
  if (vsw === undefined) return [];
  return Array.from({ length: n }, (): PoolAction => ({ kind: 'create-eni', vSwitchId: vsw.id, count: 1 }));
}

/** Idle ENIs to delete now: those above max idle (min idle when reclaim is due); none while demand is pending. */
export function planEniShrink(limits: EniPoolLimits, s: EniPoolSnapshot): readonly PoolAction[] {
  if (s.waiting > 0 || s.creating > 0) return [];
  const keep = s.reclaimDue ? Math.min(limits.minIdle, limits.maxIdle) : limits.maxIdle;
  const idle = s.enis.filter((e) => e.idle);
  const excess = idle.length - keep;
  if (excess <= 0) return [];
  return idle
    .sort((a, b) => (b.idleSince ?? 0) - (a.idleSince ?? 0) || a.id.localeCompare(b.id))
    .slice(0, excess)
    .map((e): PoolAction => ({ kind: 'delete-eni', eniId: e.id }));
}
