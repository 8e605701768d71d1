import { describe, expect, it } from '@jest/globals';
import { parseCniSettings } from '../../../src/config/cni-settings.js';
import { parseEniConf } from '../../../src/config/eni-conf.js';
import { parseClusterConfig, parseDaemonMode, parseDisableNetworkPolicy } from '../../../src/config/eni-config.js';
import { hubModeFor } from '../../../src/config/mode-mapping.js';
import { parseGoDuration } from '../../../src/config/fields.js';
import { ConfigError } from '../../../src/lib/errors.js';

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.path;
    throw e;
  }
  throw new Error('did not throw');
}

describe('parseEniConf', () => {
  it('fills Terway defaults for an empty object', () => {
    const { value, warnings } = parseEniConf({});
    expect(value).toEqual({
      serviceCidrs: [],
      vswitches: {},
      vswitchSelectionPolicy: 'random',
      eniSelectionPolicy: 'most_ips',
      securityGroups: [],
      eniTags: {},
      eniTagFilter: {},
      eniTagBlockList: [],
      maxPoolSize: 5,
      minPoolSize: 0,
      minEni: 0,
      maxEni: 0,
      eniCapRatio: 1,
      eniCapShift: 0,
      ipStack: 'ipv4',
      ipamType: '',
      enableEniTrunking: false,
      enableErdma: false,
      statefulKinds: ['statefulset'],
      idleIpReclaimIntervalMs: 600_000,
      idleIpReclaimBatchSize: 5,
      idleIpReclaimJitterFactor: 0.1,
      ipPoolSyncPeriodMs: 120_000,
      backoffOverride: {},
      extraRoutes: [],
      disableDevicePlugin: false,
      rateLimit: {},
      enablePatchPodIps: true,
      enableIpPrefix: false,
      ipv4PrefixCount: 0,
      ipv6PrefixCount: 0,
    });
    expect(warnings).toEqual([]);
  });

  it('parses a full chart-style eni_conf', () => {
    const { value } = parseEniConf({
      version: '1',
      access_key: 'ak',
      access_secret: 'sk',
      service_cidr: '172.21.0.0/20,fd00::/120',
      vswitches: { 'cn-hangzhou-i': ['vsw-aaa', 'vsw-bbb'] },
      vswitch_selection_policy: 'ordered',
      security_group: 'sg-1',
      security_groups: ['sg-1', 'sg-2'],
      eni_tags: { team: 'net' },
      eni_tag_block_list: [{ key: 'a', value: 'b' }],
      max_pool_size: 10,
      min_pool_size: 2,
      custom_stateful_workload_kinds: ['CloneSet', 'GameServer'],
      idle_ip_reclaim_after: '1h30m',
      ip_pool_sync_period: '90s',
      rate_limit: { CreateNetworkInterface: 100 },
      enable_patch_pod_ips: false,
      kube_client_qps: 20,
      kube_client_burst: 30,
    });
    expect(value).toMatchObject({
      version: '1',
      accessKey: 'ak',
      serviceCidrs: ['172.21.0.0/20', 'fd00::/120'],
      vswitches: { 'cn-hangzhou-i': ['vsw-aaa', 'vsw-bbb'] },
      securityGroups: ['sg-1', 'sg-2'],
      maxPoolSize: 10,
      minPoolSize: 2,
      statefulKinds: ['statefulset', 'cloneset', 'gameserver'],
      idleIpReclaimAfterMs: 5_400_000,
      ipPoolSyncPeriodMs: 90_000,
      enablePatchPodIps: false,
    });
  });

  it.each([
    [{ max_pool_size: -1 }, 'eni_conf.max_pool_size'],
    [{ max_pool_size: 1.5 }, 'eni_conf.max_pool_size'],
    [{ min_pool_size: 6 }, 'eni_conf.min_pool_size'],
    [{ min_pool_size: 'x' }, 'eni_conf.min_pool_size'],
    [{ service_cidr: '10.0.0.0/33' }, 'eni_conf.service_cidr[0]'],
    [{ service_cidr: '10.0.0.0/16,10.1.0.0/16' }, 'eni_conf.service_cidr'],
    [{ vswitches: { z: ['sw-1'] } }, 'eni_conf.vswitches.z[0]'],
    [{ vswitches: ['vsw-1'] }, 'eni_conf.vswitches'],
    [{ vswitch_selection_policy: 'best' }, 'eni_conf.vswitch_selection_policy'],
    [{ eni_selection_policy: 'most' }, 'eni_conf.eni_selection_policy'],
    [{ security_groups: Array.from({ length: 11 }, (_, i) => `sg-${String(i)}`) }, 'eni_conf.security_groups'],
    [{ security_groups: [1] }, 'eni_conf.security_groups[0]'],
    [{ eni_tags: { a: 1 } }, 'eni_conf.eni_tags.a'],
    [{ eni_tag_filter: 'x' }, 'eni_conf.eni_tag_filter'],
    [{ eni_tag_block_list: [{ value: 'v' }] }, 'eni_conf.eni_tag_block_list[0].key'],
    [{ eni_cap_ratio: 0 }, 'eni_conf.eni_cap_ratio'],
    [{ ip_stack: 'ipv6' }, 'eni_conf.ip_stack'],
    [{ ip_stack: 'v4' }, 'eni_conf.ip_stack'],
    [{ ipam_type: 'cloud' }, 'eni_conf.ipam_type'],
    [{ enable_eni_trunking: 'true' }, 'eni_conf.enable_eni_trunking'],
    [{ custom_stateful_workload_kinds: ['not a kind'] }, 'eni_conf.custom_stateful_workload_kinds[0]'],
    [{ custom_stateful_workload_kinds: 'StatefulSet' }, 'eni_conf.custom_stateful_workload_kinds'],
    [{ idle_ip_reclaim_after: '5 minutes' }, 'eni_conf.idle_ip_reclaim_after'],
    [{ idle_ip_reclaim_interval: 10 }, 'eni_conf.idle_ip_reclaim_interval'],
    [{ idle_ip_reclaim_batch_size: 0 }, 'eni_conf.idle_ip_reclaim_batch_size'],
    [{ idle_ip_reclaim_jitter_factor: 'lots' }, 'eni_conf.idle_ip_reclaim_jitter_factor'],
    [{ backoff_override: { x: 1 } }, 'eni_conf.backoff_override.x'],
    [{ extra_routes: [1] }, 'eni_conf.extra_routes[0]'],
    [{ kube_client_qps: 0 }, 'eni_conf.kube_client_qps'],
    [{ rate_limit: { A: -1 } }, 'eni_conf.rate_limit.A'],
    [{ enable_patch_pod_ips: 1 }, 'eni_conf.enable_patch_pod_ips'],
    [{ ipv6_prefix_count: 2 }, 'eni_conf.ipv6_prefix_count'],
    [{ access_secret: 42 }, 'eni_conf.access_secret'],
  ])('names the bad field %j → %s', (raw, path) => {
    expect(fieldOf(() => parseEniConf(raw))).toBe(path);
  });

  it('never echoes a secret value', () => {
    expect(() => parseEniConf({ access_secret: 12345678 })).toThrow(/must be a string; got number$/u);
  });

  it('tolerates unknown and legacy fields, with warnings; an unparsable sync period falls back to 120s', () => {
    const { value, warnings } = parseEniConf({ foo: 1, hook_plugin: 'x', ip_pool_sync_period: 'soon', ipam_type: 'crd' });
    expect(value.ipPoolSyncPeriodMs).toBe(120_000);
    expect(warnings).toEqual([
      'eni_conf.foo: unknown field, ignored',
      'eni_conf.hook_plugin: legacy field, ignored',
      'eni_conf.ipam_type: "crd" (centralized IPAM) is not implemented; the daemon-local IPAM is used',
      'eni_conf.ip_pool_sync_period: unparsable "soon", using 120s',
    ]);
  });

  it('parses Go durations', () => {
    expect(parseGoDuration('10m')).toBe(600_000);
    expect(parseGoDuration('1h2m3s')).toBe(3_723_000);
    expect(parseGoDuration('1.5s')).toBe(1500);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('10')).toBeUndefined();
    expect(parseGoDuration('m')).toBeUndefined();
  });
});

