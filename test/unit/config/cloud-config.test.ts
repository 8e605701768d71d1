import { describe, expect, it } from '@jest/globals';
import { parseCloudConfig } from '../../../src/config/cloud-config.js';
import { parseDaemonConfig } from '../../../src/config/daemon-config.js';
import { ConfigError } from '../../../src/lib/errors.js';

function pathOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).path;
  }
  throw new Error('expected a ConfigError');
}

const eniConf = { version: '1', vswitches: { 'cn-hangzhou-i': ['vsw-a'] }, security_groups: ['sg-1'], access_key: 'LTAIexample01', access_secret: 'secretsecret01', service_cidr: '10.96.0.0/16' };

describe('cloud config', () => {
  it('defaults to the local provider; aliyun settings have Terway-like defaults', () => {
    expect(parseCloudConfig(undefined)).toEqual({ provider: 'local' });
    expect(parseDaemonConfig({ vpc: { podCIDR: '10.1.0.0/24' } }).cloud).toEqual({ provider: 'local' });
    const c = parseCloudConfig({ provider: 'aliyun', eniConf });
    expect(c.aliyun).toMatchObject({ metadataEndpoint: 'http://100.100.100.200', protocol: 'https', signature: 'v3', readTimeoutMs: 10_000 });
    expect(c.aliyun?.eniConf?.vswitches).toEqual({ 'cn-hangzhou-i': ['vsw-a'] });
    expect(c.aliyun?.eniConf?.securityGroups).toEqual(['sg-1']);
    const full = parseCloudConfig({ provider: 'aliyun', metadataEndpoint: 'http://127.0.0.1:8080', ecsEndpoint: '127.0.0.1:9090', protocol: 'http', signature: 'v2', readTimeoutMs: 1500 });
    expect(full.aliyun).toMatchObject({ metadataEndpoint: 'http://127.0.0.1:8080', ecsEndpoint: '127.0.0.1:9090', protocol: 'http', signature: 'v2', readTimeoutMs: 1500 });
    expect(full.aliyun?.eniConf).toBeUndefined();
  });

  it('refuses bad fields, naming them', () => {
    expect(pathOf(() => parseCloudConfig({ provider: 'gcp' }))).toBe('cloud.provider');
    expect(pathOf(() => parseCloudConfig({ provider: 'aliyun', protocol: 'ftp' }))).toBe('cloud.protocol');
    expect(pathOf(() => parseCloudConfig({ provider: 'aliyun', signature: 'v4' }))).toBe('cloud.signature');
    expect(pathOf(() => parseCloudConfig({ provider: 'aliyun', readTimeoutMs: 5 }))).toBe('cloud.readTimeoutMs');
    expect(pathOf(() => parseCloudConfig({ provider: 'aliyun', metadataEndpoint: '100.100.100.200' }))).toBe('cloud.metadataEndpoint');
    expect(pathOf(() => parseCloudConfig({ provider: 'aliyun', ecsEndpoint: 'http://x/y' }))).toBe('cloud.ecsEndpoint');
    expect(pathOf(() => parseCloudConfig({ provider: 'aliyun', region: 'x' }))).toBe('cloud.region');
    expect(pathOf(() => parseCloudConfig({ provider: 'local', ecsEndpoint: 'x:1' }))).toBe('cloud.ecsEndpoint');
    expect(pathOf(() => parseCloudConfig({ provider: 'aliyun', eniConf: { max_pool_size: -1 } }))).toBe('cloud.eniConf.max_pool_size');
  });

  it('keeps eni_conf oddities as warnings for the provider to log', () => {
    expect(parseCloudConfig({ provider: 'aliyun', eniConf: { ...eniConf, hook_plugin: 'x' } }).aliyun?.eniConfWarnings).toEqual(['cloud.eniConf.hook_plugin: legacy field, ignored']);
  });

  it('with aliyun the ENI modes need no local section; with local they still do', () => {
    for (const mode of ['veth-policy-routing', 'ipvlan', 'eni']) {
      expect(parseDaemonConfig({ mode, cloud: { provider: 'aliyun', eniConf } }).cloud.provider).toBe('aliyun');
    }
    expect(pathOf(() => parseDaemonConfig({ mode: 'veth-policy-routing' }))).toBe('local.eni');
    expect(pathOf(() => parseDaemonConfig({ mode: 'eni' }))).toBe('eni.hostIp');
  });
});
