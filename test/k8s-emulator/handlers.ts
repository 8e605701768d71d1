/** REST verbs on the store: get/list, create, replace, patch, delete (watch lives in watch.ts). */
import { randomBytes } from 'node:crypto';
import type { Json, KubeObject } from './object.js';
import { clone, isObject, metadataOf, stringField } from './object.js';
import { jsonPatch, mergePatch, PatchError, strategicMergePatch } from './patch.js';
import type { Route } from './routes.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { Store } from './store.js';
import { ApiError, notFound } from './store.js';

export interface Reply {
  readonly status: number;
  readonly body: Json;
}

export function handleGet(store: Store, route: Route, query: URLSearchParams): Reply {
  const { resource, namespace, name } = route;
  if (name !== undefined) {
    const obj = store.get(resource.kind, namespace ?? '', name);
    if (obj === undefined) throw notFound(resource.kind, name);
    return { status: 200, body: obj };
  }
  const rv = query.get('resourceVersion') ?? '';
  if (rv !== '' && rv !== '0' && store.isCompacted(Number(rv))) {
    throw new ApiError(410, 'Expired', `too old resource version: ${rv} (${String(store.resourceVersion())})`);
  }
  const field = parseFieldSelector(query.get('fieldSelector'));
  const label = parseLabelSelector(query.get('labelSelector'));
  const items = store.list(resource.kind, namespace).filter((o) => field(o) && label(o));
  return {
    status: 200,
    body: { kind: `${resource.kind}List`, apiVersion: resource.groupVersion ?? 'v1', metadata: { resourceVersion: String(store.resourceVersion()) }, items },
  };
}

export function handleCreate(store: Store, route: Route, body: Json): Reply {
  if (!isObject(body)) throw new ApiError(400, 'BadRequest', 'body must be an object');
  const obj = clone(body);
  if (typeof obj['apiVersion'] !== 'string') obj['apiVersion'] = route.resource.groupVersion ?? 'v1';
  const md = metadataOf(obj);
  if (route.namespace !== undefined) md['namespace'] = route.namespace;
  else if (route.resource.namespaced && stringField(md, 'namespace') === '') md['namespace'] = 'default';
  if (stringField(md, 'name') === '') {
    const prefix = stringField(md, 'generateName');
    if (prefix === '') throw new ApiError(422, 'Invalid', 'metadata.name or metadata.generateName is required');
    md['name'] = prefix + randomBytes(3).toString('hex').slice(0, 5);
  }
  delete md['resourceVersion'];
  return { status: 201, body: store.create(route.resource.kind, obj) };
}

export function handleReplace(store: Store, route: Route, body: Json): Reply {
  if (!isObject(body)) throw new ApiError(400, 'BadRequest', 'body must be an object');
  const current = existing(store, route);
  const expectedRv = stringField(metadataOf(body), 'resourceVersion');
  const next = withSubresourceRules(route, current, clone(body));
  return { status: 200, body: store.update(route.resource.kind, next, expectedRv) };
}

export function handlePatch(store: Store, route: Route, contentType: string, body: Json): Reply {
  const current = existing(store, route);
  let patched: Json;
  try {
    if (contentType === 'application/merge-patch+json') patched = mergePatch(current, body);
    else if (contentType === 'application/strategic-merge-patch+json') patched = strategicMergePatch(current, body);
    else if (contentType === 'application/json-patch+json') patched = jsonPatch(current, body);
    else throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got ${JSON.stringify(contentType)})`);
  } catch (err) {
    if (err instanceof PatchError) throw new ApiError(422, 'Invalid', err.message);
    throw err;
  }
  if (!isObject(patched)) throw new ApiError(422, 'Invalid', 'patch result is not an object');
  const expectedRv = stringField(metadataOf(patched), 'resourceVersion');
  const currentRv = stringField(metadataOf(current), 'resourceVersion');
  const next = withSubresourceRules(route, current, patched);
  return { status: 200, body: store.update(route.resource.kind, next, expectedRv === currentRv ? '' : expectedRv) };
}

export function handleDelete(store: Store, route: Route): Reply {
  if (route.name === undefined) throw new ApiError(405, 'MethodNotAllowed', 'collection delete is not emulated');
  return { status: 200, body: store.remove(route.resource.kind, route.namespace ?? '', route.name) };
}

function existing(store: Store, route: Route): KubeObject {
  if (route.name === undefined) throw new ApiError(405, 'MethodNotAllowed', 'a name is required');
  const obj = store.get(route.resource.kind, route.namespace ?? '', route.name);
  if (obj === undefined) throw notFound(route.resource.kind, route.name);
  return obj;
}

/** Identity is immutable; the status subresource writes only status, the main resource never writes status. */
function withSubresourceRules(route: Route, current: KubeObject, next: KubeObject): KubeObject {
  const md = metadataOf(next);
  const cur = metadataOf(current);
  md['name'] = cur['name'] ?? null;
  if (route.resource.namespaced) md['namespace'] = cur['namespace'] ?? null;
  if (route.subresource === 'status') {
    const out = clone(current);
    out['status'] = next['status'] ?? {};
    return out;
  }
  if (route.subresource !== undefined) throw new ApiError(404, 'NotFound', `subresource ${route.subresource} is not emulated`);
  if (route.resource.statusSubresource) {
    if (current['status'] === undefined) delete next['status'];
    else next['status'] = current['status'];
  }
  return next;
}
