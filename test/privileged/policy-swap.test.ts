/**
 * Issue 8, the backend swap end to end: the REAL daemon (CLI) and plugin binary, the Kubernetes API emulator, and
 * the stand-in backend (test/fixtures/stand-in-backend.ts, a test fixture, never shipped) playing Felix and the
 * Cilium agent — serving their real health endpoints and leaving their real kinds of residue (iptables-nft chains
 * and feeder rules, nft table `calico`, the cilium_host/cilium_net pair).
 *
 *  1. VPC + auto → felix: ClusterInformation ensured; a pod added. ConfigMap → ENIMultiIP (veth) with
 *     disable_network_policy → veth-policy-routing + none: Felix stopped (SIGTERM), its residue gone, the health
 *     responder answers Felix's probe paths, events and status say so; the pod made before the swap is torn down by
 *     its own (vpc) dataplane.
 *  2. cilium (generic-veth): cilium-cni joins the conflist only after the agent reports ready; flipping
 *     disable_network_policy takes it out, stops the agent and removes its residue.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { CLI, NODE, PLUGIN, ROOT, callPluginAsync, pluginStdin, startDaemon, type RunningDaemon } from '../helpers/hub.js';
import { sh, shTry } from '../helpers/exec.js';
import { rand, testSubnet } from '../helpers/names.js';
import { createNetns, type TestNetns } from '../helpers/netns.js';
import { describePrivileged } from '../helpers/privilege.js';
import { tempDir } from '../helpers/tmp.js';
import { eventually } from '../helpers/wait.js';
import { startKubeEmulator, type KubeEmulator, type KubeObject } from '../k8s-emulator/index.js';
import { node } from '../k8s-emulator/testing.js';

const BUN = resolve(ROOT, 'node_modules', '.bin', 'bun');
const STAND_IN = resolve(ROOT, 'test', 'fixtures', 'stand-in-backend.ts');
const NS = 'kube-system';

const d = describePrivileged(
  'policy backend swap (daemon + plugin + API emulator + stand-in backends)',
  [existsSync(PLUGIN) && existsSync(CLI), `${PLUGIN} or ${CLI} missing: run npm run build`],
  [existsSync(BUN), `${BUN} (bun, runs the stand-in backend) is missing`],
  [shTry('iptables-nft', ['-V']).code === 0 && shTry('nft', ['-v']).code === 0, 'iptables-nft and nft are needed for the residue'],
);

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => { res(typeof a === 'object' && a !== null ? a.port : 0); });
    });
  });
}

/** An executable that runs the stand-in as `flavor`, its settings fixed here (the backend's env comes from the hub). */
function standInBinary(dir: string, flavor: 'felix' | 'cilium', port: number, extra: Record<string, string> = {}): string {
  const state = join(dir, `${flavor}-state`);
  sh('mkdir', ['-p', state]);
  const vars = { STANDIN_FLAVOR: flavor, STANDIN_PORT: String(port), STANDIN_STATE_DIR: state, STANDIN_RESIDUE: '1', ...extra };
  const file = join(dir, flavor === 'felix' ? 'calico-felix' : 'cilium-agent');
  writeFileSync(file, `#!/bin/sh\n${Object.entries(vars).map(([k, v]) => `export ${k}='${v}'`).join('\n')}\nexec '${BUN}' '${STAND_IN}' "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

function standInEvents(dir: string, flavor: string): { event: string; argv?: string[]; status?: number }[] {
  const f = join(dir, `${flavor}-state`, 'events.log');
  return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string }) : [];
}

const iptablesNft = (): string => sh('iptables-nft-save', []);
const nftTables = (): string => sh('nft', ['list', 'tables']);
const linkExists = (name: string): boolean => shTry('ip', ['link', 'show', 'dev', name]).code === 0;

interface StatusJson {
  mode: string;
  configError?: string;
  policy?: { backend: string; state: string; chainEntryActive: boolean; restarts: number; why: string; warnings: string[] };
}
function status(daemon: RunningDaemon): StatusJson {
  const r = shTry(NODE, [CLI, 'status', '--socket', daemon.socket, '--json']);
  return JSON.parse(r.stdout) as StatusJson;
}
const pluginTypes = (daemon: RunningDaemon): string[] => {
  const c = JSON.parse(readFileSync(daemon.conflistPath, 'utf8')) as { plugins: { type: string }[] };
  return c.plugins.map((p) => p.type);
};

d('policy backend swap', () => {
  let emu: KubeEmulator;
  const cleanups: (() => Promise<void> | void)[] = [];
  beforeAll(async () => {
    emu = await startKubeEmulator();
  });
  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await emu.close();
  });

  const events = (nodeName: string): string[] =>
    emu
      .list('Event')
      .filter((e) => (e['involvedObject'] as Record<string, unknown>)['name'] === nodeName)
      .map((e) => [e['type'], e['reason'], e['message']].map((v) => (typeof v === 'string' ? v : '')))
      .map(([type, reason, message]) => `${type ?? ''} ${reason ?? ''}: ${message ?? ''}`);
  const eniConfig = (name: string, data: Record<string, string>): object => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS }, data });
  const annotations = (o: KubeObject | undefined): Record<string, string> =>
    ((o?.['metadata'] as Record<string, unknown> | undefined)?.['annotations'] as Record<string, string> | undefined) ?? {};

  it('felix → none on a ConfigMap change (mode and disable_network_policy): felix stopped, residue gone, responder up; a pod from before is torn down by its own dataplane', async () => {
    const tag = rand();
    const dir = tempDir('hub-swap-');
    const nodeName = `swap-${tag}`;
    const cmName = `eni-config-${tag}`;
    const port = await freePort();
    const felix = standInBinary(dir, 'felix', port);
    const sub = testSubnet('10.221').subnet3;
    // the ENI stand-in of veth-policy-routing: a veth whose peer plays the vSwitch gateway
    const eni = `sw${tag}e`;
    sh('ip', ['link', 'add', eni, 'type', 'veth', 'peer', 'name', `sw${tag}g`]);
    sh('ip', ['link', 'set', eni, 'up']);
    cleanups.push(() => { shTry('ip', ['link', 'del', eni]); });
    emu.put('Node', node(nodeName, { podCIDR: `${sub}.0/24` }));
    emu.put('ConfigMap', eniConfig(cmName, { eni_conf: JSON.stringify({ version: '1', max_pool_size: 5 }), daemon_mode: 'VPC' }));

    const daemon = await startDaemon({
      mode: 'vpc',
      podCIDR: `${sub}.0/24`,
      eni: { link: eni, gateway: '192.168.231.1', ips: '192.168.231.10-192.168.231.20', subnet: '192.168.231.0/24' },
      extra: {
        kubeconfig: emu.kubeconfigFile(),
        nodeName,
        eniConfigName: cmName,
        policy: { backend: 'auto', felix: { binary: felix, version: 'v3.28.2', healthPort: port } },
      },
    });
    cleanups.push(async () => { await daemon.stop(); daemon.cleanup(); });

    // felix runs: ready, ClusterInformation ensured, its residue (the stand-in's) in place
    await eventually(() => { expect(status(daemon).policy).toMatchObject({ backend: 'felix', state: 'ready' }); }, 20_000);
    const info = emu.get('ClusterInformation', '', 'default');
    expect(info?.['spec']).toMatchObject({ datastoreReady: true });
    expect(iptablesNft()).toMatch(/^:cali-standin /mu);
    expect(nftTables()).toMatch(/^table ip calico$/mu);
    expect(readFileSync(join(daemon.dir, 'state', 'policy', 'felix', 'felix.cfg'), 'utf8')).toMatch(/HealthPort/u);
    await eventually(() => { expect(events(nodeName)).toContainEqual(expect.stringMatching(/^Normal PolicyBackendReady: felix is ready/u)); }, 5000);

    // a pod in vpc mode
    const ns: TestNetns = createNetns(`sw-${tag}`);
    cleanups.push(() => { ns.remove(); });
    const call = (command: string) => ({ command, containerId: `swap${tag}`, netns: ns.path, ifName: 'eth0', args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=p${tag}` });
    const stdin = pluginStdin(daemon.conflist());
    const add = await callPluginAsync(call('ADD'), stdin);
    expect(add.code).toBe(0);
    const podIp = (add.json as { ips: { address: string }[] }).ips[0]?.address.split('/')[0] ?? '';
    expect(podIp.startsWith(`${sub}.`)).toBe(true);
    const hostVeth = (add.json as { interfaces: { name: string; sandbox?: string }[] }).interfaces.find((i) => i.sandbox === undefined)?.name ?? '';
    expect(linkExists(hostVeth)).toBe(true);

    // the swap
    emu.put('ConfigMap', eniConfig(cmName, { eni_conf: JSON.stringify({ version: '1', max_pool_size: 5 }), daemon_mode: 'ENIMultiIP', disable_network_policy: 'true' }));
    await eventually(() => { expect(status(daemon)).toMatchObject({ mode: 'veth-policy-routing', policy: { backend: 'none', state: 'responding' } }); }, 20_000);
    expect(standInEvents(dir, 'felix').map((e) => e.event)).toContain('sigterm');
    expect(iptablesNft()).not.toMatch(/cali-/u);
    expect(nftTables()).not.toMatch(/table ip calico/u);
    const probe = await fetch(`http://127.0.0.1:${String(port)}/readiness`);
    expect(probe.status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${String(port)}/liveness`)).status).toBe(200);
    await eventually(() => {
      expect(events(nodeName)).toEqual(expect.arrayContaining([
        expect.stringMatching(/^Normal PolicyBackend: NetworkPolicy backend none \(was felix\): disable_network_policy/u),
        expect.stringMatching(/^Normal PolicyResidueCleaned: .*iptables-nft filter\/cali-standin/u),
        expect.stringMatching(/^Warning PolicyNotEnforced: NetworkPolicy is NOT enforced on this node \(disable_network_policy\)/u),
      ]));
    });
    await eventually(() => { expect(annotations(emu.get('Node', '', nodeName))['terway-hub.io/mode']).toBe('veth-policy-routing'); });
    expect(pluginTypes(daemon)).toEqual(['terway-hub']);
    const text = shTry(NODE, [CLI, 'status', '--socket', daemon.socket]).stdout;
    expect(text).toMatch(/^ready=true mode=veth-policy-routing policy=none policy-state=responding policy-restarts=0$/mu);

    // the pod made before the swap: DEL through its own (vpc) dataplane
    const del = await callPluginAsync(call('DEL'), pluginStdin(JSON.parse(readFileSync(daemon.conflistPath, 'utf8')) as Record<string, unknown>, { prevResult: add.json }));
    expect(del.code).toBe(0);
    expect(linkExists(hostVeth)).toBe(false);
    expect(ns.tryExec(['ip', 'link', 'show', 'eth0']).code).not.toBe(0);
    expect(sh('ip', ['route', 'show', `${podIp}/32`]).trim()).toBe('');
  }, 90_000);

  it('cilium: cilium-cni joins the conflist only once the agent is ready; a refused config is reported and changes nothing; disable_network_policy takes it out and cleans the agent residue', async () => {
    const tag = rand();
    const dir = tempDir('hub-swap-');
    const nodeName = `swapc-${tag}`;
    const cmName = `eni-config-${tag}`;
    const port = await freePort();
    const agent = standInBinary(dir, 'cilium', port, { STANDIN_READY_AFTER_MS: '2500' });
    const sub = testSubnet('10.222').subnet3;
    emu.put('Node', node(nodeName, { podCIDR: `${sub}.0/24` }));
    emu.put('ConfigMap', eniConfig(cmName, { eni_conf: JSON.stringify({ version: '1' }), daemon_mode: 'VPC' }));
    const daemon = await startDaemon({
      mode: 'vpc',
      podCIDR: `${sub}.0/24`,
      extra: {
        kubeconfig: emu.kubeconfigFile(),
        nodeName,
        eniConfigName: cmName,
        policy: { backend: 'cilium', cilium: { agentBinary: agent, version: '1.18.10', healthPort: port } },
      },
    });
    cleanups.push(async () => { await daemon.stop(); daemon.cleanup(); });

    // written at once, without the agent's plugin: the agent is not ready yet
    expect(pluginTypes(daemon)).toEqual(['terway-hub']);
    expect(status(daemon).policy).toMatchObject({ backend: 'cilium', state: 'starting', chainEntryActive: false });
    await eventually(() => { expect(pluginTypes(daemon)).toEqual(['terway-hub', 'cilium-cni']); }, 20_000);
    const entry = (JSON.parse(readFileSync(daemon.conflistPath, 'utf8')) as { plugins: Record<string, unknown>[] }).plugins[1];
    expect(entry).toMatchObject({ type: 'cilium-cni', 'chaining-mode': 'generic-veth' });
    expect(status(daemon).policy).toMatchObject({ state: 'ready', chainEntryActive: true });
    const readyAt = standInEvents(dir, 'cilium').find((e) => e.event === 'ready');
    expect(readyAt).toBeDefined();
    expect(linkExists('cilium_host')).toBe(true);
    expect(iptablesNft()).toMatch(/^:CILIUM_FORWARD /mu);
    expect(readFileSync(join(daemon.dir, 'state', 'policy', 'cilium', 'config', 'cni-chaining-mode'), 'utf8').trim()).toBe('generic-veth');

    // a config whose backend is refused: rejected as a whole, reported three ways, the running backend kept
    emu.put('ConfigMap', eniConfig(cmName, { eni_conf: JSON.stringify({ version: '1', service_cidr: '169.254.0.0/16' }), daemon_mode: 'VPC' }));
    await eventually(() => {
      expect(events(nodeName)).toContainEqual(expect.stringMatching(/^Warning ConfigError: .*policy\.backend: cilium refused in vpc mode .*169\.254\.10\.1.*169\.254\.0\.0\/16.*keeping the last good config/u));
    }, 10_000);
    await eventually(() => { expect(annotations(emu.get('Node', '', nodeName))['terway-hub.io/config-error']).toMatch(/cilium refused/u); });
    expect(status(daemon)).toMatchObject({ configError: expect.stringMatching(/cilium refused in vpc mode/u), policy: { backend: 'cilium', state: 'ready', chainEntryActive: true } });
    expect(shTry(NODE, [CLI, 'status', '--socket', daemon.socket]).stdout).toMatch(/^ {2}config-error: .*cilium refused/mu);
    expect(pluginTypes(daemon)).toEqual(['terway-hub', 'cilium-cni']);

    emu.put('ConfigMap', eniConfig(cmName, { eni_conf: JSON.stringify({ version: '1' }), daemon_mode: 'VPC', disable_network_policy: 'true' }));
    await eventually(() => { expect(status(daemon).policy).toMatchObject({ backend: 'none', state: 'responding' }); }, 20_000);
    expect(pluginTypes(daemon)).toEqual(['terway-hub']);
    expect(linkExists('cilium_host')).toBe(false);
    expect(linkExists('cilium_net')).toBe(false);
    expect(iptablesNft()).not.toMatch(/CILIUM_/u);
    expect(standInEvents(dir, 'cilium').map((e) => e.event)).toContain('sigterm');
    await eventually(() => { expect(events(nodeName)).toContainEqual(expect.stringMatching(/^Normal PolicyResidueCleaned: .*link cilium_host/u)); });
  }, 90_000);
});
