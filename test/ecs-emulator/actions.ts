/**
 * The ECS actions: request parameters (PascalCase, lists flattened as `Name.N`) → response body (PascalCase, the
 * shapes of @alicloud/ecs20140526's models), or an EcsApiError. ClientToken idempotency lives in server.ts.
 */
import { EcsApiError } from './errors.js';
import type { EcsState, Eni, EniStatus, EniType } from './state.js';

export type Params = Readonly<Record<string, string>>;
export type Body = Record<string, unknown>;

/** `Name.1`, `Name.2`, … in order. */
export function listParam(p: Params, name: string): string[] {
  const out: [number, string][] = [];
  for (const [k, v] of Object.entries(p)) {
    const m = new RegExp(`^${name.replace('.', '\\.')}\\.(\\d+)$`, 'u').exec(k);
    if (m !== null) out.push([Number(m[1]), v]);
  }
  return out.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

function tagParams(p: Params): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) {
    const m = /^Tag\.(\d+)\.Key$/u.exec(k);
    if (m !== null) tags[v] = p[`Tag.${m[1] ?? ''}.Value`] ?? '';
  }
  return tags;
}

function required(p: Params, name: string): string {
  const v = p[name];
  if (v === undefined || v === '') throw new EcsApiError(400, `Missing${name}`, `The input parameter "${name}" that is mandatory for processing this request is not supplied.`);
  return v;
}

function intParam(p: Params, name: string, min: number, max: number): number | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new EcsApiError(400, `InvalidParameter.${name}`, `The specified parameter "${name}" is not valid (${v}; ${String(min)}..${String(max)}).`);
  return n;
}

function checkRegion(s: EcsState, p: Params): void {
  const r = required(p, 'RegionId');
  if (r !== s.regionId) throw new EcsApiError(400, 'InvalidRegionId.NotFound', `The specified RegionId does not exist. (${r})`);
}

export function eniBody(e: Eni): Body {
  const primary = e.ips.find((x) => x.primary)?.ip ?? '';
  return {
    NetworkInterfaceId: e.id,
    Status: e.status,
    Type: e.type,
    InstanceId: e.instanceId ?? '',
    MacAddress: e.mac,
    PrivateIpAddress: primary,
    PrivateIpSets: { PrivateIpSet: e.ips.map((x) => ({ PrivateIpAddress: x.ip, Primary: x.primary, PrivateDnsName: '' })) },
    Ipv6Sets: { Ipv6Set: [] },
    Ipv4PrefixSets: { Ipv4PrefixSet: [] },
    Ipv6PrefixSets: { Ipv6PrefixSet: [] },
    VSwitchId: e.vSwitchId,
    VpcId: e.vpcId,
    ZoneId: e.zoneId,
    SecurityGroupIds: { SecurityGroupId: [...e.securityGroupIds] },
    Tags: { Tag: Object.entries(e.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) },
    ...(e.instanceId === undefined ? {} : { Attachment: { InstanceId: e.instanceId, DeviceIndex: e.deviceIndex ?? 0, NetworkCardIndex: 0 } }),
    CreationTime: e.creationTime,
    DeleteOnRelease: false,
    Description: e.description,
    NetworkInterfaceName: e.name,
    NetworkInterfaceTrafficMode: 'Standard',
    ResourceGroupId: '',
    ServiceManaged: false,
    SourceDestCheck: false,
    OwnerId: '1234567890123456',
  };
}

const ENI_STATUSES: readonly EniStatus[] = ['Available', 'Attaching', 'InUse', 'Detaching', 'Deleting'];
const ENI_TYPES: readonly EniType[] = ['Primary', 'Secondary', 'Trunk'];

