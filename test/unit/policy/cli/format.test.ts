import { describe, expect, test } from '@jest/globals';
import { formatDecision } from '../../../../src/policy/cli/format-explain.js';
import { formatMatrix } from '../../../../src/policy/cli/format-matrix.js';
import { decide } from '../../../../src/policy/model/decide.js';
import { matrix } from '../../../../src/policy/model/matrix.js';
import { readObjects } from '../../../../src/policy/model/objects.js';
import { podKey, type PolicyModel } from '../../../../src/policy/model/types.js';

const OBJECTS = `
apiVersion: v1
kind: Pod
metadata: { name: a, namespace: x, labels: { app: a } }
spec: { nodeName: n1, containers: [{ name: c, ports: [{ name: http, containerPort: 8080 }] }] }
status: { podIP: 10.0.0.1, hostIP: 192.168.0.1 }
---
apiVersion: v1
kind: Pod
metadata: { name: b, namespace: x, labels: { app: b } }
spec: { nodeName: n1 }
status: { podIP: 10.0.0.2, hostIP: 192.168.0.1 }
---
apiVersion: v1
kind: Pod
metadata: { name: c, namespace: y }
spec: { nodeName: n1 }
status: { podIP: 10.0.1.3, hostIP: 192.168.0.1 }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: a-from-b, namespace: x }
spec:
  podSelector: { matchLabels: { app: a } }
  ingress:
    - from: [{ podSelector: { matchLabels: { app: nobody } } }]
    - from: [{ podSelector: { matchLabels: { app: b } } }]
      ports: [{ port: http }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: deny-all, namespace: x }
spec: { podSelector: { matchLabels: { app: a } } }
`;

function model(): PolicyModel {
  const r = readObjects(OBJECTS);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
  return r.model;
}

describe('formatDecision', () => {
  test('allowed by a rule: verdict, isolating policies, the admitting rule with its clauses, the rules that missed', () => {
    const text = formatDecision(decide(model(), { pod: 'x/b' }, { pod: 'x/a' }, 8080, 'TCP'));
    expect(text.split('\n')).toEqual([
      'x/b -> x/a 8080/TCP (IPv4): ALLOWED',
      'egress of x/b: allowed: no NetworkPolicy selects x/b for egress',
      'ingress of x/a: allowed',
      '  isolated by: x/a-from-b, x/deny-all',
      '  admitted by x/a-from-b ingress[1] (from[0], ports[0])',
      '  no match: x/a-from-b ingress[0]: peer did not match',
      '  no match: x/deny-all has no ingress rules (isolates only)',
      '',
    ]);
  });

  test('denied: the default deny names its trigger; each rule says which clause failed', () => {
    const text = formatDecision(decide(model(), { pod: 'y/c' }, { pod: 'x/a' }, 9090, 'UDP'));
    expect(text).toMatch(/^y\/c -> x\/a 9090\/UDP \(IPv4\): DENIED\n/u);
    expect(text).toContain('ingress of x/a: DENIED: no rule of an isolating policy admits it\n');
    expect(text).toContain('  default deny (end of policies; trigger x/a-from-b)\n');
    expect(text).toContain('  no match: x/a-from-b ingress[0]: peer did not match\n'); // no ports: any port
    expect(text).toContain('  no match: x/a-from-b ingress[1]: peer and port did not match\n');
  });

  test('an IP that is no pod and the own node are named as such', () => {
    expect(formatDecision(decide(model(), { pod: 'x/a' }, { ip: '8.8.8.8' }, 53, 'UDP'))).toContain('ingress of 8.8.8.8: allowed: 8.8.8.8 is not a pod of the model');
    expect(formatDecision(decide(model(), { ip: '192.168.0.1' }, { pod: 'x/a' }, 80, 'TCP'))).toContain('ingress of x/a: allowed: traffic from the node x/a runs on is always allowed');
  });
});

describe('formatMatrix', () => {
  test('one table per port; each cell is the matrix verdict ("." / "X"), "#" on the diagonal; a count of denied pairs', () => {
    const m = model();
    const pods = m.pods.map(podKey);
    const ports = [{ port: 8080, protocol: 'TCP' as const }, { port: 53, protocol: 'UDP' as const }];
    const result = matrix(m, ports);
    const lines = formatMatrix(pods, ports, result).split('\n');
    for (const [t, p] of ports.entries()) {
      const start = t * (pods.length + 3);
      const denied = Object.entries(result).filter(([k, v]) => k.endsWith(`:${String(p.port)}/${p.protocol}`) && !v).length;
      expect(lines[start]).toBe(`${String(p.port)}/${p.protocol}: ${String(denied)} of 6 pairs denied (rows: from, columns: to; . allowed, X denied, # self)`);
      expect(lines[start + 1]?.trim().split(/\s+/u)).toEqual(pods);
      pods.forEach((src, i) => {
        const cells = lines[start + 2 + i]?.trim().split(/\s+/u);
        expect(cells?.[0]).toBe(src);
        expect(cells?.slice(1)).toEqual(pods.map((dst) => (dst === src ? '#' : result[`${src}->${dst}:${String(p.port)}/${p.protocol}`] ? '.' : 'X')));
      });
    }
    expect(lines.filter((l) => l.includes(' X')).length).toBeGreaterThan(0); // the fixture denies something
  });

  test('no pods', () => {
    expect(formatMatrix([], [{ port: 80, protocol: 'TCP' }], {})).toBe('no pods in the model\n');
  });
});