describe('parseCniSettings', () => {
  it('defaults to veth when neither key is present', () => {
    expect(parseCniSettings({})).toMatchObject({ source: 'default', eniipVirtualType: 'veth', capabilities: { bandwidth: true } });
  });
  it('reads 10-terway.conf, and prefers 10-terway.conflist', () => {
    const conf = JSON.stringify({ cniVersion: '0.4.0', name: 'terway', type: 'terway', eniip_virtual_type: 'IPVlan', mtu: 1450, host_stack_cidrs: ['169.254.20.10/32'] });
    expect(parseCniSettings({ '10-terway.conf': conf })).toEqual({
      source: '10-terway.conf',
      eniipVirtualType: 'ipvlan',
      mtu: 1450,
      autoMtu: false,
      hostStackCidrs: ['169.254.20.10/32'],
      capabilities: { bandwidth: true },
    });
    const conflist = JSON.stringify({ plugins: [{ type: 'portmap' }, { type: 'terway', eniip_virtual_type: 'veth', mtu: 0, capabilities: { bandwidth: false } }] });
    expect(parseCniSettings({ '10-terway.conf': conf, '10-terway.conflist': conflist })).toMatchObject({ source: '10-terway.conflist', eniipVirtualType: 'veth', capabilities: { bandwidth: false } });
  });
  it('keeps every other plugin of 10-terway.conflist in order, with its own fields and capabilities', () => {
    const conflist = JSON.stringify({
      cniVersion: '0.4.0',
      name: 'terway-chainer',
      plugins: [
        { type: 'tuning', sysctl: { 'net.core.somaxconn': '512' } },
        { type: 'terway', capabilities: { bandwidth: true, portMappings: false } },
        { type: 'portmap', capabilities: { portMappings: true }, externalSetMarkChain: 'KUBE-MARK-MASQ' },
        { type: 'bandwidth', capabilities: { bandwidth: true }, cniVersion: '0.3.1', name: 'ignored' },
      ],
    });
    const s = parseCniSettings({ '10-terway.conflist': conflist });
    expect(s.capabilities).toEqual({ bandwidth: true, portMappings: false });
    expect(s.chain).toEqual([
      { path: '10-terway.conflist.plugins[0]', entry: { type: 'tuning', sysctl: { 'net.core.somaxconn': '512' } } },
      { path: '10-terway.conflist.plugins[2]', entry: { type: 'portmap', capabilities: { portMappings: true }, externalSetMarkChain: 'KUBE-MARK-MASQ' } },
      { path: '10-terway.conflist.plugins[3]', entry: { type: 'bandwidth', capabilities: { bandwidth: true } } },
    ]);
    expect(parseCniSettings({ '10-terway.conf': JSON.stringify({ type: 'terway' }) }).chain).toBeUndefined();
  });
  it.each([
    [{ '10-terway.conf': '{' }, '10-terway.conf'],
    [{ '10-terway.conf': '{"type":"terway","eniip_virtual_type":"macvlan"}' }, '10-terway.conf.eniip_virtual_type'],
    [{ '10-terway.conf': '{"type":"terway","mtu":100}' }, '10-terway.conf.mtu'],
    [{ '10-terway.conf': '{"type":"terway","host_stack_cidrs":["x"]}' }, '10-terway.conf.host_stack_cidrs[0]'],
    [{ '10-terway.conf': '{"type":"terway","capabilities":{"bandwidth":"yes"}}' }, '10-terway.conf.capabilities.bandwidth'],
    [{ '10-terway.conf': '{"type":"flannel"}' }, '10-terway.conf.type'],
    [{ '10-terway.conflist': '{"plugins":[{"type":"portmap"}]}' }, '10-terway.conflist.plugins'],
    [{ '10-terway.conflist': '{"plugins":[{"type":"terway","bandwidth_mode":"x"}]}' }, '10-terway.conflist.plugins[0].bandwidth_mode'],
    [{ '10-terway.conflist': '{"plugins":[{"type":"terway"},{"type":"portmap"},{"type":"a/b"}]}' }, '10-terway.conflist.plugins[2].type'],
    [{ '10-terway.conflist': '{"plugins":[{"type":"portmap"},{"type":"terway"},{"type":"terway"}]}' }, '10-terway.conflist.plugins[2].type'],
    [{ '10-terway.conflist': '{"plugins":[{"type":"terway"},{"type":"terway-hub"}]}' }, '10-terway.conflist.plugins[1].type'],
    [{ '10-terway.conflist': '{"plugins":[{"type":"terway"},{"type":"tuning"},{"type":"bandwidth","capabilities":{"bandwidth":1}}]}' }, '10-terway.conflist.plugins[2].capabilities.bandwidth'],
    [{ '10-terway.conflist': '{"plugins":[{"type":"terway"},{"capabilities":{}}]}' }, '10-terway.conflist.plugins[1].type'],
    [{ '10-terway.conflist': '{"plugins":[{"type":"terway"},7]}' }, '10-terway.conflist.plugins[1]'],
  ])('names the bad field %j → %s', (data, path) => {
    expect(fieldOf(() => parseCniSettings(data))).toBe(path);
  });
});

