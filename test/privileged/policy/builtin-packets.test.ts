/**
 * The builtin nftables backend with real packets: 9 netns pods (namespaces x, y, z × pods a, b, c) wired to the
 * suite's host netns by veth, TCP and UDP echo servers on ports 80 and 81 in each. Per policy case the compiled
 * rulesets are applied (host table for eight pods keyed by their host veth; z/c owns its table inside its netns,
 * the exclusive-ENI/ipvlan scope) and the measured reachability matrix (288 real connections) must equal the
 * evaluator's `matrix(model, ports)`. Also: a pod allowed nothing still answers the node; an established flow
 * survives a tightening apply and is cut by the conntrack cut; the programmed table reads back.
 */
import { createBuiltinApplier } from '../../../src/policy/builtin/apply.js';
import { compileRuleset, type LocalPod } from '../../../src/policy/builtin/compile.js';
import { HOST_TABLE, POD_TABLE } from '../../../src/policy/builtin/tables.js';
import { matrix, matrixKey, type PortProto } from '../../../src/policy/model/matrix.js';
import { readObjects } from '../../../src/policy/model/objects.js';
import type { PolicyModel } from '../../../src/policy/model/types.js';
import type { NsRef } from '../../../src/netlink/ops.js';
import { hasCommand, runner, sh, shTry } from '../../helpers/exec.js';
import { describePrivileged } from '../../helpers/privilege.js';
import { BUN, NODE_IP, prepareHost, startAgent, wirePod, type Agent, type TestPod } from './pods.js';
import { existsSync } from 'node:fs';

const d = describePrivileged(
  'builtin nftables backend, real packets',
  [hasCommand('nft'), 'nft not installed (apt-get install -y nftables)'],
  [hasCommand('conntrack'), 'conntrack not installed (apt-get install -y conntrack)'],
  [existsSync(BUN), `bun not found at ${BUN} (npm ci)`],
);

const PORTS: readonly PortProto[] = [
  { port: 80, protocol: 'TCP' },
  { port: 81, protocol: 'TCP' },
  { port: 80, protocol: 'UDP' },
  { port: 81, protocol: 'UDP' },
];
const NAMESPACES = ['x', 'y', 'z'] as const;
const NAMES = ['a', 'b', 'c'] as const;
const NS_LABELS: Readonly<Record<string, string>> = { x: 'team: x-team', y: 'team: y-team, trusted: "yes"', z: 'team: z-team' };
const TIMEOUT_MS = 500;
/** The pod that owns its table (inside its netns), as in exclusive-ENI and ipvlan modes. */
const POD_OWNED = 'z/c';

const ipOf = (ns: string, name: string): string => `10.77.${String(NAMESPACES.indexOf(ns as 'x') + 1)}.${String(NAMES.indexOf(name as 'a') + 1)}`;

/** Named ports differ per pod so a named port resolves to different numbers on different destinations. */
function podYaml(ns: string, name: string): string {
  const odd = (NAMESPACES.indexOf(ns as 'x') + NAMES.indexOf(name as 'a')) % 2 === 1;
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: {app: ${name}}}
spec: {nodeName: n1, containers: [{name: c, ports: [{name: web, containerPort: ${odd ? 81 : 80}}, {name: dns, containerPort: ${odd ? 80 : 81}, protocol: UDP}]}]}
status: {podIP: ${ipOf(ns, name)}, hostIP: ${NODE_IP}}`;
}

function modelOf(policies: string): PolicyModel {
  const docs = [
    ...NAMESPACES.map((ns) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}, labels: {${NS_LABELS[ns] ?? ''}}}`),
    ...NAMESPACES.flatMap((ns) => NAMES.map((n) => podYaml(ns, n))),
    ...(policies.trim() === '' ? [] : [policies]),
  ];
  const r = readObjects(docs.join('\n---\n'));
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.model;
}

const np = (ns: string, name: string, spec: string): string => `---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: ${name}, namespace: ${ns}}\nspec: ${spec}\n`;

