/**
 * The builtin NetworkPolicy backend end to end: the REAL daemon (CLI, `policy.backend: auto` with neither Felix nor
 * Cilium → builtin) and the REAL plugin binary in both veth modes (every case of daemon-cases.ts in each), the Kubernetes API emulator holding the Namespaces, Pods and
 * NetworkPolicies. 9 pods (x, y, z × a, b, c) ADDed through the plugin, TCP and UDP echo
 * servers on ports 80 and 81 in each; policies put and changed in the emulator while the pods run. For every case
 * the measured reachability (288 real connections) equals the evaluator's matrix over the same objects, and
 * `terway-hub policy matrix --json` over the daemon's live model says the same. Also: a pod ADDed into a
 * default-deny namespace is in the rules when its ADD returns; an established flow is cut when a policy tightens;
 * a pod allowed nothing still answers the node; `policy verify` exits 0, and 1 naming each drift after hand edits
 * (a port replaced in a rule and a set element deleted, counts and comments kept; a rule added; a map flushed); DEL
 * takes the pod out of the rules; disable_network_policy removes the table.
 */
import { existsSync } from 'node:fs';
import { CLI, NODE, PLUGIN, callPluginAsync, pluginStdin, startDaemon, type RunningDaemon } from '../../helpers/hub.js';
import { hasCommand, sh, shTry } from '../../helpers/exec.js';
import { rand } from '../../helpers/names.js';
import { createNetns, type TestNetns } from '../../helpers/netns.js';
import { describePrivileged } from '../../helpers/privilege.js';
import { eventually } from '../../helpers/wait.js';
import { startKubeEmulator, type KubeEmulator } from '../../k8s-emulator/index.js';
import { vethName } from '../../../src/lib/veth-name.js';
import { CASES, NAMES, NAMESPACES, PORTS, denyAll, denyIngress, namespaceObject, nodeObject, np, podObject, type Obj } from './daemon-cases.js';
import { expectedMatrix as matrixOf, measureMatrix, sortedRecord } from './pod-matrix.js';
import { BUN, NODE_IP, prepareHost, startAgent, type Agent } from './pods.js';

const d = describePrivileged(
  'builtin NetworkPolicy backend through the daemon and the plugin (API emulator, real packets)',
  [existsSync(PLUGIN) && existsSync(CLI), `${PLUGIN} or ${CLI} missing: run npm run build`],
  [hasCommand('nft'), 'nft not installed (apt-get install -y nftables)'],
  [hasCommand('conntrack'), 'conntrack not installed (apt-get install -y conntrack)'],
  [existsSync(BUN), `bun not found at ${BUN} (npm ci)`],
);

const TIMEOUT_MS = 500;
const NS = 'kube-system';

/**
 * Both veth modes, every policy case, the cut of an established flow and isolation at ADD in each (vpc: the pods'
 * addresses come from the Node's podCIDR); the checks that do not depend on the mode (node probes of a pod allowed
 * nothing, verify's drift, the backend swap) run once, in veth-policy-routing (`full`).
 */
const MODES = [
  { mode: 'veth-policy-routing' as const, daemonMode: 'ENIMultiIP', cidr: '192.168.232.0/24', vethPrefix: 'pwv', full: true },
  { mode: 'vpc' as const, daemonMode: 'VPC', cidr: '192.168.233.0/24', vethPrefix: 'pwc', full: false },
];

interface Pod {
  readonly namespace: string;
  readonly name: string;
  readonly netns: TestNetns;
  readonly containerId: string;
  ip: string;
  add: unknown;
}

