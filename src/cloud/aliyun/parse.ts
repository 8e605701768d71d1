/** Readers of the ECS responses (camelCase plain data from sdk.ts) into this folder's types; defensive at the boundary. */
import { parseIp, type IpAddr, type MacAddr } from '../../lib/brand.js';
import { UnavailableError } from '../../lib/errors.js';
import type { PlainObject } from './sdk.js';
import type { EniInfo, EniStatus, EniType, InstanceCapacity } from './types.js';

const STATUSES: readonly EniStatus[] = ['Available', 'Attaching', 'InUse', 'Detaching', 'Deleting'];
const TYPES: readonly EniType[] = ['Primary', 'Secondary', 'Trunk'];

export function obj(v: unknown): PlainObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as PlainObject) : {};
}
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function int(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

export function parseEni(raw: unknown, action: string): EniInfo {
  const o = obj(raw);
  const id = str(o.networkInterfaceId);
  const mac = str(o.macAddress).toLowerCase();
  if (!id.startsWith('eni-') || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/u.test(mac)) throw new UnavailableError(`ECS ${action}: malformed network interface in the answer (id ${JSON.stringify(id)})`);
  const status = str(o.status) as EniStatus;
  const type = str(o.type) as EniType;
  const sets = arr(obj(o.privateIpSets).privateIpSet).map(obj);
  const primaryIp = parseIp(str(o.privateIpAddress) || str(sets.find((s) => s.primary === true)?.privateIpAddress), `ECS ${action} ${id} PrivateIpAddress`);
  const others = sets.map((s) => str(s.privateIpAddress)).filter((ip) => ip !== '' && ip !== primaryIp);
  const attachment = obj(o.attachment);
  const instanceId = str(o.instanceId) || str(attachment.instanceId);
  const tags: Record<string, string> = {};
  for (const t of arr(obj(o.tags).tag).map(obj)) tags[str(t.tagKey)] = str(t.tagValue);
  return {
    id,
    mac: mac as MacAddr,
    status: STATUSES.includes(status) ? status : 'Available',
    type: TYPES.includes(type) ? type : 'Secondary',
    ...(instanceId === '' ? {} : { instanceId }),
    ...(typeof attachment.deviceIndex === 'number' ? { deviceIndex: attachment.deviceIndex } : {}),
    vSwitchId: str(o.vSwitchId),
    vpcId: str(o.vpcId),
    zoneId: str(o.zoneId),
    primaryIp,
    privateIps: [primaryIp, ...others.map((ip, i) => parseIp(ip, `ECS ${action} ${id} PrivateIpSet[${String(i)}]`))],
    securityGroupIds: arr(obj(o.securityGroupIds).securityGroupId).map(str),
    tags,
  };
}

export function parseAssigned(body: PlainObject, action: string): IpAddr[] {
  const set = obj(obj(body.assignedPrivateIpAddressesSet).privateIpSet);
  return arr(set.privateIpAddress).map((ip, i) => parseIp(str(ip), `ECS ${action} PrivateIpAddress[${String(i)}]`));
}

/** Terway's formulas (limit.go): member ENIs only with trunk support; max member = EniTotalQuantity − 2. */
export function parseCapacity(raw: unknown): InstanceCapacity {
  const o = obj(raw);
  const trunk = o.eniTrunkSupported === true;
  const total = int(o.eniTotalQuantity);
  const adapters = int(o.eniQuantity);
  return {
    instanceType: str(o.instanceTypeId),
    adapters,
    ipv4PerAdapter: int(o.eniPrivateIpAddressQuantity),
    ipv6PerAdapter: int(o.eniIpv6AddressQuantity),
    memberAdapterLimit: trunk ? Math.max(0, total - adapters) : 0,
    maxMemberAdapterLimit: trunk ? Math.max(0, total - 2) : 0,
    eriQuantity: int(o.eriQuantity),
  };
}