const CASES: readonly (readonly [string, string])[] = [
  ['no policies', ''],
  ['default-deny ingress in x', np('x', 'deny-ingress', '{podSelector: {}, policyTypes: [Ingress]}')],
  ['allow from namespace selector (OR and AND peers)',
    np('x', 'deny-ingress', '{podSelector: {}, policyTypes: [Ingress]}') +
    np('x', 'allow-trusted', '{podSelector: {matchLabels: {app: a}}, ingress: [{from: [{namespaceSelector: {matchLabels: {trusted: "yes"}}}]}]}') +
    np('z', 'and-peer', '{podSelector: {}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: y-team}}, podSelector: {matchLabels: {app: b}}}]}]}')],
  ['ipBlock with except (ingress and egress)',
    np('y', 'ipblock-in', '{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.77.0.0/16, except: [10.77.1.2/31, 10.77.3.0/30]}}], ports: [{port: 80}, {protocol: UDP, port: 81}]}]}') +
    np('z', 'ipblock-out', '{podSelector: {matchLabels: {app: c}}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 10.77.2.0/24, except: [10.77.2.2/32]}}]}]}')],
  ['named ports (ingress and egress)',
    np('z', 'web-in', '{podSelector: {}, ingress: [{from: [{namespaceSelector: {}}], ports: [{port: web}]}]}') +
    np('x', 'web-out', '{podSelector: {matchLabels: {app: b}}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {}}], ports: [{port: web}, {port: dns, protocol: UDP}]}]}')],
  ['egress deny with a UDP allowance',
    np('y', 'deny-egress', '{podSelector: {}, policyTypes: [Egress]}') +
    np('y', 'udp-to-z', '{podSelector: {matchLabels: {app: a}}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {matchLabels: {team: z-team}}}], ports: [{protocol: UDP}]}]}')],
  ['endPort ranges',
    np('x', 'range-in', '{podSelector: {matchLabels: {app: c}}, ingress: [{ports: [{port: 70, endPort: 80}, {protocol: UDP, port: 81, endPort: 90}]}]}') +
    np('z', 'range-out', '{podSelector: {}, policyTypes: [Egress], egress: [{ports: [{port: 81, endPort: 65535}, {protocol: UDP, port: 80}]}]}')],
  ['everything denied both ways', NAMESPACES.map((ns) => np(ns, 'deny-all', '{podSelector: {}, policyTypes: [Ingress, Egress]}')).join('')],
];