d.each(MODES)('builtin backend through the daemon in $mode', ({ mode, daemonMode, cidr, vethPrefix, full }) => {
  let emu: KubeEmulator;
  let daemon: RunningDaemon;
  const tag = rand();
  const nodeName = `pw-${tag}`;
  const cmName = `eni-config-${tag}`;
  const eni = `pw${tag}e`;
  const podCIDR = mode === 'vpc' ? cidr : undefined;
  const pods: Pod[] = [];
  const agents = new Map<string, Agent>();
  let hostAgent: Agent | undefined;
  let undoHost: () => void = () => undefined;
  let policies: readonly Obj[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];

  const key = (p: { namespace: string; name: string }): string => `${p.namespace}/${p.name}`;
  const ipOf = (k: string): string => {
    const p = pods.find((q) => key(q) === k);
    if (p === undefined) throw new Error(`no pod ${k}`);
    return p.ip;
  };
  const eniConfig = (data: Record<string, string>): Obj => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: cmName, namespace: NS }, data: { eni_conf: JSON.stringify({ version: '1' }), daemon_mode: daemonMode, ...data } });

  /** Replaces the NetworkPolicies in the emulator with `next`. */
  function setPolicies(next: readonly Obj[]): void {
    for (const p of emu.list('NetworkPolicy')) {
      const md = p['metadata'] as { namespace: string; name: string };
      emu.delete('NetworkPolicy', md.namespace, md.name);
    }
    for (const p of next) emu.put('NetworkPolicy', p);
    policies = next;
  }

  /** The evaluator's matrix over exactly the objects the emulator holds (Namespaces, Pods with their IPs, Node, policies). */
  const expectedMatrix = (): Record<string, boolean> =>
    matrixOf([...NAMESPACES.map(namespaceObject), ...pods.map((p) => podObject(nodeName, p.namespace, p.name, p.ip)), nodeObject(nodeName, podCIDR), ...policies], PORTS);

  const measure = (): Promise<Record<string, boolean>> =>
    measureMatrix(pods.map((p) => {
      const agent = agents.get(key(p));
      if (agent === undefined) throw new Error(`no agent for ${key(p)}`);
      return { key: key(p), ip: p.ip, agent };
    }), PORTS, TIMEOUT_MS);

  const cli = (args: readonly string[]): { code: number; stdout: string; stderr: string } => shTry(NODE, [CLI, 'policy', ...args, '--socket', daemon.socket]);
  const liveMatrix = (): Record<string, boolean> => {
    const r = cli(['matrix', '--json', ...PORTS.flatMap((p) => ['--port', `${String(p.port)}/${p.protocol}`])]);
    expect(r.code).toBe(0);
    return sortedRecord(JSON.parse(r.stdout) as Record<string, boolean>);
  };
  const status = (): { policy?: { backend: string; state: string; rules?: number; lastError?: string } } =>
    JSON.parse(shTry(NODE, [CLI, 'status', '--socket', daemon.socket, '--json']).stdout) as { policy?: { backend: string; state: string; rules?: number } };
  const hostTable = (): string => shTry('nft', ['list', 'table', 'inet', 'terway-hub']).stdout;

  async function addPod(ns: string, name: string): Promise<Pod> {
    emu.put('Pod', podObject(nodeName, ns, name));
    const netns = createNetns(`pw-${ns}-${name}-${tag}`);
    const pod: Pod = { namespace: ns, name, netns, containerId: `pw${tag}${ns}${name}`, ip: '', add: undefined };
    const res = await callPluginAsync(
      { command: 'ADD', containerId: pod.containerId, netns: netns.path, ifName: 'eth0', args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${ns};K8S_POD_NAME=${name}` },
      pluginStdin(daemon.conflist()),
    );
    if (res.code !== 0) throw new Error(`ADD ${ns}/${name}: ${res.stdout} ${res.stderr}\n${daemon.logs().slice(-4000)}`);
    pod.add = res.json;
    pod.ip = (res.json as { ips: { address: string }[] }).ips[0]?.address.split('/')[0] ?? '';
    return pod;
  }

  beforeAll(async () => {
    undoHost = prepareHost();
    emu = await startKubeEmulator();
    cleanups.push(() => emu.close());
    emu.put('Node', nodeObject(nodeName, podCIDR));
    emu.put('ConfigMap', eniConfig({}));
    for (const ns of NAMESPACES) emu.put('Namespace', namespaceObject(ns));
    const extra = { kubeconfig: emu.kubeconfigFile(), nodeName, eniConfigName: cmName, vethPrefix, policy: { backend: 'auto' } };
    if (mode === 'veth-policy-routing') {
      sh('ip', ['link', 'add', eni, 'type', 'veth', 'peer', 'name', `pw${tag}g`]);
      sh('ip', ['link', 'set', eni, 'up']);
      daemon = await startDaemon({ mode, eni: { link: eni, gateway: '192.168.232.1', ips: '192.168.232.10-192.168.232.40', subnet: cidr }, extra });
    } else {
      daemon = await startDaemon({ mode, podCIDR: cidr, extra });
    }
    cleanups.push(async () => { await daemon.stop(); daemon.cleanup(); });
    await eventually(() => { expect(status().policy).toMatchObject({ backend: 'builtin', state: 'enforcing' }); }, 20_000);
    for (const ns of NAMESPACES) for (const n of NAMES) pods.push(await addPod(ns, n));
    for (const p of pods) expect(p.ip.startsWith(cidr.split('.').slice(0, 3).join('.'))).toBe(true);
    // the kubelet's part: the pods' IPs into their status (the model had them from the ADDs already)
    for (const p of pods) emu.put('Pod', podObject(nodeName, p.namespace, p.name, p.ip));
    for (const p of pods) agents.set(key(p), startAgent(p.netns.name, [80, 81]));
    hostAgent = startAgent(undefined, []);
    await Promise.all([...agents.values(), hostAgent].map((a) => a.ready));
  }, 120_000);

  afterAll(async () => {
    for (const a of agents.values()) a.stop();
    hostAgent?.stop();
    for (const c of cleanups.splice(0).reverse()) await c();
    for (const p of pods) p.netns.remove();
    shTry('ip', ['link', 'del', eni]);
    shTry('nft', ['delete', 'table', 'inet', 'terway-hub']);
    undoHost();
  });

  it('the node reaches the pods with the source address the Node object lists (what the rules admit as "the node")', () => {
    for (const p of pods) expect(sh('ip', ['-o', 'route', 'get', p.ip])).toMatch(new RegExp(` src ${NODE_IP.replaceAll('.', '\\.')} `, 'u'));
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s: measured matrix = matrix(objects) = policy matrix over the live model', async (_name, c) => {
    setPolicies(c.policies({ ip: ipOf, cidr }));
    const expected = expectedMatrix();
    await eventually(async () => { expect(await measure()).toEqual(expected); }, 20_000, 200);
    expect(liveMatrix()).toEqual(expected);
    const v = cli(['verify']);
    expect([v.code, v.stderr]).toEqual([0, '']);
    expect(v.stdout).toMatch(/^OK: builtin tables match the live model in 1 scope\(s\)/u);
    expect(status().policy).toMatchObject({ backend: 'builtin', state: 'enforcing' });
  }, 60_000);

  if (full) {
    it('a pod allowed nothing still answers the node (kubelet probes)', async () => {
      setPolicies(NAMESPACES.map(denyAll));
      await eventually(async () => { expect(await agents.get('x/a')?.probe([{ ip: pods[1]?.ip ?? '', port: 80, proto: 'TCP' }], TIMEOUT_MS)).toEqual([false]); }, 20_000, 200);
      expect(await hostAgent?.probe(pods.map((p) => ({ ip: p.ip, port: 80, proto: 'TCP' })), TIMEOUT_MS)).toEqual(pods.map(() => true));
      expect(await hostAgent?.probe(pods.map((p) => ({ ip: p.ip, port: 81, proto: 'UDP' })), TIMEOUT_MS)).toEqual(pods.map(() => true));
    }, 60_000);
  }

  it('an established TCP flow is cut when a policy tightens (conntrack entries removed by the daemon)', async () => {
    setPolicies([]);
    const client = agents.get('x/a');
    const dst = ipOf('y/b');
    if (client === undefined) throw new Error('missing pod');
    await eventually(async () => { expect(await client.probe([{ ip: dst, port: 80, proto: 'TCP' }], TIMEOUT_MS)).toEqual([true]); }, 20_000, 200);
    const held = await client.hold(dst, 80, 2000);
    expect(held).toBeDefined();
    expect(await client.send(held ?? -1, 1000)).toBe(true);
    setPolicies([np('y', 'deny-b', { podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Ingress'] })]);
    await eventually(async () => { expect(await client.send(held ?? -1, 300)).toBe(false); }, 20_000, 100);
    expect(await client.probe([{ ip: dst, port: 80, proto: 'TCP' }], TIMEOUT_MS)).toEqual([false]);
    expect(daemon.logs()).toMatch(/denied flows cut/u);
  }, 60_000);

  it('a pod ADDed into a default-deny namespace is in the rules when its ADD returns; DEL takes it out', async () => {
    setPolicies([denyIngress('x')]);
    await eventually(() => { expect(cli(['verify']).code).toBe(0); }, 20_000, 200);
    const p = await addPod('x', 'late');
    const veth = vethName(vethPrefix, { namespace: 'x', name: 'late' });
    // no wait: the ADD's reply came after the apply
    const table = hostTable();
    expect(table).toMatch(new RegExp(`"${veth}" : jump pod\\d+_in`, 'u'));
    const agent = startAgent(p.netns.name, [80]);
    try {
      await agent.ready;
      expect(await agents.get('y/a')?.probe([{ ip: p.ip, port: 80, proto: 'TCP' }], TIMEOUT_MS)).toEqual([false]);
      expect(await hostAgent?.probe([{ ip: p.ip, port: 80, proto: 'TCP' }], TIMEOUT_MS)).toEqual([true]);
    } finally {
      agent.stop();
    }
    const del = await callPluginAsync(
      { command: 'DEL', containerId: p.containerId, netns: p.netns.path, ifName: 'eth0', args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=x;K8S_POD_NAME=late` },
      pluginStdin(daemon.conflist(), { prevResult: p.add }),
    );
    expect(del.code).toBe(0);
    p.netns.remove();
    emu.delete('Pod', 'x', 'late');
    await eventually(() => { expect(hostTable()).not.toContain(veth); }, 10_000, 100);
    await eventually(() => { expect(cli(['verify']).code).toBe(0); }, 10_000, 200);
  }, 60_000);

  if (!full) return;

  it('policy verify: exit 0 when programmed == model; 1 naming the drift after hand edits, counts and comments kept or not', async () => {
    setPolicies([np('z', 'web-in', { podSelector: {}, ingress: [{ ports: [{ port: 80 }, { protocol: 'UDP', port: 81 }] }] })]);
    await eventually(() => { expect(hostTable()).toContain('comment "z/web-in ingress[0]"'); }, 20_000, 200);
    expect(cli(['verify']).code).toBe(0);
    const json = cli(['verify', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ backend: 'builtin', scopes: ['host'], drift: [] });
    const found = /meta l4proto \. th dport @((np\d+_in)_0_ports) accept comment "z\/web-in ingress\[0\]" # handle (\d+)/u.exec(sh('nft', ['-a', 'list', 'table', 'inet', 'terway-hub']));
    const [, set = '', chain = '', handle = ''] = found ?? [];
    expect(handle).not.toBe('');
    // the port 80 made 8080 in place: same rule count, same comment
    sh('nft', ['replace', 'rule', 'inet', 'terway-hub', chain, 'handle', handle, 'meta', 'l4proto', '.', 'th', 'dport', '{', 'tcp', '.', '8080', ',', 'udp', '.', '81', '}', 'accept', 'comment', '"z/web-in ingress[0]"']);
    const replaced = cli(['verify']);
    expect(replaced.code).toBe(1);
    expect(replaced.stdout).toMatch(/^DRIFT: /u);
    expect(replaced.stdout).toContain(`drift: host: chain ${chain} rule 0 ("z/web-in ingress[0]") is \`meta l4proto . th dport == { tcp . 8080, udp . 81 } accept # z/web-in ingress[0]\`, the model gives \`meta l4proto . th dport == @${set} accept # z/web-in ingress[0]\``);
    sh('nft', ['delete', 'element', 'inet', 'terway-hub', set, '{', 'udp', '.', '81', '}']);
    expect(cli(['verify']).stdout).toContain(`drift: host: set ${set} lacks udp . 81`);
    sh('nft', ['add', 'rule', 'inet', 'terway-hub', 'ingress_forward', 'accept']);
    const added = cli(['verify']);
    expect(added.code).toBe(1);
    expect(added.stdout).toContain('drift: host: chain ingress_forward has 3 rules, the model gives 2');
    expect(added.stdout).toContain('drift: host: chain ingress_forward has a rule the model does not give: `accept`');
    sh('nft', ['flush', 'map', 'inet', 'terway-hub', 'ingress_pods']);
    expect(cli(['verify']).stdout).toMatch(/drift: host: set ingress_pods holds 0 elements, the model gives 3/u);
  }, 60_000);

  it('disable_network_policy swaps the backend out: the table goes', async () => {
    expect(hostTable()).not.toBe('');
    emu.put('ConfigMap', eniConfig({ disable_network_policy: 'true' }));
    await eventually(() => { expect(status().policy).toMatchObject({ backend: 'none' }); }, 20_000, 200);
    await eventually(() => { expect(shTry('nft', ['list', 'tables']).stdout).not.toMatch(/table inet terway-hub$/mu); }, 10_000, 100);
    expect(cli(['verify']).code).toBe(1);
  }, 60_000);
});