describe('ConfigMap keys', () => {
  it('disable_network_policy follows Terway', () => {
    expect([undefined, 'false', '0', '', 'FALSE'].map(parseDisableNetworkPolicy)).toEqual([false, false, false, false, false]);
    expect(['true', '1', 'yes'].map(parseDisableNetworkPolicy)).toEqual([true, true, true]);
  });
  it('daemon_mode: default ENIMultiIP, case-insensitive, named when bad', () => {
    expect(parseDaemonMode(undefined)).toBe('ENIMultiIP');
    expect(parseDaemonMode('vpc')).toBe('VPC');
    expect(parseDaemonMode('ENIOnly')).toBe('ENI');
    expect(fieldOf(() => parseDaemonMode('Trunk'))).toBe('daemon_mode');
  });
  it('parses the whole ConfigMap; eni_conf is required; an override merges by RFC 7396 and may set daemon_mode', () => {
    const base = { id: 'kube-system/eni-config', data: { eni_conf: '{"max_pool_size":5,"eni_tags":{"a":"1","b":"2"}}', daemon_mode: 'VPC', disable_network_policy: 'true', extra_key: 'x' } };
    const c = parseClusterConfig(base);
    expect(c).toMatchObject({ daemonMode: 'VPC', disableNetworkPolicy: true, eniConf: { maxPoolSize: 5, eniTags: { a: '1', b: '2' } } });
    expect(c.warnings).toEqual(['extra_key: unknown ConfigMap key, ignored']);
    const o = parseClusterConfig(base, { id: 'kube-system/big', data: { eni_conf: '{"max_pool_size":20,"eni_tags":{"a":null}}', daemon_mode: 'ENIMultiIP' } });
    expect(o).toMatchObject({ daemonMode: 'ENIMultiIP', eniConf: { maxPoolSize: 20, eniTags: { b: '2' } } });
    expect(fieldOf(() => parseClusterConfig({ id: 'x', data: {} }))).toBe('eni_conf');
    expect(fieldOf(() => parseClusterConfig({ id: 'x', data: { eni_conf: '[' } }))).toBe('eni_conf');
    expect(fieldOf(() => parseClusterConfig(base, { id: 'kube-system/big', data: { eni_conf: '{"min_pool_size":9}' } }))).toBe('eni_conf.min_pool_size');
  });
});

