import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import type { KubeClient } from '../../../src/k8s/client.js';
import type { Informer, InformerEvent, PodInfo } from '../../../src/k8s/types.js';
import type { KubeEmulator } from '../../k8s-emulator/index.js';
import { emulatedKubeApi, node, pod, startKubeEmulator } from '../../k8s-emulator/index.js';
import { eventually } from '../../helpers/wait.js';

let emu: KubeEmulator;
let kube: KubeClient;
const informers: Array<{ stop(): void }> = [];

beforeEach(async () => {
  emu = await startKubeEmulator();
  kube = emulatedKubeApi(emu);
});

afterEach(async () => {
  for (const i of informers.splice(0)) i.stop();
  await emu.close();
});

function track<T>(inf: Informer<T>): { inf: Informer<T>; events: string[]; errors: unknown[] } {
  informers.push(inf);
  const events: string[] = [];
  const errors: unknown[] = [];
  inf.on((e: InformerEvent<T>) => events.push(`${e.type}:${(e.object as { name: string }).name}`));
  inf.onError((err) => errors.push(err));
  return { inf, events, errors };
}

const names = (inf: Informer<PodInfo>): string[] => inf.list().map((p) => p.name).sort();

describe('pod informer (spec.nodeName)', () => {
  test('initial list, then add/update/delete; pods of other nodes never appear', async () => {
    emu.put('Pod', pod('a', 'node-1', { labels: { app: 'x' } }));
    emu.put('Pod', pod('other', 'node-2'));
    const { inf, events } = track(kube.podInformer('node-1'));
    await inf.start();
    expect(names(inf)).toEqual(['a']);
    expect(inf.get('default', 'a')?.labels).toEqual({ app: 'x' });
    expect(events).toEqual(['add:a']);

    const updates: Array<InformerEvent<PodInfo>> = [];
    inf.on((e) => updates.push(e));
    emu.put('Pod', pod('b', 'node-1'));
    emu.put('Pod', pod('a', 'node-1', { annotations: { k: 'v' } }));
    emu.put('Pod', pod('other2', 'node-2'));
    emu.delete('Pod', 'default', 'b');
    await eventually(() => { expect(events).toEqual(['add:a', 'add:b', 'update:a', 'delete:b']); });
    const update = updates.find((e) => e.type === 'update');
    expect(update?.type === 'update' ? [update.old?.annotations, update.object.annotations] : undefined).toEqual([{}, { k: 'v' }]);
    expect(names(inf)).toEqual(['a']);
    expect(emu.requests.every((r) => r.query['fieldSelector'] === 'spec.nodeName=node-1')).toBe(true);
  });

  test('a pod moving onto / off the node arrives as add / delete', async () => {
    emu.put('Pod', pod('m', 'node-2'));
    const { inf, events } = track(kube.podInformer('node-1'));
    await inf.start();
    emu.put('Pod', pod('m', 'node-1'));
    await eventually(() => { expect(events).toEqual(['add:m']); });
    emu.put('Pod', pod('m', 'node-3'));
    await eventually(() => { expect(events).toEqual(['add:m', 'delete:m']); });
    expect(inf.list()).toEqual([]);
  });

  test('a dropped watch reconnects from the last resourceVersion and sees later changes', async () => {
    emu.put('Pod', pod('a', 'node-1'));
    const { inf, events, errors } = track(kube.podInformer('node-1'));
    await inf.start();
    await eventually(() => { expect(emu.watchCount('Pod')).toBe(1); });
    const rvBefore = emu.resourceVersion();
    expect(emu.dropWatches()).toBe(1);
    emu.put('Pod', pod('late', 'node-1'));
    await eventually(() => { expect(events).toEqual(['add:a', 'add:late']); });
    expect(errors.length).toBeGreaterThanOrEqual(1); // the premature close is reported, then retried
    const watches = emu.requests.filter((r) => r.query['watch'] === 'true');
    expect(watches[1]?.query['resourceVersion']).toBe(rvBefore);
    expect(emu.requests.filter((r) => r.query['watch'] === undefined)).toHaveLength(1); // no relist needed
  });

  test('a cleanly ended watch (server timeout) is re-established without errors', async () => {
    const { inf, events, errors } = track(kube.podInformer('node-1'));
    await inf.start();
    await eventually(() => { expect(emu.watchCount()).toBe(1); });
    emu.dropWatches(false);
    await eventually(() => { expect(emu.watchCount()).toBe(1); });
    emu.put('Pod', pod('x', 'node-1'));
    await eventually(() => { expect(events).toEqual(['add:x']); });
    expect(errors).toEqual([]);
  });

  test.each(['event', 'http'] as const)('compaction → 410 Gone (%s) → relist; deletions while away emit delete', async (mode) => {
    emu.goneMode = mode;
    emu.put('Pod', pod('a', 'node-1'));
    emu.put('Pod', pod('b', 'node-1'));
    const { inf, events } = track(kube.podInformer('node-1'));
    await inf.start();
    await eventually(() => { expect(emu.watchCount()).toBe(1); });
    // synchronous: the client cannot reconnect in between
    emu.dropWatches();
    emu.delete('Pod', 'default', 'a');
    emu.put('Pod', pod('b', 'node-1', { annotations: { changed: 'yes' } }));
    emu.put('Pod', pod('c', 'node-1'));
    emu.compact();
    await eventually(() => { expect(names(inf)).toEqual(['b', 'c']); });
    expect(events.slice(2).sort()).toEqual(['add:c', 'delete:a', 'update:b']);
    expect(inf.get('default', 'b')?.annotations).toEqual({ changed: 'yes' });
    const lists = emu.requests.filter((r) => r.query['watch'] === undefined);
    expect(lists).toHaveLength(2);
    // and it keeps watching after the relist
    emu.put('Pod', pod('d', 'node-1'));
    await eventually(() => { expect(names(inf)).toEqual(['b', 'c', 'd']); });
  });

  test('list failures are reported and retried with backoff; start() resolves after the first good list', async () => {
    emu.put('Pod', pod('a', 'node-1'));
    emu.failNext({ method: 'GET', path: '/api/v1/pods', watch: false, status: 500, times: 2 });
    const { inf, errors } = track(kube.podInformer('node-1'));
    await inf.start();
    expect(names(inf)).toEqual(['a']);
    expect(errors).toHaveLength(2);
  });

  test('watch failures back off and retry from the same resourceVersion', async () => {
    emu.failNext({ path: '/api/v1/pods', watch: true, status: 503, times: 3 });
    const { inf, events, errors } = track(kube.podInformer('node-1'));
    await inf.start();
    emu.put('Pod', pod('a', 'node-1'));
    await eventually(() => { expect(events).toEqual(['add:a']); });
    expect(errors.length).toBeGreaterThanOrEqual(3);
  });

  test('periodic resync relists (diffed: unchanged objects emit nothing) and keeps watching', async () => {
    emu.put('Pod', pod('a', 'node-1'));
    const k = emulatedKubeApi(emu, { timing: { resyncMs: 100 } });
    const { inf, events } = track(k.podInformer('node-1'));
    await inf.start();
    await eventually(() => { expect(emu.requests.filter((r) => r.query['watch'] === undefined).length).toBeGreaterThanOrEqual(3); }, 3000);
    expect(events).toEqual(['add:a']);
    emu.put('Pod', pod('b', 'node-1'));
    await eventually(() => { expect(events).toEqual(['add:a', 'add:b']); });
  });

  test('stop() before the first list rejects start() and ends the loop', async () => {
    emu.failNext({ path: '/api/v1/pods', status: 500, times: 1000 });
    const inf = kube.podInformer('node-1');
    const started = inf.start();
    inf.stop();
    await expect(started).rejects.toThrow(/stopped/);
  });
});

