/** The emulator's wire protocol, exercised with plain fetch (what any client would see). */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import type { KubeEmulator } from '../../k8s-emulator/index.js';
import { node, pod, startKubeEmulator } from '../../k8s-emulator/index.js';
import { sleep } from '../../helpers/wait.js';

let emu: KubeEmulator;
beforeEach(async () => {
  emu = await startKubeEmulator();
});
afterEach(async () => {
  await emu.close();
});

async function call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(emu.url + path, {
    method,
    headers: { 'content-type': contentType },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Reads a watch stream until `count` events arrived (or the stream ended). */
async function watchEvents(path: string, count: number): Promise<Array<{ type: string; object: Record<string, unknown> }>> {
  const ctrl = new AbortController();
  const res = await fetch(emu.url + path, { signal: ctrl.signal });
  const reader = res.body?.getReader();
  const out: Array<{ type: string; object: Record<string, unknown> }> = [];
  let buf = '';
  const decoder = new TextDecoder();
  while (reader !== undefined && out.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value);
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      out.push(JSON.parse(buf.slice(0, nl)) as { type: string; object: Record<string, unknown> });
      buf = buf.slice(nl + 1);
    }
  }
  ctrl.abort();
  return out;
}

const rvOf = (o: Record<string, unknown>): string => String((o['metadata'] as Record<string, unknown>)['resourceVersion']);

