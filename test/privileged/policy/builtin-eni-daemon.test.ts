/**
 * The builtin NetworkPolicy backend on pod-owned links, through the REAL daemon in `mode: eni` (exclusive ENI: veth
 * ends with known MACs stand in for secondary ENIs, their peers on a "vSwitch" bridge in another netns) and the REAL
 * plugin, with the Kubernetes API emulator. The host never sees these pods' traffic, so each pod gets the table
 * `inet terway-hub-pod` inside its own netns: it is there when the ADD returns, the measured reachability between
 * the three pods equals the evaluator's matrix for each policy case, the node still reaches an isolated pod through
 * its side-car veth, `policy verify` compares every pod scope, and DEL removes the pod's table.
 */
import { existsSync } from 'node:fs';
import type { MacAddr } from '../../../src/lib/brand.js';
import { neutralName } from '../../../src/modes/eni/layout.js';
import type { PortProto } from '../../../src/policy/model/matrix.js';
import { CLI, NODE, PLUGIN, callPluginAsync, pluginStdin, startDaemon, type RunningDaemon } from '../../helpers/hub.js';
import { hasCommand, sh, shTry } from '../../helpers/exec.js';
import { rand, testSubnet } from '../../helpers/names.js';
import { createNetns, type TestNetns } from '../../helpers/netns.js';
import { describePrivileged } from '../../helpers/privilege.js';
import { eventually } from '../../helpers/wait.js';
import { startKubeEmulator, type KubeEmulator } from '../../k8s-emulator/index.js';
import { expectedMatrix, measureMatrix, namespaceObject, nodeObject, np as policy, podObject, sortedRecord, type Obj } from './pod-matrix.js';
import { BUN, startAgent, type Agent } from './pods.js';

const d = describePrivileged(
  'builtin NetworkPolicy backend on pod-owned links (daemon in eni mode, API emulator, real packets)',
  [existsSync(PLUGIN) && existsSync(CLI), `${PLUGIN} or ${CLI} missing: run npm run build`],
  [hasCommand('nft'), 'nft not installed (apt-get install -y nftables)'],
  [hasCommand('conntrack'), 'conntrack not installed (apt-get install -y conntrack)'],
  [existsSync(BUN), `bun not found at ${BUN} (npm ci)`],
);

const t = rand(4);
const vswitch = testSubnet('10.228');
const hostNet = testSubnet('10.229');
const macs = [1, 2, 3].map((i) => `02:17:3e:${t.slice(0, 2).split('').map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join(':')}:0${String(i)}` as MacAddr);
const PORTS: readonly PortProto[] = [{ port: 80, protocol: 'TCP' }, { port: 81, protocol: 'UDP' }];
const TIMEOUT_MS = 500;

const np = (name: string, spec: Obj): Obj => policy('x', name, spec);

