/**
 * Object storage with one global, monotonically increasing resourceVersion, an event history for watches that
 * start from an older version, and a compaction point below which watches get 410 Gone.
 */
import { randomUUID } from 'node:crypto';
import type { KubeObject } from './object.js';
import { clone, metadataOf, nameOf, namespaceOf, status, stringField } from './object.js';
import { resourceByKind } from './routes.js';
import type { Matcher } from './selectors.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface HistoryEntry {
  readonly kind: string;
  readonly type: WatchEventType;
  readonly rv: number;
  readonly object: KubeObject;
  readonly prev?: KubeObject;
}

export interface Watcher {
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly matches: Matcher;
  send(type: WatchEventType | 'BOOKMARK' | 'ERROR', object: KubeObject): void;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
  toStatus(): KubeObject {
    return status(this.code, this.reason, this.message);
  }
}

export class Store {
  private rv = 0;
  private compactedAt = 0;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private history: HistoryEntry[] = [];
  readonly watchers = new Set<Watcher>();

  resourceVersion(): number {
    return this.rv;
  }

  /** Watches (and lists) from a resourceVersion older than this get 410 Gone. */
  compact(): number {
    this.compactedAt = this.rv;
    this.history = [];
    return this.rv;
  }

  isCompacted(rv: number): boolean {
    return rv < this.compactedAt;
  }

  get(kind: string, namespace: string, name: string): KubeObject | undefined {
    const obj = this.bucket(kind).get(key(namespace, name));
    return obj === undefined ? undefined : clone(obj);
  }

  list(kind: string, namespace?: string): KubeObject[] {
    const all = [...this.bucket(kind).values()];
    return all.filter((o) => namespace === undefined || namespaceOf(o) === namespace).map((o) => clone(o));
  }

  /** Create (fails with 409 if it exists). */
  create(kind: string, obj: KubeObject): KubeObject {
    if (this.bucket(kind).has(key(namespaceOf(obj), nameOf(obj)))) {
      throw new ApiError(409, 'AlreadyExists', `${kind.toLowerCase()}s "${nameOf(obj)}" already exists`);
    }
    return this.upsert(kind, obj);
  }

  /** Replace; `expectedRv` (non-empty) must match the stored version (optimistic concurrency). */
  update(kind: string, obj: KubeObject, expectedRv = ''): KubeObject {
    const current = this.bucket(kind).get(key(namespaceOf(obj), nameOf(obj)));
    if (current === undefined) throw notFound(kind, nameOf(obj));
    const currentRv = stringField(metadataOf(current), 'resourceVersion');
    if (expectedRv !== '' && expectedRv !== currentRv) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${kind.toLowerCase()}s "${nameOf(obj)}": the object has been modified`);
    }
    return this.upsert(kind, obj);
  }

  /** Create or replace, bumping resourceVersion and notifying watchers. */
  upsert(kind: string, input: KubeObject): KubeObject {
    const obj = clone(input);
    const md = metadataOf(obj);
    const k = key(stringField(md, 'namespace'), stringField(md, 'name'));
    const prev = this.bucket(kind).get(k);
    const prevMd = prev === undefined ? undefined : metadataOf(prev);
    md['uid'] = prevMd?.['uid'] ?? (stringField(md, 'uid') || randomUUID());
    md['creationTimestamp'] = prevMd?.['creationTimestamp'] ?? (stringField(md, 'creationTimestamp') || new Date().toISOString().replace(/\.\d+Z$/, 'Z'));
    md['resourceVersion'] = String(++this.rv);
    obj['kind'] = kind;
    if (typeof obj['apiVersion'] !== 'string') obj['apiVersion'] = resourceByKind(kind)?.groupVersion ?? 'v1';
    this.bucket(kind).set(k, obj);
    this.record(prev === undefined ? { kind, type: 'ADDED', rv: this.rv, object: obj } : { kind, type: 'MODIFIED', rv: this.rv, object: obj, prev });
    return clone(obj);
  }

  remove(kind: string, namespace: string, name: string): KubeObject {
    const bucket = this.bucket(kind);
    const obj = bucket.get(key(namespace, name));
    if (obj === undefined) throw notFound(kind, name);
    bucket.delete(key(namespace, name));
    const deleted = clone(obj);
    metadataOf(deleted)['resourceVersion'] = String(++this.rv);
    this.record({ kind, type: 'DELETED', rv: this.rv, object: deleted });
    return clone(deleted);
  }

  /** Events after `rv` for a watch that starts late. */
  since(kind: string, rv: number): HistoryEntry[] {
    return this.history.filter((e) => e.kind === kind && e.rv > rv);
  }

  private record(entry: HistoryEntry): void {
    this.history.push(entry);
    for (const w of [...this.watchers]) deliver(w, entry);
  }

  private bucket(kind: string): Map<string, KubeObject> {
    let b = this.objects.get(kind);
    if (b === undefined) {
      b = new Map();
      this.objects.set(kind, b);
    }
    return b;
  }
}

/** What a filtered watch sees: entering the filter is ADDED, leaving it is DELETED (as the apiserver's cacher does). */
export function deliver(w: Watcher, e: HistoryEntry): void {
  if (w.kind !== e.kind) return;
  const inScope = (o: KubeObject): boolean => (w.namespace === undefined || namespaceOf(o) === w.namespace) && w.matches(o);
  const now = inScope(e.object);
  if (e.type === 'MODIFIED') {
    const before = e.prev !== undefined && inScope(e.prev);
    if (now && before) w.send('MODIFIED', clone(e.object));
    else if (now) w.send('ADDED', clone(e.object));
    else if (before) w.send('DELETED', clone(e.object));
    return;
  }
  if (now) w.send(e.type, clone(e.object));
}

export function notFound(kind: string, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${kind.toLowerCase()}s "${name}" not found`);
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
