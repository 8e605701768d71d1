/** The dataplane seam: every mode is a pure planner from (pod, allocation, node facts) to plans. */
import type { Cidr, IfName, IpAddr, NetnsPath } from '../lib/brand.js';
import type { PodIdentity } from '../lib/veth-name.js';
import type { BandwidthSpec } from '../bandwidth/types.js';
import type { Plan } from '../netlink/ops.js';

export const MODE_NAMES = ['vpc', 'veth-policy-routing'] as const;
export type ModeName = (typeof MODE_NAMES)[number];

export function isModeName(raw: unknown): raw is ModeName {
  return typeof raw === 'string' && (MODE_NAMES as readonly string[]).includes(raw);
}

/** What the runtime told us about the attachment. */
export interface PodNetworkSpec {
  readonly pod: PodIdentity;
  readonly containerId: string;
  readonly netns: NetnsPath;
  readonly ifName: IfName;
}

/** An ENI as the node sees it (local provider: a configured link). */
export interface EniFacts {
  readonly link: IfName; // host link name of the ENI
  readonly ifindex: number;
  readonly gateway: IpAddr; // vSwitch gateway
  readonly table: number; // 1000 + ifindex
}

/** What the daemon allocated for the attachment. */
export interface Allocation {
  readonly mode: ModeName;
  readonly ip: IpAddr;
  /** Prefix of the subnet the IP came from (podCIDR or vSwitch CIDR): for the CNI result. */
  readonly subnet: Cidr;
  readonly mtu: number;
  /** Present for ENI-backed modes. */
  readonly eni?: EniFacts;
  /**
   * Pod bandwidth limits. The daemon sets it from the pod's annotations (src/bandwidth/annotations.ts); the plugin
   * merges CNI `runtimeConfig.bandwidth` over it per direction before planning.
   */
  readonly bandwidth?: BandwidthSpec;
}

export interface NodeFacts {
  readonly vethPrefix: string;
}

/**
 * Whether a teardown may remove the host objects named after the pod (the host veth, which Felix finds by that
 * name). Every sandbox of a pod gets the same names, and an ADD removes a stale object of its name before building
 * its own, so removing them by name is safe only when nothing newer can hold them:
 *  - `owned`: the pod netns is gone and the daemon knows no newer sandbox of the pod: removed by name.
 *  - `via-netns`: the pod netns still exists: the teardown goes through it (the pod end; the host end and its /32
 *    route die with it, as in Calico) and never touches a host name, which a newer sandbox's ADD may rebuild at any
 *    moment between the daemon's answer and the teardown.
 *  - `superseded`: a newer sandbox holds them (the daemon said so on Lookup): left alone.
 *  - `unknown`: the daemon is unreachable: left alone too; a vanished netns took the pair with it; GC sweeps the rest.
 * The attachment's own objects (its IP's rules and route, its ifb, its pod-side link) are removed in every case.
 */
export type HostNames = 'owned' | 'via-netns' | 'superseded' | 'unknown';

export interface Dataplane {
  readonly mode: ModeName;
  /** Host veth name for the pod (what Felix expects). */
  hostIfName(spec: PodNetworkSpec, node: NodeFacts): IfName;
  /** Ordered ops that build the pod's network. */
  planSetup(spec: PodNetworkSpec, alloc: Allocation, node: NodeFacts): Plan;
  /**
   * Ops that remove what planSetup built. Works without the allocation (only deterministic names are then
   * known) and without the pod netns (the caller keeps only host ops then). `hostNames` defaults to `owned`.
   */
  planTeardown(spec: PodNetworkSpec, alloc: Allocation | undefined, node: NodeFacts, hostNames?: HostNames): Plan;
}

/** The gateway address every veth pod routes through (answered by a static neighbour entry). */
export const LINK_LOCAL_GW = '169.254.1.1' as IpAddr;
export const RULE_PRIO_TO_POD = 512;
export const RULE_PRIO_FROM_POD = 2048;
export const ENI_TABLE_BASE = 1000;
