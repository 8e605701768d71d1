import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { diffMatrices, diffModels, formatDiff, overlayModel } from '../../../../src/policy/cli/diff.js';
import { decide } from '../../../../src/policy/model/decide.js';
import { readObjects } from '../../../../src/policy/model/objects.js';
import type { PolicyModel } from '../../../../src/policy/model/types.js';

function read(text: string): PolicyModel {
  const r = readObjects(text);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
  return r.model;
}
const fixture = (name: string): PolicyModel => read(readFileSync(`test/fixtures/policy/${name}`, 'utf8'));

describe('overlayModel', () => {
  const base = read(`
apiVersion: v1
kind: Namespace
metadata: { name: x, labels: { team: x } }
---
apiVersion: v1
kind: Pod
metadata: { name: a, namespace: x, labels: { v: '1' } }
status: { podIP: 10.0.0.1 }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: p, namespace: x }
spec: { podSelector: {} }
`);

  test('same-named pods and policies are replaced, new ones added, the rest kept', () => {
    const top = read(`
apiVersion: v1
kind: Pod
metadata: { name: a, namespace: x, labels: { v: '2' } }
status: { podIP: 10.0.0.1 }
---
apiVersion: v1
kind: Pod
metadata: { name: b, namespace: x }
status: { podIP: 10.0.0.2 }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: q, namespace: x }
spec: { podSelector: {}, policyTypes: [Egress] }
`);
    const m = overlayModel(base, top);
    expect(m.pods.map((p) => [p.name, p.labels])).toEqual([['a', { v: '2' }], ['b', {}]]);
    expect(m.policies.map((p) => p.name)).toEqual(['p', 'q']);
  });

  test('a namespace the file only implies keeps its live labels; one the file has replaces them', () => {
    const implied = read('apiVersion: v1\nkind: Pod\nmetadata: { name: z, namespace: x }\n');
    expect(overlayModel(base, implied).namespaces.get('x')?.labels).toMatchObject({ team: 'x' });
    const given = read('apiVersion: v1\nkind: Namespace\nmetadata: { name: x, labels: { team: y } }\n');
    expect(overlayModel(base, given).namespaces.get('x')?.labels).toMatchObject({ team: 'y' });
  });
});

describe('diffMatrices', () => {
  test('changes both ways; pairs only one side has are counted, not compared', () => {
    const d = diffMatrices({ a: true, b: false, c: true, gone: true }, { a: false, b: true, c: true, added: false });
    expect(d).toEqual({ allowedToDenied: ['a'], deniedToAllowed: ['b'], compared: 3, onlyBefore: 1, onlyAfter: 1 });
    expect(formatDiff(d)).toBe('2 changes over 3 pod pair/port combinations\n(1 only with the new objects, 1 only without: not compared)\nallowed -> denied:\n  a\ndenied -> allowed:\n  b\n');
  });
});

describe('diffModels over the fixtures (cluster.yaml + tighten.yaml)', () => {
  test('every reported change is a verdict the evaluator gives differently on the two models, and no other pair changes', () => {
    const before = fixture('cluster.yaml');
    const after = overlayModel(before, fixture('tighten.yaml'));
    const ports = [{ port: 8080, protocol: 'TCP' as const }, { port: 5432, protocol: 'TCP' as const }];
    const d = diffModels(before, after, ports);
    // what the what-if says in words (tighten.yaml's header): y/client now reaches x/web; x's default deny cuts x/client off
    expect(d.deniedToAllowed).toEqual(['y/client->x/web:8080/TCP']);
    expect([...d.allowedToDenied].sort()).toEqual(['x/web->x/client:5432/TCP', 'x/web->x/client:8080/TCP', 'z/db->x/client:5432/TCP', 'z/db->x/client:8080/TCP']);
    for (const key of [...d.allowedToDenied, ...d.deniedToAllowed]) {
      const m = /^(.+)->(.+):(\d+)\/TCP$/u.exec(key);
      const [src = '', dst = '', port = '0'] = m?.slice(1) ?? [];
      expect(decide(before, { pod: src }, { pod: dst }, Number(port), 'TCP').allowed).not.toBe(decide(after, { pod: src }, { pod: dst }, Number(port), 'TCP').allowed);
    }
    expect(d.compared).toBe(5 * 4 * 2);
  });
});
