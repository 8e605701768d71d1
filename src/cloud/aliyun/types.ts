/**
 * The Aliyun provider's narrow cloud interface (what the pool asks of ECS) and its instance-metadata client. The
 * implementations live beside this file: ecs-client.ts (on @alicloud/ecs20140526 through sdk.ts, the only importer
 * of the SDK) and metadata.ts. Errors are the typed errors of src/lib/errors.ts, carrying the Aliyun code
 * (errors.ts: `aliyunErrorOf`).
 */
import type { Cidr, IpAddr, MacAddr } from '../../lib/brand.js';

export type EniStatus = 'Available' | 'Attaching' | 'InUse' | 'Detaching' | 'Deleting';
export type EniType = 'Primary' | 'Secondary' | 'Trunk';

/** Most secondary addresses one AssignPrivateIpAddresses / UnassignPrivateIpAddresses call may carry. */
export const MAX_IPS_PER_CALL = 10;

export interface EniInfo {
  readonly id: string;
  readonly mac: MacAddr;
  readonly status: EniStatus;
  readonly type: EniType;
  /** The instance it is attached to (also while Attaching/Detaching). */
  readonly instanceId?: string;
  readonly deviceIndex?: number;
  readonly vSwitchId: string;
  readonly vpcId: string;
  readonly zoneId: string;
  readonly primaryIp: IpAddr;
  /** Every private IPv4 address, the primary first. */
  readonly privateIps: readonly IpAddr[];
  readonly securityGroupIds: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
}

/** An ENI attached and usable on this instance: InUse, listed by the metadata service with all its addresses. */
export interface AttachedEni extends EniInfo {
  readonly gateway: IpAddr;
  readonly vSwitchCidr: Cidr;
}

export interface CreateEniRequest {
  readonly vSwitchId: string;
  /** 1..10 security groups. */
  readonly securityGroupIds: readonly string[];
  /** Private IPv4 addresses including the ENI's primary one (1..10; Terway's count semantics). */
  readonly ipCount: number;
  readonly trunk?: boolean;
  readonly tags?: Readonly<Record<string, string>>;
  readonly resourceGroupId?: string;
  readonly description?: string;
  /**
   * The caller's own ClientToken (the warm pool journals it before the call, so the same logical request made again
   * after a crash is de-duplicated by ECS too); without one the client keeps tokens itself (Terway's LRU).
   */
  readonly clientToken?: string;
}

export interface DescribeEnisFilter {
  readonly ids?: readonly string[];
  readonly instanceId?: string;
  readonly vSwitchId?: string;
  readonly type?: EniType;
  readonly status?: EniStatus;
  readonly tags?: Readonly<Record<string, string>>;
}

/** Terway's limits of an instance type (reference terway.md §7.1). */
export interface InstanceCapacity {
  readonly instanceType: string;
  /** EniQuantity, the primary ENI included. */
  readonly adapters: number;
  /** EniPrivateIpAddressQuantity: private IPv4 addresses per ENI, its primary included. */
  readonly ipv4PerAdapter: number;
  readonly ipv6PerAdapter: number;
  /** Trunk member ENIs (EniTotalQuantity − EniQuantity; 0 without trunk support). */
  readonly memberAdapterLimit: number;
  readonly maxMemberAdapterLimit: number;
  readonly eriQuantity: number;
}

/** The ECS calls of the Aliyun provider. Every call is rate limited, retried with backoff on throttling, internal
 * and network errors, idempotent (ClientToken) where ECS allows, and waits for asynchronous results. */
export interface AliyunEniCloud {
  /** CreateNetworkInterface (status Available). On a failure after which the ENI may exist, the error says so. */
  createEni(req: CreateEniRequest, signal?: AbortSignal): Promise<EniInfo>;
  /** AttachNetworkInterface to this instance, then waits until it is InUse and the metadata service lists its MAC and addresses. */
  attachEni(eniId: string, signal?: AbortSignal): Promise<AttachedEni>;
  /** DetachNetworkInterface, then waits until Available; an ENI already gone or detached counts as success. */
  detachEni(eniId: string, signal?: AbortSignal): Promise<void>;
  /** DeleteNetworkInterface (must be Available); an ENI already gone counts as success. */
  deleteEni(eniId: string, signal?: AbortSignal): Promise<void>;
  /** DescribeNetworkInterfaces, every page. */
  describeEnis(filter: DescribeEnisFilter, signal?: AbortSignal): Promise<EniInfo[]>;
  /**
   * AssignPrivateIpAddresses: `count` new secondary addresses or the explicit ones (≤ MAX_IPS_PER_CALL); when the ENI
   * is on this instance, waits until the metadata service lists them.
   */
  /** `clientToken`: as in CreateEniRequest. */
  assignIps(eniId: string, want: ({ readonly count: number } | { readonly ips: readonly IpAddr[] }) & { readonly clientToken?: string }, signal?: AbortSignal): Promise<IpAddr[]>;
  /** UnassignPrivateIpAddresses (≤ MAX_IPS_PER_CALL); already unassigned or ENI gone = success; waits until metadata drops them. */
  unassignIps(eniId: string, ips: readonly IpAddr[], signal?: AbortSignal): Promise<void>;
  /** DescribeInstanceTypes for this instance's type (or the given one), cached. */
  instanceTypeCapacity(instanceType?: string, signal?: AbortSignal): Promise<InstanceCapacity>;
}

/** One ENI as the instance metadata service sees it. */
export interface MetadataEni {
  readonly mac: MacAddr;
  readonly eniId: string;
  readonly vSwitchId: string;
  readonly vSwitchCidr: Cidr;
  readonly gateway: IpAddr;
  readonly primaryIp: IpAddr;
  readonly privateIps: readonly IpAddr[];
  readonly netmask: IpAddr;
}

/** STS credentials of the instance RAM role. */
export interface RoleCredentials {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken: string;
  readonly expiration: Date;
}

/** The ECS instance metadata service (http://100.100.100.200 by default; token access). */
export interface MetadataClient {
  instanceId(signal?: AbortSignal): Promise<string>;
  instanceType(signal?: AbortSignal): Promise<string>;
  regionId(signal?: AbortSignal): Promise<string>;
  zoneId(signal?: AbortSignal): Promise<string>;
  vpcId(signal?: AbortSignal): Promise<string>;
  /** The vSwitch of the primary ENI. */
  vSwitchId(signal?: AbortSignal): Promise<string>;
  /** The primary ENI's MAC. */
  primaryMac(signal?: AbortSignal): Promise<MacAddr>;
  /** MACs of the ENIs the instance has now. */
  macs(signal?: AbortSignal): Promise<MacAddr[]>;
  eni(mac: MacAddr, signal?: AbortSignal): Promise<MetadataEni>;
  /** The instance RAM role's name (undefined: none). */
  ramRole(signal?: AbortSignal): Promise<string | undefined>;
  roleCredentials(role: string, signal?: AbortSignal): Promise<RoleCredentials>;
}
