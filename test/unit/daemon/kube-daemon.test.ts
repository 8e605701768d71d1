import { afterEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDaemonConfig } from '../../../src/config/daemon-config.js';
import { Daemon } from '../../../src/daemon/daemon.js';
import { CONFIG_ERROR_ANNOTATION, MODE_ANNOTATION } from '../../../src/daemon/k8s/config-watcher.js';
import { dataplaneFor } from '../../../src/modes/registry.js';
import type { IfName, NetnsPath } from '../../../src/lib/brand.js';
import { FakeKube } from './fake-kube.js';
import { req } from './helpers/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';
import { nodeAdapters } from '../../../src/main/adapters.js';
import type { SysfsReader } from '../../../src/cloud/local/provider.js';
import type { Command, CommandRunner } from '../../../src/lib/exec.js';

const ENI_CONF = JSON.stringify({ version: '1', max_pool_size: 5 });
const VETH_CONF = JSON.stringify({ cniVersion: '0.4.0', name: 'terway', type: 'terway', eniip_virtual_type: 'veth' });

function config(dir: string, extra: Record<string, unknown> = {}) {
  return parseDaemonConfig({
    mode: 'veth-policy-routing',
    socket: join(dir, 'run', 'daemon.sock'),
    stateDir: join(dir, 'state'),
    cniConfDir: join(dir, 'net.d'),
    cniLogFile: join(dir, 'log', 'cni.log'), // not /var/log on the test host (the daemon creates the directory)
    httpListen: '',
    local: { eni: { link: 'eth1', gateway: '192.168.0.1', ips: '192.168.0.10-192.168.0.11', subnet: '192.168.0.0/24' } },
    vpc: { podCIDR: '10.9.0.0/24' },
    ...extra,
  });
}

const running: Daemon[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
});

async function start(kube: FakeKube, extra: Record<string, unknown> = {}, host: { runner?: CommandRunner; sysfs?: SysfsReader } = {}): Promise<Daemon> {
  const dir = tempDir('hub-kd-');
  const d = new Daemon(config(dir, extra), {
    kube,
    nodeName: kube.nodeName,
    ...nodeAdapters({
      sysctl: () => Promise.resolve(),
      runner: host.runner ?? { run: () => Promise.resolve({ stdout: '', stderr: '', exitCode: 0 }) },
      sysfs: host.sysfs ?? (() => Promise.resolve('7')),
    }),
    kubeRetry: { attempts: 3, baseDelayMs: 1 },
  });
  running.push(d);
  await d.start();
  await settle(d);
  return d;
}

async function settle(d: Daemon): Promise<void> {
  await d.agent?.config.settled();
  await d.agent?.reporter.idle();
}

function svc(d: Daemon) {
  const s = d.service;
  if (s === undefined) throw new Error('no service');
  return s;
}