describe('node and configmap informers', () => {
  test('node informer sees only its node (metadata.name)', async () => {
    emu.put('Node', node('node-1', { podCIDR: '10.0.1.0/24' }));
    emu.put('Node', node('node-2'));
    const { inf, events } = track(kube.nodeInformer('node-1'));
    await inf.start();
    expect(inf.list().map((n) => n.name)).toEqual(['node-1']);
    expect(inf.get('', 'node-1')?.podCIDR).toBe('10.0.1.0/24');
    emu.put('Node', node('node-2', { labels: { a: 'b' } }));
    emu.put('Node', node('node-1', { labels: { zone: 'z1' } }));
    await eventually(() => { expect(inf.get('', 'node-1')?.labels).toEqual({ zone: 'z1' }); });
    expect(events).toEqual(['add:node-1', 'update:node-1']);
  });

  test('configmap informer is namespaced', async () => {
    emu.put('ConfigMap', { metadata: { name: 'eni-config', namespace: 'kube-system' }, data: { eni_conf: '{}' } });
    emu.put('ConfigMap', { metadata: { name: 'elsewhere', namespace: 'default' }, data: {} });
    const { inf, events } = track(kube.configMapInformer('kube-system'));
    await inf.start();
    expect(inf.get('kube-system', 'eni-config')?.data).toEqual({ eni_conf: '{}' });
    emu.put('ConfigMap', { metadata: { name: 'eni-config', namespace: 'kube-system' }, data: { eni_conf: '{"x":1}' } });
    emu.put('ConfigMap', { metadata: { name: 'elsewhere', namespace: 'default' }, data: { a: 'b' } });
    await eventually(() => { expect(inf.get('kube-system', 'eni-config')?.data).toEqual({ eni_conf: '{"x":1}' }); });
    expect(events).toEqual(['add:eni-config', 'update:eni-config']);
    expect(emu.requests.every((r) => r.path === '/api/v1/namespaces/kube-system/configmaps')).toBe(true);
  });
});