d('builtin nftables backend: compiled rules enforce exactly the model', () => {
  const applier = createBuiltinApplier(runner);
  const pods: TestPod[] = [];
  const agents = new Map<string, Agent>();
  let hostAgent: Agent | undefined;
  let undoHost: () => void = () => undefined;
  const host: NsRef = { kind: 'host' };
  const podOwned = (): TestPod => {
    const p = pods.find((q) => `${q.namespace}/${q.name}` === POD_OWNED);
    if (p === undefined) throw new Error('no pod-owned pod');
    return p;
  };
  const ownedNs = (): NsRef => ({ kind: 'pod', path: podOwned().netns.path });

  beforeAll(async () => {
    undoHost = prepareHost();
    for (const ns of NAMESPACES) for (const n of NAMES) pods.push(wirePod(ns, n, ipOf(ns, n)));
    for (const p of pods) agents.set(`${p.namespace}/${p.name}`, startAgent(p.netns.name, [80, 81]));
    hostAgent = startAgent(undefined, []);
    await Promise.all([...agents.values(), hostAgent].map((a) => a.ready));
  }, 60_000);

  afterAll(async () => {
    for (const a of agents.values()) a.stop();
    hostAgent?.stop();
    await applier.apply(host, { ...compileRuleset({ model: modelOf(''), nodeName: 'n1', scope: { kind: 'host', pods: [] } }), text: `table inet ${HOST_TABLE}\ndelete table inet ${HOST_TABLE}\n` }).catch(() => undefined);
    for (const p of pods) {
      shTry('ip', ['link', 'del', p.hostVeth]);
      p.netns.remove();
    }
    undoHost();
  });

  /** Compiles and applies both scopes, checks them with `nft -c` first, then cuts now-denied flows. */
  async function enforce(model: PolicyModel): Promise<{ rules: number }> {
    const hostPods: LocalPod[] = pods.filter((p) => `${p.namespace}/${p.name}` !== POD_OWNED).map((p) => ({ pod: `${p.namespace}/${p.name}`, ifname: p.hostVeth }));
    const hostRules = compileRuleset({ model, nodeName: 'n1', scope: { kind: 'host', pods: hostPods } });
    const podRules = compileRuleset({ model, nodeName: 'n1', scope: { kind: 'pod', pod: { pod: POD_OWNED, ifname: 'eth0' } } });
    for (const r of [hostRules, podRules]) expect(shTry('nft', ['-c', '-f', '-'], { input: r.text })).toMatchObject({ code: 0, stderr: '' });
    await applier.apply(host, hostRules);
    await applier.apply(ownedNs(), podRules);
    const back = await applier.readBack(host, `inet ${HOST_TABLE}`);
    expect(back?.rules).toBe(hostRules.rules);
    const backPod = await applier.readBack(ownedNs(), `inet ${POD_TABLE}`);
    expect(backPod?.rules).toBe(podRules.rules);
    await applier.cutDenied(host, model, hostPods);
    await applier.cutDenied(ownedNs(), model, [{ pod: POD_OWNED, ifname: 'eth0' }]);
    return { rules: hostRules.rules + podRules.rules };
  }

  async function measure(): Promise<Record<string, boolean>> {
    const out: Record<string, boolean> = {};
    await Promise.all(pods.map(async (src) => {
      const srcKey = `${src.namespace}/${src.name}`;
      const targets = pods.filter((p) => p !== src).flatMap((dst) => PORTS.map((p) => ({ dst, p })));
      const agent = agents.get(srcKey);
      if (agent === undefined) throw new Error(`no agent for ${srcKey}`);
      const results = await agent.probe(targets.map(({ dst, p }) => ({ ip: dst.ip, port: p.port, proto: p.protocol === 'UDP' ? 'UDP' : 'TCP' })), TIMEOUT_MS);
      targets.forEach(({ dst, p }, i) => {
        out[matrixKey(srcKey, `${dst.namespace}/${dst.name}`, p)] = results[i] === true;
      });
    }));
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  it.each(CASES)('%s: measured matrix = matrix(model)', async (_name, policies) => {
    const model = modelOf(policies);
    await enforce(model);
    const expected = Object.fromEntries(Object.entries(matrix(model, PORTS)).sort(([a], [b]) => (a < b ? -1 : 1)));
    expect(await measure()).toEqual(expected);
  }, 30_000);

  it('a pod allowed nothing still answers the node (kubelet probes), in both scopes', async () => {
    const model = modelOf(NAMESPACES.map((ns) => np(ns, 'deny-all', '{podSelector: {}, policyTypes: [Ingress, Egress]}')).join(''));
    await enforce(model);
    const results = await hostAgent?.probe(pods.map((p) => ({ ip: p.ip, port: 80, proto: 'TCP' })), TIMEOUT_MS);
    expect(results).toEqual(pods.map(() => true));
    // …and the same pods are unreachable from each other (the rules are in force).
    const fromXa = await agents.get('x/a')?.probe(pods.slice(1).map((p) => ({ ip: p.ip, port: 80, proto: 'TCP' })), TIMEOUT_MS);
    expect(fromXa).toEqual(pods.slice(1).map(() => false));
  }, 30_000);

  it.each([['y/b', 'host table'], [POD_OWNED, 'pod-owned table']])('an established TCP flow to %s (%s) survives the tightening apply and is cut by the conntrack cut', async (target) => {
    await enforce(modelOf(''));
    const client = agents.get('x/a');
    const dst = pods.find((p) => `${p.namespace}/${p.name}` === target);
    if (client === undefined || dst === undefined) throw new Error('missing pod');
    const key = await client.hold(dst.ip, 80, 2000);
    expect(key).toBeDefined();
    expect(await client.send(key ?? -1, 1000)).toBe(true);

    const [ns, name] = target.split('/');
    const tight = modelOf(np(ns ?? '', 'deny-ingress', `{podSelector: {matchLabels: {app: ${name ?? ''}}}, policyTypes: [Ingress]}`));
    const nsRef = target === POD_OWNED ? ownedNs() : host;
    const locals: LocalPod[] = target === POD_OWNED ? [{ pod: POD_OWNED, ifname: 'eth0' }] : pods.filter((p) => p !== podOwned()).map((p) => ({ pod: `${p.namespace}/${p.name}`, ifname: p.hostVeth }));
    await applier.apply(nsRef, compileRuleset({ model: tight, nodeName: 'n1', scope: target === POD_OWNED ? { kind: 'pod', pod: { pod: POD_OWNED, ifname: 'eth0' } } : { kind: 'host', pods: locals } }));
    expect(await client.send(key ?? -1, 1000)).toBe(true); // established packets are accepted first (R10)
    expect((await client.probe([{ ip: dst.ip, port: 80, proto: 'TCP' }], TIMEOUT_MS))[0]).toBe(false); // new ones are not

    const cut = await applier.cutDenied(nsRef, tight, locals);
    expect(cut.map((f) => `${f.protocol} ${f.src}->${f.realDst}:${String(f.realDport)}`)).toContain(`TCP ${ipOf('x', 'a')}->${dst.ip}:80`);
    expect(await client.send(key ?? -1, 1000)).toBe(false);
  }, 30_000);

  it('DEL removes the pod-owned table; removal is idempotent', async () => {
    await enforce(modelOf(np('z', 'deny-all', '{podSelector: {}, policyTypes: [Ingress, Egress]}')));
    expect(await applier.readBack(ownedNs(), `inet ${POD_TABLE}`)).toBeDefined();
    await applier.removePodTable(ownedNs());
    await applier.removePodTable(ownedNs());
    expect(await applier.readBack(ownedNs(), `inet ${POD_TABLE}`)).toBeUndefined();
    expect(sh('ip', ['netns', 'exec', podOwned().netns.name, 'nft', 'list', 'ruleset']).trim()).toBe('');
  });
});
