/** The three PATCH bodies kube-apiserver accepts (apply-patch is not emulated). */
import type { Json, JsonObject } from './object.js';
import { clone, isObject } from './object.js';

export class PatchError extends Error {}

/** RFC 7396: objects merge recursively, null deletes, everything else (arrays too) replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) Reflect.deleteProperty(out, key);
    else out[key] = mergePatch(out[key] ?? null, value);
  }
  return out;
}

/** Merge keys of the list fields the emulator's users patch (from the Kubernetes API's patchMergeKey tags). */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  conditions: 'type',
  addresses: 'type',
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ownerReferences: 'uid',
  taints: 'key',
  ports: 'containerPort',
  imagePullSecrets: 'name',
};

/** Strategic merge patch: like RFC 7396, but lists with a known merge key merge item by item (`$patch: delete` removes). */
export function strategicMergePatch(target: Json, patch: Json, field = ''): Json {
  if (Array.isArray(patch)) {
    const key = MERGE_KEYS[field];
    if (key === undefined || !Array.isArray(target)) return clone(patch.filter((p) => !isDirective(p)));
    return mergeList(target, patch, key);
  }
  if (!isObject(patch)) return clone(patch);
  if (patch['$patch'] === 'replace') {
    const rest = clone(patch);
    delete rest['$patch'];
    return rest;
  }
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) Reflect.deleteProperty(out, key);
    else out[key] = strategicMergePatch(out[key] ?? null, value, key);
  }
  return out;
}

function isDirective(v: Json): boolean {
  return isObject(v) && typeof v['$patch'] === 'string';
}

function mergeList(target: Json[], patch: Json[], key: string): Json[] {
  const out = clone(target);
  for (const item of patch) {
    if (!isObject(item)) continue;
    const id = item[key];
    const idx = out.findIndex((o) => isObject(o) && o[key] === id);
    if (item['$patch'] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMergePatch(out[idx] ?? null, item);
    else out.push(strategicMergePatch(null, item));
  }
  return out;
}

/** RFC 6902 (add, remove, replace, test) on JSON-pointer paths. */
export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new PatchError('json patch body must be an array of operations');
  let doc = clone(target);
  for (const op of ops) {
    if (!isObject(op) || typeof op['op'] !== 'string' || typeof op['path'] !== 'string') throw new PatchError('invalid operation');
    const parts = op['path'].split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    doc = applyOp(doc, parts, op['op'], op['value'] ?? null);
  }
  return doc;
}

function applyOp(doc: Json, parts: string[], op: string, value: Json): Json {
  if (parts.length === 0) {
    if (op === 'test') return doc;
    return op === 'remove' ? null : clone(value);
  }
  const [head = '', ...rest] = parts;
  if (Array.isArray(doc)) {
    const idx = head === '-' ? doc.length : Number(head);
    if (rest.length === 0) {
      if (op === 'add') doc.splice(idx, 0, clone(value));
      else if (op === 'remove') doc.splice(idx, 1);
      else if (op === 'replace') doc[idx] = clone(value);
      else if (JSON.stringify(doc[idx]) !== JSON.stringify(value)) throw new PatchError('test failed');
      return doc;
    }
    doc[idx] = applyOp(doc[idx] ?? null, rest, op, value);
    return doc;
  }
  if (!isObject(doc)) throw new PatchError(`path does not exist: ${head}`);
  if (rest.length === 0) {
    if (op === 'remove') Reflect.deleteProperty(doc, head);
    else if (op === 'test') {
      if (JSON.stringify(doc[head]) !== JSON.stringify(value)) throw new PatchError('test failed');
    } else doc[head] = clone(value);
    return doc;
  }
  doc[head] = applyOp(doc[head] ?? null, rest, op, value);
  return doc;
}
