/**
 * The narrow slice of a cloud provider the daemon needs today. The Aliyun adapter (ENI create/attach/assign)
 * will grow this; the local provider (embedded default) answers from the node's config.
 */
import type { Cidr } from '../lib/brand.js';
import type { EniFacts, ModeName, NodeLocalFacts } from '../modes/types.js';
import type { EniResource, ResourceFactory } from '../pool/types.js';
import type { AddressSet } from '../ipam/range.js';

/** What the provider reads from the node: the input of the mode's node plan (Dataplane.planNode). */
export type LocalFacts = NodeLocalFacts;

/** Where pod addresses come from. */
export interface IpSource {
  /** The subnet the addresses belong to (podCIDR or vSwitch CIDR): its prefix goes into the CNI result. */
  readonly subnet: Cidr;
  readonly addresses: AddressSet;
}

export interface CloudProvider {
  readonly name: string;
  readonly mode: ModeName;
  /** Facts read from the node now (async: cloud providers ask the metadata service). */
  localFacts(): Promise<LocalFacts>;
  ipSource(): IpSource;
  /**
   * Whether the node can run this provider's mode (ipvlan: the kernel's ipvlan driver). Throws ConfigError naming
   * what is missing; the daemon calls it before switching to the provider, so a refused config leaves the last good
   * one in force.
   */
  verify(): Promise<void>;
  /**
   * The cloud behind the warm pool, in the ENI modes (src/pool). `known` are the addresses the node held before this
   * start (leases, reservations, the pool's saved ENIs). `key` identifies it: a mode switch between providers with
   * the same key keeps the pool.
   */
  readonly factory?: { readonly key: string; create(known: () => ReadonlySet<string>): ResourceFactory };
  /** The host link facts of an ENI the pool granted from (found by its MAC); absent: the node's one ENI (localFacts). */
  eniFactsOf?(eni: EniResource): Promise<EniFacts>;
}
