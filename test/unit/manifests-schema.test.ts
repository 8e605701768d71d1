/**
 * Every object the manifests can produce (the install set, with each policy component, and the examples) is valid
 * against the Kubernetes OpenAPI schemas of a pinned release, twice over: `kubernetes-models` 5.1.0 (its ajv
 * validators: types, required fields, formats) and the field names of `@kubernetes/client-node`'s generated models
 * (an unknown field, which `kubectl apply`'s strict validation refuses, fails here too). Broken copies are refused.
 */
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { COMPONENTS, MANIFESTS, build, componentDir, exampleFiles, find, readObjects, type K8sObject } from '../helpers/manifests.js';

type Attr = { name: string; baseName: string; type: string };
type ModelClass = { getAttributeTypeMap(): Attr[] };
type Validatable = { validate(): void };

const models = k8s as unknown as Record<string, ModelClass | undefined>;

/** The kubernetes-models class of an object: `kubernetes-models/<group>/<version>/<Kind>` (core: `v1/<Kind>`). */
async function modelOf(o: K8sObject): Promise<new (data: unknown) => Validatable> {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const path = group === '' ? `kubernetes-models/${version ?? ''}/${o.kind}` : `kubernetes-models/${group ?? ''}/${version ?? ''}/${o.kind}`;
  const mod = (await import(path)) as Record<string, new (data: unknown) => Validatable>;
  const cls = mod[o.kind];
  if (cls === undefined) throw new Error(`${path} has no ${o.kind}`);
  return cls;
}

/** client-node's model class name for an apiVersion/kind: V1DaemonSet, V1ValidatingAdmissionPolicy, … */
const clientModelName = (o: K8sObject): string => {
  const version = o.apiVersion.split('/').at(-1) ?? '';
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${o.kind}`;
};

/** Paths of fields the client-node model of `type` does not know (recursively); leaf types end the walk. */
function unknownFields(value: unknown, type: string, path: string): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/u.exec(type);
  if (array !== null) return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, array[1] ?? '', `${path}[${String(i)}]`)) : [];
  const map = /^\{ \[key: string\]: (.+); \}$/u.exec(type);
  if (map !== null) return typeof value === 'object' ? Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => unknownFields(v, map[1] ?? '', `${path}.${k}`)) : [];
  const model = models[type];
  if (model === undefined || typeof model.getAttributeTypeMap !== 'function' || typeof value !== 'object') return [];
  const attrs = model.getAttributeTypeMap();
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => {
    const attr = attrs.find((a) => a.baseName === k);
    return attr === undefined ? [`${path}.${k}`] : unknownFields(v, attr.type, `${path}.${k}`);
  });
}

/** Every problem with one object: kubernetes-models' validation error, or the unknown fields. */
async function problems(o: K8sObject): Promise<string[]> {
  const out: string[] = [];
  try {
    new (await modelOf(o))(o).validate();
  } catch (e) {
    out.push(e instanceof Error ? e.message : String(e));
  }
  const name = clientModelName(o);
  if (models[name] === undefined) out.push(`@kubernetes/client-node has no model ${name}`);
  else out.push(...unknownFields(o, name, o.kind).map((p) => `unknown field ${p}`));
  return out;
}

const sets: [string, K8sObject[]][] = [
  ['base', build(join(MANIFESTS, 'base'))],
  ...COMPONENTS.map((c): [string, K8sObject[]] => [`base + ${c}`, build(join(MANIFESTS, 'base'), [componentDir(c)])]),
  ['examples', exampleFiles().flatMap(readObjects)],
];

describe('manifests against the Kubernetes OpenAPI schemas (kubernetes-models 5.1.0, @kubernetes/client-node models)', () => {
  it.each(sets)('%s: every object is schema-clean', async (_, objects) => {
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) expect({ object: `${o.kind}/${o.metadata.name}`, problems: await problems(o) }).toEqual({ object: `${o.kind}/${o.metadata.name}`, problems: [] });
  });

  describe('a broken object is refused', () => {
    const daemonSet = (): K8sObject => structuredClone(find(sets[0]?.[1] ?? [], 'DaemonSet', 'terway-hub'));
    const container = (o: K8sObject): Record<string, unknown> => (o as unknown as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } }).spec.template.spec.containers[0] ?? {};
    it('a missing required field (spec.selector)', async () => {
      const o = daemonSet();
      delete (o as unknown as { spec: { selector?: unknown } }).spec.selector;
      expect((await problems(o)).join('\n')).toMatch(/selector/u);
    });
    it('a wrong type (an image that is a number)', async () => {
      const o = daemonSet();
      container(o).image = 5;
      expect((await problems(o)).join('\n')).toMatch(/image must be string/u);
    });
    it('an unknown (misspelled) field', async () => {
      const o = daemonSet();
      container(o).volumeMount = container(o).volumeMounts;
      expect(await problems(o)).toEqual(['unknown field DaemonSet.spec.template.spec.containers[0].volumeMount']);
    });
    it('a misspelled field deep in an RBAC rule', async () => {
      const o = structuredClone(find(sets[0]?.[1] ?? [], 'ClusterRole', 'terway-hub'));
      (o as unknown as { rules: Record<string, unknown>[] }).rules[0] = { apiGroups: [''], resource: ['pods'], verbs: ['get'] };
      expect(await problems(o)).toEqual(['unknown field ClusterRole.rules[0].resource']);
    });
    it('an admission policy validation without its expression', async () => {
      const o = structuredClone(find(sets[0]?.[1] ?? [], 'ValidatingAdmissionPolicy', 'terway-hub-own-node'));
      (o as unknown as { spec: { validations: Record<string, unknown>[] } }).spec.validations[0] = { message: 'no expression' };
      expect((await problems(o)).join('\n')).toMatch(/expression/u);
    });
  });
});
