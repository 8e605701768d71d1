/**
 * The daemon's answers to the operator's `pool` and `mapping` calls, from its live views: the pools
 * (./pool-keeper.ts), the lease store, and the kernel observed at call time (./mapping.ts compares them).
 */
import type { HostView } from '../gc/types.js';
import type { MappingReply, PoolEntryReply, PoolReply } from '../rpc/operator-protocol.js';
import type { Lease } from '../store/lease.js';
import { compareMapping } from './mapping.js';

export interface OperatorViews {
  readonly mode: () => string;
  readonly pools: () => readonly PoolEntryReply[];
  readonly leases: () => readonly Lease[];
  readonly vethPrefix: () => string;
  readonly observeHost?: (signal?: AbortSignal) => Promise<HostView>;
}

export function operatorSources(v: OperatorViews): { readonly pool: () => PoolReply; readonly mapping: (signal: AbortSignal) => Promise<MappingReply> } {
  return {
    pool: () => ({ mode: v.mode(), pools: v.pools() }),
    mapping: async (signal) => {
      // the kernel first, then the store and the pools: a lease made meanwhile shows as missing its kernel state
      // rather than a kernel route as missing its lease
      const host = v.observeHost === undefined ? undefined : await v.observeHost(signal);
      return compareMapping({ leases: v.leases(), host, pools: v.pools(), node: { vethPrefix: v.vethPrefix() } });
    },
  };
}
