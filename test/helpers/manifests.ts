/**
 * The shipped manifests as a cluster admin gets them: a kustomization's `resources` (files, nested directories)
 * and its `patches` (strategic-merge files, or inline JSON6902 lists), resolved here without kustomize so the
 * tests run where kubectl is missing. Only what manifests/ uses is supported; anything else throws.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MANIFESTS = join(REPO, 'manifests');

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown };

export interface Kustomization {
  readonly dir: string;
  readonly kind: string;
  readonly resources: readonly string[];
  readonly components: readonly string[];
  readonly patches: readonly { readonly path?: string; readonly patch?: string; readonly target?: { readonly kind: string; readonly name: string } }[];
  readonly images: readonly { readonly name: string; readonly newName?: string; readonly newTag?: string }[];
  /** `labels` entries without includeSelectors/includeTemplates: added to every object's metadata.labels. */
  readonly labels: readonly { readonly pairs: Readonly<Record<string, string>> }[];
}

/** Every YAML document of a file, each one checked for parse errors. */
export function readObjects(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${relative(REPO, file)}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as K8sObject;
  });
}

export function readKustomization(dir: string): Kustomization {
  const [k] = readObjects(join(dir, 'kustomization.yaml')) as unknown as Partial<Kustomization>[];
  if (k === undefined) throw new Error(`${relative(REPO, dir)}: empty kustomization.yaml`);
  return { dir, kind: k.kind ?? 'Kustomization', resources: k.resources ?? [], components: k.components ?? [], patches: k.patches ?? [], images: k.images ?? [], labels: k.labels ?? [] };
}

/** Every file a kustomization names (resources and patch files), relative to its directory. */
export function referencedFiles(k: Kustomization): string[] {
  return [...k.resources, ...k.patches.flatMap((p) => (p.path !== undefined ? [p.path] : []))];
}

/** The YAML files of a kustomization's directory besides kustomization.yaml. */
export function yamlFilesIn(dir: string): string[] {
  return readdirSync(dir).filter((f) => /\.ya?ml$/u.test(f) && f !== 'kustomization.yaml' && statSync(join(dir, f)).isFile());
}

/**
 * kustomize build of `dir` (its resources, its components, its own patches, images and labels), then
 * `extraComponents` as an overlay with `resources: [dir]` and `components: extraComponents` would add them.
 */
export function build(dir: string, extraComponents: readonly string[] = []): K8sObject[] {
  const k = readKustomization(dir);
  const objects: K8sObject[] = [];
  for (const r of k.resources) {
    const p = join(dir, r);
    if (!existsSync(p)) throw new Error(`${relative(REPO, dir)}/kustomization.yaml: resource ${r} does not exist`);
    objects.push(...(statSync(p).isDirectory() ? build(p) : readObjects(p)));
  }
  for (const c of k.components) applyComponent(objects, join(dir, c));
  applyPatches(objects, k);
  applyImages(objects, k.images);
  for (const { pairs } of k.labels) for (const o of objects) o.metadata = { ...o.metadata, labels: { ...o.metadata.labels, ...pairs } };
  for (const c of extraComponents) applyComponent(objects, c);
  return objects;
}

function applyComponent(objects: K8sObject[], dir: string): void {
  const comp = readKustomization(dir);
  if (comp.kind !== 'Component') throw new Error(`${relative(REPO, dir)} is not a kustomize Component`);
  for (const r of comp.resources) objects.push(...readObjects(join(dir, r)));
  applyPatches(objects, comp);
  applyImages(objects, comp.images);
}

function applyPatches(objects: K8sObject[], k: Kustomization): void {
  for (const p of k.patches) {
    if (p.path !== undefined) {
      for (const patch of readObjects(join(k.dir, p.path))) {
        const i = objects.findIndex((o) => o.kind === patch.kind && o.metadata.name === patch.metadata.name);
        if (i < 0) throw new Error(`${relative(REPO, k.dir)}: patch ${p.path} targets ${patch.kind}/${patch.metadata.name}, which is not in the build`);
        objects[i] = strategicMerge(objects[i], patch) as K8sObject;
      }
    } else if (p.patch !== undefined && p.target !== undefined) {
      const target = objects.find((o) => o.kind === p.target?.kind && o.metadata.name === p.target.name);
      if (target === undefined) throw new Error(`${relative(REPO, k.dir)}: inline patch targets ${p.target.kind}/${p.target.name}, which is not in the build`);
      for (const op of (parseAllDocuments(p.patch)[0]?.toJS() ?? []) as { op: string; path: string; value: unknown }[]) jsonPatchAdd(target, op);
    } else throw new Error(`${relative(REPO, k.dir)}: unsupported patch entry`);
  }
}

/**
 * Strategic merge as kustomize does it for what manifests/ patches: maps merge, lists of named items merge by name
 * (a new item goes before the existing ones, as kustomize puts it), other lists are replaced.
 */
export function strategicMerge(base: unknown, patch: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(patch)) {
    const named = (x: unknown): x is { name: string } => typeof x === 'object' && x !== null && typeof (x as { name?: unknown }).name === 'string';
    if (!patch.every(named) || !base.every(named)) return patch;
    const merged = base.map((b) => {
      const p = patch.find((x) => x.name === b.name);
      return p === undefined ? b : strategicMerge(b, p);
    });
    return [...patch.filter((p) => !base.some((b) => b.name === p.name)), ...merged];
  }
  if (typeof base === 'object' && base !== null && typeof patch === 'object' && patch !== null && !Array.isArray(base) && !Array.isArray(patch)) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [key, value] of Object.entries(patch)) out[key] = key in out ? strategicMerge(out[key], value) : value;
    return out;
  }
  return patch;
}

function jsonPatchAdd(target: unknown, op: { op: string; path: string; value: unknown }): void {
  if (op.op !== 'add' || !op.path.endsWith('/-')) throw new Error(`unsupported JSON patch ${JSON.stringify(op)}`);
  let node: unknown = target;
  for (const seg of op.path.slice(1, -2).split('/')) node = Array.isArray(node) ? node[Number(seg)] : (node as Record<string, unknown>)[seg];
  if (!Array.isArray(node)) throw new Error(`JSON patch path ${op.path} is not a list`);
  node.push(op.value);
}

function applyImages(objects: K8sObject[], images: Kustomization['images']): void {
  const visit = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(visit);
    else if (typeof x === 'object' && x !== null) {
      const o = x as Record<string, unknown>;
      if (typeof o.image === 'string') {
        const [name = '', tag] = o.image.split(/:(?=[^/:]+$)/u);
        const rule = images.find((i) => i.name === name);
        if (rule !== undefined) o.image = `${rule.newName ?? name}:${rule.newTag ?? tag ?? 'latest'}`;
      }
      Object.values(o).forEach(visit);
    }
  };
  visit(objects);
}

export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (o === undefined) throw new Error(`no ${kind}/${name} in the build`);
  return o;
}

export const COMPONENTS = ['felix', 'cilium'] as const;
export const componentDir = (name: string): string => join(MANIFESTS, 'components', name);
export const exampleFiles = (): string[] => yamlFilesIn(join(MANIFESTS, 'examples')).map((f) => join(MANIFESTS, 'examples', f));
