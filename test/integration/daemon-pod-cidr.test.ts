/**
 * VPC mode in a cluster takes the pod CIDR from the Node only. Against the API-server emulator through the real
 * client: a Node without spec.podCIDR → the daemon refuses to serve (RPC status not ready naming NoPodCIDR, /readyz
 * 503 saying why, /healthz alive, no conflist, allocations refused, a Warning NoPodCIDR node event); once the Node
 * gets a podCIDR (an informer update) it serves from that CIDR. Without Kubernetes the configured podCIDR stays.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { parseDaemonConfig } from '../../src/config/daemon-config.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { CONFIG_ERROR_ANNOTATION } from '../../src/daemon/k8s/config-watcher.js';
import { UnavailableError } from '../../src/lib/errors.js';
import { nodeAdapters } from '../../src/main/adapters.js';
import { createNodeRpcClient } from '../../src/rpc/exchange-node.js';
import type { KubeEmulator, KubeObject } from '../k8s-emulator/index.js';
import { startKubeEmulator } from '../k8s-emulator/index.js';
import { emulatedKubeApi, node } from '../k8s-emulator/testing.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { eventually } from '../helpers/wait.js';
import { req } from '../unit/daemon/helpers/fixtures.js';

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
});

function get(address: string, path: string): Promise<{ status: number; body: string }> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    request({ host: address.slice(0, i), port: Number(address.slice(i + 1)), path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }); });
    })
      .on('error', reject)
      .end();
  });
}

function events(reason: string, involvedName: string): { type: string; message: string }[] {
  return emu
    .list('Event')
    .filter((e) => e['reason'] === reason && (e['involvedObject'] as Record<string, unknown>)['name'] === involvedName)
    .map((e) => ({ type: typeof e['type'] === 'string' ? e['type'] : '', message: typeof e['message'] === 'string' ? e['message'] : '' }));
}

function annotations(o: KubeObject | undefined): Record<string, string> {
  return ((o?.['metadata'] as Record<string, unknown> | undefined)?.['annotations'] as Record<string, string> | undefined) ?? {};
}

/** The same daemon config on every node (a DaemonSet's), VPC mode, with the old shared fallback podCIDR in it. */
function vpcConfig(dir: string, nodeName?: string) {
  return parseDaemonConfig({
    mode: 'vpc',
    socket: join(dir, 'run', 'daemon.sock'),
    stateDir: join(dir, 'state'),
    cniConfDir: join(dir, 'net.d'),
    cniLogFile: join(dir, 'log', 'cni.log'),
    httpListen: '127.0.0.1:0',
    vpc: { podCIDR: '10.88.0.0/24' },
    ...(nodeName !== undefined ? { nodeName } : {}),
  });
}

const adapters = () => nodeAdapters({ sysctl: () => Promise.resolve(), runner: { run: () => Promise.resolve({ stdout: '', stderr: '', exitCode: 0 }) }, sysfs: () => Promise.resolve('7') });

/** The same, in veth-policy-routing mode (its ENI from the daemon config). */
function vethConfig(dir: string, nodeName: string) {
  return parseDaemonConfig({
    mode: 'veth-policy-routing',
    socket: join(dir, 'run', 'daemon.sock'),
    stateDir: join(dir, 'state'),
    cniConfDir: join(dir, 'net.d'),
    cniLogFile: join(dir, 'log', 'cni.log'),
    httpListen: '127.0.0.1:0',
    nodeName,
    local: { eni: { link: 'eth1', gateway: '192.168.0.1', ips: '192.168.0.10-192.168.0.20', subnet: '192.168.0.0/24' } },
  });
}

function configMap(data: Record<string, string>): object {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'eni-config', namespace: 'kube-system' }, data };
}

