import { describe, expect, test } from '@jest/globals';
import { httpStatusOf, toHubError } from '../../../src/k8s/api-error.js';
import { conditionPatch, nextCondition } from '../../../src/k8s/conditions.js';
import { EventDeduper, buildEvent, eventNamespace } from '../../../src/k8s/events.js';
import { resolveKubeconfigSource } from '../../../src/k8s/kubeconfig-source.js';
import { resourceVersionOf, statusCode, timestamp, toConfigMapInfo, toNodeInfo, toPodInfo, toRawObjectInfo } from '../../../src/k8s/map.js';

describe('toPodInfo', () => {
  const raw = {
    metadata: {
      name: 'web-0',
      namespace: 'prod',
      uid: 'u1',
      resourceVersion: '42',
      labels: { app: 'web', bad: 7 },
      annotations: { 'k8s.aliyun.com/pod-eni': 'true' },
      ownerReferences: [{ kind: 'StatefulSet', name: 'web', controller: true, uid: 'x' }, { kind: 'Bad' }],
      deletionTimestamp: '2025-01-01T00:00:00Z',
    },
    spec: { nodeName: 'node-1', hostNetwork: true },
    status: { phase: 'Running' },
  };

  test('maps every field; drops malformed labels/owners', () => {
    expect(toPodInfo(raw)).toEqual({
      namespace: 'prod',
      name: 'web-0',
      uid: 'u1',
      nodeName: 'node-1',
      hostNetwork: true,
      annotations: { 'k8s.aliyun.com/pod-eni': 'true' },
      labels: { app: 'web' },
      owners: [{ kind: 'StatefulSet', name: 'web', controller: true }],
      deletionTimestamp: '2025-01-01T00:00:00Z',
      phase: 'Running',
      resourceVersion: '42',
    });
  });

  test('podIPs and container ports are kept as sent (the NetworkPolicy model validates them)', () => {
    const p = toPodInfo({
      metadata: { name: 'p' },
      spec: { containers: [{ ports: [{ name: 'http', containerPort: 80 }, 'junk'] }, { ports: [{ containerPort: 53, protocol: 'UDP' }] }] },
      status: { podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }, { ip: 'fd00::5' }, { nope: 1 }] },
    });
    expect(p?.podIps).toEqual(['10.0.0.5', 'fd00::5']);
    expect(p?.containerPorts).toEqual([
      { name: 'http', containerPort: 80, protocol: undefined },
      { name: undefined, containerPort: 53, protocol: 'UDP' },
    ]);
  });

  test('client-node typed models carry Date timestamps', () => {
    const typed = { ...raw, metadata: { ...raw.metadata, deletionTimestamp: new Date('2025-01-01T00:00:00.123Z') } };
    expect(toPodInfo(typed)?.deletionTimestamp).toBe('2025-01-01T00:00:00Z');
  });

  test('optional fields are absent (not undefined) and defaults apply', () => {
    const p = toPodInfo({ metadata: { name: 'p' } });
    expect(p).toEqual({ namespace: '', name: 'p', uid: '', nodeName: '', hostNetwork: false, annotations: {}, labels: {}, owners: [], resourceVersion: '' });
    expect(p !== undefined && 'phase' in p).toBe(false);
  });

  test.each([null, 3, 'x', {}, { metadata: {} }, { metadata: { name: '' } }, { metadata: { name: 5 } }])('rejects %p', (v) => {
    expect(toPodInfo(v)).toBeUndefined();
  });
});

