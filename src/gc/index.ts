/** Garbage collection of leases and of the hub's host leftovers. */
export { createGarbageCollector, DEFAULT_GC_INTERVAL_MS, DEFAULT_LEASE_GRACE_MS, DEFAULT_ORPHAN_GRACE_MS } from './collector.js';
export type { GarbageCollector, GarbageCollectorDeps, GcResult } from './collector.js';
export { confirmGoneVia, isFinished, type ConfirmGone, type PodCache } from './facts.js';
export { isHubVeth } from '../modes/common/veth-dataplane.js';
export { planGc } from './plan.js';
export type { GcCounts, GcInput, GcPlan, GcReason, HostView, LeaseKey, PodStatus } from './types.js';
export { gcComponent, netnsPresent, type GcComponentOptions, type GcHost } from './component.js';
