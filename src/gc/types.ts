/** Data of a GC pass: what the planner is given (facts already gathered) and what it decides. Pure types. */
import type { Lease } from '../store/lease.js';
import type { Dataplane, NodeFacts } from '../modes/types.js';
import type { Plan } from '../netlink/ops.js';
import type { ObservedState } from '../netlink/state.js';
import type { AttachmentKey } from '../rpc/protocol.js';

export type LeaseKey = AttachmentKey;

/** What the pod check said about a lease's pod: in the informer (or the API), confirmed absent, or undecided. */
export type PodStatus = 'present' | 'gone' | 'unknown';

/** The host state GC reads (host namespace only). */
export type HostView = Pick<ObservedState, 'links' | 'routes' | 'rules'>;

export interface GcInput {
  readonly now: Date;
  readonly node: NodeFacts;
  readonly leases: readonly Lease[];
  /** By lease id (`containerId/ifName`); absent = not checked (no pod source, no pod name, or a young lease). */
  readonly podStatus: ReadonlyMap<string, PodStatus>;
  /** Lease ids whose netns path no longer exists. */
  readonly netnsGone: ReadonlySet<string>;
  readonly host: HostView;
  /** Leases younger than this are left alone (an ADD in flight: lease written, host side not yet). */
  readonly graceMs: number;
  /** Host object key → when it was first seen unexplained (ms since epoch), from earlier passes. */
  readonly orphanSince: ReadonlyMap<string, number>;
  /** An unexplained host object is deleted only once it has been seen unexplained for this long. */
  readonly orphanGraceMs: number;
  /** When set, only policy rules and /32 routes for IPs inside these CIDRs can be the hub's. */
  readonly podCidrs?: readonly string[];
  /** Whose proofs make a host object the hub's (Dataplane.gc); default every registered dataplane. */
  readonly dataplanes?: readonly Dataplane[];
}

export type GcAction = 'release' | 'keep' | 'skip' | 'delete' | 'wait';

export interface GcReason {
  /** `lease c1/eth0`, `veth cali0123456789a`, `rule 512 to 10.0.0.5/32`, ... */
  readonly subject: string;
  readonly action: GcAction;
  readonly why: string;
}

/** A host object no lease explains, seen in this pass. */
export interface OrphanCandidate {
  readonly key: string;
  readonly subject: string;
}

export interface GcCounts {
  readonly leases: number;
  readonly released: number;
  readonly podGone: number;
  readonly netnsGone: number;
  readonly keptUnconfirmed: number;
  readonly skippedYoung: number;
  readonly veths: number;
  readonly rules: number;
  readonly routes: number;
  readonly ifbs: number;
  readonly orphansWaiting: number;
}

export interface GcPlan {
  /** Leases to release, each after the host plan ran (their host side is in it). */
  readonly release: readonly LeaseKey[];
  readonly hostPlan: Plan;
  readonly reasons: readonly GcReason[];
  /** Every unexplained host object of this pass (deleted or still waiting), for the next pass's orphanSince. */
  readonly orphans: readonly OrphanCandidate[];
  readonly counts: GcCounts;
}
