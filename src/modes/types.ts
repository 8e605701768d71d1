/**
 * The dataplane seam: every mode is a pure planner from (pod, allocation, node facts) to plans, plus what the CNI
 * result, bandwidth shaping and GC need to know about its attachments. A mode is one folder under src/modes and
 * one line in ./registry.ts; its allocation is one variant of `Allocation` below (parsed by ./allocation.ts).
 */
import type { Cidr, IfName, IpAddr, MacAddr, NetnsPath } from '../lib/brand.js';
import type { PodIdentity } from '../lib/veth-name.js';
import type { BandwidthSpec } from '../bandwidth/types.js';
import type { Plan } from '../netlink/ops.js';

export const MODE_NAMES = ['vpc', 'veth-policy-routing', 'ipvlan', 'eni'] as const;
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

/** What every allocation carries, whatever the mode. */
interface AllocationCommon {
  readonly ip: IpAddr;
  /** Prefix of the subnet the IP came from (podCIDR or vSwitch CIDR). */
  readonly subnet: Cidr;
  readonly mtu: number;
  /**
   * Pod bandwidth limits. The daemon sets it from the pod's annotations (src/bandwidth/annotations.ts); the plugin
   * merges CNI `runtimeConfig.bandwidth` over it per direction before planning.
   */
  readonly bandwidth?: BandwidthSpec;
}

/** VPC route mode: an IP of the node's podCIDR, no ENI. */
export interface VpcAllocation extends AllocationCommon {
  readonly mode: 'vpc';
}

/** ENI multi-IP with veth + policy routing: a secondary IP of `eni`. */
export interface VethPolicyRoutingAllocation extends AllocationCommon {
  readonly mode: 'veth-policy-routing';
  readonly eni: EniFacts;
}

/**
 * ENI multi-IP with ipvlan L2 (Terway §2.3): a secondary IP of `eni`, on an ipvlan slave of it in the pod. The pod
 * reaches the node at `hostIp` (on the host slave `ipvl_<eni.ifindex>`) through a PERMANENT neighbour pointing at
 * `eniMac`, the MAC every slave of the ENI shares.
 */
export interface IpvlanAllocation extends AllocationCommon {
  readonly mode: 'ipvlan';
  readonly eni: EniFacts;
  readonly eniMac: MacAddr;
  readonly hostIp: IpAddr;
}

/** A dedicated ENI as the daemon hands it to one pod (exclusive ENI). */
export interface ExclusiveEniFacts {
  /** The cloud's ENI id (`eni-…`): logs and errors. */
  readonly id: string;
  /** Its MAC: the plugin moves the host link only when it has it (src/netlink/move-guard.ts). */
  readonly mac: MacAddr;
  /** Its host link name now (the daemon finds it by MAC; after a DEL it is the neutral name, src/modes/eni/layout.ts). */
  readonly link: IfName;
  /** The vSwitch gateway. */
  readonly gateway: IpAddr;
}

/**
 * Exclusive ENI (Terway §2.4): the ENI itself moved into the pod as CNI_IFNAME with the pod IP (its primary IP,
 * `subnet` = the vSwitch CIDR), and a veth side-car through which the pod reaches `hostIp`, the service CIDRs and
 * `hostStackCidrs` via the host stack.
 */
export interface EniAllocation extends AllocationCommon {
  readonly mode: 'eni';
  readonly eni: ExclusiveEniFacts;
  /** The node's own IP, routed through the side-car. */
  readonly hostIp: IpAddr;
  /** Service CIDR(s) (kube-proxy's on the host), routed through the side-car. */
  readonly serviceCidrs: readonly Cidr[];
  /** eni-config `host_stack_cidrs`, routed through the side-car. */
  readonly hostStackCidrs: readonly Cidr[];
}

/**
 * What the daemon allocated for the attachment: a union by mode (each mode's variant here, its parsing in
 * ./allocation.ts). Parsed at every boundary (RPC, lease store).
 */
export type Allocation = VpcAllocation | VethPolicyRoutingAllocation | IpvlanAllocation | EniAllocation;
export type AllocationOf<M extends ModeName> = Extract<Allocation, { readonly mode: M }>;

/** What the plugin knows about the node (from the conflist the daemon wrote). */
export interface NodeFacts {
  readonly vethPrefix: string;
}

/** What the daemon knows about the node at start (from its provider): input of a mode's node-level plan. */
export interface NodeLocalFacts {
  /** The ENI pods are routed through (ENI-backed modes only). */
  readonly eni?: EniFacts;
  /** ipvlan only: what its node plan and its allocations need besides the ENI. */
  readonly ipvlan?: IpvlanNodeFacts;
  /** eni (exclusive ENI) only: what every allocation carries besides its own ENI. */
  readonly exclusive?: ExclusiveNodeFacts;
}

/** The node-wide part of an `EniAllocation`: what pods reach through their side-car veth. */
export type ExclusiveNodeFacts = Pick<EniAllocation, 'hostIp' | 'serviceCidrs' | 'hostStackCidrs'>;

