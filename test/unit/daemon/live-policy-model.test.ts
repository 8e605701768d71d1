import { describe, expect, test } from '@jest/globals';
import { LivePolicyModel, EMPTY_MODEL_SOURCE } from '../../../src/daemon/policy/live-model.js';
import { silentLogger } from '../../../src/lib/log.js';
import { toNodeInfo, toPodInfo, toRawObjectInfo } from '../../../src/k8s/map.js';
import type { NodeInfo, PodInfo, RawObjectInfo } from '../../../src/k8s/types.js';
import { readObjects } from '../../../src/policy/model/objects.js';
import { FakeInformer } from './fake-kube.js';
import { Registry } from 'prom-client';
import { registerPolicyModelMetrics } from '../../../src/daemon/policy/model-metrics.js';

function setup() {
  const pods = new FakeInformer<PodInfo>((p) => p.namespace);
  const nodes = new FakeInformer<NodeInfo>(() => '');
  const policies = new FakeInformer<RawObjectInfo>((o) => o.namespace);
  const namespaces = new FakeInformer<RawObjectInfo>(() => '');
  const warnings: string[] = [];
  const live = new LivePolicyModel({ pods, nodes, policies, namespaces, warn: (r, m) => warnings.push(`${r} ${m}`), log: silentLogger });
  return { pods, nodes, policies, namespaces, warnings, live };
}

const must = <T>(v: T | undefined): T => {
  if (v === undefined) throw new Error('undecodable');
  return v;
};
const pod = (name: string, extra: object = {}): PodInfo => must(toPodInfo({ metadata: { name, namespace: 'x', resourceVersion: String(Math.random()) }, spec: { nodeName: 'n1' }, status: { podIP: '10.0.0.1', phase: 'Running' }, ...extra }));
const policy = (name: string, spec: object): RawObjectInfo => must(toRawObjectInfo({ metadata: { name, namespace: 'x', resourceVersion: String(Math.random()) }, spec }));

describe('LivePolicyModel', () => {
  test('takes in what the informers already hold at start; objects() reads back into the same model', () => {
    const s = setup();
    s.pods.set(pod('a'));
    s.nodes.set(must(toNodeInfo({ metadata: { name: 'n1' }, status: { addresses: [{ type: 'InternalIP', address: '192.168.0.1' }] } })));
    s.namespaces.set(must(toRawObjectInfo({ metadata: { name: 'x', labels: { team: 'x' } } })));
    s.policies.set(policy('deny', { podSelector: {} }));
    s.live.start();
    const m = s.live.snapshot();
    expect([m.pods.length, m.policies.length, m.nodes.get('n1')?.ips, m.namespaces.get('x')?.labels['team']]).toEqual([1, 1, ['192.168.0.1'], 'x']);
    const again = readObjects(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: s.live.objects() }));
    expect(again.ok && again.model).toEqual(m);
  });

  test('listeners are told once per event-loop turn with the new snapshot, and can unsubscribe', async () => {
    const s = setup();
    s.live.start();
    const seen: number[] = [];
    const off = s.live.onChange((m) => seen.push(m.pods.length));
    s.pods.set(pod('a'));
    s.pods.set(pod('b'));
    s.pods.set(pod('c'));
    await Promise.resolve();
    expect(seen).toEqual([3]);
    off();
    s.pods.remove('x', 'a');
    await Promise.resolve();
    expect(seen).toEqual([3]);
    expect(s.live.snapshot().pods.map((p) => p.name)).toEqual(['b', 'c']);
  });

  test('a finished pod is in neither the model nor objects(); a bad pod is refused with one warning per problem', () => {
    const s = setup();
    s.live.start();
    s.pods.set(pod('done', { status: { podIP: '10.0.0.9', phase: 'Succeeded' } }));
    s.pods.set(pod('bad', { spec: { nodeName: 'n1', containers: [{ ports: [{ name: 'Not_A_Name', containerPort: 80 }] }] } }));
    s.pods.set(pod('bad', { spec: { nodeName: 'n1', containers: [{ ports: [{ name: 'Not_A_Name', containerPort: 80 }] }] } }));
    expect(s.live.snapshot().pods).toEqual([]);
    expect(s.live.objects()).toEqual([]);
    expect(s.warnings).toEqual([expect.stringMatching(/^NetworkPolicyObjectRefused Pod x\/bad: spec\.containers\[0\]\.ports\[0\]\.name: not a valid port name/u)]);
    s.pods.remove('x', 'bad');
    expect(s.live.refused()).toEqual([]);
  });

  test('metrics: objects by kind and refused, read at scrape time', async () => {
    const s = setup();
    const registry = new Registry();
    registerPolicyModelMetrics(registry, 'terway_hub_', s.live);
    s.live.start();
    s.pods.set(pod('a'));
    s.policies.set(policy('ok', { podSelector: {} }));
    s.policies.set(policy('bad', { podSelector: {}, ingres: [] }));
    const text = await registry.metrics();
    expect(text).toContain('terway_hub_policy_model_objects{kind="Pod"} 1');
    expect(text).toContain('terway_hub_policy_model_objects{kind="NetworkPolicy"} 1');
    expect(text).toContain('terway_hub_policy_model_objects{kind="Namespace"} 0');
    expect(text).toContain('terway_hub_policy_model_refused 1');
  });

  test('without Kubernetes: empty', () => {
    expect([EMPTY_MODEL_SOURCE.snapshot().pods, EMPTY_MODEL_SOURCE.objects(), EMPTY_MODEL_SOURCE.refused()]).toEqual([[], [], []]);
  });
});