export const ACTIONS: Readonly<Record<string, (s: EcsState, p: Params) => Body>> = {
  CreateNetworkInterface(s, p) {
    checkRegion(s, p);
    const vSwitchId = required(p, 'VSwitchId');
    const sgs = [...(p.SecurityGroupId === undefined ? [] : [p.SecurityGroupId]), ...listParam(p, 'SecurityGroupIds')];
    if (sgs.length === 0) throw new EcsApiError(400, 'MissingSecurityGroupId', 'The input parameter "SecurityGroupId" or "SecurityGroupIds" that is mandatory for processing this request is not supplied.');
    if (sgs.length > 10) throw new EcsApiError(400, 'InvalidParameter.SecurityGroupIds', 'At most 10 security groups.');
    const type = p.InstanceType ?? 'Secondary';
    if (type !== 'Secondary' && type !== 'Trunk') throw new EcsApiError(400, 'InvalidParameter.InstanceType', `The specified InstanceType is not valid (${type}).`);
    const explicit = listParam(p, 'PrivateIpAddress');
    const count = intParam(p, 'SecondaryPrivateIpAddressCount', 1, 49) ?? 0;
    if (explicit.length > 0 && count > 0) throw new EcsApiError(400, 'InvalidParameter.Conflict', 'PrivateIpAddress.N and SecondaryPrivateIpAddressCount are mutually exclusive.');
    const eni = s.newEni({
      vSwitchId,
      type,
      securityGroupIds: sgs,
      tags: tagParams(p),
      description: p.Description ?? '',
      name: p.NetworkInterfaceName ?? '',
      ...(p.PrimaryIpAddress === undefined ? {} : { primaryIp: p.PrimaryIpAddress }),
      secondaryIps: explicit,
      secondaryCount: count,
    });
    const b = eniBody(eni);
    return {
      NetworkInterfaceId: eni.id,
      Status: eni.status,
      Type: eni.type,
      VpcId: eni.vpcId,
      VSwitchId: eni.vSwitchId,
      ZoneId: eni.zoneId,
      PrivateIpAddress: b.PrivateIpAddress,
      MacAddress: eni.mac,
      PrivateIpSets: { PrivateIpSet: eni.ips.map((x) => ({ PrivateIpAddress: x.ip, Primary: x.primary })) },
      Ipv6Sets: { Ipv6Set: [] },
      SecurityGroupIds: b.SecurityGroupIds,
      Tags: b.Tags,
      Description: eni.description,
      NetworkInterfaceName: eni.name,
      OwnerId: '1234567890123456',
      ResourceGroupId: '',
      ServiceManaged: false,
      SourceDestCheck: false,
    };
  },

  AttachNetworkInterface(s, p) {
    checkRegion(s, p);
    s.attach(required(p, 'NetworkInterfaceId'), required(p, 'InstanceId'));
    return {};
  },

  DetachNetworkInterface(s, p) {
    checkRegion(s, p);
    s.detach(required(p, 'NetworkInterfaceId'), required(p, 'InstanceId'));
    return {};
  },

  DeleteNetworkInterface(s, p) {
    checkRegion(s, p);
    s.delete(required(p, 'NetworkInterfaceId'));
    return {};
  },

  DescribeNetworkInterfaces(s, p) {
    checkRegion(s, p);
    const ids = listParam(p, 'NetworkInterfaceId');
    const ips = listParam(p, 'PrivateIpAddress');
    const tags = tagParams(p);
    const status = p.Status;
    if (status !== undefined && !ENI_STATUSES.includes(status as EniStatus)) throw new EcsApiError(400, 'InvalidParameter.Status', `The specified Status is not valid (${status}).`);
    const type = p.Type;
    if (type !== undefined && !ENI_TYPES.includes(type as EniType)) throw new EcsApiError(400, 'InvalidParameter.Type', `The specified Type is not valid (${type}).`);
    const all = [...s.enis.values()].filter(
      (e) =>
        (ids.length === 0 || ids.includes(e.id)) &&
        (p.InstanceId === undefined || e.instanceId === p.InstanceId) &&
        (p.VSwitchId === undefined || e.vSwitchId === p.VSwitchId) &&
        (p.VpcId === undefined || e.vpcId === p.VpcId) &&
        (p.PrimaryIpAddress === undefined || e.ips.some((x) => x.primary && x.ip === p.PrimaryIpAddress)) &&
        (ips.length === 0 || e.ips.some((x) => ips.includes(x.ip))) &&
        (status === undefined || e.status === status) &&
        (type === undefined || e.type === type) &&
        (p.NetworkInterfaceName === undefined || e.name === p.NetworkInterfaceName) &&
        Object.entries(tags).every(([k, v]) => e.tags[k] === v),
    );
    all.sort((a, b) => a.creationTime.localeCompare(b.creationTime) || a.id.localeCompare(b.id));
    if (p.MaxResults !== undefined || p.NextToken !== undefined) {
      const max = intParam(p, 'MaxResults', 10, 500) ?? 10;
      const from = p.NextToken === undefined || p.NextToken === '' ? 0 : Number(Buffer.from(p.NextToken, 'base64url').toString());
      if (!Number.isInteger(from) || from < 0) throw new EcsApiError(400, 'InvalidParameter.NextToken', 'The specified NextToken is not valid.');
      const page = all.slice(from, from + max);
      const next = from + max < all.length ? Buffer.from(String(from + max)).toString('base64url') : '';
      return { NextToken: next, TotalCount: all.length, NetworkInterfaceSets: { NetworkInterfaceSet: page.map(eniBody) } };
    }
    const num = intParam(p, 'PageNumber', 1, 1_000_000) ?? 1;
    const size = intParam(p, 'PageSize', 1, 1000) ?? 10;
    const page = all.slice((num - 1) * size, num * size);
    return { TotalCount: all.length, PageNumber: num, PageSize: size, NetworkInterfaceSets: { NetworkInterfaceSet: page.map(eniBody) } };
  },

  AssignPrivateIpAddresses(s, p) {
    checkRegion(s, p);
    const eniId = required(p, 'NetworkInterfaceId');
    const explicit = listParam(p, 'PrivateIpAddress');
    const count = intParam(p, 'SecondaryPrivateIpAddressCount', 1, 10);
    if (explicit.length > 10) throw new EcsApiError(400, 'InvalidParameter.PrivateIpAddress', 'At most 10 private IP addresses per call.');
    if ((count === undefined) === (explicit.length === 0)) throw new EcsApiError(400, 'InvalidParameter', 'Exactly one of PrivateIpAddress.N and SecondaryPrivateIpAddressCount is required.');
    const ips = s.assign(eniId, count ?? 0, explicit);
    return { AssignedPrivateIpAddressesSet: { NetworkInterfaceId: eniId, PrivateIpSet: { PrivateIpAddress: ips }, Ipv4PrefixSet: { Ipv4Prefixes: [] } } };
  },

  UnassignPrivateIpAddresses(s, p) {
    checkRegion(s, p);
    const ips = listParam(p, 'PrivateIpAddress');
    if (ips.length === 0) throw new EcsApiError(400, 'MissingPrivateIpAddress', 'The input parameter "PrivateIpAddress" that is mandatory for processing this request is not supplied.');
    if (ips.length > 10) throw new EcsApiError(400, 'InvalidParameter.PrivateIpAddress', 'At most 10 private IP addresses per call.');
    s.unassign(required(p, 'NetworkInterfaceId'), ips);
    return {};
  },

  DescribeInstanceTypes(s, p) {
    const want = listParam(p, 'InstanceTypes');
    const types = [...s.instanceTypes.values()].filter((t) => want.length === 0 || want.includes(t.id)).filter((t) => p.InstanceTypeFamily === undefined || t.family === p.InstanceTypeFamily);
    return {
      NextToken: '',
      InstanceTypes: {
        InstanceType: types.map((t) => ({
          InstanceTypeId: t.id,
          InstanceTypeFamily: t.family,
          CpuCoreCount: t.cpu,
          MemorySize: t.memoryGiB,
          EniQuantity: t.eniQuantity,
          EniPrivateIpAddressQuantity: t.eniPrivateIpAddressQuantity,
          EniIpv6AddressQuantity: t.eniIpv6AddressQuantity,
          EniTotalQuantity: t.eniTotalQuantity,
          EniTrunkSupported: t.eniTrunkSupported,
          EriQuantity: 0,
          NetworkCardQuantity: 1,
          NetworkCards: { NetworkCardInfo: [{ NetworkCardIndex: 0 }] },
        })),
      },
    };
  },
};

/** An action name the emulator does not know: the gateway's answer. */
export function unknownAction(action: string): EcsApiError {
  return new EcsApiError(404, 'InvalidAction.NotFound', `Specified api is not found, please check your url and method. (${action})`);
}