const CASES: readonly (readonly [string, readonly Obj[]])[] = [
  ['no policies', []],
  ['b admits only a, on 80/TCP', [np('b-from-a', { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a' } } }], ports: [{ port: 80 }] }] })]],
  ['c may send nothing; everyone denies ingress but UDP', [
    np('c-no-egress', { podSelector: { matchLabels: { app: 'c' } }, policyTypes: ['Egress'] }),
    np('udp-only', { podSelector: {}, ingress: [{ ports: [{ protocol: 'UDP' }] }] }),
  ]],
];

interface Pod {
  readonly name: string;
  readonly netns: TestNetns;
  readonly containerId: string;
  ip: string;
  add: unknown;
}

d('builtin backend, pod-owned scope (eni mode)', () => {
  let emu: KubeEmulator;
  let daemon: RunningDaemon;
  let vsw: TestNetns;
  const nodeName = `pwe-${t}`;
  const hostAddr = `${hostNet.ip(1)}/32`;
  const eniLinks = macs.map((_, i) => `pwe${t}e${String(i)}`);
  const pods: Pod[] = [];
  const agents = new Map<string, Agent>();
  let hostAgent: Agent | undefined;
  let policies: readonly Obj[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];

  const podOf = (name: string, ip?: string): Obj => podObject({ namespace: 'x', name, nodeName, hostIp: hostNet.ip(1), ...(ip !== undefined ? { ip } : {}) });
  const cli = (args: readonly string[]): { code: number; stdout: string } => shTry(NODE, [CLI, 'policy', ...args, '--socket', daemon.socket]);
  const podTable = (p: Pod): string => p.netns.tryExec(['nft', 'list', 'table', 'inet', 'terway-hub-pod']).stdout;
  const key = (p: Pod): string => `x/${p.name}`;

  function setPolicies(next: readonly Obj[]): void {
    for (const p of emu.list('NetworkPolicy')) {
      const md = p['metadata'] as { namespace: string; name: string };
      emu.delete('NetworkPolicy', md.namespace, md.name);
    }
    for (const p of next) emu.put('NetworkPolicy', p);
    policies = next;
  }

  const expected = (): Record<string, boolean> => expectedMatrix([...pods.map((p) => podOf(p.name, p.ip)), nodeObject(nodeName, hostNet.ip(1)), ...policies], PORTS);
  const measure = (): Promise<Record<string, boolean>> =>
    measureMatrix(pods.map((p) => {
      const agent = agents.get(key(p));
      if (agent === undefined) throw new Error(`no probe agent in ${key(p)}`);
      return { key: key(p), ip: p.ip, agent };
    }), PORTS, TIMEOUT_MS);

  async function addPod(name: string): Promise<Pod> {
    emu.put('Pod', podOf(name));
    const netns = createNetns(`pwe${t}p${name}`);
    const pod: Pod = { name, netns, containerId: `pwe${name}${t}`, ip: '', add: undefined };
    const res = await callPluginAsync(
      { command: 'ADD', containerId: pod.containerId, netns: netns.path, ifName: 'eth0', args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=x;K8S_POD_NAME=${name}` },
      pluginStdin(daemon.conflist()),
    );
    if (res.code !== 0) throw new Error(`ADD x/${name}: ${res.stdout} ${res.stderr}\n${daemon.logs().slice(-4000)}`);
    pod.add = res.json;
    pod.ip = (res.json as { ips: { address: string }[] }).ips[0]?.address.split('/')[0] ?? '';
    return pod;
  }

  beforeAll(async () => {
    emu = await startKubeEmulator();
    cleanups.push(() => emu.close());
    vsw = createNetns(`pwe${t}vsw`);
    cleanups.push(() => { vsw.remove(); });
    vsw.exec(['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    vsw.exec(['ip', 'addr', 'add', `${vswitch.ip(253)}/24`, 'dev', 'br0']);
    vsw.exec(['ip', 'link', 'set', 'br0', 'up']);
    // the vSwitch routes between the pods (their default route goes to its gateway address)
    vsw.exec(['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.br0.send_redirects=0']);
    macs.forEach((mac, i) => {
      const link = eniLinks[i] ?? '';
      sh('ip', ['link', 'add', link, 'address', mac, 'type', 'veth', 'peer', 'name', `p${String(i)}`, 'netns', vsw.path]);
      vsw.exec(['ip', 'link', 'set', `p${String(i)}`, 'master', 'br0', 'up']);
      cleanups.push(() => {
        shTry('ip', ['link', 'del', link]);
        shTry('ip', ['link', 'del', neutralName(mac)]);
      });
    });
    sh('ip', ['addr', 'add', hostAddr, 'dev', 'lo']);
    cleanups.push(() => { shTry('ip', ['addr', 'del', hostAddr, 'dev', 'lo']); });
    emu.put('Node', nodeObject(nodeName, hostNet.ip(1)));
    emu.put('Namespace', namespaceObject('x'));
    daemon = await startDaemon({
      mode: 'eni',
      extra: {
        kubeconfig: emu.kubeconfigFile(),
        nodeName,
        local: { enis: macs.map((mac, i) => ({ mac, ip: vswitch.ip(10 + i), subnet: `${vswitch.subnet3}.0/24`, gateway: vswitch.ip(253) })) },
        eni: { hostIp: hostNet.ip(1), serviceCidr: `${hostNet.subnet3}.0/24` },
        pool: { minIdle: 0, maxIdle: 3 },
        policy: { backend: 'builtin' },
      },
    });
    cleanups.push(async () => {
      for (const p of pods) {
        await callPluginAsync({ command: 'DEL', containerId: p.containerId, netns: p.netns.path, ifName: 'eth0', args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=x;K8S_POD_NAME=${p.name}` }, pluginStdin(daemon.conflist(), { prevResult: p.add }));
        p.netns.remove();
      }
      await daemon.stop();
      daemon.cleanup();
    });
    setPolicies([np('deny-all-in', { podSelector: {}, policyTypes: ['Ingress'] })]);
    await eventually(() => { expect(cli(['verify']).code).toBe(0); }, 20_000, 200);
    for (const n of ['a', 'b', 'c']) {
      const p = await addPod(n);
      pods.push(p);
      // no wait: the pod's own table is in its netns when its ADD returns, the pod isolated
      expect(podTable(p)).toMatch(/"eth0" : jump pod0_in/u);
    }
    for (const p of pods) emu.put('Pod', podOf(p.name, p.ip));
    for (const p of pods) agents.set(key(p), startAgent(p.netns.name, [80, 81]));
    hostAgent = startAgent(undefined, []);
    await Promise.all([...agents.values(), hostAgent].map((a) => a.ready));
  }, 120_000);

  afterAll(async () => {
    for (const a of agents.values()) a.stop();
    hostAgent?.stop();
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('a pod allowed nothing answers the node through its side-car veth, not the other pods', async () => {
    expect(await agents.get('x/a')?.probe([{ ip: pods[1]?.ip ?? '', port: 80, proto: 'TCP' }], TIMEOUT_MS)).toEqual([false]);
    expect(await hostAgent?.probe(pods.map((p) => ({ ip: p.ip, port: 80, proto: 'TCP' })), TIMEOUT_MS)).toEqual(pods.map(() => true));
    const v = cli(['verify', '--json']);
    expect(v.code).toBe(0);
    expect((JSON.parse(v.stdout) as { scopes: string[] }).scopes.sort()).toEqual(pods.map((p) => p.netns.path).sort());
  }, 30_000);

  it.each(CASES)('%s: measured matrix = matrix(objects) = policy matrix over the live model', async (_name, next) => {
    setPolicies(next);
    const want = expected();
    await eventually(async () => { expect(await measure()).toEqual(want); }, 20_000, 200);
    const live = cli(['matrix', '--json', ...PORTS.flatMap((p) => ['--port', `${String(p.port)}/${p.protocol}`])]);
    expect(sortedRecord(JSON.parse(live.stdout) as Record<string, boolean>)).toEqual(want);
    expect(cli(['verify']).code).toBe(0);
  }, 60_000);

  it('verify names a tampered pod table; DEL removes the pod\'s table', async () => {
    const c = pods[2];
    if (c === undefined) throw new Error('no pod c');
    c.netns.exec(['nft', 'add', 'chain', 'inet', 'terway-hub-pod', 'intruder']);
    const v = cli(['verify']);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(`drift: ${c.netns.path}: extra chain intruder`);
    const del = await callPluginAsync({ command: 'DEL', containerId: c.containerId, netns: c.netns.path, ifName: 'eth0', args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=x;K8S_POD_NAME=c` }, pluginStdin(daemon.conflist(), { prevResult: c.add }));
    expect(del.code).toBe(0);
    await eventually(() => { expect(podTable(c)).toBe(''); }, 10_000, 100);
    await eventually(() => { expect(cli(['verify']).code).toBe(0); }, 10_000, 200);
  }, 60_000);
});