describe('toNodeInfo / toConfigMapInfo / helpers', () => {
  test('node', () => {
    expect(toNodeInfo({ metadata: { name: 'n', uid: 'u', resourceVersion: '1', labels: { a: 'b' } }, spec: { podCIDR: '10.0.0.0/24' } })).toEqual({
      name: 'n',
      uid: 'u',
      labels: { a: 'b' },
      annotations: {},
      podCIDR: '10.0.0.0/24',
      resourceVersion: '1',
    });
    expect(toNodeInfo({ metadata: { name: 'n' }, spec: { podCIDR: '' } })).not.toHaveProperty('podCIDR');
    // status.capacity.pods: the node's max pods (auto warm ENIs cover it); not a plain integer → unknown
    expect(toNodeInfo({ metadata: { name: 'n' }, status: { capacity: { pods: '110', cpu: '4' } } })?.maxPods).toBe(110);
    expect(toNodeInfo({ metadata: { name: 'n' }, status: { capacity: { pods: '1k' } } })).not.toHaveProperty('maxPods');
    expect(toNodeInfo({})).toBeUndefined();
  });

  test('configmap drops non-string data', () => {
    expect(toConfigMapInfo({ metadata: { name: 'c', namespace: 'kube-system', resourceVersion: '3' }, data: { a: '1', b: 2 } })).toEqual({
      namespace: 'kube-system',
      name: 'c',
      data: { a: '1' },
      resourceVersion: '3',
    });
  });

  test('node addresses (status.addresses with type and address)', () => {
    const n = toNodeInfo({ metadata: { name: 'n' }, status: { addresses: [{ type: 'InternalIP', address: '192.168.0.5' }, { type: 'Hostname', address: 'n' }, { type: 'X' }] } });
    expect(n?.addresses).toEqual([{ type: 'InternalIP', address: '192.168.0.5' }, { type: 'Hostname', address: 'n' }]);
  });

  test('raw objects keep the object and extract identity; no name → undefined', () => {
    const obj = { metadata: { name: 'np', namespace: 'x', uid: 'u', resourceVersion: '7' }, spec: { podSelector: {} } };
    expect(toRawObjectInfo(obj)).toEqual({ namespace: 'x', name: 'np', uid: 'u', resourceVersion: '7', object: obj });
    expect(toRawObjectInfo({ metadata: {} })).toBeUndefined();
  });

  test('status code, resourceVersion, timestamp', () => {
    expect(statusCode({ kind: 'Status', code: 410 })).toBe(410);
    expect(statusCode({ code: '410' })).toBeUndefined();
    expect(resourceVersionOf({ metadata: { resourceVersion: '9' } })).toBe('9');
    expect(timestamp(new Date('invalid'))).toBeUndefined();
    expect(timestamp('2025-01-01T00:00:00Z')).toBe('2025-01-01T00:00:00Z');
  });
});

describe('nextCondition', () => {
  const now = new Date('2025-02-02T02:02:02.500Z');
  const cond = { type: 'TerwayHubReady', status: 'True', reason: 'Ok', message: 'fine' } as const;

  test('new condition: transition = heartbeat = now', () => {
    expect(nextCondition(undefined, cond, now)).toEqual({ ...cond, lastHeartbeatTime: '2025-02-02T02:02:02Z', lastTransitionTime: '2025-02-02T02:02:02Z' });
  });

  test('same status keeps lastTransitionTime (string or Date); changed status moves it', () => {
    const prevStr = [{ type: 'TerwayHubReady', status: 'True', lastTransitionTime: '2020-01-01T00:00:00Z' }];
    expect(nextCondition(prevStr, cond, now).lastTransitionTime).toBe('2020-01-01T00:00:00Z');
    const prevDate = [{ type: 'TerwayHubReady', status: 'True', lastTransitionTime: new Date('2020-01-01T00:00:00Z') }];
    expect(nextCondition(prevDate, cond, now).lastTransitionTime).toBe('2020-01-01T00:00:00Z');
    const prevFalse = [{ type: 'TerwayHubReady', status: 'False', lastTransitionTime: '2020-01-01T00:00:00Z' }];
    expect(nextCondition(prevFalse, cond, now).lastTransitionTime).toBe('2025-02-02T02:02:02Z');
  });

  test('patch body carries only this condition', () => {
    const rec = nextCondition([], cond, now);
    expect(conditionPatch(rec)).toEqual({ status: { conditions: [rec] } });
  });
});