async function startDaemon(nodeName: string, mode: 'vpc' | 'veth' = 'vpc') {
  const dir = tempDir('hub-nd-cidr-');
  const cfg = mode === 'vpc' ? vpcConfig(dir, nodeName) : vethConfig(dir, nodeName);
  const daemon = new Daemon(cfg, { kube: emulatedKubeApi(emu, { eventHost: nodeName }), ...adapters(), kubeSyncTimeoutMs: 5000, kubeRetry: { attempts: 5, baseDelayMs: 20 } });
  await daemon.start();
  cleanups.push(() => daemon.stop());
  return { daemon, cfg, client: createNodeRpcClient(cfg.socket) };
}

describe('VPC podCIDR from the Node (daemon + real client + API emulator)', () => {
  it('a Node without spec.podCIDR: not serving, saying why (status, /readyz, Warning NoPodCIDR); serves from the podCIDR it gets', async () => {
    emu.put('Node', node('nd-nocidr'));
    const { daemon, cfg, client } = await startDaemon('nd-nocidr');

    const st = await client.status({});
    expect(st.ready).toBe(false);
    expect(st.reason).toMatch(/^NoPodCIDR: VPC mode takes the pod CIDR from the Node, and Node nd-nocidr has no spec\.podCIDR/u);
    const cli = await runCli(['status', '--socket', cfg.socket]); // `terway-hub status` as an operator runs it
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(/^ready=false mode=vpc reason=NoPodCIDR: VPC mode takes the pod CIDR from the Node, and Node nd-nocidr has no spec\.podCIDR/u);
    const addr = daemon.httpAddress ?? '';
    const readyz = await get(addr, '/readyz');
    expect(readyz.status).toBe(503);
    expect(readyz.body).toMatch(/^not serving: NoPodCIDR: .*Node nd-nocidr has no spec\.podCIDR/u);
    expect((await get(addr, '/healthz')).status).toBe(200); // alive: the liveness probe does not restart it for this
    expect(existsSync(daemon.conflistPath)).toBe(false);
    await expect(client.allocate(req('c0', { podName: '', podNamespace: '' }))).rejects.toBeInstanceOf(UnavailableError);
    await eventually(() => { expect(events('NoPodCIDR', 'nd-nocidr')).toEqual([{ type: 'Warning', message: expect.stringMatching(/has no spec\.podCIDR/u) as unknown as string }]); });
    await eventually(() => { expect(annotations(emu.get('Node', '', 'nd-nocidr'))[CONFIG_ERROR_ANNOTATION]).toMatch(/NoPodCIDR|no spec\.podCIDR/u); });

    emu.put('Node', node('nd-nocidr', { podCIDR: '10.244.7.0/24' }));
    await eventually(async () => { expect((await client.status({})).ready).toBe(true); });
    expect(await get(addr, '/readyz')).toEqual({ status: 200, body: 'ready\n' });
    await eventually(() => { expect(existsSync(daemon.conflistPath)).toBe(true); }); // written once serving
    expect(JSON.parse(readFileSync(daemon.conflistPath, 'utf8'))).toMatchObject({ plugins: [{ socket: cfg.socket }] });
    expect((await client.allocate(req('c1', { podName: '', podNamespace: '' }))).allocation).toMatchObject({ mode: 'vpc', ip: '10.244.7.2', subnet: '10.244.7.0/24' });
    expect(daemon.effectiveConfig.vpc?.podCIDR).toBe('10.244.7.0/24');
    await eventually(() => { expect(annotations(emu.get('Node', '', 'nd-nocidr'))[CONFIG_ERROR_ANNOTATION]).toBeUndefined(); });
    expect(events('NoPodCIDR', 'nd-nocidr')).toHaveLength(1);
  });

  it('a node serving veth when the cluster switches to VPC without a podCIDR keeps veth (NoPodCIDR event); the podCIDR switches it', async () => {
    emu.put('Node', node('nd-switch'));
    const { client } = await startDaemon('nd-switch', 'veth');
    cleanups.push(() => { emu.delete('ConfigMap', 'kube-system', 'eni-config'); });
    expect(await client.status({})).toMatchObject({ ready: true, mode: 'veth-policy-routing' });
    emu.put('ConfigMap', configMap({ eni_conf: JSON.stringify({ version: '1' }), daemon_mode: 'VPC' }));
    await eventually(() => { expect(events('NoPodCIDR', 'nd-switch')).toEqual([{ type: 'Warning', message: expect.stringMatching(/has no spec\.podCIDR.*keeping the last good config \(mode veth-policy-routing\)/u) as unknown as string }]); });
    expect(await client.status({})).toMatchObject({ ready: true, mode: 'veth-policy-routing' });
    emu.put('Node', node('nd-switch', { podCIDR: '10.244.9.0/24' }));
    await eventually(async () => { expect(await client.status({})).toMatchObject({ ready: true, mode: 'vpc' }); });
    expect((await client.allocate(req('s1', { podName: '', podNamespace: '' }))).allocation).toMatchObject({ mode: 'vpc', ip: '10.244.9.2' });
  });

  it('a node whose cluster config was rejected at start (serving its local config) stops serving for NoPodCIDR, and serves again with the podCIDR', async () => {
    emu.put('Node', node('nd-rejected'));
    emu.put('ConfigMap', configMap({ eni_conf: JSON.stringify({ min_pool_size: 9, max_pool_size: 2 }), daemon_mode: 'VPC' }));
    cleanups.push(() => { emu.delete('ConfigMap', 'kube-system', 'eni-config'); });
    const { client } = await startDaemon('nd-rejected', 'veth');
    expect(await client.status({})).toMatchObject({ ready: true, mode: 'veth-policy-routing', configError: expect.stringMatching(/min_pool_size/u) });
    emu.put('ConfigMap', configMap({ eni_conf: JSON.stringify({ version: '1' }), daemon_mode: 'VPC' }));
    await eventually(async () => { expect(await client.status({})).toMatchObject({ ready: false, reason: expect.stringMatching(/^NoPodCIDR: /u) }); });
    await expect(client.allocate(req('r0', { podName: '', podNamespace: '' }))).rejects.toBeInstanceOf(UnavailableError);
    emu.put('Node', node('nd-rejected', { podCIDR: '10.244.8.0/24' }));
    await eventually(async () => { expect(await client.status({})).toMatchObject({ ready: true, mode: 'vpc', reason: '' }); });
    expect((await client.allocate(req('r1', { podName: '', podNamespace: '' }))).allocation).toMatchObject({ mode: 'vpc', ip: '10.244.8.2' });
  });

  it('two nodes with the same daemon config and different podCIDRs hand out disjoint addresses', async () => {
    emu.put('Node', node('nd-a', { podCIDR: '10.244.10.0/24' }));
    emu.put('Node', node('nd-b', { podCIDR: '10.244.11.0/24' }));
    const a = await startDaemon('nd-a');
    const b = await startDaemon('nd-b');
    const ipsA = new Set<string>();
    const ipsB = new Set<string>();
    for (let i = 0; i < 5; i++) {
      ipsA.add((await a.client.allocate(req(`a${String(i)}`, { podName: '', podNamespace: '' }))).allocation.ip);
      ipsB.add((await b.client.allocate(req(`b${String(i)}`, { podName: '', podNamespace: '' }))).allocation.ip);
    }
    expect([...ipsA].filter((ip) => ipsB.has(ip))).toEqual([]);
    expect([...ipsA].every((ip) => ip.startsWith('10.244.10.'))).toBe(true);
    expect([...ipsB].every((ip) => ip.startsWith('10.244.11.'))).toBe(true);
  });

  it('without Kubernetes (the embedded demo) the configured podCIDR stays', async () => {
    const dir = tempDir('hub-nd-local-');
    const cfg = vpcConfig(dir);
    const daemon = new Daemon(cfg, adapters());
    await daemon.start();
    cleanups.push(() => daemon.stop());
    const client = createNodeRpcClient(cfg.socket);
    expect((await client.status({})).ready).toBe(true);
    expect((await client.allocate(req('l1', { podName: '', podNamespace: '' }))).allocation).toMatchObject({ mode: 'vpc', ip: '10.88.0.2', subnet: '10.88.0.0/24' });
  });
});