describe('k8s emulator', () => {
  test('list has kind, list resourceVersion and filtered items; get and 404 Status', async () => {
    emu.put('Pod', pod('a', 'n1'));
    emu.put('Pod', pod('b', 'n2'));
    const list = await call('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn2');
    expect(list.json['kind']).toBe('PodList');
    expect(rvOf(list.json)).toBe('2');
    expect((list.json['items'] as unknown[]).length).toBe(1);
    expect((await call('GET', '/api/v1/namespaces/default/pods/a')).status).toBe(200);
    const missing = await call('GET', '/api/v1/namespaces/default/pods/zz');
    expect(missing).toMatchObject({ status: 404, json: { kind: 'Status', code: 404, reason: 'NotFound' } });
  });

  test('watch replays after resourceVersion, then streams live; legacy /watch/ path works', async () => {
    emu.put('Pod', pod('a', 'n1'));
    const rv = emu.resourceVersion();
    emu.put('Pod', pod('b', 'n1'));
    const pending = watchEvents(`/api/v1/watch/namespaces/default/pods?resourceVersion=${rv}`, 3);
    await sleep(50);
    emu.put('Pod', pod('b', 'n1', { labels: { x: 'y' } }));
    emu.delete('Pod', 'default', 'a');
    const events = await pending;
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(events.map((e) => rvOf(e.object))).toEqual(['2', '3', '4']);
  });

  test('watch without resourceVersion starts with synthetic ADDED; bookmarks on request', async () => {
    emu.put('Node', node('n1'));
    const pending = watchEvents('/api/v1/nodes?watch=true&allowWatchBookmarks=true', 2);
    await sleep(50);
    emu.bookmark();
    const events = await pending;
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK']);
    expect(rvOf(events[1]?.object ?? {})).toBe(emu.resourceVersion());
  });

  test('compacted resourceVersion: ERROR 410 event, or HTTP 410 in http mode', async () => {
    emu.put('Pod', pod('a', 'n1'));
    emu.put('Pod', pod('a', 'n2'));
    emu.compact();
    const [ev] = await watchEvents('/api/v1/pods?watch=true&resourceVersion=1', 1);
    expect(ev).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
    emu.goneMode = 'http';
    expect((await call('GET', '/api/v1/pods?watch=true&resourceVersion=1')).status).toBe(410);
    const ctrl = new AbortController();
    const live = await fetch(`${emu.url}/api/v1/pods?watch=true&resourceVersion=2`, { signal: ctrl.signal });
    expect(live.status).toBe(200);
    ctrl.abort();
  });

  test('POST assigns uid/resourceVersion/creationTimestamp, generateName; duplicate → 409', async () => {
    const created = await call('POST', '/api/v1/namespaces/ns/configmaps', { metadata: { generateName: 'cm-' }, data: { a: '1' } });
    expect(created.status).toBe(201);
    const md = created.json['metadata'] as Record<string, unknown>;
    expect(md).toMatchObject({ namespace: 'ns', resourceVersion: '1' });
    expect(String(md['name'])).toMatch(/^cm-\w{5}$/);
    expect(typeof md['uid']).toBe('string');
    expect(typeof md['creationTimestamp']).toBe('string');
    const dup = await call('POST', '/api/v1/namespaces/ns/configmaps', { metadata: { name: md['name'] } });
    expect(dup.status).toBe(409);
  });

  test('PUT with a stale resourceVersion → 409; current → 200', async () => {
    emu.put('ConfigMap', { metadata: { name: 'c', namespace: 'd' }, data: { v: '1' } });
    emu.put('ConfigMap', { metadata: { name: 'c', namespace: 'd' }, data: { v: '2' } });
    expect((await call('PUT', '/api/v1/namespaces/d/configmaps/c', { metadata: { name: 'c', resourceVersion: '1' }, data: {} })).status).toBe(409);
    const ok = await call('PUT', '/api/v1/namespaces/d/configmaps/c', { metadata: { name: 'c', resourceVersion: '2' }, data: { v: '3' } });
    expect(ok).toMatchObject({ status: 200, json: { data: { v: '3' } } });
  });

  test('patch flavours: merge (RFC 7396), strategic (conditions by type, $patch delete), json-patch; unknown type → 415', async () => {
    emu.put('Node', node('n1'));
    const merge = await call('PATCH', '/api/v1/nodes/n1', { metadata: { labels: { a: 'b' } }, spec: { podCIDR: '10.1.0.0/24' } }, 'application/merge-patch+json');
    expect(merge.json).toMatchObject({ metadata: { labels: { a: 'b' } }, spec: { podCIDR: '10.1.0.0/24' } });
    const sm = await call('PATCH', '/api/v1/nodes/n1/status', { status: { conditions: [{ type: 'X', status: 'True' }] } }, 'application/strategic-merge-patch+json');
    expect((sm.json['status'] as { conditions: Array<{ type: string }> }).conditions.map((c) => c.type)).toEqual(['Ready', 'X']);
    const del = await call('PATCH', '/api/v1/nodes/n1/status', { status: { conditions: [{ type: 'Ready', $patch: 'delete' }] } }, 'application/strategic-merge-patch+json');
    expect((del.json['status'] as { conditions: Array<{ type: string }> }).conditions.map((c) => c.type)).toEqual(['X']);
    // merge patch replaces lists wholesale
    const mp = await call('PATCH', '/api/v1/nodes/n1/status', { status: { conditions: [{ type: 'Y', status: 'False' }] } }, 'application/merge-patch+json');
    expect((mp.json['status'] as { conditions: Array<{ type: string }> }).conditions.map((c) => c.type)).toEqual(['Y']);
    const jp = await call('PATCH', '/api/v1/nodes/n1', [{ op: 'add', path: '/metadata/labels/k8s.io~1role', value: 'w' }], 'application/json-patch+json');
    expect(jp.json).toMatchObject({ metadata: { labels: { a: 'b', 'k8s.io/role': 'w' } } });
    expect((await call('PATCH', '/api/v1/nodes/n1', {}, 'application/json')).status).toBe(415);
  });

  test('status subresource: main resource writes keep status, status writes keep everything else', async () => {
    emu.put('Pod', pod('a', 'n1'));
    await call('PATCH', '/api/v1/namespaces/default/pods/a', { status: { phase: 'Failed' }, metadata: { labels: { x: '1' } } }, 'application/merge-patch+json');
    expect(emu.get('Pod', 'default', 'a')).toMatchObject({ status: { phase: 'Running' }, metadata: { labels: { x: '1' } } });
    await call('PATCH', '/api/v1/namespaces/default/pods/a/status', { status: { phase: 'Succeeded' }, metadata: { labels: { x: '2' } } }, 'application/merge-patch+json');
    expect(emu.get('Pod', 'default', 'a')).toMatchObject({ status: { phase: 'Succeeded' }, metadata: { labels: { x: '1' } } });
  });

  test('DELETE returns the object and bumps resourceVersion; request log records everything', async () => {
    emu.put('Pod', pod('a', 'n1'));
    const del = await call('DELETE', '/api/v1/namespaces/default/pods/a');
    expect(del.status).toBe(200);
    expect(rvOf(del.json)).toBe('2');
    expect(emu.get('Pod', 'default', 'a')).toBeUndefined();
    expect(emu.requests.at(-1)).toMatchObject({ method: 'DELETE', path: '/api/v1/namespaces/default/pods/a' });
  });

  test('kubeconfig points at the emulator', () => {
    expect(emu.kubeconfigFile()).toMatch(/kubeconfig$/);
    expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