describe('events', () => {
  const now = new Date('2025-01-01T00:00:00Z');
  test('buildEvent for a pod and for a node', () => {
    const pod = buildEvent({ target: { kind: 'Pod', namespace: 'ns', name: 'p', uid: 'u' }, type: 'Warning', reason: 'R', message: 'M' }, now, 'node-1');
    expect(pod).toMatchObject({
      metadata: { namespace: 'ns' },
      involvedObject: { kind: 'Pod', namespace: 'ns', name: 'p', uid: 'u' },
      source: { component: 'terway-hub', host: 'node-1' },
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
    });
    const nodeEv = { target: { kind: 'Node', namespace: '', name: 'n', uid: 'u' }, type: 'Normal', reason: 'R', message: 'M' } as const;
    expect(eventNamespace(nodeEv)).toBe('default');
    expect(buildEvent(nodeEv, now, undefined).involvedObject).not.toHaveProperty('namespace');
    expect(buildEvent(nodeEv, now, undefined).source).toEqual({ component: 'terway-hub' });
  });

  test('deduper: window and LRU capacity', () => {
    const d = new EventDeduper(1000, 2);
    d.remember('a', { namespace: 'n', name: 'a', count: 1, at: 0 });
    expect(d.recent('a', 500)?.name).toBe('a');
    expect(d.recent('a', 1500)).toBeUndefined();
    d.remember('x', { namespace: 'n', name: 'x', count: 1, at: 0 });
    d.remember('y', { namespace: 'n', name: 'y', count: 1, at: 0 });
    d.remember('z', { namespace: 'n', name: 'z', count: 1, at: 0 });
    expect(d.recent('x', 1)).toBeUndefined();
    expect(d.recent('z', 1)?.name).toBe('z');
  });
});

describe('resolveKubeconfigSource', () => {
  const inCluster = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
  test('explicit path > KUBECONFIG > in-cluster > default file', () => {
    expect(resolveKubeconfigSource({ explicitPath: '/x', env: { KUBECONFIG: '/y', ...inCluster }, tokenFileExists: true })).toEqual({ kind: 'file', path: '/x' });
    expect(resolveKubeconfigSource({ explicitPath: undefined, env: { KUBECONFIG: '/y', ...inCluster }, tokenFileExists: true })).toEqual({ kind: 'env', value: '/y' });
    expect(resolveKubeconfigSource({ explicitPath: '', env: inCluster, tokenFileExists: true })).toEqual({ kind: 'in-cluster' });
    expect(resolveKubeconfigSource({ explicitPath: undefined, env: inCluster, tokenFileExists: false })).toEqual({ kind: 'default-file' });
    expect(resolveKubeconfigSource({ explicitPath: undefined, env: {}, tokenFileExists: true })).toEqual({ kind: 'default-file' });
  });
});

describe('toHubError', () => {
  const apiErr = (code: number): Error => Object.assign(new Error(`HTTP-Code: ${String(code)}\nMessage: x`), { code, body: JSON.stringify({ kind: 'Status', message: 'boom' }) });
  test.each([
    [404, 'not-found'],
    [409, 'conflict'],
    [403, 'config'],
    [422, 'invalid-input'],
    [500, 'unavailable'],
    [429, 'unavailable'],
    [418, 'internal'],
  ])('HTTP %d → %s', (code, expected) => {
    expect(toHubError(apiErr(code), 'op').code).toBe(expected);
  });
  test('network errors are retryable and keep the Status message', () => {
    const e = toHubError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'list pods');
    expect(e).toMatchObject({ code: 'unavailable', retryable: true, message: 'list pods: connect ECONNREFUSED' });
    expect(toHubError(apiErr(404), 'get pod').message).toBe('get pod: HTTP 404: boom');
    expect(httpStatusOf({ statusCode: 410 })).toBe(410);
    expect(httpStatusOf('x')).toBeUndefined();
  });
});
