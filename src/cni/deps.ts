/** What the verbs need from the outside, as structural types (real adapters are built in src/main/cni.ts). */
import type { IpAddr } from '../lib/brand.js';
import type { PendingRelease } from '../lib/pending-release.js';
import type { Logger } from '../lib/log.js';
import type { Dataplane, ModeName, NodeFacts, PodNetworkSpec } from '../modes/types.js';
import type { LinkOverride } from '../netlink/diff.js';
import type { Plan } from '../netlink/ops.js';
import type { HubRpc } from '../rpc/protocol.js';
import type { NetworkConflist } from '../lib/conflist-file.js';
import type { NetConf } from './config.js';

/** Structurally the netlink executor (src/netlink/executor.ts). */
export interface PlanExecutor {
  /** Applies in order; on failure rolls back what took effect and throws. */
  apply(plan: Plan, signal?: AbortSignal): Promise<{ readonly applied: number }>;
  /** Best effort; what is already gone counts as removed. */
  teardown(plan: Plan, signal?: AbortSignal): Promise<{ readonly errors: readonly string[] }>;
}

/** Structurally src/netlink/probe.ts. */
export interface PlanProbe {
  /** A readable line per planned effect that is absent; empty when everything is in place. */
  missing(plan: Plan, signal?: AbortSignal, overrides?: readonly LinkOverride[]): Promise<readonly string[]>;
}

export interface PendingRecorder {
  record(rec: PendingRelease): Promise<void>;
}

export interface CniDeps {
  /** The daemon client, or a factory given the parsed config (socket, timeout). */
  readonly rpc: HubRpc | ((config: NetConf) => HubRpc);
  readonly executor: PlanExecutor;
  readonly probe: PlanProbe;
  readonly dataplanes: (mode: ModeName) => Dataplane;
  /** Leftovers of an attachment whose allocation is unknown: every mode's (the pod link, 512/2048 rules and ipvlan's /32 routes for `ips`, ifbs). */
  readonly planOrphanTeardown: (spec: PodNetworkSpec, node: NodeFacts, ips: readonly IpAddr[]) => Plan;
  readonly pending: PendingRecorder;
  /** DEL: whether pod-side teardown can enter the path (src/lib/netns-check.ts netnsUsable). */
  readonly netnsExists: (path: string) => Promise<boolean>;
  /** ADD/CHECK, before any RPC: why the path is not a usable netns (missing, a regular file...), or undefined. */
  readonly netnsProblem: (path: string) => Promise<string | undefined>;
  /**
   * ADD, only when about to shape: the conflist of network `name` in a conf dir (src/lib/conflist-file.ts, loaded
   * lazily by src/main/cni.ts), undefined when none is found.
   */
  readonly readNetworkConflist: (dir: string, name: string) => Promise<NetworkConflist | undefined>;
  readonly log: Logger;
  readonly now?: () => Date;
}

export function rpcOf(deps: CniDeps, config: NetConf): HubRpc {
  return typeof deps.rpc === 'function' ? deps.rpc(config) : deps.rpc;
}
