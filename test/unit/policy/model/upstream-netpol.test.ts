/**
 * Runs the conformance table transcribed from the upstream Kubernetes e2e NetworkPolicy suite (see
 * upstream-netpol-cases.ts) through the OBJECTS reader and `matrix`: for every step, the expected truth table
 * (NewReachability(all, true) + the Expect* calls) must equal the matrix on every ordered pair of distinct pods.
 */
import { stringify } from 'yaml';
import { matrix, matrixKey } from '../../../../src/policy/model/matrix.js';
import { readObjects } from '../../../../src/policy/model/objects.js';
import type { Protocol } from '../../../../src/policy/model/types.js';
import { POD_IPS, UPSTREAM_CASES, UPSTREAM_FILE, type Expectation, type PeerPattern, type Step, type UpstreamCase } from './upstream-netpol-cases.js';

function objectsText(c: UpstreamCase, step: Step): string {
  const docs: object[] = ['x', 'y', 'z'].map((ns) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: ns, labels: { ns, 'kubernetes.io/metadata.name': ns, ...(step.namespaceLabels?.[ns] ?? {}) } },
  }));
  for (const key of c.pods) {
    const [ns, name] = key.split('/') as [string, string];
    const containers = c.ports.flatMap((port) =>
      c.protocols.map((protocol: Protocol) => ({
        name: `cont-${String(port)}-${protocol.toLowerCase()}`,
        image: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
        ports: [{ containerPort: port, name: `serve-${String(port)}-${protocol.toLowerCase()}`, protocol }],
      })),
    );
    docs.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace: ns, name, labels: step.podLabels?.[key] ?? { pod: name } },
      spec: { nodeName: 'node-1', containers },
      status: { phase: 'Running', hostIP: '192.168.0.1', podIP: POD_IPS[key], podIPs: [{ ip: POD_IPS[key] }] },
    });
  }
  docs.push(...step.policies);
  return docs.map((d) => stringify(d)).join('---\n');
}

function matches(p: PeerPattern, pod: string): boolean {
  const [ns, name] = pod.split('/');
  return (p.ns === undefined || p.ns === ns) && (p.pod === undefined || p.pod === name);
}

/** The upstream Reachability truth table, default true, with the Expect* calls applied in order. */
function expected(pods: readonly string[], exps: readonly Expectation[]): Map<string, boolean> {
  const t = new Map<string, boolean>();
  for (const a of pods) for (const b of pods) t.set(`${a}->${b}`, true);
  for (const e of exps) {
    for (const a of pods) {
      for (const b of pods) {
        let hit: boolean;
        switch (e[0]) {
          case 'peer':
            hit = matches(e[1], a) && matches(e[2], b);
            break;
          case 'pair':
            hit = a === e[1] && b === e[2];
            break;
          case 'allIngress':
            hit = b === e[1];
            break;
          case 'allEgress':
            hit = a === e[1];
            break;
        }
        if (hit) t.set(`${a}->${b}`, e[e.length - 1] as boolean);
      }
    }
  }
  return t;
}

describe(`upstream e2e NetworkPolicy conformance (${UPSTREAM_FILE})`, () => {
  it('transcribes at least 30 upstream cases', () => {
    expect(UPSTREAM_CASES.length).toBeGreaterThanOrEqual(30);
  });

  const named = UPSTREAM_CASES.map((c, i) => [`${String(i + 1)}. ${c.file} [${c.context}] ${c.test}`, c] as const);
  it.each(named)('%s', (_title, c) => {
    c.steps.forEach((step, si) => {
      const read = readObjects(objectsText(c, step));
      if (!read.ok) throw new Error(read.errors.map((e) => e.message).join('\n'));
      const got = matrix(read.model, [{ port: step.port, protocol: step.protocol }]);
      const want = expected(c.pods, step.expect);
      const wrong: string[] = [];
      let compared = 0;
      for (const [pair, allowed] of want) {
        const [a, b] = pair.split('->') as [string, string];
        if (a === b) continue; // ignoreLoopback
        const key = matrixKey(a, b, { port: step.port, protocol: step.protocol });
        compared++;
        if (got[key] !== allowed) wrong.push(`${key}: expected ${String(allowed)}, model says ${String(got[key])}`);
      }
      expect({ step: si + 1, wrong }).toEqual({ step: si + 1, wrong: [] });
      expect(compared).toBe(c.pods.length * (c.pods.length - 1));
      expect(Object.keys(got)).toHaveLength(compared);
    });
  });
});
