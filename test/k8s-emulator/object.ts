/** Plain JSON helpers for stored objects. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
export type KubeObject = JsonObject;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function clone<T extends Json>(v: T): T {
  return structuredClone(v);
}

export function fieldAt(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (!isObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

export function metadataOf(obj: KubeObject): JsonObject {
  const md = obj['metadata'];
  if (isObject(md)) return md;
  const fresh: JsonObject = {};
  obj['metadata'] = fresh;
  return fresh;
}

export function stringField(obj: JsonObject, key: string): string {
  const v = obj[key];
  return typeof v === 'string' ? v : '';
}

export function nameOf(obj: KubeObject): string {
  return stringField(metadataOf(obj), 'name');
}

export function namespaceOf(obj: KubeObject): string {
  return stringField(metadataOf(obj), 'namespace');
}

export function status(code: number, reason: string, message: string): JsonObject {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}
