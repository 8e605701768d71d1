import { afterEach, beforeEach, expect, test } from '@jest/globals';
import type { KubeClient } from '../../../src/k8s/client.js';
import type { KubeEmulator } from '../../k8s-emulator/index.js';
import { emulatedKubeApi, pod, startKubeEmulator } from '../../k8s-emulator/index.js';
import { eventually } from '../../helpers/wait.js';
import { parseFieldSelector, parseLabelSelector } from '../../k8s-emulator/selectors.js';

let emu: KubeEmulator;
let kube: KubeClient;
const stops: Array<() => void> = [];

beforeEach(async () => {
  emu = await startKubeEmulator();
  kube = emulatedKubeApi(emu);
  emu.put('Pod', pod('web-a', 'n1', { labels: { app: 'web', tier: 'front' } }));
  emu.put('Pod', pod('web-b', 'n2', { labels: { app: 'web' }, namespace: 'other' }));
  emu.put('Pod', pod('db', 'n1', { labels: { app: 'db', tier: 'back' } }));
  emu.put('Pod', pod('bare', 'n1'));
});

afterEach(async () => {
  for (const s of stops.splice(0)) s();
  await emu.close();
});

async function namesFor(namespace: string | undefined, selectors: { labelSelector?: string; fieldSelector?: string }): Promise<string[]> {
  const inf = kube.podInformerFor(namespace, selectors);
  stops.push(() => { inf.stop(); });
  await inf.start();
  return inf.list().map((p) => p.name).sort();
}

test.each([
  ['app=web', ['web-a', 'web-b']],
  ['app==web', ['web-a', 'web-b']],
  ['app!=web', ['bare', 'db']],
  ['tier', ['db', 'web-a']],
  ['!tier', ['bare', 'web-b']],
  ['app in (web,db)', ['db', 'web-a', 'web-b']],
  ['app notin (web)', ['bare', 'db']],
  ['app=web,tier=front', ['web-a']],
  ['tier in (front, back),app!=db', ['web-a']],
])('label selector %s (list and watch)', async (labelSelector, expected) => {
  expect(await namesFor(undefined, { labelSelector })).toEqual(expected);
});

test.each([
  ['metadata.name=db', ['db']],
  ['metadata.namespace=other', ['web-b']],
  ['spec.nodeName=n1,metadata.name!=bare', ['db', 'web-a']],
])('field selector %s', async (fieldSelector, expected) => {
  expect(await namesFor(undefined, { fieldSelector })).toEqual(expected);
});

test('selectors apply to watch events too (entering/leaving the selection)', async () => {
  const inf = kube.podInformerFor('default', { labelSelector: 'app=web' });
  stops.push(() => { inf.stop(); });
  const events: string[] = [];
  inf.on((e) => events.push(`${e.type}:${e.object.name}`));
  await inf.start();
  emu.put('Pod', pod('db', 'n1', { labels: { app: 'web' } }));
  emu.put('Pod', pod('web-a', 'n1', { labels: { app: 'cache' } }));
  emu.put('Pod', pod('ignored', 'n1', { labels: { app: 'web' }, namespace: 'other' }));
  await eventually(() => { expect(events).toEqual(['add:web-a', 'add:db', 'delete:web-a']); });
  expect(emu.requests.filter((r) => r.query['watch'] === 'true')[0]).toMatchObject({ path: '/api/v1/namespaces/default/pods', query: { labelSelector: 'app=web' } });
});

test('invalid selectors are rejected', () => {
  expect(() => parseLabelSelector('a in b')).toThrow();
  expect(() => parseFieldSelector('nonsense')).toThrow();
});
