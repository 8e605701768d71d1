/** The real SDK pointed at the emulator, for the emulator's own tests. */
import ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import type { EcsEmulator } from './index.js';

export type EcsSdk = InstanceType<typeof ecs.default>;
export const Ecs = ecs;

export function sdkFor(emu: EcsEmulator, o: { v2?: boolean; secret?: string; keyId?: string; securityToken?: string; readTimeout?: number } = {}): EcsSdk {
  return new ecs.default(
    new $OpenApiUtil.Config({
      accessKeyId: o.keyId ?? emu.credentials.accessKeyId,
      accessKeySecret: o.secret ?? emu.credentials.accessKeySecret,
      ...(o.securityToken === undefined ? {} : { securityToken: o.securityToken }),
      regionId: emu.state.regionId,
      endpoint: emu.api.endpoint,
      protocol: 'http',
      ...(o.v2 === true ? { signatureAlgorithm: 'v2' } : {}),
      ...(o.readTimeout === undefined ? {} : { readTimeout: o.readTimeout }),
    }),
  );
}
