/**
 * One test per NetworkPolicy rule R1–R24 of /work/shared/reference/policy-enforcement.md §5, against the real
 * parser (defaulting, validation) and the one evaluator.
 */
import { decide } from '../../../../src/policy/model/decide.js';
import type { Endpoint } from '../../../../src/policy/model/endpoint.js';
import { matrix } from '../../../../src/policy/model/matrix.js';
import { readObjects } from '../../../../src/policy/model/objects.js';
import type { PolicyModel, Protocol } from '../../../../src/policy/model/types.js';
import { basicPods, NODE_IP, pod, policy, world } from './fixture.js';

const P = (key: string): Endpoint => ({ pod: key });
const IP = (ip: string): Endpoint => ({ ip });

function ok(m: PolicyModel, from: Endpoint | string, to: Endpoint | string, port = 80, proto: Protocol = 'TCP'): boolean {
  const f = typeof from === 'string' ? P(from) : from;
  const t = typeof to === 'string' ? P(to) : to;
  return decide(m, f, t, port, proto).allowed;
}

const denyIngress = (ns: string, extra: Record<string, unknown> = {}): ReturnType<typeof policy> =>
  policy(`${ns}/deny-ingress`, { podSelector: {}, policyTypes: ['Ingress'], ...extra });

describe('NetworkPolicy rules R1–R24 (policy-enforcement.md §5)', () => {
  it('R1 policy scope: a policy selects pods only in its own namespace; an absent podSelector selects all of them', () => {
    const m = world({ pods: basicPods(), policies: [policy('x/no-selector', { policyTypes: ['Ingress'] })] });
    expect(ok(m, 'y/a', 'x/a')).toBe(false);
    expect(ok(m, 'y/a', 'x/b')).toBe(false);
    expect(ok(m, 'x/a', 'y/b')).toBe(true); // y pods are not selected by a policy of x
    const labelled = world({ pods: basicPods(), policies: [policy('x/only-a', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Ingress'] })] });
    expect(ok(labelled, 'y/a', 'x/a')).toBe(false);
    expect(ok(labelled, 'y/a', 'x/b')).toBe(true);
    expect(ok(labelled, 'x/b', 'y/a')).toBe(true);
  });

  it('R2 selector validation: In/NotIn need values, Exists/DoesNotExist take none, unknown operators are refused', () => {
    const withExpr = (expr: Record<string, unknown>): (() => unknown) => () =>
      policy('x/p', { podSelector: {}, ingress: [{ from: [{ podSelector: { matchExpressions: [expr] } }] }] });
    expect(withExpr({ key: 'pod', operator: 'In', values: [] })).toThrow(/spec\.ingress\[0\]\.from\[0\]\.podSelector\.matchExpressions\[0\]\.values: must be non-empty when operator is In/u);
    expect(withExpr({ key: 'pod', operator: 'NotIn' })).toThrow(/values: must be non-empty when operator is NotIn/u);
    expect(withExpr({ key: 'pod', operator: 'Exists', values: ['a'] })).toThrow(/values: must be empty when operator is Exists/u);
    expect(withExpr({ key: 'pod', operator: 'Equals', values: ['a'] })).toThrow(/matchExpressions\[0\]\.operator: must be one of In, NotIn, Exists, DoesNotExist/u);
    expect(withExpr({ key: 'bad key!', operator: 'Exists' })).toThrow(/matchExpressions\[0\]\.key: not a valid label key/u);
    expect(() => policy('x/p', { podSelector: { matchLabels: { pod: 3 } } })).toThrow(/spec\.podSelector\.matchLabels\.pod: must be a string/u);
    expect(withExpr({ key: 'pod', operator: 'DoesNotExist' })).not.toThrow();
  });

  it('R3 policyTypes defaulting: Ingress always, Egress iff egress rules exist; explicit types win; at most 2 valid entries', () => {
    expect(policy('x/p', { egress: [] }).policyTypes).toEqual({ ingress: true, egress: false });
    expect(policy('x/p', { egress: [{}] }).policyTypes).toEqual({ ingress: true, egress: true });
    expect(policy('x/p', { policyTypes: [] }).policyTypes).toEqual({ ingress: true, egress: false });
    // egress: [] with policyTypes omitted isolates ingress only: x/a may still send anywhere
    const ingressOnly = world({ pods: basicPods(), policies: [policy('x/p', { podSelector: {}, egress: [] })] });
    expect(ok(ingressOnly, 'x/a', 'y/a')).toBe(true);
    expect(ok(ingressOnly, 'y/a', 'x/a')).toBe(false);
    // explicit [Egress] with an ingress list: the ingress rules are ignored, ingress is not isolated
    const egressOnly = world({ pods: basicPods(), policies: [policy('x/p', { podSelector: {}, policyTypes: ['Egress'], ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'none' } } }] }] })] });
    expect(ok(egressOnly, 'y/a', 'x/a')).toBe(true);
    expect(ok(egressOnly, 'x/a', 'y/a')).toBe(false);
    expect(() => policy('x/p', { policyTypes: ['Ingress', 'Egress', 'Ingress'] })).toThrow(/spec\.policyTypes: may hold at most 2 entries/u);
    expect(() => policy('x/p', { policyTypes: ['Ingress', 'Ingress'] })).toThrow(/spec\.policyTypes\[1\]: duplicate Ingress/u);
    expect(() => policy('x/p', { policyTypes: ['ingress'] })).toThrow(/spec\.policyTypes\[0\]: must be Ingress or Egress/u);
  });

  it('R4 protocol defaulting: a port without protocol is TCP; only TCP, UDP and SCTP are valid', () => {
    const p = policy('x/p', { ingress: [{ ports: [{ port: 80 }] }] });
    expect(p.ingress[0]?.ports[0]).toEqual({ protocol: 'TCP', port: 80, endPort: undefined });
    const m = world({ pods: basicPods(), policies: [p] });
    expect(ok(m, 'y/a', 'x/a', 80, 'TCP')).toBe(true);
    expect(ok(m, 'y/a', 'x/a', 80, 'UDP')).toBe(false);
    expect(ok(m, 'y/a', 'x/a', 80, 'SCTP')).toBe(false);
    expect(() => policy('x/p', { ingress: [{ ports: [{ port: 80, protocol: 'ICMP' }] }] })).toThrow(/spec\.ingress\[0\]\.ports\[0\]\.protocol: must be one of TCP, UDP, SCTP/u);
    expect(() => policy('x/p', { ingress: [{ ports: [{ port: 80, protocol: 'tcp' }] }] })).toThrow(/ports\[0\]\.protocol/u);
  });

  it('R5 port validation: 1–65535, IANA port names, endPort only with a numeric port and >= port', () => {
    const port = (entry: Record<string, unknown>): (() => unknown) => () => policy('x/p', { egress: [{ ports: [entry] }] });
    expect(port({ port: 0 })).toThrow(/spec\.egress\[0\]\.ports\[0\]\.port: must be 1\.\.65535/u);
    expect(port({ port: 65536 })).toThrow(/ports\[0\]\.port: must be 1\.\.65535/u);
    expect(port({ port: '80' })).toThrow(/ports\[0\]\.port: not a valid port name/u);
    expect(port({ port: 'Serve-80' })).toThrow(/ports\[0\]\.port: not a valid port name/u);
    expect(port({ port: 'a-very-long-port-name' })).toThrow(/ports\[0\]\.port: a port name must be 1\.\.15 characters/u);
    expect(port({ endPort: 90 })).toThrow(/ports\[0\]\.endPort: may not be set when port is not specified/u);
    expect(port({ port: 'http', endPort: 90 })).toThrow(/ports\[0\]\.endPort: may not be set when port is a named port/u);
    expect(port({ port: 100, endPort: 90 })).toThrow(/ports\[0\]\.endPort: must be >= port 100/u);
    expect(port({ port: 100, endPort: 70000 })).toThrow(/ports\[0\]\.endPort: must be 1\.\.65535/u);
    expect(port({ port: 'serve-80-tcp' })).not.toThrow();
    expect(port({ port: 100, endPort: 100 })).not.toThrow();
  });

  it('R6 peer validation: a peer names something; ipBlock stands alone; cidr required and valid; except a strict subset', () => {
    const peer = (p: Record<string, unknown>): (() => unknown) => () => policy('x/p', { ingress: [{ from: [p] }] });
    expect(peer({})).toThrow(/spec\.ingress\[0\]\.from\[0\]: must specify a peer/u);
    expect(peer({ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} })).toThrow(/from\[0\]: may not specify both ipBlock and another peer/u);
    expect(peer({ ipBlock: {} })).toThrow(/from\[0\]\.ipBlock\.cidr: is required/u);
    expect(peer({ ipBlock: { cidr: '10.0.0.0/33' } })).toThrow(/from\[0\]\.ipBlock\.cidr: not a CIDR/u);
    expect(peer({ ipBlock: { cidr: '10.0.0.0/8', except: ['10.0.0.0/8'] } })).toThrow(/ipBlock\.except\[0\]: must be a strict subset of cidr 10\.0\.0\.0\/8/u);
    expect(peer({ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '11.0.0.0/16'] } })).toThrow(/ipBlock\.except\[1\]: must be a strict subset/u);
    expect(peer({ ipBlock: { cidr: '10.0.0.0/8', except: ['fd00::/64'] } })).toThrow(/ipBlock\.except\[0\]/u);
    expect(peer({ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } })).not.toThrow();
  });

  it('R7 isolation: non-isolated directions allow all; isolated pods still accept their own node; a pod cannot block itself', () => {
    const open = world({ pods: basicPods() });
    expect(ok(open, 'x/a', 'y/b')).toBe(true);
    const d = decide(open, P('x/a'), P('y/b'), 80, 'TCP');
    expect([d.egress.isolated, d.egress.reason, d.ingress.isolated, d.ingress.reason]).toEqual([false, 'not-isolated', false, 'not-isolated']);

    const deny = world({ pods: basicPods(), policies: [policy('x/deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })] });
    const fromNode = decide(deny, IP(NODE_IP), P('x/a'), 8080, 'TCP');
    expect([fromNode.allowed, fromNode.ingress.isolated, fromNode.ingress.reason]).toEqual([true, true, 'from-own-node']);
    expect(ok(deny, IP('192.168.0.99'), 'x/a')).toBe(false); // another node's address is just an address
    const self = decide(deny, P('x/a'), IP('10.0.1.1'), 80, 'TCP');
    expect([self.allowed, self.egress.reason, self.ingress.reason]).toEqual([true, 'same-pod', 'same-pod']);
    // isolated for ingress only: egress stays open
    const ingressOnly = world({ pods: basicPods(), policies: [denyIngress('x')] });
    expect(ok(ingressOnly, 'x/a', 'y/a')).toBe(true);
    expect(ok(ingressOnly, 'y/a', 'x/a')).toBe(false);
  });

  it('R8 union: every policy that applies adds what it allows, in any order; there are no deny rules', () => {
    const fromYa = policy('x/from-ya', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { pod: 'a' } } }] }] });
    const fromYb = policy('x/from-yb', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } }, podSelector: { matchLabels: { pod: 'b' } } }] }] });
    const m1 = world({ pods: basicPods(), policies: [fromYa, fromYb] });
    const m2 = world({ pods: basicPods(), policies: [fromYb, fromYa] });
    for (const m of [m1, m2]) {
      expect(ok(m, 'y/a', 'x/a')).toBe(true);
      expect(ok(m, 'y/b', 'x/a')).toBe(true);
      expect(ok(m, 'y/b', 'x/b')).toBe(false); // from-yb selects only x/a
      expect(decide(m, P('y/b'), P('x/a'), 80, 'TCP').ingress.hits.map((h) => `${h.policy.namespace}/${h.policy.name} ${h.rule}`)).toEqual(['x/from-yb ingress[0]']);
    }
    expect(matrix(m1, [{ port: 80, protocol: 'TCP' }])).toEqual(matrix(m2, [{ port: 80, protocol: 'TCP' }]));
  });

  it('R9 both ends: pod→pod needs the source egress AND the destination ingress; a non-pod end only checks the pod end', () => {
    const egressDeny = policy('x/no-egress', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'] });
    const ingressAllow = policy('y/allow-all', { podSelector: {}, ingress: [{}] });
    const m = world({ pods: basicPods(), policies: [egressDeny, ingressAllow] });
    const d = decide(m, P('x/a'), P('y/a'), 80, 'TCP');
    expect([d.allowed, d.egress.allowed, d.ingress.allowed]).toEqual([false, false, true]);
    const m2 = world({ pods: basicPods(), policies: [denyIngress('y')] });
    const d2 = decide(m2, P('x/a'), P('y/a'), 80, 'TCP');
    expect([d2.allowed, d2.egress.allowed, d2.ingress.allowed]).toEqual([false, true, false]);
    const ext = decide(m2, IP('203.0.113.5'), P('x/a'), 80, 'TCP');
    expect([ext.allowed, ext.egress.reason]).toEqual([true, 'not-a-pod']);
    const out = decide(m, P('x/b'), IP('203.0.113.5'), 443, 'TCP');
    expect([out.allowed, out.ingress.reason]).toEqual([true, 'not-a-pod']);
  });

  it('R10 replies: a verdict is per connection (initiator → responder); the reverse connection is judged on its own', () => {
    const m = world({ pods: basicPods(), policies: [denyIngress('x')] });
    // x/a may open to y/a (its replies come back on that connection), but y/a may not open to x/a
    expect(ok(m, 'x/a', 'y/a')).toBe(true);
    expect(ok(m, 'y/a', 'x/a')).toBe(false);
  });

  it('R11 no rules vs an empty rule: [] allows nothing, [{}] allows everything (external addresses too)', () => {
    const none = world({ pods: basicPods(), policies: [policy('x/p', { podSelector: {}, ingress: [] })] });
    expect(ok(none, 'y/a', 'x/a')).toBe(false);
    expect(ok(none, IP('203.0.113.5'), 'x/a')).toBe(false);
    const all = world({ pods: basicPods(), policies: [policy('x/p', { podSelector: {}, ingress: [{}] })] });
    expect(ok(all, 'y/a', 'x/a', 9999, 'UDP')).toBe(true);
    expect(ok(all, IP('203.0.113.5'), 'x/a', 1, 'SCTP')).toBe(true);
    const d = decide(all, P('y/a'), P('x/a'), 80, 'TCP');
    expect(d.ingress.hits[0]).toMatchObject({ kind: 'NetworkPolicy', action: 'Allow', rule: 'ingress[0]', peerIndex: undefined, portIndex: undefined });
  });

  it('R12 rule match: ports empty = any, peers empty = any; otherwise ANY entry; both parts must match', () => {
    const m = world({
      pods: basicPods(),
      policies: [policy('x/p', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } } }], ports: [{ port: 80 }, { port: 443 }] }] })],
    });
    expect(ok(m, 'y/a', 'x/a', 80)).toBe(true);
    expect(ok(m, 'y/a', 'x/a', 443)).toBe(true);
    expect(ok(m, 'y/a', 'x/a', 81)).toBe(false);
    expect(ok(m, 'x/b', 'x/a', 80)).toBe(false);
    expect(decide(m, P('y/a'), P('x/a'), 443, 'TCP').ingress.hits[0]).toMatchObject({ peerIndex: 0, portIndex: 1 });
    expect(decide(m, P('y/a'), P('x/a'), 81, 'TCP').ingress.misses).toEqual([{ policy: { namespace: 'x', name: 'p' }, rule: 'ingress[0]', failed: 'port' }]);
    expect(decide(m, P('x/b'), P('x/a'), 81, 'TCP').ingress.misses[0]?.failed).toBe('peer and port');
    const anyPeer = world({ pods: basicPods(), policies: [policy('x/p', { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] })] });
    expect(ok(anyPeer, IP('198.51.100.1'), 'x/a', 80)).toBe(true);
    expect(ok(anyPeer, IP('198.51.100.1'), 'x/a', 81)).toBe(false);
  });

  it('R13 peer forms: podSelector = policy namespace; namespaceSelector = all pods there; both = AND; two elements = OR', () => {
    const sel = (from: unknown[]): PolicyModel => world({ pods: basicPods(), policies: [policy('x/p', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from }] })] });
    const podOnly = sel([{ podSelector: { matchLabels: { pod: 'b' } } }]);
    expect([ok(podOnly, 'x/b', 'x/a'), ok(podOnly, 'y/b', 'x/a')]).toEqual([true, false]);
    const nsY = { matchLabels: { 'kubernetes.io/metadata.name': 'y' } };
    const nsOnly = sel([{ namespaceSelector: nsY }]);
    expect([ok(nsOnly, 'y/a', 'x/a'), ok(nsOnly, 'y/b', 'x/a'), ok(nsOnly, 'x/b', 'x/a')]).toEqual([true, true, false]);
    const and = sel([{ namespaceSelector: nsY, podSelector: { matchLabels: { pod: 'b' } } }]);
    expect([ok(and, 'y/b', 'x/a'), ok(and, 'y/a', 'x/a'), ok(and, 'x/b', 'x/a')]).toEqual([true, false, false]);
    const or = sel([{ namespaceSelector: nsY }, { podSelector: { matchLabels: { pod: 'b' } } }]);
    expect([ok(or, 'y/a', 'x/a'), ok(or, 'x/b', 'x/a')]).toEqual([true, true]);
    expect(decide(or, P('x/b'), P('x/a'), 80, 'TCP').ingress.hits[0]?.peerIndex).toBe(1);
    const emptyPod = sel([{ podSelector: {} }]);
    expect([ok(emptyPod, 'x/b', 'x/a'), ok(emptyPod, 'y/b', 'x/a')]).toEqual([true, false]);
    const emptyNs = sel([{ namespaceSelector: {} }]);
    expect([ok(emptyNs, 'x/b', 'x/a'), ok(emptyNs, 'y/b', 'x/a'), ok(emptyNs, IP('203.0.113.1'), 'x/a')]).toEqual([true, true, false]);
  });

  it('R14 label selectors: matchLabels AND matchExpressions; NotIn/DoesNotExist match a missing key; {} matches all', () => {
    const pods = [
      pod('x/server', '10.0.1.1', { role: 'db' }),
      pod('x/tiered', '10.0.1.2', { tier: 'web', env: 'prod' }),
      pod('x/dev', '10.0.1.3', { tier: 'web', env: 'dev' }),
      pod('x/plain', '10.0.1.4'),
    ];
    const fromSel = (podSelector: unknown): PolicyModel => world({ pods, policies: [policy('x/p', { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [{ podSelector }] }] })] });
    const who = (m: PolicyModel): string[] => ['x/tiered', 'x/dev', 'x/plain'].filter((s) => ok(m, s, 'x/server'));
    expect(who(fromSel({ matchLabels: { tier: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] }))).toEqual(['x/tiered']);
    expect(who(fromSel({ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }))).toEqual(['x/dev', 'x/plain']);
    expect(who(fromSel({ matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }))).toEqual(['x/plain']);
    expect(who(fromSel({ matchExpressions: [{ key: 'env', operator: 'Exists' }, { key: 'tier', operator: 'In', values: ['web', 'api'] }] }))).toEqual(['x/tiered', 'x/dev']);
    expect(who(fromSel({}))).toEqual(['x/tiered', 'x/dev', 'x/plain']);
  });

  it('R15 namespace by name: every namespace carries kubernetes.io/metadata.name, even when its object is absent', () => {
    const nsY = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } } };
    const m = world({ pods: basicPods(), policies: [policy('x/p', { podSelector: {}, ingress: [{ from: [nsY] }] })], namespaceLabels: { y: { team: 'blue' } } });
    expect(m.namespaces.get('y')?.labels).toEqual({ team: 'blue', 'kubernetes.io/metadata.name': 'y' });
    expect(m.namespaces.get('x')).toEqual({ name: 'x', labels: { 'kubernetes.io/metadata.name': 'x' }, synthesized: true });
    expect(ok(m, 'y/a', 'x/a')).toBe(true);
    expect(ok(m, 'x/b', 'x/a')).toBe(false);
    const bad = readObjects('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n  labels:\n    kubernetes.io/metadata.name: y\n');
    expect(bad.ok ? [] : bad.errors.map((e) => e.message)).toEqual(['Namespace x: metadata.labels.kubernetes.io/metadata.name: must equal the namespace name "x"; got "y"']);
  });

  it('R16 ipBlock: cidr minus except; matches pod IPs too; a v4 block never matches v6; selectors never match external IPs', () => {
    const m = world({
      pods: [...basicPods(), pod('y/v6', ['10.0.2.9', 'fd00::9'])],
      policies: [policy('x/p', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.2.0/24'] } }, { podSelector: {} }] }] })],
    });
    expect(ok(m, 'x/a', 'x/b')).toBe(true); // 10.0.1.2: in cidr (and also a pod of x)
    expect(ok(m, 'x/a', IP('10.0.200.1'))).toBe(true);
    expect(ok(m, 'x/a', 'y/a')).toBe(false); // 10.0.2.1 is excepted, and y/a is not in x
    expect(ok(m, 'x/a', IP('10.0.2.77'))).toBe(false);
    expect(ok(m, 'x/a', IP('10.1.0.1'))).toBe(false);
    expect(ok(m, 'x/a', IP('fd00::1'))).toBe(false); // v6 destination: the v4 block cannot match, selectors match pods only
    const v6 = world({ pods: [pod('x/a', ['10.0.1.1', 'fd00::1']), pod('y/v6', ['10.0.2.9', 'fd00::9'])], policies: [policy('x/p', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: 'fd00::/64' } }] }] })] });
    expect(decide(v6, P('x/a'), P('y/v6'), 80, 'TCP')).toMatchObject({ allowed: false, family: 4 });
    expect(decide(v6, P('x/a'), IP('fd00::9'), 80, 'TCP')).toMatchObject({ allowed: true, family: 6, dst: 'y/v6' });
  });

  it('R17 ports: endPort is an inclusive range; named ports resolve on the destination pod by name AND protocol', () => {
    const range = world({ pods: basicPods(), policies: [policy('x/p', { podSelector: {}, ingress: [{ ports: [{ port: 8000, endPort: 8010 }] }] })] });
    expect([7999, 8000, 8005, 8010, 8011].map((p) => ok(range, 'y/a', 'x/a', p))).toEqual([false, true, true, true, false]);
    const pods = [pod('x/a', '10.0.1.1', {}, { namedPorts: [{ name: 'http', port: 8080, protocol: 'TCP' }] }), pod('x/b', '10.0.1.2', {}, { namedPorts: [{ name: 'http', port: 9090, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] })];
    const named = world({ pods, policies: [policy('x/p', { podSelector: {}, ingress: [{ ports: [{ port: 'http' }, { port: 'dns', protocol: 'UDP' }] }] })] });
    expect([ok(named, 'x/b', 'x/a', 8080), ok(named, 'x/b', 'x/a', 9090), ok(named, 'x/a', 'x/b', 9090), ok(named, 'x/a', 'x/b', 8080)]).toEqual([true, false, true, false]);
    expect([ok(named, 'x/a', 'x/b', 53, 'UDP'), ok(named, 'x/a', 'x/b', 53, 'TCP')]).toEqual([true, false]);
    const egress = world({ pods, policies: [policy('x/e', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http' }] }] })] });
    expect(ok(egress, 'x/a', 'x/b', 9090)).toBe(true); // resolved on the peer (destination) pod x/b
    expect(ok(egress, 'x/a', 'x/b', 8080)).toBe(false); // x/a's own http port does not count
    expect(ok(egress, 'x/a', IP('203.0.113.1'), 8080)).toBe(false); // a named port to a non-pod matches nothing
  });

  it('R18 non-L4: only TCP, UDP and SCTP are defined — the evaluator and the parser refuse anything else', () => {
    const m = world({ pods: basicPods() });
    expect(() => decide(m, P('x/a'), P('y/a'), 80, 'ICMP' as Protocol)).toThrow(/protocol: must be TCP, UDP or SCTP/u);
    expect(() => decide(m, P('x/a'), P('y/a'), 0, 'TCP')).toThrow(/port: must be 1\.\.65535/u);
    expect(() => policy('x/p', { ingress: [{ ports: [{ protocol: 'ICMP' }] }] })).toThrow(/ports\[0\]\.protocol/u);
    expect(ok(m, 'x/a', 'y/a', 80, 'SCTP')).toBe(true);
  });

  it('R19 hostNetwork: never isolated; selectors do not match them as peers; their traffic is node traffic', () => {
    const pods = [...basicPods(), pod('x/host', NODE_IP, {}, { hostNetwork: true }), pod('x/far-host', '192.168.0.2', {}, { hostNetwork: true, nodeName: 'node-2' })];
    const m = world({
      pods,
      policies: [policy('x/deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }), policy('y/from-x', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'x' } } }] }] })],
      nodes: [{ name: 'node-1', ips: [NODE_IP] }, { name: 'node-2', ips: ['192.168.0.2'] }],
    });
    const toHost = decide(m, P('y/a'), P('x/host'), 80, 'TCP');
    expect([toHost.allowed, toHost.ingress.reason]).toEqual([true, 'host-network']);
    expect(decide(m, P('x/host'), P('y/b'), 80, 'TCP').egress.reason).toBe('host-network');
    expect(ok(m, 'x/far-host', 'y/a')).toBe(false); // a namespace selector for x does not match a hostNetwork pod of x
    expect(decide(m, P('x/host'), P('x/a'), 80, 'TCP').ingress.reason).toBe('from-own-node');
    const byIp = world({ pods, policies: [policy('y/from-node-2', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '192.168.0.2/32' } }] }] })] });
    expect(ok(byIp, 'x/far-host', 'y/a')).toBe(true); // an ipBlock of the node address does allow it
    expect(ok(byIp, 'x/a', 'y/a')).toBe(false);
  });

  it('R20 lifecycle: a selected pod is isolated as soon as it is in the model, before it has an IP', () => {
    const m = world({ pods: [...basicPods(), pod('x/new', '')], policies: [denyIngress('x')] });
    const d = decide(m, P('y/a'), P('x/new'), 80, 'TCP');
    expect([d.allowed, d.ingress.isolated, d.ingress.reason]).toEqual([false, true, 'no-rule-admits']);
  });

  it('R21 namespace deletion: a terminating namespace keeps enforcing its policies', () => {
    const text = [
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n  deletionTimestamp: "2026-12-06T19:00:00Z"\nstatus:\n  phase: Terminating',
      'apiVersion: v1\nkind: Pod\nmetadata:\n  namespace: x\n  name: a\n  deletionTimestamp: "2026-12-06T19:00:00Z"\nspec:\n  nodeName: node-1\nstatus:\n  phase: Running\n  podIP: 10.0.1.1',
      'apiVersion: v1\nkind: Pod\nmetadata:\n  namespace: y\n  name: a\nstatus:\n  phase: Running\n  podIP: 10.0.2.1',
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  namespace: x\n  name: deny-egress\nspec:\n  podSelector: {}\n  policyTypes: [Egress]',
    ].join('\n---\n');
    const r = readObjects(text);
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
    expect(ok(r.model, 'x/a', 'y/a')).toBe(false);
  });

  it('R22 existing connections: the model answers for the current objects; tightening turns allowed into denied', () => {
    const before = world({ pods: basicPods() });
    const after = world({ pods: basicPods(), policies: [denyIngress('y')] });
    expect([ok(before, 'x/a', 'y/a'), ok(after, 'x/a', 'y/a')]).toEqual([true, false]);
    // the changed pairs are what a backend must cut (conntrack) on tightening
    const ports = [{ port: 80, protocol: 'TCP' as const }];
    const m1 = matrix(before, ports);
    const m2 = matrix(after, ports);
    expect(Object.keys(m1).filter((k) => m1[k] !== m2[k])).toEqual(['x/a->y/a:80/TCP', 'x/a->y/b:80/TCP', 'x/b->y/a:80/TCP', 'x/b->y/b:80/TCP', 'y/a->y/b:80/TCP', 'y/b->y/a:80/TCP']);
  });

  it('R23 what NetworkPolicy cannot express: no deny rule narrows another policy, node traffic cannot be blocked', () => {
    const allowAll = policy('x/allow-all', { podSelector: {}, ingress: [{}] });
    const narrow = policy('x/only-from-b', { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }] });
    const m = world({ pods: basicPods(), policies: [allowAll, narrow] });
    expect(ok(m, 'y/a', 'x/a')).toBe(true);
    const deny = world({ pods: basicPods(), policies: [policy('x/deny', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0', except: [`${NODE_IP}/32`] } }], ports: [{ port: 1 }] }] })] });
    expect(ok(deny, IP(NODE_IP), 'x/a', 80)).toBe(true);
  });

  it('R24 probe model: the matrix covers every ordered pair of distinct pods per port, loopback excluded, in a fixed order', () => {
    const pods = basicPods();
    const m = world({ pods: [...pods].reverse(), policies: [denyIngress('x')] });
    const ports = [{ port: 80, protocol: 'TCP' as const }, { port: 81, protocol: 'UDP' as const }];
    const mx = matrix(m, ports);
    const keys = Object.keys(mx);
    expect(keys).toHaveLength(4 * 3 * 2);
    expect(keys.slice(0, 4)).toEqual(['x/a->x/b:80/TCP', 'x/a->x/b:81/UDP', 'x/a->y/a:80/TCP', 'x/a->y/a:81/UDP']);
    expect(keys.some((k) => /^(\S+)->\1:/u.test(k))).toBe(false);
    expect(mx['y/a->x/b:81/UDP']).toBe(false);
    expect(mx['x/b->y/a:81/UDP']).toBe(true);
  });
});