describe('NetworkPolicy and Namespace informers (the NetworkPolicy model)', () => {
  const policy = (name: string, namespace: string, spec: object): object => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec });

  test('network policies of every namespace arrive as the JSON the API sent (`from`, not `_from`)', async () => {
    emu.put('NetworkPolicy', policy('allow-a', 'x', { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'a' } } }] }] }));
    emu.put('NetworkPolicy', policy('deny', 'y', { podSelector: {}, policyTypes: ['Ingress'] }));
    const { inf, events } = track(kube.networkPolicyInformer());
    await inf.start();
    expect(inf.list().map((o) => `${o.namespace}/${o.name}`).sort()).toEqual(['x/allow-a', 'y/deny']);
    expect(inf.get('x', 'allow-a')?.object).toMatchObject({ spec: { ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'a' } } }] }] } });
    emu.put('NetworkPolicy', policy('deny', 'y', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }));
    emu.delete('NetworkPolicy', 'x', 'allow-a');
    await eventually(() => { expect(events).toEqual(['add:allow-a', 'add:deny', 'update:deny', 'delete:allow-a']); });
    expect(inf.get('y', 'deny')?.object).toMatchObject({ spec: { policyTypes: ['Ingress', 'Egress'] } });
    expect(emu.requests.every((r) => r.path === '/apis/networking.k8s.io/v1/networkpolicies')).toBe(true);
  });

  test('namespaces with their labels', async () => {
    emu.put('Namespace', { metadata: { name: 'x', labels: { team: 'a' } } });
    const { inf, events } = track(kube.namespaceInformer());
    await inf.start();
    expect(inf.get('', 'x')?.object).toMatchObject({ metadata: { name: 'x', labels: { team: 'a' } } });
    emu.put('Namespace', { metadata: { name: 'x', labels: { team: 'b' } } });
    emu.put('Namespace', { metadata: { name: 'y' } });
    await eventually(() => { expect(events).toEqual(['add:x', 'update:x', 'add:y']); });
    expect(inf.get('', 'x')?.object).toMatchObject({ metadata: { labels: { team: 'b' } } });
  });
});
