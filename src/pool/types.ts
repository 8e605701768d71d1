/**
 * The pool's view of a cloud: an asynchronous, mode-agnostic factory of ENIs and their private IPs. The Aliyun
 * provider (src/cloud/aliyun) and the local provider (src/cloud/local) implement it; the pool (./pool.ts) is the
 * only caller. Every call that creates something carries a client token the factory passes to the cloud, so a
 * retried call (same token) never creates twice.
 */
import type { Cidr, IfName, IpAddr, MacAddr } from '../lib/brand.js';
import type { VSwitchView } from './plan.js';

/** An ENI as the node uses it: found on the host by its MAC. */
export interface EniResource {
  readonly id: string;
  readonly mac: MacAddr;
  readonly vSwitchId: string;
  /** The vSwitch CIDR and gateway (pods of this ENI use them). */
  readonly cidr: Cidr;
  readonly gateway: IpAddr;
  readonly primaryIp: IpAddr;
  /** Every private IP of the ENI, primary included. */
  readonly ips: readonly IpAddr[];
  /** Its host link name when known (local provider: configured; cloud: found by MAC). */
  readonly link?: IfName;
}

export interface FactoryLimits {
  readonly maxEnis: number;
  readonly ipsPerEni: number;
}

/** What a failed cloud call means for the pool. */
export type FailureKind =
  /** The vSwitch has no address left, or the account's IP quota is reached: try another vSwitch; inhibit this one. */
  | 'vswitch-exhausted'
  /** The instance has all the ENIs it may have, or the ENI all its IPs: inhibit that ENI / ENI creation. */
  | 'eni-quota'
  /** Throttled, internal, network: retried later. */
  | 'transient'
  /** Anything else (permissions, bad config): reported, retried after a long pause. */
  | 'fatal';

export interface ResourceFactory {
  readonly name: string;
  limits(): Promise<FactoryLimits>;
  vSwitches(): Promise<readonly VSwitchView[]>;
  /** The ENIs the pool owns now (at start: what the cloud and the instance metadata say). */
  listEnis(): Promise<readonly EniResource[]>;
  /** Creates an ENI with `count` private IPs (primary included), attaches it and waits until the node sees it. */
  createEni(vSwitchId: string, count: number, token: string): Promise<EniResource>;
  /** Adds `count` secondary IPs to an ENI and waits until the node sees them. */
  assignIps(eniId: string, count: number, token: string): Promise<readonly IpAddr[]>;
  /** NotFound / already unassigned count as success. */
  unassignIps(eniId: string, ips: readonly IpAddr[]): Promise<void>;
  /** Detaches and deletes; NotFound counts as success. */
  deleteEni(eniId: string): Promise<void>;
  classify(err: unknown): FailureKind;
  /** The finer cause of a failure for people (`throttled`, `vswitch-ip-exhausted`, …); absent: the kind says it all. */
  cause?(err: unknown): string | undefined;
  /**
   * What the node sees of these ENIs now (a cloud: the instance metadata service's private IPs by MAC): ENI id → its
   * IPs, undefined when the node does not list it. Absent: the factory has no view besides its own (no periodic sync).
   */
  nodeView?(enis: readonly EniResource[]): Promise<ReadonlyMap<string, readonly IpAddr[] | undefined>>;
}

/** One cloud operation, journalled before it is made (crash safety: completed or rolled back at start). */
export interface PoolOperation {
  readonly id: string;
  readonly kind: 'create-eni' | 'assign' | 'unassign' | 'delete-eni';
  readonly eniId?: string;
  readonly vSwitchId?: string;
  readonly count?: number;
  readonly ips?: readonly IpAddr[];
  /** The client token of create/assign: the same operation retried after a crash creates nothing twice. */
  readonly token?: string;
  readonly startedAt: number;
}

/** Where the pool records its ENIs and in-flight operations (the daemon's store). */
export interface PoolJournal {
  begin(op: PoolOperation): void;
  end(id: string): void;
  pending(): readonly PoolOperation[];
  saveEnis(enis: readonly EniResource[]): void;
  loadEnis(): readonly EniResource[];
}

/** Why an allocation is waiting (an event for its pod). */
export interface WaitNotice {
  readonly what: string;
}
