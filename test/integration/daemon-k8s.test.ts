/**
 * The daemon against the API-server emulator through the REAL client (createKubeApi → @kubernetes/client-node),
 * driven through its RPC server like the CNI plugin would.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDaemonConfig } from '../../src/config/daemon-config.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { CONFIG_ERROR_ANNOTATION, MODE_ANNOTATION } from '../../src/daemon/k8s/config-watcher.js';
import { createNodeRpcClient } from '../../src/rpc/exchange-node.js';
import type { IfName, NetnsPath } from '../../src/lib/brand.js';
import { dataplaneFor } from '../../src/modes/registry.js';
import type { KubeEmulator, KubeObject } from '../k8s-emulator/index.js';
import { startKubeEmulator } from '../k8s-emulator/index.js';
import { emulatedKubeApi, node, pod } from '../k8s-emulator/testing.js';
import { tempDir } from '../helpers/tmp.js';
import { eventually } from '../helpers/wait.js';
import { req } from '../unit/daemon/helpers/fixtures.js';
import { nodeAdapters } from '../../src/main/adapters.js';

const NS = 'kube-system';
const ENI_CONF = JSON.stringify({ version: '1', max_pool_size: 5 });

let emu: KubeEmulator;
beforeAll(async () => {
  emu = await startKubeEmulator();
});
afterAll(async () => {
  await emu.close();
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const cm of emu.list('ConfigMap', NS)) emu.delete('ConfigMap', NS, name(cm));
});

let seq = 0;

function name(o: KubeObject): string {
  return String((o['metadata'] as Record<string, unknown>)['name']);
}

function annotations(o: KubeObject | undefined): Record<string, string> {
  return ((o?.['metadata'] as Record<string, unknown> | undefined)?.['annotations'] as Record<string, string> | undefined) ?? {};
}

function configMap(cmName: string, data: Record<string, string>): object {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: cmName, namespace: NS }, data };
}

function events(reason: string, involvedName: string): { type: string; message: string }[] {
  return emu
    .list('Event')
    .filter((e) => e['reason'] === reason && (e['involvedObject'] as Record<string, unknown>)['name'] === involvedName)
    .map((e) => ({ type: typeof e['type'] === 'string' ? e['type'] : '', message: typeof e['message'] === 'string' ? e['message'] : '' }));
}

async function startDaemon(nodeName: string, extra: Record<string, unknown> = {}) {
  const dir = tempDir('hub-int-');
  const cfg = parseDaemonConfig({
    mode: 'veth-policy-routing',
    socket: join(dir, 'run', 'daemon.sock'),
    stateDir: join(dir, 'state'),
    cniConfDir: join(dir, 'net.d'),
    cniLogFile: join(dir, 'log', 'cni.log'), // not /var/log on the test host (the daemon creates the directory)
    httpListen: '',
    nodeName,
    local: { eni: { link: 'eth1', gateway: '192.168.0.1', ips: '192.168.0.10-192.168.0.20', subnet: '192.168.0.0/24' } },
    vpc: { podCIDR: '10.9.0.0/24' },
    ...extra,
  });
  const kube = emulatedKubeApi(emu, { eventHost: nodeName });
  const daemon = new Daemon(cfg, {
    kube,
    ...nodeAdapters({
      sysctl: () => Promise.resolve(),
      runner: { run: () => Promise.resolve({ stdout: '', stderr: '', exitCode: 0 }) },
      sysfs: () => Promise.resolve('7'),
    }),
    kubeSyncTimeoutMs: 5000,
    kubeRetry: { attempts: 5, baseDelayMs: 20 },
  });
  await daemon.start();
  const client = createNodeRpcClient(cfg.socket);
  cleanups.push(() => daemon.stop());
  return { daemon, client };
}

function newNode(extra: { labels?: Record<string, string>; podCIDR?: string } = {}): string {
  const n = `node-${String(++seq)}`;
  emu.put('Node', node(n, extra));
  return n;
}

describe('daemon + real client + API emulator', () => {
  it('rejects a bad ConfigMap with a ConfigError node event and keeps the old config; fixing it clears the annotation', async () => {
    emu.put('ConfigMap', configMap('eni-config', { eni_conf: ENI_CONF, daemon_mode: 'ENIMultiIP' }));
    const n = newNode({ podCIDR: '10.39.0.0/24' });
    const { daemon, client } = await startDaemon(n);
    expect((await client.status({})).mode).toBe('veth-policy-routing');
    await eventually(() => { expect(annotations(emu.get('Node', '', n))[MODE_ANNOTATION]).toBe('veth-policy-routing'); });

    emu.put('ConfigMap', configMap('eni-config', { eni_conf: JSON.stringify({ min_pool_size: 9, max_pool_size: 2 }), daemon_mode: 'VPC' }));
    await eventually(() => { expect(events('ConfigError', n)).toEqual([{ type: 'Warning', message: expect.stringMatching(/eni_conf\.min_pool_size: must not exceed max_pool_size/u) as unknown as string }]); });
    await eventually(() => { expect(annotations(emu.get('Node', '', n))[CONFIG_ERROR_ANNOTATION]).toMatch(/eni_conf\.min_pool_size/u); });
    expect((await client.status({})).mode).toBe('veth-policy-routing');
    expect((await client.allocate(req('c1', { podName: '', podNamespace: '' }))).allocation.mode).toBe('veth-policy-routing');

    emu.put('ConfigMap', configMap('eni-config', { eni_conf: ENI_CONF, daemon_mode: 'VPC' }));
    await eventually(async () => { expect((await client.status({})).mode).toBe('vpc'); });
    await eventually(() => { expect(annotations(emu.get('Node', '', n))[CONFIG_ERROR_ANNOTATION]).toBeUndefined(); });
    expect(annotations(emu.get('Node', '', n))[MODE_ANNOTATION]).toBe('vpc');
    expect(daemon.effectiveConfig.mode).toBe('vpc');
  });

  it("renders the whole chain of eni-config's 10-terway.conflist: hub first, versions every plugin answers, one shaper; a chain that cannot run is refused", async () => {
    const conflist = (plugins: object[]): string => JSON.stringify({ cniVersion: '0.4.0', name: 'terway', plugins });
    const terway = { type: 'terway', capabilities: { portMappings: true } };
    emu.put('ConfigMap', configMap('eni-config', {
      eni_conf: ENI_CONF,
      daemon_mode: 'VPC',
      '10-terway.conflist': conflist([terway, { type: 'portmap', capabilities: { portMappings: true }, snat: true }, { type: 'bandwidth', capabilities: { bandwidth: true } }]),
    }));
    const n = newNode({ podCIDR: '10.41.0.0/24' });
    const { daemon } = await startDaemon(n);
    const rendered = (): { cniVersion: string; cniVersions: string[]; plugins: Record<string, unknown>[] } => JSON.parse(readFileSync(daemon.conflistPath, 'utf8')) as never;
    await eventually(() => { expect(rendered().plugins.map((p) => p.type)).toEqual(['terway-hub', 'portmap', 'bandwidth']); });
    expect(rendered().cniVersions).toEqual(['0.4.0', '1.0.0']); // Debian's 1.1.1 plugins stop at 1.0.0
    expect(rendered().plugins[0]).toMatchObject({ shaping: false, capabilities: { portMappings: true } });
    expect((rendered().plugins[0]?.capabilities as Record<string, unknown>).bandwidth).toBeUndefined();
    expect(rendered().plugins[1]).toEqual({ type: 'portmap', capabilities: { portMappings: true }, snat: true });

    emu.put('ConfigMap', configMap('eni-config', { eni_conf: ENI_CONF, daemon_mode: 'VPC', '10-terway.conflist': conflist([terway, { type: 'no-such-plugin' }]) }));
    await eventually(() => { expect(events('ConfigError', n)).toEqual([{ type: 'Warning', message: expect.stringMatching(/10-terway\.conflist\.plugins\[1\]\.type.*no executable "no-such-plugin" found/u) as unknown as string }]); });
    expect(rendered().plugins.map((p) => p.type)).toEqual(['terway-hub', 'portmap', 'bandwidth']); // the last good chain stays
  });

  it('merges the per-node override ConfigMap (RFC 7396) named by the terway-config label', async () => {
    emu.put('ConfigMap', configMap('eni-config', { eni_conf: JSON.stringify({ max_pool_size: 5, enable_patch_pod_ips: true }), daemon_mode: 'VPC' }));
    emu.put('ConfigMap', configMap('gameservers', { eni_conf: JSON.stringify({ custom_stateful_workload_kinds: ['GameServer'], max_pool_size: null }) }));
    const n = newNode({ labels: { 'terway-config': 'gameservers' }, podCIDR: '10.40.0.0/24' });
    const { daemon } = await startDaemon(n);
    expect(daemon.agent?.config.current).toMatchObject({ source: 'kube-system/eni-config + kube-system/gameservers', statefulKinds: ['statefulset', 'gameserver'] });
    expect(daemon.agent?.config.current?.cluster?.eniConf.maxPoolSize).toBe(5); // null deleted the key → default
    expect(daemon.effectiveConfig.vpc?.podCIDR).toBe('10.40.0.0/24'); // from the Node's spec.podCIDR
  });

  it('switches VPC → veth-policy-routing live; the old pod is torn down by its lease mode', async () => {
    emu.put('ConfigMap', configMap('eni-config', { eni_conf: ENI_CONF, daemon_mode: 'VPC' }));
    const n = newNode({ podCIDR: '10.41.0.0/24' });
    const { client } = await startDaemon(n);
    emu.put('Pod', pod('old', n));
    const old = await client.allocate(req('old', { podName: 'old' }));
    expect(old.allocation).toMatchObject({ mode: 'vpc', ip: '10.41.0.2' });

    emu.put('ConfigMap', configMap('eni-config', { eni_conf: ENI_CONF, daemon_mode: 'ENIMultiIP', '10-terway.conf': JSON.stringify({ type: 'terway', eniip_virtual_type: 'veth' }) }));
    await eventually(async () => { expect((await client.status({})).mode).toBe('veth-policy-routing'); });
    await eventually(() => { expect(annotations(emu.get('Node', '', n))[MODE_ANNOTATION]).toBe('veth-policy-routing'); });

    emu.put('Pod', pod('new', n));
    const fresh = await client.allocate(req('new', { podName: 'new' }));
    expect(fresh.allocation).toMatchObject({ mode: 'veth-policy-routing', ip: '192.168.0.10', eni: { table: 1007 } });

    // what cmdDel does: lookup → plan from the lease's mode → release
    const found = await client.lookup({ containerId: 'old', ifName: 'eth0' });
    expect(found.allocation).toEqual(old.allocation);
    const spec = { pod: { namespace: 'default', name: 'old' }, containerId: 'old', netns: '/var/run/netns/old' as NetnsPath, ifName: 'eth0' as IfName };
    const vpcPlan = dataplaneFor(found.allocation?.mode ?? 'veth-policy-routing').planTeardown(spec, found.allocation, { vethPrefix: 'cali' });
    expect(vpcPlan.map((op) => op.kind)).not.toContain('rule.del');
    expect(vpcPlan).toEqual(dataplaneFor('vpc').planTeardown(spec, old.allocation, { vethPrefix: 'cali' }));
    expect(await client.release({ containerId: 'old', ifName: 'eth0', reason: 'CNI DEL' })).toEqual({ released: true });
    expect((await client.lookup({ containerId: 'old', ifName: 'eth0' })).found).toBe(false);
  });

  it('a re-created StatefulSet pod gets its IP back; k8s.aliyun.com/pod-ips is patched after ADD; events are posted', async () => {
    emu.put('ConfigMap', configMap('eni-config', { eni_conf: ENI_CONF, daemon_mode: 'ENIMultiIP' }));
    const n = newNode({ podCIDR: '10.39.0.0/24' });
    const { client } = await startDaemon(n);
    const sts = { ...pod('web-0', n), metadata: { name: 'web-0', namespace: 'default', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'sts-uid', controller: true }] } };
    emu.put('Pod', sts);
    const first = await client.allocate(req('s1', { podName: 'web-0' }));
    expect(first.allocation.ip).toBe('192.168.0.10');
    await eventually(() => { expect(annotations(emu.get('Pod', 'default', 'web-0'))['k8s.aliyun.com/pod-ips']).toBe('192.168.0.10'); });
    await eventually(() => { expect(events('AllocIPSucceed', 'web-0')[0]?.message).toMatch(/^Alloc IP 192\.168\.0\.10\/24 \(veth-policy-routing\) took /u); });

    await client.release({ containerId: 's1', ifName: 'eth0', reason: 'CNI DEL' });
    emu.delete('Pod', 'default', 'web-0');
    emu.put('Pod', pod('other', n));
    expect((await client.allocate(req('o1', { podName: 'other' }))).allocation.ip).toBe('192.168.0.11');
    emu.put('Pod', sts); // the StatefulSet controller re-creates web-0
    const again = await client.allocate(req('s2', { podName: 'web-0' }));
    expect(again.allocation.ip).toBe('192.168.0.10');
    await eventually(() => { expect(events('AllocIPSucceed', 'web-0')[1]?.message ?? events('AllocIPSucceed', 'web-0')[0]?.message).toMatch(/reserved for this pod/u); });

    // a hostNetwork pod is refused, with an AllocIPFailed Warning
    emu.put('Pod', { ...pod('hostnet', n), spec: { nodeName: n, hostNetwork: true, containers: [{ name: 'a', image: 'b' }] } });
    await expect(client.allocate(req('h1', { podName: 'hostnet' }))).rejects.toMatchObject({ code: 'invalid-input' });
    await eventually(() => { expect(events('AllocIPFailed', 'hostnet')).toEqual([{ type: 'Warning', message: expect.stringMatching(/host network/u) as unknown as string }]); });
  });

  it('schedule-time demand: pods bound here awaiting their IP get it before their ADD (beyond max_pool_size), held apart from idle; no pool, no demand', async () => {
    emu.put('ConfigMap', configMap('eni-config', { eni_conf: JSON.stringify({ version: '1', min_pool_size: 0, max_pool_size: 1 }), daemon_mode: 'ENIMultiIP' }));
    const n = newNode({ podCIDR: '10.43.0.0/24' });
    const { daemon, client } = await startDaemon(n);
    const service = daemon.service;
    if (service === undefined) throw new Error('no service');
    const pending = (podName: string, extra: Record<string, unknown> = {}): object => {
      const p = pod(podName, n) as { spec: Record<string, unknown> };
      return { ...p, spec: { ...p.spec, ...extra }, status: { phase: 'Pending' } };
    };
    for (const p of ['sched-a', 'sched-b', 'sched-c']) emu.put('Pod', pending(p));
    emu.put('Pod', pending('hostnet-x', { hostNetwork: true })); // no pod IP to bring
    emu.put('Pod', pod('running-y', n)); // Running: has its network
    // three IPs brought before any ADD although max_pool_size is 1; they are held for the pods, not idle
    await eventually(() => { expect({ size: service.poolSize(), free: service.poolFree(), held: service.poolHeldForScheduled() }).toEqual({ size: 3, free: 3, held: 3 }); });
    // the ADD of one of them takes an IP that is there already; the others stay held
    const a = await client.allocate(req('ca', { podName: 'sched-a' }));
    expect(a.allocation.mode).toBe('veth-policy-routing');
    expect({ size: service.poolSize(), held: service.poolHeldForScheduled() }).toEqual({ size: 3, held: 2 });
    // deleted before its ADD: no longer expected; the IP is idle (within max_pool_size 1: kept)
    emu.delete('Pod', 'default', 'sched-b');
    await eventually(() => { expect({ free: service.poolFree(), held: service.poolHeldForScheduled() }).toEqual({ free: 2, held: 1 }); });
    expect(await service.metrics.registry.metrics()).toMatch(/terway_hub_pool_held_for_scheduled 1\n/u);
    const pool = (): { expected: number; heldForScheduled: number } | undefined => daemon.pools?.stats()[0]?.stats;
    // a mode without a pool (VPC: the podCIDR) expects nothing: the ENI pool forgets them
    emu.put('ConfigMap', configMap('eni-config', { eni_conf: ENI_CONF, daemon_mode: 'VPC' }));
    await eventually(async () => { expect((await client.status({})).mode).toBe('vpc'); });
    expect(pool()).toMatchObject({ expected: 0, heldForScheduled: 0 });
    expect(service.poolHeldForScheduled()).toBe(0);
    emu.put('Pod', pending('sched-d'));
    expect((await client.allocate(req('cd', { podName: 'sched-d' }))).allocation).toMatchObject({ mode: 'vpc', ip: '10.43.0.2' });
    // back to the pool's mode: the pod still awaiting (sched-c) is expected again; sched-d has its (VPC) lease
    emu.put('ConfigMap', configMap('eni-config', { eni_conf: JSON.stringify({ version: '1', min_pool_size: 0, max_pool_size: 1 }), daemon_mode: 'ENIMultiIP' }));
    await eventually(async () => { expect((await client.status({})).mode).toBe('veth-policy-routing'); });
    await eventually(() => { expect(pool()).toMatchObject({ expected: 1, heldForScheduled: 1 }); });
  });

  it('SufficientIP goes False when the pool runs dry and True again after an allocation succeeds', async () => {
    emu.put('ConfigMap', configMap('eni-config', { eni_conf: ENI_CONF, daemon_mode: 'VPC' }));
    const n = newNode({ podCIDR: '10.42.0.0/30' }); // one usable address
    const { client } = await startDaemon(n);
    const cond = (): Record<string, unknown> | undefined =>
      ((emu.get('Node', '', n)?.['status'] as Record<string, unknown> | undefined)?.['conditions'] as Record<string, unknown>[] | undefined)?.find((c) => c['type'] === 'SufficientIP');
    await client.allocate(req('a1', { podName: '', podNamespace: '' }));
    await eventually(() => { expect(cond()?.['status']).toBe('True'); });
    await expect(client.allocate(req('a2', { podName: '', podNamespace: '' }))).rejects.toMatchObject({ code: 'exhausted' });
    await eventually(() => { expect(cond()).toMatchObject({ status: 'False', reason: 'InsufficientIP' }); });
    await client.release({ containerId: 'a1', ifName: 'eth0', reason: 'x' });
    await client.allocate(req('a3', { podName: '', podNamespace: '' }));
    await eventually(() => { expect(cond()?.['status']).toBe('True'); });
  });
});