describe('hubModeFor', () => {
  const cni = (t: 'veth' | 'ipvlan' | 'datapathv2', source: '10-terway.conf' | 'default' = '10-terway.conf') => ({ ...parseCniSettings({}), source, eniipVirtualType: t });
  it('maps VPC, ENIMultiIP+veth and ENIMultiIP+IPVlan to the hub dataplanes', () => {
    expect(hubModeFor('VPC', cni('ipvlan'))).toBe('vpc');
    expect(hubModeFor('ENIMultiIP', cni('veth'))).toBe('veth-policy-routing');
    expect(hubModeFor('ENIMultiIP', cni('ipvlan'))).toBe('ipvlan');
  });
  it('reads eniip_virtual_type case-insensitively, as Terway does ("IPVlan" in its charts)', () => {
    for (const spelling of ['IPVlan', 'ipvlan', 'IPVLAN']) {
      const settings = parseCniSettings({ '10-terway.conf': JSON.stringify({ type: 'terway', eniip_virtual_type: spelling }) });
      expect(hubModeFor('ENIMultiIP', settings)).toBe('ipvlan');
    }
  });
  it('refuses what is not available yet, naming the field and the reason', () => {
    expect(() => hubModeFor('ENIMultiIP', cni('datapathv2'))).toThrow(/^10-terway\.conf\.eniip_virtual_type: datapathv2 is not available yet with ENIMultiIP; use "veth" or "IPVlan"/u);
    expect(hubModeFor('ENI', cni('veth'))).toBe('eni'); // exclusive ENI: whatever eniip_virtual_type says
  });
});
