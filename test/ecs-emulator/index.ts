/**
 * An ECS OpenAPI + instance-metadata emulator for the test suite (never shipped): one region, a VPC with vSwitches,
 * instance types with their ENI/IP quotas, the node's instance (its primary ENI), access keys and an instance RAM
 * role. Start it, point the real SDK at `api.endpoint` (`protocol: 'http'`) and the metadata client at
 * `metadata.url`.
 */
import { randomBytes } from 'node:crypto';
import { MetadataServer } from './metadata.js';
import { EcsApiServer } from './server.js';
import { EcsState, type Instance, type InstanceTypeSpec } from './state.js';

export { EcsApiServer } from './server.js';
export type { CallRecord } from './server.js';
export { MetadataServer } from './metadata.js';
export { EcsState, UNATTACHED_SECONDARY_MAX } from './state.js';
export type { Eni, EniStatus, HostLinkHook, Instance, InstanceTypeSpec, VSwitch } from './state.js';
export { EcsApiError, ECS_ERRORS } from './errors.js';
export type { EcsErrorCode } from './errors.js';
export { netnsHostLinks } from './host-links.js';

/** A few real instance types (reference §4.4; the g6 figures as Aliyun's instance family table lists them). */
export const INSTANCE_TYPES: readonly InstanceTypeSpec[] = [
  { id: 'ecs.g6.large', family: 'ecs.g6', cpu: 2, memoryGiB: 8, eniQuantity: 2, eniPrivateIpAddressQuantity: 6, eniIpv6AddressQuantity: 1, eniTotalQuantity: 3, eniTrunkSupported: true },
  { id: 'ecs.g6.xlarge', family: 'ecs.g6', cpu: 4, memoryGiB: 16, eniQuantity: 3, eniPrivateIpAddressQuantity: 10, eniIpv6AddressQuantity: 1, eniTotalQuantity: 6, eniTrunkSupported: true },
  { id: 'ecs.g6.2xlarge', family: 'ecs.g6', cpu: 8, memoryGiB: 32, eniQuantity: 4, eniPrivateIpAddressQuantity: 10, eniIpv6AddressQuantity: 1, eniTotalQuantity: 14, eniTrunkSupported: true },
  { id: 'ecs.g6.4xlarge', family: 'ecs.g6', cpu: 16, memoryGiB: 64, eniQuantity: 8, eniPrivateIpAddressQuantity: 20, eniIpv6AddressQuantity: 1, eniTotalQuantity: 30, eniTrunkSupported: true },
  { id: 'ecs.xn4.small', family: 'ecs.xn4', cpu: 1, memoryGiB: 1, eniQuantity: 2, eniPrivateIpAddressQuantity: 2, eniIpv6AddressQuantity: 0, eniTotalQuantity: 2, eniTrunkSupported: false },
];

export interface EmulatorOptions {
  readonly regionId?: string;
  readonly zoneId?: string;
  /** vSwitches of the node's zone (the first holds the node); default two /24s. */
  readonly vswitches?: readonly { id: string; cidr: string; zoneId?: string }[];
  readonly instanceType?: string;
  readonly instanceTypes?: readonly InstanceTypeSpec[];
}

export interface Credentials {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
}

export class EcsEmulator {
  private stsCounter = 0;
  /** Every STS credential the RAM role handed out (tests grep logs for them). */
  readonly issuedSts: { readonly accessKeyId: string; readonly accessKeySecret: string; readonly securityToken: string }[] = [];

  private constructor(
    readonly state: EcsState,
    readonly api: EcsApiServer,
    readonly metadata: MetadataServer,
    readonly node: Instance,
    /** A static access key the API accepts. */
    readonly credentials: Credentials,
  ) {}

  static async start(o: EmulatorOptions = {}): Promise<EcsEmulator> {
    const regionId = o.regionId ?? 'cn-hangzhou';
    const zoneId = o.zoneId ?? `${regionId}-i`;
    const state = new EcsState(regionId);
    for (const t of o.instanceTypes ?? INSTANCE_TYPES) state.instanceTypes.set(t.id, t);
    const vsws = o.vswitches ?? [
      { id: 'vsw-node0000000000000001', cidr: '192.168.10.0/24' },
      { id: 'vsw-node0000000000000002', cidr: '192.168.11.0/24' },
    ];
    for (const v of vsws) state.addVSwitch({ id: v.id, cidr: v.cidr, zoneId: v.zoneId ?? zoneId, vpcId: 'vpc-emulated00000000001' });
    const node = state.addInstance({ type: o.instanceType ?? 'ecs.g6.xlarge', vSwitchId: vsws[0]?.id ?? '' });
    const api = await EcsApiServer.start(state);
    const metadata = await MetadataServer.start(state, node.id);
    const credentials = { accessKeyId: `LTAI${randomBytes(10).toString('hex')}`, accessKeySecret: randomBytes(15).toString('base64url') };
    api.addAccessKey({ id: credentials.accessKeyId, secret: credentials.accessKeySecret });
    const emu = new EcsEmulator(state, api, metadata, node, credentials);
    return emu;
  }

  /** Gives the node an instance RAM role whose STS credentials expire after `ttlMs`. */
  grantRamRole(name: string, ttlMs = 3600_000): void {
    this.metadata.ramRole = {
      name,
      issue: () => {
        const c = {
          accessKeyId: `STS.${randomBytes(8).toString('hex')}${String(this.stsCounter++)}`,
          accessKeySecret: randomBytes(15).toString('base64url'),
          securityToken: `CAIS${randomBytes(32).toString('base64url')}`,
          expiration: new Date(Date.now() + ttlMs),
        };
        this.issuedSts.push(c);
        this.api.addAccessKey({ id: c.accessKeyId, secret: c.accessKeySecret, securityToken: c.securityToken, expiresAt: c.expiration.getTime() });
        return c;
      },
    };
  }

  async close(): Promise<void> {
    this.state.close();
    await Promise.all([this.api.close(), this.metadata.close()]);
  }
}
