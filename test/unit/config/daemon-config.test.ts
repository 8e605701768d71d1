import { describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDaemonConfig } from '../../../src/config/daemon-config.js';
import { loadDaemonConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/lib/errors.js';
import { tempDir } from '../../helpers/tmp.js';

const vpc = { vpc: { podCIDR: '10.244.1.0/24' } };
const eni = { mode: 'veth-policy-routing', local: { eni: { link: 'eth1', gateway: '192.168.0.253', ips: '192.168.0.10-192.168.0.20', subnet: '192.168.0.0/24' } } };

const ipvlan = { ...eni, mode: 'ipvlan', ipvlan: { hostIp: '172.31.5.10', serviceCidr: '10.96.0.0/16' } };

function pathOf(raw: unknown): string {
  try {
    parseDaemonConfig(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).path;
  }
  throw new Error('expected a ConfigError');
}

describe('parseDaemonConfig: chain and cniBinDirs', () => {
  it('keeps chained plugins in order, dropping per-entry name/cniVersion, and refuses a bad entry naming it', () => {
    const cfg = parseDaemonConfig({ ...vpc, chain: [{ type: 'portmap', capabilities: { portMappings: true }, name: 'x', cniVersion: '0.3.1' }, { type: 'tuning', sysctl: {} }] });
    expect(cfg.chain.map((c) => c.entry)).toEqual([{ type: 'portmap', capabilities: { portMappings: true } }, { type: 'tuning', sysctl: {} }]);
    expect(cfg.chain.map((c) => c.path)).toEqual(['chain[0]', 'chain[1]']);
    expect(() => parseDaemonConfig({ ...vpc, chain: [{ type: '../x' }] })).toThrow(/chain\[0\]\.type/u);
    expect(() => parseDaemonConfig({ ...vpc, chain: [{ type: 'terway-hub' }] })).toThrow(/second "terway-hub" entry/u);
    expect(() => parseDaemonConfig({ ...vpc, chain: [{ type: 'portmap', capabilities: { portMappings: 'yes' } }] })).toThrow(/chain\[0\]\.capabilities\.portMappings/u);
    expect(() => parseDaemonConfig({ ...vpc, cniBinDirs: ['relative'] })).toThrow(/cniBinDirs\[0\]/u);
  });
});

describe('parseDaemonConfig', () => {
  it('fills every default', () => {
    expect(parseDaemonConfig(vpc)).toEqual({
      mode: 'vpc',
      socket: '/var/run/terway-hub/daemon.sock',
      stateDir: '/var/lib/terway-hub',
      cniConfDir: '/etc/cni/net.d',
      conflistName: '05-terway-hub.conflist',
      networkName: 'terway-hub',
      cniVersion: '1.0.0',
      cniVersions: ['0.4.0', '1.0.0', '1.1.0'],
      chain: [],
      cniBinDirs: ['/opt/cni/bin', '/usr/lib/cni'],
      vethPrefix: 'cali',
      mtu: 1500,
      httpListen: '127.0.0.1:9470',
      cniLogFile: '/var/log/terway-hub/cni.log',
      keepConflistOnExit: true,
      logLevel: 'info',
      kubeNamespace: 'kube-system',
      eniConfigName: 'eni-config',
      gcIntervalSeconds: 300,
      devicePlugin: { enabled: false, capacity: 0, dir: '/var/lib/kubelet/device-plugins' },
      policy: { backend: 'auto', felix: { healthPort: 9099 }, cilium: { cniBinary: 'cilium-cni', build: 'upstream', healthPort: 9879, chainingMode: 'generic-veth' } },
      pool: { minIdle: 0, maxIdle: 5, demandAware: true, coalesceMs: 50, reclaimAfterSeconds: 0, reclaimIntervalSeconds: 600, reclaimJitter: 0.1, reclaimBatchSize: 5, scheduleAware: true, scheduledTtlSeconds: 180, warmEnis: 'auto', nodeMaxPods: 110, minEnis: 0, syncIntervalSeconds: 120, localLatencyMs: { create: 0, assign: 0, unassign: 0 } },
      cloud: { provider: 'local' },
      vpc: { podCIDR: '10.244.1.0/24' },
    });
  });
  it('takes the GC period and the device plugin, naming a bad field', () => {
    expect(parseDaemonConfig({ ...vpc, gcIntervalSeconds: 60, devicePlugin: { enabled: true, capacity: 3 } })).toMatchObject({
      gcIntervalSeconds: 60,
      devicePlugin: { enabled: true, capacity: 3, dir: '/var/lib/kubelet/device-plugins' },
    });
    expect(() => parseDaemonConfig({ ...vpc, gcIntervalSeconds: 1 })).toThrow(/^gcIntervalSeconds: /u);
    expect(() => parseDaemonConfig({ ...vpc, devicePlugin: { enabled: true } })).toThrow(/^devicePlugin\.capacity: /u);
    expect(() => parseDaemonConfig({ ...vpc, devicePlugin: { enabled: 'yes', capacity: 1 } })).toThrow(/^devicePlugin\.enabled: /u);
    expect(() => parseDaemonConfig({ ...vpc, devicePlugin: { capacity: 1, dir: 'rel' } })).toThrow(/^devicePlugin\.dir: /u);
    expect(() => parseDaemonConfig({ ...vpc, devicePlugin: { sockets: 1 } })).toThrow(/^devicePlugin\.sockets: /u);
  });
  it('takes the Kubernetes settings and names a bad one', () => {
    expect(parseDaemonConfig({ ...vpc, nodeName: 'node-1', kubeconfig: '/etc/kube/config', kubeNamespace: 'terway' })).toMatchObject({ nodeName: 'node-1', kubeconfig: '/etc/kube/config', kubeNamespace: 'terway' });
    expect(() => parseDaemonConfig({ ...vpc, nodeName: 'Node_1' })).toThrow(/^nodeName: /u);
    expect(() => parseDaemonConfig({ ...vpc, kubeconfig: 'rel/path' })).toThrow(/^kubeconfig: /u);
    expect(() => parseDaemonConfig({ ...vpc, kubeNamespace: 'a.b' })).toThrow(/^kubeNamespace: /u);
    expect(() => parseDaemonConfig({ ...vpc, eniConfigName: '' })).toThrow(/^eniConfigName: /u);
  });
  it('normalizes the podCIDR to its network', () => {
    expect(parseDaemonConfig({ vpc: { podCIDR: '10.244.1.7/24' } }).vpc).toEqual({ podCIDR: '10.244.1.0/24' });
  });
  it('parses veth-policy-routing with a range string or a list', () => {
    expect(parseDaemonConfig(eni).local?.eni).toEqual({ link: 'eth1', gateway: '192.168.0.253', ips: ['192.168.0.10-192.168.0.20'], subnet: '192.168.0.0/24' });
    const list = parseDaemonConfig({ ...eni, local: { eni: { ...eni.local.eni, ips: ['192.168.0.10', '192.168.0.30-192.168.0.31'] } } });
    expect(list.local?.eni?.ips).toEqual(['192.168.0.10', '192.168.0.30-192.168.0.31']);
  });
  it('parses ipvlan: local.eni plus the node IP, the service CIDR (canonical) and the host-stack CIDRs (/32 allowed, no pool limit)', () => {
    const cfg = parseDaemonConfig({ ...ipvlan, ipvlan: { hostIp: '172.31.5.10', serviceCidr: '172.16.7.9/12', hostStackCidrs: ['169.254.20.10/32'] } });
    expect(cfg.mode).toBe('ipvlan');
    expect(cfg.ipvlan).toEqual({ hostIp: '172.31.5.10', serviceCidr: '172.16.0.0/12', hostStackCidrs: ['169.254.20.10/32'] });
    // the service CIDR may come from eni_conf instead (Kubernetes): not required here
    expect(parseDaemonConfig({ ...ipvlan, ipvlan: { hostIp: '172.31.5.10' } }).ipvlan).toEqual({ hostIp: '172.31.5.10', hostStackCidrs: [] });
  });
  it('parses eni (exclusive ENI): local.enis by MAC, the eni section (node IP, service CIDR, host-stack CIDRs)', () => {
    const exclusive = {
      mode: 'eni',
      local: { enis: [{ mac: '02:16:3E:00:00:01', ip: '10.2.0.10', subnet: '10.2.0.9/24', gateway: '10.2.0.253' }, { mac: '02:16:3e:00:00:02', ip: '10.2.0.11', subnet: '10.2.0.0/24', gateway: '10.2.0.253' }] },
      eni: { hostIp: '172.31.5.10', serviceCidr: '10.96.7.0/16', hostStackCidrs: ['169.254.20.10/32'] },
    };
    const cfg = parseDaemonConfig(exclusive);
    expect(cfg.mode).toBe('eni');
    expect(cfg.local?.enis).toEqual([
      { mac: '02:16:3e:00:00:01', ip: '10.2.0.10', subnet: '10.2.0.0/24', gateway: '10.2.0.253' },
      { mac: '02:16:3e:00:00:02', ip: '10.2.0.11', subnet: '10.2.0.0/24', gateway: '10.2.0.253' },
    ]);
    expect(cfg.eni).toEqual({ hostIp: '172.31.5.10', serviceCidr: '10.96.0.0/16', hostStackCidrs: ['169.254.20.10/32'] });
    // the device plugin's capacity follows the instance type in eni mode: 0 is fine when enabled
    expect(parseDaemonConfig({ ...exclusive, devicePlugin: { enabled: true } }).devicePlugin.capacity).toBe(0);
    expect(() => parseDaemonConfig({ ...vpc, devicePlugin: { enabled: true } })).toThrow(/devicePlugin\.capacity: must be > 0 when the device plugin is enabled/u);
    const bad = (patch: Record<string, unknown>, enis = exclusive.local.enis) => () => parseDaemonConfig({ ...exclusive, local: { enis }, ...patch });
    expect(bad({ eni: undefined })).toThrow(/^eni\.hostIp: required in eni mode/u);
    expect(bad({ eni: { hostIp: '10.2.0.10' } })).toThrow(/^eni\.hostIp: 10\.2\.0\.10 is in local\.enis/u);
    expect(bad({ eni: { hostIp: '172.31.5.10', serviceCidr: '10.2.0.0/16' } })).toThrow(/^eni\.serviceCidr: 10\.2\.0\.0\/16 overlaps the ENI's subnet 10\.2\.0\.0\/24/u);
    expect(bad({ eni: { hostIp: '172.31.5.10', extra: 1 } })).toThrow(/^eni\.extra: unknown field/u);
    expect(bad({}, [{ mac: 'zz', ip: '10.2.0.10', subnet: '10.2.0.0/24', gateway: '10.2.0.253' }])).toThrow(/^local\.enis\[0\]\.mac/u);
    expect(bad({}, [{ mac: '02:00:00:00:00:01', ip: '10.3.0.10', subnet: '10.2.0.0/24', gateway: '10.2.0.253' }])).toThrow(/^local\.enis\[0\]\.ip: 10\.3\.0\.10 is outside 10\.2\.0\.0\/24/u);
    const twice = exclusive.local.enis.map((e) => ({ ...e, mac: '02:00:00:00:00:01' }));
    expect(bad({}, twice)).toThrow(/^local\.enis\[1\]\.mac: 02:00:00:00:00:01 is listed twice/u);
    expect(bad({}, [])).toThrow(/^local\.enis: must be a non-empty list/u);
    expect(() => parseDaemonConfig({ ...vpc, mode: 'macvlan' })).toThrow('must be one of vpc, veth-policy-routing, ipvlan, eni; got "macvlan"');
  });
  it('policy.backend: builtin is a backend like the others; an unknown name lists the choices', () => {
    expect(parseDaemonConfig({ ...vpc, policy: { backend: 'builtin' } }).policy.backend).toBe('builtin');
    expect(parseDaemonConfig({ ...eni, policy: { backend: 'builtin' } }).policy.backend).toBe('builtin');
    expect(() => parseDaemonConfig({ ...vpc, policy: { backend: 'calico' } })).toThrow(/^policy\.backend: must be one of auto, felix, cilium, builtin, none; got "calico"/u);
  });
  it('accepts "" (disabled) and unix paths for httpListen', () => {
    expect(parseDaemonConfig({ ...vpc, httpListen: '' }).httpListen).toBe('');
    expect(parseDaemonConfig({ ...vpc, httpListen: '/run/x.sock' }).httpListen).toBe('/run/x.sock');
  });
  it.each([
    [{ ...vpc, mode: 'macvlan' }, 'mode'],
    [{ ...vpc, mode: 'ipvlan' }, 'local.eni'],
    [{ ...eni, mode: 'ipvlan' }, 'ipvlan.hostIp'],
    [{ ...ipvlan, ipvlan: {} }, 'ipvlan.hostIp'],
    [{ ...ipvlan, ipvlan: { hostIp: '172.31.5' } }, 'ipvlan.hostIp'],
    [{ ...ipvlan, ipvlan: { hostIp: '192.168.0.253' } }, 'ipvlan.hostIp'],
    [{ ...ipvlan, ipvlan: { hostIp: '192.168.0.12' } }, 'ipvlan.hostIp'],
    [{ ...ipvlan, ipvlan: { hostIp: '172.31.5.10', serviceCidr: '10.96.0.0' } }, 'ipvlan.serviceCidr'],
    [{ ...ipvlan, ipvlan: { hostIp: '172.31.5.10', serviceCidr: '192.168.0.0/16' } }, 'ipvlan.serviceCidr'],
    [{ ...ipvlan, ipvlan: { hostIp: '172.31.5.10', hostStackCidrs: ['169.254.20.10/32', 'x'] } }, 'ipvlan.hostStackCidrs[1]'],
    [{ ...ipvlan, ipvlan: { hostIp: '172.31.5.10', hostStackCidrs: '169.254.20.10/32' } }, 'ipvlan.hostStackCidrs'],
    [{ ...ipvlan, ipvlan: { hostIp: '172.31.5.10', serviceCIDR: '10.96.0.0/16' } }, 'ipvlan.serviceCIDR'],
    [{}, 'vpc.podCIDR'],
    [{ vpc: { podCIDR: '10.0.0.0/31' } }, 'vpc.podCIDR'],
    [{ vpc: { podCIDR: 'x' } }, 'vpc.podCIDR'],
    [{ vpc: { podCIDR: '10.0.0.0/24', extra: 1 } }, 'vpc.extra'],
    [{ mode: 'veth-policy-routing' }, 'local.eni'],
    [{ ...eni, local: { eni: { ...eni.local.eni, link: 'a-very-long-link-name' } } }, 'local.eni.link'],
    [{ ...eni, local: { eni: { ...eni.local.eni, gateway: '10.0.0.1' } } }, 'local.eni.gateway'],
    [{ ...eni, local: { eni: { ...eni.local.eni, gateway: 'gw' } } }, 'local.eni.gateway'],
    [{ ...eni, local: { eni: { ...eni.local.eni, subnet: '192.168.0.0' } } }, 'local.eni.subnet'],
    [{ ...eni, local: { eni: { ...eni.local.eni, ips: ['192.168.0.10', '10.0.0.1'] } } }, 'local.eni.ips[1]'],
    [{ ...eni, local: { eni: { ...eni.local.eni, ips: ['192.168.0.10', 7] } } }, 'local.eni.ips[1]'],
    [{ ...eni, local: { eni: { ...eni.local.eni, ips: '192.168.0.250-192.168.0.254' } } }, 'local.eni.ips'],
    [{ ...eni, local: { eni: { ...eni.local.eni, ips: undefined } } }, 'local.eni.ips'],
    [{ ...vpc, socket: 'relative.sock' }, 'socket'],
    [{ ...vpc, stateDir: 42 }, 'stateDir'],
    [{ ...vpc, cniConfDir: '' }, 'cniConfDir'],
    [{ ...vpc, conflistName: '10-x.conf' }, 'conflistName'],
    [{ ...vpc, networkName: 'bad name' }, 'networkName'],
    [{ ...vpc, cniVersion: '1.0' }, 'cniVersion'],
    [{ ...vpc, cniVersion: '0.3.1' }, 'cniVersions'],
    [{ ...vpc, cniVersions: ['1.0.0', 'x'] }, 'cniVersions[1]'],
    [{ ...vpc, vethPrefix: 'CALI' }, 'vethPrefix'],
    [{ ...vpc, mtu: 100 }, 'mtu'],
    [{ ...vpc, mtu: '1500' }, 'mtu'],
    [{ ...vpc, httpListen: 'nohost' }, 'httpListen'],
    [{ ...vpc, logLevel: 'trace' }, 'logLevel'],
    [{ ...vpc, keepConflistOnExit: 'yes' }, 'keepConflistOnExit'],
    [{ ...vpc, sokcet: '/x' }, 'sokcet'],
    [[1], '(root)'],
  ])('%j → ConfigError at %s', (raw, path) => {
    expect(pathOf(raw)).toBe(path);
  });
});

describe('loadDaemonConfig', () => {
  const dir = tempDir('hub-cfg-');
  it('reads YAML and lets flags override the file', async () => {
    const file = join(dir, 'daemon.yaml');
    writeFileSync(file, 'mode: vpc\nmtu: 1450\nvpc:\n  podCIDR: 10.9.0.0/24\nlocal:\n  eni:\n    link: eth1\n    gateway: 192.168.0.1\n    ips: 192.168.0.10-192.168.0.12\n    subnet: 192.168.0.0/24\n');
    const cfg = await loadDaemonConfig(file, { mode: 'veth-policy-routing', socket: undefined });
    expect(cfg.mode).toBe('veth-policy-routing');
    expect(cfg.mtu).toBe(1450);
    expect(cfg.socket).toBe('/var/run/terway-hub/daemon.sock');
  });
  it('reads JSON', async () => {
    const file = join(dir, 'daemon.json');
    writeFileSync(file, JSON.stringify({ vpc: { podCIDR: '10.8.0.0/24' } }));
    expect((await loadDaemonConfig(file)).vpc?.podCIDR).toBe('10.8.0.0/24');
  });
  it('names the file when it is missing or malformed', async () => {
    await expect(loadDaemonConfig(join(dir, 'nope.yaml'))).rejects.toThrow(/nope\.yaml: cannot read/u);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'mode: [\n');
    await expect(loadDaemonConfig(bad)).rejects.toThrow(ConfigError);
  });
});
