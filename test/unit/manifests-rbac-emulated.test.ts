/**
 * The RBAC grants against the HTTP requests the real client (src/k8s/client.ts over @kubernetes/client-node) sends:
 * every method of the KubeClient is driven against the Kubernetes API emulator, each recorded request is mapped to
 * the (group, resource, verb) kube-apiserver authorizes it as, and the set must equal the base ClusterRole + Role
 * grants (the Calico objects ensureClusterObject writes: the Felix component's). A KubeClient method this suite does
 * not drive fails it, so a new API call cannot slip past the RBAC check.
 */
import { join } from 'node:path';
import { startKubeEmulator, emulatedKubeApi, node, pod, type KubeEmulator, type RequestRecord } from '../k8s-emulator/index.js';
import type { KubeClient } from '../../src/k8s/client.js';
import { MANIFESTS, build, componentDir, type K8sObject } from '../helpers/manifests.js';

type Rule = { apiGroups?: string[]; resources?: string[]; verbs: string[] };

/** How kube-apiserver names a request for authorization: `group/resource[/subresource]:verb`. */
function grantOf(r: RequestRecord): string {
  const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/(.*)$/u.exec(r.path);
  if (m === null) throw new Error(`unexpected path ${r.path}`);
  let parts = (m[2] ?? '').split('/');
  const watchPath = parts[0] === 'watch';
  if (watchPath) parts = parts.slice(1);
  if (parts[0] === 'namespaces' && parts.length >= 3) parts = parts.slice(2);
  const [resource = '', name, sub] = parts;
  const res = `${m[1] ?? ''}/${resource}${sub !== undefined ? `/${sub}` : ''}`;
  const watch = watchPath || r.query.watch === 'true' || r.query.watch === '1';
  const verb = r.method === 'GET' ? (watch ? 'watch' : name !== undefined ? 'get' : 'list') : ({ POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[r.method];
  return `${res}:${verb ?? r.method}`;
}

function granted(objects: readonly K8sObject[], names: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const o of objects.filter((x) => (x.kind === 'ClusterRole' || x.kind === 'Role') && names.includes(x.metadata.name))) {
    for (const r of (o as unknown as { rules: Rule[] }).rules) for (const g of r.apiGroups ?? []) for (const res of r.resources ?? []) for (const v of r.verbs) out.add(`${g}/${res}:${v}`);
  }
  return out;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

describe('RBAC against the requests the real client sends (Kubernetes API emulator)', () => {
  let emu: KubeEmulator;
  let api: KubeClient;
  const driven = new Set<string>();
  beforeAll(async () => {
    emu = await startKubeEmulator();
    api = emulatedKubeApi(emu, { eventHost: 'n1' });
    emu.put('Node', node('n1', { podCIDR: '10.244.1.0/24' }));
    emu.put('Pod', pod('p1', 'n1'));
  });
  afterAll(async () => { await emu.close(); });

  it('drives every KubeClient method; the requests need exactly the base grants (+ Felix\'s for the Calico objects)', async () => {
    const informers = {
      podInformer: () => api.podInformer('n1'),
      clusterPodInformer: () => api.clusterPodInformer(),
      nodeInformer: () => api.nodeInformer('n1'),
      configMapInformer: () => api.configMapInformer('kube-system'),
      networkPolicyInformer: () => api.networkPolicyInformer(),
      namespaceInformer: () => api.namespaceInformer(),
      podInformerFor: () => api.podInformerFor('default', { labelSelector: 'a=b' }),
      configMapInformerFor: () => api.configMapInformerFor('kube-system', { fieldSelector: 'metadata.name=eni-config' }),
    };
    for (const [name, make] of Object.entries(informers)) {
      const inf = make();
      const before = emu.requests.length;
      await inf.start();
      await until(() => emu.requests.slice(before).some((r) => grantOf(r).endsWith(':watch')), `${name}'s watch`);
      inf.stop();
      driven.add(name);
    }
    await api.getPod('default', 'p1');
    await api.patchPodAnnotations('default', 'p1', { 'k8s.aliyun.com/pod-ips': '10.244.1.2' });
    await api.patchNodeAnnotations('n1', { 'terway-hub/x': 'y' });
    await api.setNodeCondition('n1', { type: 'TerwayHubReady', status: 'True', reason: 'Serving', message: 'ok' });
    await api.createEvent({ target: { kind: 'Pod', namespace: 'default', name: 'p1', uid: 'u1' }, type: 'Normal', reason: 'R', message: 'm' });
    await api.createEvent({ target: { kind: 'Pod', namespace: 'default', name: 'p1', uid: 'u1' }, type: 'Normal', reason: 'R', message: 'm' }); // the dedupe patch
    const info = { apiVersion: 'crd.projectcalico.org/v1', kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { datastoreReady: true } };
    await api.ensureClusterObject(info);
    await api.ensureClusterObject({ ...info, spec: { datastoreReady: false } });
    for (const m of ['getPod', 'patchPodAnnotations', 'patchNodeAnnotations', 'setNodeCondition', 'createEvent', 'ensureClusterObject']) driven.add(m);

    expect(Object.keys(api).filter((k) => !driven.has(k)).sort()).toEqual([]);
    // configmaps are granted by a Role in kube-system only: every such request must stay in that namespace
    const cms = emu.requests.filter((r) => grantOf(r).startsWith('/configmaps:'));
    expect(cms.length).toBeGreaterThan(0);
    expect(cms.filter((r) => !r.path.startsWith('/api/v1/namespaces/kube-system/')).map((r) => r.path)).toEqual([]);
    const used = new Set(emu.requests.map(grantOf));
    const base = build(join(MANIFESTS, 'base'));
    const baseGrants = granted(base, ['terway-hub', 'terway-hub-config']);
    const calico = [...used].filter((g) => g.startsWith('crd.projectcalico.org/'));
    const felix = granted(build(join(MANIFESTS, 'base'), [componentDir('felix')]), ['terway-hub-felix']);
    expect(calico.filter((g) => !felix.has(g))).toEqual([]);
    const own = new Set([...used].filter((g) => !g.startsWith('crd.projectcalico.org/')));
    expect({ missing: [...own].filter((g) => !baseGrants.has(g)).sort(), unused: [...baseGrants].filter((g) => !own.has(g)).sort() }).toEqual({ missing: [], unused: [] });
  });
});
