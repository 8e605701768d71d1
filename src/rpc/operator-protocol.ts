/**
 * The operator's `pool` and `mapping` calls (CLI → daemon, never the plugin): their messages. Routes are in
 * ./protocol.ts (ROUTES), parsers in ./operator-messages.ts.
 */
import type { PoolDetail, PoolEniDetail } from '../pool/pool.js';

/** `terway-hub pool`. */
export type PoolRequest = Record<string, never>;

/** One ENI as the pool sees it (the pool's own detail is the wire shape). */
export type PoolEniReply = PoolEniDetail;

export interface PoolEntryReply extends PoolDetail {
  readonly key: string;
  /** The pool's counters (src/pool/pool.ts PoolStats). */
  readonly stats: Readonly<Record<string, number>>;
}

export interface PoolReply {
  readonly mode: string;
  /** Empty when the mode keeps no pool (vpc: a static address set). */
  readonly pools: readonly PoolEntryReply[];
}

/** `terway-hub mapping`. */
export type MappingRequest = Record<string, never>;

export type MismatchKind = 'lease-without-kernel' | 'kernel-without-lease' | 'ip-not-on-eni' | 'ip-leased-twice';

export interface MappingEntry {
  /** `namespace/name` (namespace empty for a pod-less attachment: the container id). */
  readonly pod: string;
  readonly containerId: string;
  readonly ifName: string;
  readonly ip: string;
  readonly mode: string;
  /** The pool's ENI holding the IP (absent: none, or the mode has no pool). */
  readonly eni?: string;
  /** The lease's host objects (links, routes) all present in the kernel. */
  readonly kernel: boolean;
}

export interface Mismatch {
  readonly kind: MismatchKind;
  /** One sentence naming the pod / IP / ENI / route. */
  readonly detail: string;
}

export interface MappingReply {
  readonly entries: readonly MappingEntry[];
  readonly mismatches: readonly Mismatch[];
  /** What could not be compared (no host observation, a mode without a pool). */
  readonly notes: readonly string[];
}