describe('Daemon with Kubernetes: config and mode', () => {
  it('without an eni-config ConfigMap runs the local config and annotates the node with its mode', async () => {
    const kube = new FakeKube();
    const d = await start(kube);
    expect(svc(d).mode).toBe('veth-policy-routing');
    expect(kube.node().annotations[MODE_ANNOTATION]).toBe('veth-policy-routing');
    expect(kube.events).toEqual([]);
  });

  it('starts in the ConfigMap mode: VPC takes the Node podCIDR', async () => {
    const kube = new FakeKube('node-1', { podCIDR: '10.77.0.0/24' });
    kube.setConfigMap('eni-config', { eni_conf: ENI_CONF, daemon_mode: 'VPC' });
    const d = await start(kube);
    expect(svc(d).mode).toBe('vpc');
    expect((await svc(d).allocate(req('c1'))).allocation).toMatchObject({ mode: 'vpc', ip: '10.77.0.2', subnet: '10.77.0.0/24' });
    expect(kube.node().annotations[MODE_ANNOTATION]).toBe('vpc');
  });

  it('switches mode without a restart; an old pod keeps its lease mode and its teardown plan', async () => {
    const kube = new FakeKube('node-1', { podCIDR: '10.9.0.0/24' });
    kube.setConfigMap('eni-config', { eni_conf: ENI_CONF, daemon_mode: 'VPC', '10-terway.conf': VETH_CONF });
    const d = await start(kube);
    const old = await svc(d).allocate(req('old'));
    expect(old.allocation).toMatchObject({ mode: 'vpc', ip: '10.9.0.2' }); // the Node's podCIDR

    kube.setConfigMap('eni-config', { eni_conf: ENI_CONF, daemon_mode: 'ENIMultiIP', '10-terway.conf': JSON.stringify({ type: 'terway', eniip_virtual_type: 'veth', mtu: 1400 }) });
    await settle(d);
    expect(svc(d).mode).toBe('veth-policy-routing');
    expect(kube.node().annotations[MODE_ANNOTATION]).toBe('veth-policy-routing');
    const conflist = JSON.parse(readFileSync(d.conflistPath, 'utf8')) as { plugins: { mtu: number }[] };
    expect(conflist.plugins[0]?.mtu).toBe(1400);

    const fresh = await svc(d).allocate(req('new'));
    expect(fresh.allocation).toMatchObject({ mode: 'veth-policy-routing', ip: '192.168.0.10', mtu: 1400, eni: { link: 'eth1', table: 1007 } });
    const found = await svc(d).lookup({ containerId: 'old', ifName: 'eth0' });
    expect(found.allocation).toEqual(old.allocation);
    // DEL plans from the lease's mode: the VPC teardown has no ENI policy rules
    const spec = { pod: { namespace: 'default', name: 'pod-old' }, containerId: 'old', netns: '/var/run/netns/old' as NetnsPath, ifName: 'eth0' as IfName };
    const plan = dataplaneFor(found.allocation?.mode ?? 'veth-policy-routing').planTeardown(spec, found.allocation, { vethPrefix: 'cali' });
    expect(plan.some((op) => op.kind === 'rule.del')).toBe(false);
    expect(await svc(d).release({ containerId: 'old', ifName: 'eth0', reason: 'CNI DEL' })).toEqual({ released: true });
  });

  it('rejects a bad ConfigMap as a whole: Warning ConfigError naming the field, annotation, old config kept; fixed → annotation removed', async () => {
    const kube = new FakeKube('node-1', { podCIDR: '10.9.0.0/24' });
    kube.setConfigMap('eni-config', { eni_conf: ENI_CONF, daemon_mode: 'ENIMultiIP' });
    const d = await start(kube);
    kube.setConfigMap('eni-config', { eni_conf: JSON.stringify({ max_pool_size: -3 }), daemon_mode: 'VPC' });
    await settle(d);
    expect(svc(d).mode).toBe('veth-policy-routing');
    const warn = kube.events.find((e) => e.reason === 'ConfigError');
    expect(warn).toMatchObject({ type: 'Warning', target: { kind: 'Node', name: 'node-1', uid: 'node-uid' } });
    expect(warn?.message).toMatch(/eni_conf\.max_pool_size: must be an integer.*keeping the last good config \(mode veth-policy-routing\)/u);
    expect(kube.node().annotations[CONFIG_ERROR_ANNOTATION]).toMatch(/eni_conf\.max_pool_size/u);

    // the same bad config again (a resync) is not reported twice
    kube.setConfigMap('eni-config', { eni_conf: JSON.stringify({ max_pool_size: -3 }), daemon_mode: 'VPC' });
    await settle(d);
    expect(kube.events.filter((e) => e.reason === 'ConfigError')).toHaveLength(1);
    // metrics: one config error counted (as the one event), and the node runs a rejected config's predecessor now
    const metrics = async (): Promise<string> => d.registry.metrics();
    expect(await metrics()).toMatch(/^terway_hub_config_errors_total\{source="[^"]*eni-config[^"]*"\} 1$/mu);
    expect(await metrics()).toMatch(/^terway_hub_config_error 1$/mu);

    kube.setConfigMap('eni-config', { eni_conf: ENI_CONF, daemon_mode: 'VPC' });
    await settle(d);
    expect(svc(d).mode).toBe('vpc');
    expect(kube.node().annotations[CONFIG_ERROR_ANNOTATION]).toBeUndefined();
    expect(await metrics()).toMatch(/^terway_hub_config_error 0$/mu);
  });

  it('refuses modes that are not available yet (datapathv2), and ENI without its node settings or as a live switch, naming the field', async () => {
    const kube = new FakeKube();
    kube.setConfigMap('eni-config', { eni_conf: ENI_CONF, '10-terway.conf': JSON.stringify({ type: 'terway', eniip_virtual_type: 'datapathv2' }) });
    const d = await start(kube, { eni: { hostIp: '172.31.5.10' } });
    expect(svc(d).mode).toBe('veth-policy-routing'); // the local config
    expect(kube.events.map((e) => e.message).join('\n')).toMatch(/10-terway\.conf\.eniip_virtual_type: datapathv2 is not available yet/u);
    kube.setConfigMap('eni-config', { eni_conf: ENI_CONF, daemon_mode: 'ENI' });
    await settle(d);
    // no service CIDR for the side-car routes
    expect(kube.events.map((e) => e.message).join('\n')).toMatch(/eni_conf\.service_cidr: required with ENI \(exclusive ENI\)/u);
    kube.setConfigMap('eni-config', { eni_conf: JSON.stringify({ version: '1', service_cidr: '10.96.0.0/16' }), daemon_mode: 'ENI' });
    await settle(d);
    // Terway: exclusive ENI is fixed per node
    expect(kube.events.map((e) => e.message).join('\n')).toMatch(/daemon_mode: cannot switch a running node between exclusive ENI and veth-policy-routing: drain the node and restart the daemon/u);
    expect(svc(d).mode).toBe('veth-policy-routing');
  });

  describe('ENIMultiIP + IPVlan', () => {
    const IPVLAN_CONF = JSON.stringify({ type: 'terway', eniip_virtual_type: 'IPVlan', host_stack_cidrs: ['169.254.20.10/32'] });
    const SVC_CONF = JSON.stringify({ version: '1', max_pool_size: 5, service_cidr: '10.96.0.0/16' });
    const hostIp = { ipvlan: { hostIp: '172.31.5.10' } };
    const node = (extra: Record<string, string> = {}): SysfsReader => (path) => {
      const files: Record<string, string> = { '/sys/class/net/eth1/ifindex': '7\n', '/sys/class/net/eth1/address': '02:aa:bb:cc:dd:ee\n', '/proc/sys/kernel/osrelease': '6.1.0-28-amd64\n', ...extra };
      const v = files[path];
      return v === undefined ? Promise.reject(new Error(`ENOENT: ${path}`)) : Promise.resolve(v);
    };
    const recorder = (modprobeExit: number): CommandRunner & { calls: Command[] } => {
      const calls: Command[] = [];
      return {
        calls,
        run: (cmd) => {
          calls.push(cmd);
          const modprobe = cmd.file === 'modprobe';
          return Promise.resolve({ stdout: '', stderr: modprobe && modprobeExit !== 0 ? 'modprobe: FATAL: Module ipvlan not found in directory /lib/modules/6.1.0-28-amd64' : '', exitCode: modprobe ? modprobeExit : 0 });
        },
      };
    };

    it('switches to ipvlan: service CIDR from eni_conf, host_stack_cidrs from the CNI conf, the node state built, allocations carry the ENI MAC and host IP', async () => {
      const kube = new FakeKube();
      const runner = recorder(0);
      const d = await start(kube, hostIp, { runner, sysfs: node({ '/sys/module/ipvlan/initstate': 'live\n' }) });
      expect(svc(d).mode).toBe('veth-policy-routing');
      kube.setConfigMap('eni-config', { eni_conf: SVC_CONF, daemon_mode: 'ENIMultiIP', '10-terway.conf': IPVLAN_CONF });
      await settle(d);
      expect(svc(d).mode).toBe('ipvlan');
      expect(kube.node().annotations[MODE_ANNOTATION]).toBe('ipvlan');
      expect(d.agent?.config.current?.daemon.ipvlan).toEqual({ hostIp: '172.31.5.10', serviceCidr: '10.96.0.0/16', hostStackCidrs: ['169.254.20.10/32'] });
      const batches = runner.calls.map((c) => c.stdin ?? '').join('\n');
      expect(batches).toMatch(/^link add link eth1 name ipvl_7 mtu 1500 type ipvlan mode l2$/mu);
      expect(batches).toMatch(/^addr replace 172\.31\.5\.10\/32 dev ipvl_7 scope host$/mu);
      expect(batches).toMatch(/^filter add dev eth1 egress pref 40000 protocol ip u32 match ip dst 10\.96\.0\.0\/16 .*redirect dev ipvl_7$/mu);
      expect(batches).toMatch(/^filter add dev eth1 egress pref 40001 protocol ip u32 match ip dst 169\.254\.20\.10\/32 .*redirect dev ipvl_7$/mu);
      expect(runner.calls.some((c) => c.file === 'modprobe')).toBe(false); // the module was loaded
      expect((await svc(d).allocate(req('c1'))).allocation).toEqual({
        mode: 'ipvlan', ip: '192.168.0.10', subnet: '192.168.0.0/24', mtu: 1500,
        eni: { link: 'eth1', ifindex: 7, gateway: '192.168.0.1', table: 1007 }, eniMac: '02:aa:bb:cc:dd:ee', hostIp: '172.31.5.10',
      });
    });

    it('a kernel without ipvlan: refused before the switch (ConfigError event naming the kernel and the module), the last good config stays', async () => {
      const kube = new FakeKube();
      const runner = recorder(1);
      const d = await start(kube, hostIp, { runner, sysfs: node() });
      kube.setConfigMap('eni-config', { eni_conf: SVC_CONF, daemon_mode: 'ENIMultiIP', '10-terway.conf': IPVLAN_CONF });
      await settle(d);
      expect(svc(d).mode).toBe('veth-policy-routing');
      const modprobes = runner.calls.filter((c) => c.file === 'modprobe');
      expect(modprobes.length).toBeGreaterThan(0); // each evaluation of the config asks again (a module may have been installed since)
      for (const c of modprobes) expect(c).toEqual({ file: 'modprobe', args: ['ipvlan'] });
      expect(runner.calls.map((c) => c.stdin ?? '').join('\n')).not.toMatch(/ipvl_/u); // nothing of ipvlan was built
      const warn = kube.events.find((e) => e.reason === 'ConfigError');
      expect(warn?.message).toMatch(/mode: ipvlan cannot run on this node: kernel 6\.1\.0-28-amd64 has no ipvlan driver: .*Module ipvlan not found.*keeping the last good config \(mode veth-policy-routing\)/u);
      expect(kube.node().annotations[CONFIG_ERROR_ANNOTATION]).toMatch(/no ipvlan driver/u);
    });

    it('names what the node config lacks: the host IP, the service CIDR', async () => {
      const kube = new FakeKube();
      kube.setConfigMap('eni-config', { eni_conf: SVC_CONF, daemon_mode: 'ENIMultiIP', '10-terway.conf': IPVLAN_CONF });
      const d = await start(kube, {}, { sysfs: node({ '/sys/module/ipvlan/initstate': 'live\n' }) });
      expect(svc(d).mode).toBe('veth-policy-routing');
      expect(kube.events.map((e) => e.message).join('\n')).toMatch(/daemon_mode: ENIMultiIP \(IPVlan\) needs ipvlan\.hostIp/u);
      kube.setConfigMap('eni-config', { eni_conf: ENI_CONF, daemon_mode: 'ENIMultiIP', '10-terway.conf': IPVLAN_CONF });
      await settle(d);
      expect(kube.events.map((e) => e.message).join('\n')).toMatch(/daemon_mode: ENIMultiIP \(IPVlan\) needs ipvlan\.hostIp/u);
    });

    it('without eni_conf service_cidr and without ipvlan.serviceCidr: refused naming eni_conf.service_cidr; one overlapping the vSwitch too', async () => {
      const kube = new FakeKube();
      const d = await start(kube, hostIp, { sysfs: node({ '/sys/module/ipvlan/initstate': 'live\n' }) });
      kube.setConfigMap('eni-config', { eni_conf: ENI_CONF, daemon_mode: 'ENIMultiIP', '10-terway.conf': IPVLAN_CONF });
      await settle(d);
      expect(svc(d).mode).toBe('veth-policy-routing');
      expect(kube.events.map((e) => e.message).join('\n')).toMatch(/eni_conf\.service_cidr: required with ENIMultiIP \(IPVlan\)/u);
      kube.setConfigMap('eni-config', { eni_conf: JSON.stringify({ service_cidr: '192.168.0.0/16' }), daemon_mode: 'ENIMultiIP', '10-terway.conf': IPVLAN_CONF });
      await settle(d);
      expect(kube.events.map((e) => e.message).join('\n')).toMatch(/eni_conf\.service_cidr: 192\.168\.0\.0\/16 overlaps the ENI's subnet 192\.168\.0\.0\/24/u);
      expect(svc(d).mode).toBe('veth-policy-routing');
    });
  });

  it('merges the per-node override ConfigMap named by the terway-config label', async () => {
    const kube = new FakeKube('node-1', { labels: { 'terway-config': 'sticky-kinds' }, podCIDR: '10.9.0.0/24' });
    kube.setConfigMap('eni-config', { eni_conf: JSON.stringify({ max_pool_size: 5, custom_stateful_workload_kinds: ['CloneSet'] }), daemon_mode: 'VPC' });
    kube.setConfigMap('sticky-kinds', { eni_conf: JSON.stringify({ custom_stateful_workload_kinds: ['GameServer'], enable_patch_pod_ips: false }) });
    const d = await start(kube);
    expect(d.agent?.config.current).toMatchObject({ source: 'kube-system/eni-config + kube-system/sticky-kinds', statefulKinds: ['statefulset', 'gameserver'], enablePatchPodIps: false });
    kube.addPod('gs-0', { owners: [{ kind: 'GameServer', name: 'gs', controller: true }] });
    await svc(d).allocate(req('c1', { podName: 'gs-0' }));
    await settle(d);
    expect(kube.podPatches).toEqual([]); // enable_patch_pod_ips: false
    await svc(d).release({ containerId: 'c1', ifName: 'eth0', reason: 'x' });
    expect((await svc(d).allocate(req('c2', { podName: 'gs-0' }))).allocation.ip).toBe('10.9.0.2');

    kube.setNode({ labels: { 'terway-config': 'missing' } });
    await settle(d);
    expect(kube.events.map((e) => e.message).join('\n')).toMatch(/node label terway-config: ConfigMap kube-system\/missing not found/u);
  });
});

describe('Daemon with Kubernetes: pods, events, SufficientIP', () => {
  it('AllocIPSucceed with the time taken, pod-ips annotation (retried), SufficientIP False then True', async () => {
    const kube = new FakeKube();
    const d = await start(kube);
    kube.addPod('a');
    kube.addPod('b');
    kube.addPod('c');
    kube.failPodPatches = 1;
    await svc(d).allocate(req('ca', { podName: 'a' }));
    await settle(d);
    expect(kube.pods.get('default', 'a')?.annotations['k8s.aliyun.com/pod-ips']).toBe('192.168.0.10');
    const ok = kube.events.find((e) => e.reason === 'AllocIPSucceed');
    expect(ok).toMatchObject({ type: 'Normal', target: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } });
    expect(ok?.message).toMatch(/^Alloc IP 192\.168\.0\.10\/24 \(veth-policy-routing\) took \d+\.\dms$/u);
    expect(kube.conditions).toEqual([{ type: 'SufficientIP', status: 'True', reason: 'SufficientIP', message: 'pod IPs are available' }]);

    await svc(d).allocate(req('cb', { podName: 'b' }));
    await expect(svc(d).allocate(req('cc', { podName: 'c' }))).rejects.toMatchObject({ code: 'exhausted' });
    await settle(d);
    const failed = kube.events.find((e) => e.reason === 'AllocIPFailed');
    expect(failed).toMatchObject({ type: 'Warning', target: { name: 'c' } });
    expect(failed?.message).toMatch(/^Alloc IP failed \(exhausted\): default\/c: no IP: this node holds all 2 IPs it may have \(1 ENIs × 2 IPs\)$/u);
    expect(kube.conditions.at(-1)).toMatchObject({ type: 'SufficientIP', status: 'False', reason: 'InsufficientIP' });

    await svc(d).release({ containerId: 'ca', ifName: 'eth0', reason: 'x' });
    await svc(d).allocate(req('cc', { podName: 'c' }));
    await settle(d);
    expect(kube.conditions.map((c) => c.status)).toEqual(['True', 'False', 'True']);
  });

  it('refuses hostNetwork pods with an AllocIPFailed event; reads the API when the cache misses', async () => {
    const kube = new FakeKube();
    const d = await start(kube, { pool: { warmEnis: 0 } }); // a cold pool: no ENI attached ahead
    kube.addPod('h', { hostNetwork: true });
    await expect(svc(d).allocate(req('c1', { podName: 'h' }))).rejects.toMatchObject({ code: 'invalid-input' });
    kube.apiOnlyPods.set('default/late', { namespace: 'default', name: 'late', uid: 'u-late', nodeName: 'node-1', hostNetwork: false, annotations: { 'k8s.aliyun.com/pod-ip-reservation': 'true' }, labels: {}, owners: [], resourceVersion: '1' });
    await svc(d).allocate(req('c2', { podName: 'late' }));
    expect(kube.getPodCalls).toBeGreaterThanOrEqual(1);
    await svc(d).release({ containerId: 'c2', ifName: 'eth0', reason: 'x' });
    await settle(d);
    // the first pod with an IP found the warm pool cold (min_pool_size 0, no warm ENI): it waited for the local cloud, and was told
    expect(kube.reasons()).toEqual(['Pod/Warning/AllocIPFailed', 'Pod/Normal/AllocIPWaiting', 'Pod/Normal/AllocIPSucceed']);
    expect(kube.events.find((e) => e.reason === 'AllocIPWaiting')?.message).toMatch(/asking local for more|waiting for/u);
  });

  it('bandwidth annotations travel with the allocation; a bad one refuses the pod naming the annotation', async () => {
    const kube = new FakeKube();
    const d = await start(kube);
    kube.addPod('bw', { annotations: { 'kubernetes.io/egress-bandwidth': '10M' } });
    const { allocation } = await svc(d).allocate(req('c1', { podName: 'bw' }));
    expect(allocation.bandwidth?.egress?.rateBps).toBe(10_000_000);
    kube.addPod('bad', { annotations: { 'kubernetes.io/ingress-bandwidth': 'lots' } });
    await expect(svc(d).allocate(req('c2', { podName: 'bad' }))).rejects.toThrow(/kubernetes\.io\/ingress-bandwidth/u);
  });

  it('podman-style requests (no pod name) work as without Kubernetes: no lookups, no pod events', async () => {
    const kube = new FakeKube();
    const d = await start(kube);
    await svc(d).allocate(req('p1', { podName: '', podNamespace: '' }));
    await settle(d);
    expect(kube.getPodCalls).toBe(0);
    expect(kube.events).toEqual([]);
    expect(kube.podPatches).toEqual([]);
  });

  it('reports leases outside the new pool as ResourceInvalid', async () => {
    const kube = new FakeKube('node-1', { podCIDR: '10.50.0.0/24' });
    kube.setConfigMap('eni-config', { eni_conf: ENI_CONF, daemon_mode: 'VPC' });
    const d = await start(kube);
    await svc(d).allocate(req('c1'));
    kube.setNode({ podCIDR: '10.60.0.0/24' });
    await settle(d);
    expect(kube.events.find((e) => e.reason === 'ResourceInvalid')?.message).toMatch(/holds 10\.50\.0\.2, outside the vpc pool/u);
    expect((await svc(d).allocate(req('c2'))).allocation.ip).toBe('10.60.0.2');
  });
});
