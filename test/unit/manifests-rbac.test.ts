/**
 * The RBAC grants equal the API calls the code makes, both ways. The calls are derived from the source: every
 * `core.*` / `custom.*` call in src/k8s/client.ts (the only importer of @kubernetes/client-node), its method name
 * read the way client-node names them (list|read|patch|create|replace + Namespaced? + Kind + Status?), a `list`
 * being an informer's (which also watches the same path), a custom-objects call naming its group and plural; the
 * generic ensureClusterObject (get, create, replace) is used only for the objects a policy backend's kubeObjects
 * names (src/policy/*\/backend.ts), so those grants belong to that backend's component.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFESTS, REPO, build, componentDir, type K8sObject } from '../helpers/manifests.js';

type Grant = string; // "group/resource:verb"
type Rule = { apiGroups?: string[]; resources?: string[]; verbs: string[] };

const VERB: Record<string, string> = { list: 'list', read: 'get', patch: 'patch', create: 'create', replace: 'update', delete: 'delete' };
const CLIENT = readFileSync(join(REPO, 'src', 'k8s', 'client.ts'), 'utf8');

/** The grants one client-node call needs. */
function grantsOfCall(api: string, method: string, line: string): Grant[] {
  if (api === 'custom') {
    const m = /^(list|get|create|replace)ClusterCustomObject$/u.exec(method);
    if (m === null) throw new Error(`unexpected custom-objects call ${method}`);
    const group = /group: '([^']+)'/u.exec(line)?.[1];
    const plural = /plural: '([^']+)'/u.exec(line)?.[1];
    if (group === undefined || plural === undefined) return []; // the generic ensureClusterObject: see backendObjects
    const verb = m[1] === 'get' ? 'get' : (VERB[m[1] ?? ''] ?? '');
    return verb === 'list' ? [`${group}/${plural}:list`, `${group}/${plural}:watch`] : [`${group}/${plural}:${verb}`];
  }
  const m = /^(list|read|patch|create|replace|delete)(?:Namespaced)?([A-Z][A-Za-z]*?)(Status)?(?:ForAllNamespaces)?$/u.exec(method);
  if (m === null) throw new Error(`client.ts calls core.${method}, which this test cannot map to a verb`);
  const resource = `${(m[2] ?? '').toLowerCase()}s${m[3] !== undefined ? '/status' : ''}`;
  const verb = VERB[m[1] ?? ''] ?? '';
  if (verb === 'list') {
    // every list in client.ts is an informer source's: it feeds listResult and the informer watches the same path
    if (!/listResult\(/u.test(line)) throw new Error(`core.${method} is a list outside an informer source: decide whether it watches`);
    return [`/${resource}:list`, `/${resource}:watch`];
  }
  return [`/${resource}:${verb}`];
}

/** Every grant client.ts needs, except the generic ensureClusterObject's. */
function usedByClient(): Set<Grant> {
  const out = new Set<Grant>();
  for (const line of CLIENT.split('\n')) for (const m of line.matchAll(/\b(core|custom)\.(\w+)\(/gu)) for (const g of grantsOfCall(m[1] ?? '', m[2] ?? '', line)) out.add(g);
  return out;
}

/** The objects a backend ensures through ensureClusterObject (get, then create or replace): from its render code. */
function backendObjects(backend: string): Set<Grant> {
  const dir = join(REPO, 'src', 'policy', backend);
  const text = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
  const group = /CRD_GROUP = '([^/']+)\/v1'/u.exec(text)?.[1];
  const kinds = [...text.matchAll(/apiVersion: [A-Z_]+, kind: '(\w+)'/gu)].map((m) => m[1] ?? '');
  const out = new Set<Grant>();
  for (const kind of kinds) for (const verb of ['get', 'create', 'update']) out.add(`${group ?? '?'}/${kind.toLowerCase()}s:${verb}`);
  return out;
}

function granted(objects: readonly K8sObject[], kinds: readonly string[], names: readonly string[]): Set<Grant> {
  const out = new Set<Grant>();
  for (const o of objects.filter((x) => kinds.includes(x.kind) && names.includes(x.metadata.name))) {
    for (const r of (o as unknown as { rules: Rule[] }).rules) {
      for (const g of r.apiGroups ?? []) for (const res of r.resources ?? []) for (const v of r.verbs) out.add(`${g}/${res}:${v}`);
    }
  }
  return out;
}

const minus = (a: Set<Grant>, b: Set<Grant>): Grant[] => [...a].filter((x) => !b.has(x)).sort();
const base = build(join(MANIFESTS, 'base'));
const baseGrants = (objs: readonly K8sObject[] = base): Set<Grant> => granted(objs, ['ClusterRole', 'Role'], ['terway-hub', 'terway-hub-config']);

describe('RBAC: the ClusterRole and Role grant exactly what the code calls', () => {
  const used = usedByClient();

  it('derives a plausible call set from client.ts (the derivation itself works)', () => {
    expect(used.size).toBeGreaterThanOrEqual(10);
    expect(used).toContain('/pods:watch');
    expect(used).toContain('/nodes/status:patch');
    expect(used).toContain('networking.k8s.io/networkpolicies:list');
  });
  it('grants every verb the code uses, and none it does not', () => {
    expect({ missing: minus(used, baseGrants()), unused: minus(baseGrants(), used) }).toEqual({ missing: [], unused: [] });
  });
  it('the comparison catches a dropped and an extra grant', () => {
    const objs = structuredClone(base);
    const role = objs.find((o) => o.kind === 'ClusterRole') as unknown as { rules: Rule[] };
    role.rules = role.rules.map((r) => ({ ...r, verbs: r.verbs.filter((v) => v !== 'watch') }));
    role.rules.push({ apiGroups: [''], resources: ['nodes/status'], verbs: ['get'] });
    expect(minus(used, baseGrants(objs))).toContain('/pods:watch');
    expect(minus(baseGrants(objs), used)).toEqual(['/nodes/status:get']);
  });
  it('every README RBAC table row is a grant, and every grant has a row', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### RBAC'), readme.indexOf('\n## ', readme.indexOf('### RBAC')));
    const rows = new Set<Grant>();
    for (const m of section.matchAll(/^\| `([^`]*)` \| `([^`]+)` \| ([a-z, ]+) \|/gmu)) for (const v of (m[3] ?? '').split(', ')) rows.add(`${m[1] === 'core' ? '' : (m[1] ?? '')}/${m[2] ?? ''}:${v}`);
    expect({ missing: minus(baseGrants(), rows), extra: minus(rows, baseGrants()) }).toEqual({ missing: [], extra: [] });
  });
});

describe('RBAC: the policy components', () => {
  it('felix: grants the get/create/update the daemon makes for the objects Felix needs (ClusterInformation, FelixConfiguration)', () => {
    const needed = backendObjects('felix');
    expect(needed).toContain('crd.projectcalico.org/clusterinformations:create');
    const objs = build(join(MANIFESTS, 'base'), [componentDir('felix')]);
    expect(minus(needed, granted(objs, ['ClusterRole'], ['terway-hub-felix']))).toEqual([]);
    // the daemon's own role stays without them: only the component grants them
    expect(minus(needed, baseGrants(objs))).toEqual([...needed].sort());
  });
  it('cilium: the daemon itself ensures no objects for it (the agent uses the component\'s grants)', () => {
    expect(backendObjects('cilium').size).toBe(0);
    expect(granted(build(join(MANIFESTS, 'base'), [componentDir('cilium')]), ['ClusterRole'], ['terway-hub-cilium']).size).toBeGreaterThan(0);
  });
});
