/**
 * The only importer of @alicloud/ecs20140526 (and its @alicloud/openapi-core config): one ECS action per call, no
 * SDK retries (the caller retries), request fields in the SDK models' camelCase, the response body back as a plain
 * camelCase object. One SDK client per credential set (RAM-role credentials rotate). Kept out of the plugin's import
 * graph (the layering lint and test/unit/lint/plugin-bundle.test.ts).
 */
import ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import type { AccessCredentials } from './credentials.js';

export type EcsAction =
  | 'CreateNetworkInterface'
  | 'AttachNetworkInterface'
  | 'DetachNetworkInterface'
  | 'DeleteNetworkInterface'
  | 'DescribeNetworkInterfaces'
  | 'AssignPrivateIpAddresses'
  | 'UnassignPrivateIpAddresses'
  | 'DescribeInstanceTypes';

export type PlainObject = Record<string, unknown>;

/** Runs one ECS action; throws the SDK's error (ClientError/ServerError/ThrottlingError with `data`) or a transport error. */
export type EcsTransport = (action: EcsAction, request: Readonly<PlainObject>, creds: AccessCredentials) => Promise<PlainObject>;

export interface SdkOptions {
  readonly regionId: string;
  /** `host[:port]`; default: the SDK's regional endpoint (`ecs.<region>.aliyuncs.com`, …). */
  readonly endpoint?: string;
  /** `https` (default) or `http` (a local emulator). */
  readonly protocol?: 'http' | 'https';
  /** `ACS3-HMAC-SHA256` (default) or the legacy RPC `v2` (HMAC-SHA1). */
  readonly signatureAlgorithm?: 'ACS3-HMAC-SHA256' | 'v2';
  readonly readTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
}

type Client = InstanceType<typeof ecs.default>;

/** `tag: [{ key, value }]` as plain data (the SDK needs its tag models to flatten them as `Tag.N.Key`). */
function tags(r: Readonly<PlainObject>): { key: string; value: string }[] {
  return Array.isArray(r.tag) ? (r.tag as { key: string; value: string }[]) : [];
}

const CALLS: { readonly [A in EcsAction]: (c: Client, r: Readonly<PlainObject>) => Promise<{ body?: unknown }> } = {
  CreateNetworkInterface: (c, r) => c.createNetworkInterface(new ecs.CreateNetworkInterfaceRequest({ ...r, tag: tags(r).map((t) => new ecs.CreateNetworkInterfaceRequestTag(t)) })),
  AttachNetworkInterface: (c, r) => c.attachNetworkInterface(new ecs.AttachNetworkInterfaceRequest(r)),
  DetachNetworkInterface: (c, r) => c.detachNetworkInterface(new ecs.DetachNetworkInterfaceRequest(r)),
  DeleteNetworkInterface: (c, r) => c.deleteNetworkInterface(new ecs.DeleteNetworkInterfaceRequest(r)),
  DescribeNetworkInterfaces: (c, r) => c.describeNetworkInterfaces(new ecs.DescribeNetworkInterfacesRequest({ ...r, tag: tags(r).map((t) => new ecs.DescribeNetworkInterfacesRequestTag(t)) })),
  AssignPrivateIpAddresses: (c, r) => c.assignPrivateIpAddresses(new ecs.AssignPrivateIpAddressesRequest(r)),
  UnassignPrivateIpAddresses: (c, r) => c.unassignPrivateIpAddresses(new ecs.UnassignPrivateIpAddressesRequest(r)),
  DescribeInstanceTypes: (c, r) => c.describeInstanceTypes(new ecs.DescribeInstanceTypesRequest(r)),
};

export function createSdkTransport(o: SdkOptions): EcsTransport {
  let current: { key: string; client: Client } | undefined;
  const clientFor = (c: AccessCredentials): Client => {
    const key = `${c.accessKeyId}\0${c.securityToken ?? ''}\0${c.accessKeySecret}`;
    if (current?.key === key) return current.client;
    const client = new ecs.default(
      new $OpenApiUtil.Config({
        accessKeyId: c.accessKeyId,
        accessKeySecret: c.accessKeySecret,
        ...(c.securityToken === undefined ? {} : { securityToken: c.securityToken }),
        regionId: o.regionId,
        ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }),
        ...(o.protocol === undefined ? {} : { protocol: o.protocol }),
        ...(o.signatureAlgorithm === undefined || o.signatureAlgorithm === 'ACS3-HMAC-SHA256' ? {} : { signatureAlgorithm: o.signatureAlgorithm }),
        readTimeout: o.readTimeoutMs ?? 10_000,
        connectTimeout: o.connectTimeoutMs ?? 5_000,
        userAgent: 'terway-hub',
      }),
    );
    current = { key, client };
    return client;
  };
  return async (action, request, creds) => {
    const res = await CALLS[action](clientFor(creds), request);
    // the SDK's response models → plain camelCase data
    return JSON.parse(JSON.stringify(res.body ?? {})) as PlainObject;
  };
}
