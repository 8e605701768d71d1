/**
 * The Aliyun provider against the ECS emulator (real SDK, signatures verified): its node facts from the metadata
 * service, its pool key (the instance id only: a mode switch or rotated credentials keep the pool, and the pool's
 * factory uses the new credentials at once), ENIs found on the host by MAC, VPC mode on the local provider.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AliyunProviders } from '../../../src/cloud/aliyun/provider.js';
import { linkByMacFrom, type SysfsNet } from '../../../src/cloud/host-links.js';
import type { CloudProvider } from '../../../src/cloud/types.js';
import { parseDaemonConfig, type DaemonConfig } from '../../../src/config/daemon-config.js';
import { ConfigError } from '../../../src/lib/errors.js';
import { silentLogger } from '../../../src/lib/log.js';
import { EcsEmulator } from '../../ecs-emulator/index.js';

/** A host whose links the test adds (name → MAC, ifindex). */
function fakeHost() {
  const links = new Map<string, { mac: string; ifindex: number }>();
  const net: SysfsNet = { list: () => Promise.resolve([...links.keys()]), address: (l) => Promise.resolve(`${links.get(l)?.mac ?? ''}\n`) };
  const read = (path: string): Promise<string> => {
    const m = /^\/sys\/class\/net\/([^/]+)\/ifindex$/u.exec(path);
    const l = m === null ? undefined : links.get(m[1] ?? '');
    return l === undefined ? Promise.reject(new Error(`ENOENT ${path}`)) : Promise.resolve(`${String(l.ifindex)}\n`);
  };
  return { links, net, read };
}

describe('the Aliyun provider (emulated ECS + metadata)', () => {
  let emu: EcsEmulator;
  const host = fakeHost();
  let providers: AliyunProviders;
  const cfgOf = (mode: string, keys: { accessKeyId: string; accessKeySecret: string }, extra: Record<string, unknown> = {}): DaemonConfig =>
    parseDaemonConfig({
      mode,
      vpc: { podCIDR: '10.244.0.0/24' },
      cloud: {
        provider: 'aliyun',
        metadataEndpoint: emu.metadata.url,
        ecsEndpoint: emu.api.endpoint,
        protocol: 'http',
        readTimeoutMs: 2000,
        eniConf: { version: '1', vswitches: { [emu.node.zoneId]: ['vsw-node0000000000000002'] }, security_groups: ['sg-emulated0001'], access_key: keys.accessKeyId, access_secret: keys.accessKeySecret, service_cidr: '10.96.0.0/16', ...extra },
      },
    });
  const localProvider = { name: 'local' } as unknown as CloudProvider;

  beforeAll(async () => {
    emu = await EcsEmulator.start({ instanceType: 'ecs.g6.xlarge' });
    const primary = emu.state.enis.get(emu.node.primaryEniId);
    host.links.set('eth0', { mac: primary?.mac ?? '', ifindex: 2 });
    providers = new AliyunProviders({ read: host.read, linkByMac: linkByMacFrom(host.net), log: silentLogger, linkWaitMs: 500 });
  });
  afterAll(async () => { await emu.close(); });

  it('node facts from the metadata service: the primary ENI by MAC, its gateway and table; VPC mode stays local', async () => {
    const p = await providers.providerFor(cfgOf('veth-policy-routing', emu.credentials), () => localProvider);
    expect(p.name).toBe('aliyun');
    const vsw = emu.state.vswitches.get(emu.node.vSwitchId);
    expect(await p.localFacts()).toEqual({ eni: { link: 'eth0', ifindex: 2, gateway: vsw?.gateway, table: 1002 } });
    expect(p.ipSource().subnet).toBe(vsw?.cidr);
    expect(p.factory?.key).toBe(`aliyun:${emu.node.id}`);
    await p.verify();
    expect(await providers.providerFor(cfgOf('vpc', emu.credentials), () => localProvider)).toBe(localProvider);
  });

  it('ipvlan: the node IP and the ENI MAC from the metadata service, the service CIDR from eni_conf', async () => {
    const p = await providers.providerFor(cfgOf('ipvlan', emu.credentials), () => localProvider);
    const primary = emu.state.enis.get(emu.node.primaryEniId);
    expect((await p.localFacts()).ipvlan).toEqual({ eniMac: primary?.mac, hostIp: primary?.ips[0]?.ip, redirectCidrs: ['10.96.0.0/16'], mtu: 1500 });
    const e = await providers.providerFor(cfgOf('eni', emu.credentials, { service_cidr: '' }), () => localProvider);
    await expect(e.verify()).rejects.toThrow(ConfigError);
  });

  it('rotated credentials and a mode switch keep the pool key; the pool\'s factory uses the new credentials; ENIs found by MAC', async () => {
    const first = await providers.providerFor(cfgOf('veth-policy-routing', emu.credentials), () => localProvider);
    const factory = first.factory?.create(() => new Set());
    if (factory === undefined) throw new Error('no factory');
    const rotated = { accessKeyId: 'LTAIrotated000000001', accessKeySecret: 'rotated-secret-000000001' };
    emu.api.addAccessKey({ id: rotated.accessKeyId, secret: rotated.accessKeySecret });
    emu.api.removeAccessKey(emu.credentials.accessKeyId);
    try {
      // the old key is refused now: the factory made with the first provider must fail until the config rotates
      await expect(factory.limits()).rejects.toThrow(/InvalidAccessKeyId|access key/iu);
      const next = await providers.providerFor(cfgOf('ipvlan', rotated), () => localProvider);
      expect(next.factory?.key).toBe(first.factory?.key);
      expect((await factory.limits()).maxEnis).toBe(2); // ecs.g6.xlarge: 3 adapters − 1
      const eni = await factory.createEni('vsw-node0000000000000002', 2, 'tok-provider-1');
      await expect(next.eniFactsOf?.(eni)).rejects.toThrow(/no host link with this MAC/u);
      host.links.set('eth7', { mac: eni.mac, ifindex: 7 });
      expect(await next.eniFactsOf?.(eni)).toEqual({ link: 'eth7', ifindex: 7, gateway: eni.gateway, table: 1007 });
      await factory.deleteEni(eni.id);
    } finally {
      emu.api.addAccessKey({ id: emu.credentials.accessKeyId, secret: emu.credentials.accessKeySecret });
    }
  }, 30_000);
});
