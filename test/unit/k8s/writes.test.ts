import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import type { KubeClient } from '../../../src/k8s/client.js';
import { NotFoundError } from '../../../src/lib/errors.js';
import type { KubeEmulator, KubeObject } from '../../k8s-emulator/index.js';
import { emulatedKubeApi, node, pod, startKubeEmulator } from '../../k8s-emulator/index.js';

let emu: KubeEmulator;
let kube: KubeClient;
let clock = new Date('2025-03-01T10:00:00.000Z');

beforeEach(async () => {
  emu = await startKubeEmulator();
  clock = new Date('2025-03-01T10:00:00.000Z');
  kube = emulatedKubeApi(emu, { now: () => clock, eventHost: 'node-1' });
});

afterEach(async () => {
  await emu.close();
});

const field = (obj: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((cur, k) => (typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[k] : undefined), obj);

describe('getPod', () => {
  test('returns the mapped pod, undefined on 404', async () => {
    emu.put('Pod', pod('a', 'node-1', { namespace: 'ns1', labels: { app: 'web' } }));
    const got = await kube.getPod('ns1', 'a');
    expect(got).toMatchObject({ namespace: 'ns1', name: 'a', nodeName: 'node-1', labels: { app: 'web' }, phase: 'Running' });
    expect(got?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(await kube.getPod('ns1', 'missing')).toBeUndefined();
  });

  test('other failures become typed errors', async () => {
    emu.failNext({ path: '/api/v1/namespaces/ns1/pods/a', status: 503 });
    await expect(kube.getPod('ns1', 'a')).rejects.toMatchObject({ code: 'unavailable', retryable: true });
  });
});

describe('annotation patches', () => {
  test('pod: application/merge-patch+json on the wire; null removes a key', async () => {
    emu.put('Pod', pod('a', 'node-1', { annotations: { keep: '1', drop: '2' } }));
    emu.clearRequests();
    await kube.patchPodAnnotations('default', 'a', { 'k8s.aliyun.com/pod-ip': '10.0.0.5', drop: null });
    expect(emu.requests).toHaveLength(1);
    const [req] = emu.requests;
    expect(req).toMatchObject({ method: 'PATCH', path: '/api/v1/namespaces/default/pods/a', contentType: 'application/merge-patch+json' });
    expect(req?.body).toEqual({ metadata: { annotations: { 'k8s.aliyun.com/pod-ip': '10.0.0.5', drop: null } } });
    expect(field(emu.get('Pod', 'default', 'a'), 'metadata.annotations')).toEqual({ keep: '1', 'k8s.aliyun.com/pod-ip': '10.0.0.5' });
    expect(field(emu.get('Pod', 'default', 'a'), 'spec.nodeName')).toBe('node-1');
  });

  test('pod: missing pod → NotFoundError', async () => {
    await expect(kube.patchPodAnnotations('default', 'nope', { a: 'b' })).rejects.toBeInstanceOf(NotFoundError);
  });

  test('node: merge patch of metadata.annotations', async () => {
    emu.put('Node', node('node-1'));
    emu.clearRequests();
    await kube.patchNodeAnnotations('node-1', { 'terway-hub/mode': 'vpc' });
    expect(emu.requests[0]).toMatchObject({ method: 'PATCH', path: '/api/v1/nodes/node-1', contentType: 'application/merge-patch+json' });
    expect(field(emu.get('Node', '', 'node-1'), 'metadata.annotations')).toEqual({ 'terway-hub/mode': 'vpc' });
  });
});

describe('setNodeCondition', () => {
  const conditions = (): KubeObject[] => field(emu.get('Node', '', 'node-1'), 'status.conditions') as KubeObject[];

  test('adds, then replaces by type; lastTransitionTime moves only when status changes; others untouched', async () => {
    emu.put('Node', node('node-1'));
    emu.clearRequests();
    await kube.setNodeCondition('node-1', { type: 'TerwayHubReady', status: 'False', reason: 'Starting', message: 'warming pool' });
    const patch = emu.requests.find((r) => r.method === 'PATCH');
    expect(patch).toMatchObject({ path: '/api/v1/nodes/node-1/status', contentType: 'application/strategic-merge-patch+json' });
    expect(conditions().map((c) => c['type'])).toEqual(['Ready', 'TerwayHubReady']);
    expect(conditions()[1]).toEqual({
      type: 'TerwayHubReady',
      status: 'False',
      reason: 'Starting',
      message: 'warming pool',
      lastHeartbeatTime: '2025-03-01T10:00:00Z',
      lastTransitionTime: '2025-03-01T10:00:00Z',
    });

    clock = new Date('2025-03-01T10:01:00.000Z');
    await kube.setNodeCondition('node-1', { type: 'TerwayHubReady', status: 'False', reason: 'Starting', message: 'still warming' });
    expect(conditions()[1]).toMatchObject({ message: 'still warming', lastHeartbeatTime: '2025-03-01T10:01:00Z', lastTransitionTime: '2025-03-01T10:00:00Z' });

    clock = new Date('2025-03-01T10:02:00.000Z');
    await kube.setNodeCondition('node-1', { type: 'TerwayHubReady', status: 'True', reason: 'Ready', message: 'ok' });
    expect(conditions()).toHaveLength(2);
    expect(conditions()[1]).toMatchObject({ status: 'True', lastTransitionTime: '2025-03-01T10:02:00Z' });
    expect(conditions()[0]).toMatchObject({ type: 'Ready', status: 'True', reason: 'KubeletReady' });
  });

  test('missing node → NotFoundError', async () => {
    await expect(kube.setNodeCondition('ghost', { type: 'X', status: 'True', reason: 'r', message: 'm' })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('createEvent', () => {
  const podTarget = { kind: 'Pod', namespace: 'ns1', name: 'web-0', uid: 'uid-1' } as const;

  test('pod event: fields on the wire and stored', async () => {
    await kube.createEvent({ target: podTarget, type: 'Warning', reason: 'AllocIPFailed', message: 'pool exhausted' });
    const req = emu.requests.find((r) => r.method === 'POST');
    expect(req?.path).toBe('/api/v1/namespaces/ns1/events');
    const [ev] = emu.list('Event', 'ns1');
    expect(ev).toMatchObject({
      kind: 'Event',
      involvedObject: { kind: 'Pod', namespace: 'ns1', name: 'web-0', uid: 'uid-1', apiVersion: 'v1' },
      reason: 'AllocIPFailed',
      message: 'pool exhausted',
      type: 'Warning',
      source: { component: 'terway-hub', host: 'node-1' },
      count: 1,
    });
    expect(field(ev, 'metadata.name')).toMatch(/^web-0\./);
    expect(new Date(String(field(ev, 'firstTimestamp'))).getTime()).toBe(clock.getTime());
    expect(field(ev, 'lastTimestamp')).toBe(field(ev, 'firstTimestamp'));
  });

  test('node event goes to "default"', async () => {
    await kube.createEvent({ target: { kind: 'Node', namespace: '', name: 'node-1', uid: 'n-uid' }, type: 'Normal', reason: 'Ready', message: 'up' });
    const [ev] = emu.list('Event', 'default');
    expect(field(ev, 'involvedObject')).toEqual({ apiVersion: 'v1', kind: 'Node', name: 'node-1', uid: 'n-uid' });
  });

  test('rapid repeats bump count with a merge patch; a different message creates a new event', async () => {
    const ev = { target: podTarget, type: 'Warning', reason: 'AllocIPFailed', message: 'pool exhausted' } as const;
    await kube.createEvent(ev);
    clock = new Date('2025-03-01T10:00:05.000Z');
    await kube.createEvent(ev);
    await kube.createEvent(ev);
    expect(emu.list('Event', 'ns1')).toHaveLength(1);
    const [stored] = emu.list('Event', 'ns1');
    expect(stored).toMatchObject({ count: 3, lastTimestamp: '2025-03-01T10:00:05Z' });
    // the two repeats are PATCHes (not new events); `every` alone would pass on zero PATCHes
    expect(emu.requests.filter((r) => r.method === 'PATCH').map((r) => r.contentType)).toEqual(['application/merge-patch+json', 'application/merge-patch+json']);
    await kube.createEvent({ ...ev, message: 'other' });
    expect(emu.list('Event', 'ns1')).toHaveLength(2);
  });

  test('a bumped event that vanished is created again', async () => {
    const ev = { target: podTarget, type: 'Normal', reason: 'R', message: 'm' } as const;
    await kube.createEvent(ev);
    const name = String(field(emu.list('Event', 'ns1')[0], 'metadata.name'));
    emu.delete('Event', 'ns1', name);
    await kube.createEvent(ev);
    expect(emu.list('Event', 'ns1')).toHaveLength(1);
    expect(emu.list('Event', 'ns1')[0]).toMatchObject({ count: 1 });
  });
});

describe('ensureClusterObject', () => {
  const info = (spec: Record<string, unknown>) => ({ apiVersion: 'crd.projectcalico.org/v1', kind: 'ClusterInformation', metadata: { name: 'default' }, spec });

  test('creates, leaves an equal spec alone, replaces a different spec keeping labels', async () => {
    expect(await kube.ensureClusterObject(info({ datastoreReady: true }))).toBe('created');
    expect(emu.requests.at(-1)).toMatchObject({ method: 'POST', path: '/apis/crd.projectcalico.org/v1/clusterinformations' });
    expect(field(emu.get('ClusterInformation', '', 'default'), 'spec')).toEqual({ datastoreReady: true });
    expect(await kube.ensureClusterObject(info({ datastoreReady: true }))).toBe('unchanged');
    emu.put('ClusterInformation', { ...info({ datastoreReady: false, clusterType: 'x' }), metadata: { name: 'default', labels: { owner: 'admin' } } });
    expect(await kube.ensureClusterObject(info({ datastoreReady: true }))).toBe('updated');
    expect(emu.requests.at(-1)).toMatchObject({ method: 'PUT', path: '/apis/crd.projectcalico.org/v1/clusterinformations/default' });
    expect(field(emu.get('ClusterInformation', '', 'default'), 'spec')).toEqual({ datastoreReady: true });
    expect(field(emu.get('ClusterInformation', '', 'default'), 'metadata.labels')).toEqual({ owner: 'admin' });
  });

  test('API failures become typed errors', async () => {
    emu.failNext({ path: '/apis/crd.projectcalico.org/v1/clusterinformations/default', status: 403 });
    await expect(kube.ensureClusterObject(info({ datastoreReady: true }))).rejects.toMatchObject({ code: expect.any(String) });
  });
});