export interface IpvlanNodeFacts {
  /** The ENI's MAC (every ipvlan slave of it shares it). */
  readonly eniMac: MacAddr;
  /** The node's own IP (Terway: the primary ENI's address), put on the host slave as /32 scope host. */
  readonly hostIp: IpAddr;
  /** Destinations pods reach through the host stack (service CIDR, then `host_stack_cidrs`): redirected at the ENI's egress. */
  readonly redirectCidrs: readonly Cidr[];
  /** MTU of the host slave (the pods' MTU). */
  readonly mtu: number;
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

/** One interface of the CNI result, in the order the result lists them. */
export interface ResultLink {
  readonly name: IfName;
  readonly mac: MacAddr;
  /** The pod netns for a link inside it; absent for a host link. */
  readonly sandbox?: NetnsPath;
  /** Reported (CNI ≥ 1.1.0) only where the mode sets it. */
  readonly mtu?: number;
}

/**
 * What the CNI result needs from a setup: the interfaces in order, which one carries the IP, the address with its
 * prefix (/32 for the veth modes and exclusive ENI, the vSwitch prefix for ipvlan), the gateway and the routes.
 * src/cni/result.ts only formats it per cniVersion.
 */
export interface AttachmentResult {
  readonly interfaces: readonly ResultLink[];
  readonly ips: readonly {
    /** Index into `interfaces`. */
    readonly interface: number;
    readonly address: Cidr;
    readonly gateway: IpAddr;
  }[];
  readonly routes: readonly { readonly dst: Cidr; readonly gw?: IpAddr }[];
}

export interface SetupOutcome {
  /** Ordered ops that build the pod's network (CHECK diffs the same plan against the kernel). */
  readonly plan: Plan;
  readonly result: AttachmentResult;
}

/** Where an attachment's shaping lives (see ./common/bandwidth.ts for the tc layout of each). */
export type ShapingTarget =
  | {
      /** Host veth (vpc, veth-policy-routing): everything in the host namespace. */
      readonly kind: 'host-veth';
      readonly hostIf: IfName;
      readonly ifb: IfName;
      readonly mtu: number;
    }
  | {
      /** The pod owns its link (exclusive ENI, ipvlan): everything inside the pod netns. */
      readonly kind: 'pod-link';
      readonly netns: NetnsPath;
      readonly podIf: IfName;
      readonly ifb: IfName;
      readonly mtu: number;
    };

/** Host objects one attachment owns: what GC must never take for an orphan while its lease lives. */
export interface AttachmentFootprint {
  /** Host links named for the attachment (host veth, host ifb). */
  readonly links: readonly IfName[];
  /** `dst dev` routes in the main table (the pod's /32). */
  readonly routes: readonly { readonly dst: Cidr; readonly dev: IfName }[];
  /** IPs whose hub policy rules (see `claimRule`) belong to the attachment. */
  readonly ruleIps: readonly IpAddr[];
}

/** A host link as GC sees it. */
export interface HostLinkFacts {
  readonly name: string;
  readonly mac: string;
  /** Its lower device in the host netns (an ipvlan's parent), when it has one. */
  readonly parent?: { readonly ifindex: number; readonly mac: string };
}

/**
 * A host link a mode proves to be its own: `attachment` links (a pod's host veth, an ifb) are orphans when no lease
 * explains them; `node` links (ipvlan's `ipvl_<ifindex>`) are node state, never deleted by GC, whose /32 routes are
 * the mode's. `kind` is what GC reports and counts (`veth`, `ifb`, …).
 */
export interface LinkClaim {
  readonly role: 'attachment' | 'node';
  readonly kind: 'veth' | 'ifb' | 'link';
}

/** A host rule as GC sees it (canonical CIDRs; table `main` or a number as text). */
export interface HostRuleFacts {
  readonly priority: number;
  readonly from?: string;
  readonly to?: string;
  readonly table: string;
}

/** GC's view of a mode: what an attachment owns and how to prove a host object is the mode's own. */
export interface GcFootprint {
  attachment(spec: PodNetworkSpec, node: NodeFacts, alloc: Allocation): AttachmentFootprint;
  /** Whether a host link is provably this mode's (name pattern AND a planner-chosen MAC, never the name alone). */
  claimLink(link: HostLinkFacts, node: NodeFacts): LinkClaim | undefined;
  /** The pod IP a host rule is about, when the rule is one this mode plans; undefined otherwise. */
  claimRule(rule: HostRuleFacts): IpAddr | undefined;
}

export interface Dataplane {
  readonly mode: ModeName;
  /** Ordered ops that build the pod's network, and what the CNI result reports about it. */
  planSetup(spec: PodNetworkSpec, alloc: Allocation, node: NodeFacts): SetupOutcome;
  /**
   * Ops that remove what planSetup built. Works without the allocation (only deterministic names are then
   * known) and without the pod netns (the caller keeps only host ops then). `hostNames` defaults to `owned`.
   */
  planTeardown(spec: PodNetworkSpec, alloc: Allocation | undefined, node: NodeFacts, hostNames?: HostNames): Plan;
  /**
   * Cleanup when the daemon is unreachable (DEL): neither the mode nor the allocation is known, only the IPs of
   * prevResult. Must be safe to run for an attachment of ANOTHER mode (the plugin runs every mode's, see
   * registry.planOrphanTeardown): deletes that miss count as success, and nothing named after the pod is
   * removed on the host (HostNames `unknown`).
   */
  planOrphanTeardown(spec: PodNetworkSpec, node: NodeFacts, ips: readonly IpAddr[]): Plan;
  /** Node state the daemon ensures at start (and on a mode switch): sysctls, the ENI table, ipvlan's host slave. */
  planNode(node: NodeFacts, local: NodeLocalFacts): Plan;
  /** Where the attachment's bandwidth shaping lives (live updates re-plan against it). */
  shapingTarget(spec: PodNetworkSpec, node: NodeFacts, alloc: Allocation): ShapingTarget;
  readonly gc: GcFootprint;
}

/** The gateway address every veth pod routes through (answered by a static neighbour entry). */
export const LINK_LOCAL_GW = '169.254.1.1' as IpAddr;
export const RULE_PRIO_TO_POD = 512;
export const RULE_PRIO_FROM_POD = 2048;
export const ENI_TABLE_BASE = 1000;
