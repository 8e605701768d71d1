/** The evaluator's answer shape (Goldmane-style policy hits) and how it resolves the two ends. */
import { InvalidInputError } from '../../../../src/lib/errors.js';
import { decide } from '../../../../src/policy/model/decide.js';
import { readObjects } from '../../../../src/policy/model/objects.js';
import { basicPods, pod, policy, world } from './fixture.js';

const nsIs = (ns: string): Record<string, unknown> => ({ matchLabels: { 'kubernetes.io/metadata.name': ns } });

describe('decide: verdicts, policy hits and ends', () => {
  const model = world({
    pods: basicPods(),
    policies: [
      policy('x/b-allow-y', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: nsIs('y') }], ports: [{ port: 80 }] }] }),
      policy('x/a-allow-web', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ ports: [{ port: 443 }] }, { from: [{ podSelector: { matchLabels: { pod: 'b' } } }, { namespaceSelector: nsIs('y') }], ports: [{ port: 81 }, { port: 80 }] }] }),
    ],
  });

  it('names every rule that admitted the connection, with policy, rule, peer and port indexes', () => {
    const d = decide(model, { pod: 'y/b' }, { pod: 'x/a' }, 80, 'TCP');
    expect(d.allowed).toBe(true);
    expect(d.ingress).toMatchObject({ direction: 'ingress', subject: 'x/a', isolated: true, allowed: true, reason: 'allowed-by-policy' });
    expect(d.ingress.isolatedBy).toEqual([{ namespace: 'x', name: 'a-allow-web' }, { namespace: 'x', name: 'b-allow-y' }]);
    expect(d.ingress.hits).toEqual([
      { kind: 'NetworkPolicy', action: 'Allow', policy: { namespace: 'x', name: 'a-allow-web' }, policyIndex: 0, ruleIndex: 1, rule: 'ingress[1]', peerIndex: 1, portIndex: 1 },
      { kind: 'NetworkPolicy', action: 'Allow', policy: { namespace: 'x', name: 'b-allow-y' }, policyIndex: 1, ruleIndex: 0, rule: 'ingress[0]', peerIndex: 0, portIndex: 0 },
    ]);
    expect(d.ingress.misses).toEqual([{ policy: { namespace: 'x', name: 'a-allow-web' }, rule: 'ingress[0]', failed: 'port' }]);
    expect(d.egress).toMatchObject({ subject: 'y/b', isolated: false, reason: 'not-isolated', hits: [] });
  });

  it('attributes a default deny to the isolating policies: one EndOfTier Deny hit triggered by the first', () => {
    const d = decide(model, { pod: 'x/b' }, { pod: 'x/a' }, 82, 'TCP');
    expect(d.allowed).toBe(false);
    expect(d.ingress).toMatchObject({ isolated: true, allowed: false, reason: 'no-rule-admits' });
    expect(d.ingress.hits).toEqual([{ kind: 'EndOfTier', action: 'Deny', policy: { namespace: 'x', name: 'a-allow-web' }, policyIndex: -1, ruleIndex: -1, rule: '', peerIndex: undefined, portIndex: undefined }]);
    expect(d.ingress.misses).toEqual([
      { policy: { namespace: 'x', name: 'a-allow-web' }, rule: 'ingress[0]', failed: 'port' },
      { policy: { namespace: 'x', name: 'a-allow-web' }, rule: 'ingress[1]', failed: 'port' },
      { policy: { namespace: 'x', name: 'b-allow-y' }, rule: 'ingress[0]', failed: 'peer and port' },
    ]);
    // x/b -> x/a on 81 is admitted by a-allow-web ingress[1] peer 0 (pod b)
    expect(decide(model, { pod: 'x/b' }, { pod: 'x/a' }, 81, 'TCP').ingress.hits[0]).toMatchObject({ rule: 'ingress[1]', peerIndex: 0, portIndex: 0 });
  });

  it('resolves an IP of a pod to that pod, keeps other IPs external, and names unknown ends', () => {
    const d = decide(model, { ip: '10.0.2.2' }, { ip: '10.0.1.1' }, 80, 'TCP');
    expect([d.src, d.dst, d.allowed]).toEqual(['y/b', 'x/a', true]);
    const ext = decide(model, { ip: '203.0.113.7' }, { pod: 'x/a' }, 443, 'TCP');
    expect([ext.src, ext.egress.reason, ext.allowed]).toEqual(['203.0.113.7', 'not-a-pod', true]);
    expect(() => decide(model, { pod: 'x/zz' }, { pod: 'x/a' }, 80, 'TCP')).toThrow(InvalidInputError);
    expect(() => decide(model, { pod: 'x/zz' }, { pod: 'x/a' }, 80, 'TCP')).toThrow(/from: no pod "x\/zz" in the model/u);
    expect(() => decide(model, { pod: 'x/a' }, { ip: '10.0.0.300' }, 80, 'TCP')).toThrow(/to: not an IP address/u);
    expect(() => decide(model, { ip: '10.0.0.1' }, { ip: 'fd00::1' }, 80, 'TCP')).toThrow(/different families/u);
  });

  it('an ipBlock cannot match a pod that has no IP yet, but its selectors can', () => {
    const m = world({
      pods: [pod('x/a', '10.0.1.1'), pod('y/pending', '')],
      policies: [policy('x/p', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }, { from: [{ namespaceSelector: nsIs('y') }], ports: [{ port: 81 }] }] })],
    });
    expect(decide(m, { pod: 'y/pending' }, { pod: 'x/a' }, 80, 'TCP').allowed).toBe(false);
    expect(decide(m, { pod: 'y/pending' }, { pod: 'x/a' }, 81, 'TCP').allowed).toBe(true);
  });

  it('reads node addresses from pods status.hostIP for the own-node exception, and notes shared pod IPs', () => {
    const text = [
      'apiVersion: v1\nkind: Pod\nmetadata: {namespace: x, name: a}\nspec: {nodeName: n1}\nstatus: {phase: Running, hostIP: 172.16.0.5, podIP: 10.0.1.1}',
      'apiVersion: v1\nkind: Pod\nmetadata: {namespace: x, name: b}\nspec: {nodeName: n2}\nstatus: {phase: Running, hostIP: 172.16.0.6, podIP: 10.0.1.1}',
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {namespace: x, name: deny}\nspec: {podSelector: {}}',
    ].join('\n---\n');
    const r = readObjects(text);
    if (!r.ok) throw new Error('unexpected');
    expect(r.notes).toContain('Pod x/b: IP 10.0.1.1 is also held by Pod x/a; an IP peer resolves to x/a');
    expect(decide(r.model, { ip: '172.16.0.5' }, { pod: 'x/a' }, 80, 'TCP').ingress.reason).toBe('from-own-node');
    expect(decide(r.model, { ip: '172.16.0.6' }, { pod: 'x/a' }, 80, 'TCP').allowed).toBe(false);
    expect(decide(r.model, { ip: '172.16.0.6' }, { pod: 'x/b' }, 80, 'TCP').allowed).toBe(true);
  });
});
