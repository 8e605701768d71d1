/**
 * A list+watch informer independent of any client library: list (remember the list's resourceVersion), watch from
 * it, reconnect when the watch ends or fails (exponential backoff on errors), relist on 410 Gone, and relist
 * periodically (resync). A relist diffs against the cache, so objects deleted while disconnected emit `delete`.
 */
import { UnavailableError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { httpStatusOf } from './api-error.js';
import { resourceVersionOf, statusCode } from './map.js';
import type { Informer, InformerEvent } from './types.js';

export interface ListResult {
  readonly items: readonly unknown[];
  readonly resourceVersion: string;
}

/** The transport: how to list and how to watch one resource collection (with its selectors baked in). */
export interface ListWatchSource {
  readonly description: string;
  list(): Promise<ListResult>;
  /** Resolves when the stream ends cleanly; rejects on failure (HTTP status on the error); `signal` ends it. */
  watch(resourceVersion: string, onEvent: (type: string, object: unknown) => void, signal: AbortSignal): Promise<void>;
}

export interface Codec<T> {
  decode(raw: unknown): T | undefined;
  namespaceOf(obj: T): string;
  nameOf(obj: T): string;
  versionOf(obj: T): string;
}

export interface InformerTiming {
  /** Full relist (diffed against the cache) every this many ms; 0 disables. */
  readonly resyncMs: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  /** A watch that ends cleanly sooner than this without delivering events counts as a failure for backoff. */
  readonly minWatchMs: number;
}

export const DEFAULT_TIMING: InformerTiming = { resyncMs: 5 * 60_000, backoffInitialMs: 500, backoffMaxMs: 30_000, minWatchMs: 1000 };

export function createInformer<T>(source: ListWatchSource, codec: Codec<T>, timing: InformerTiming, log: Logger): Informer<T> {
  return new ListWatchInformer(source, codec, timing, log.child({ informer: source.description }));
}

type WatchOutcome = 'ok' | 'short' | 'gone' | 'interrupted';

class ListWatchInformer<T> implements Informer<T> {
  private cache = new Map<string, T>();
  private rv = '';
  private readonly listeners = new Set<(e: InformerEvent<T>) => void>();
  private readonly errorListeners = new Set<(err: unknown) => void>();
  private started: Promise<void> | undefined;
  private settleStart: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  private stopped = false;
  private relistRequested = false;
  private watchAbort: AbortController | undefined;
  private wake: (() => void) | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: ListWatchSource,
    private readonly codec: Codec<T>,
    private readonly timing: InformerTiming,
    private readonly log: Logger,
  ) {}

  start(): Promise<void> {
    if (this.started !== undefined) return this.started;
    this.started = new Promise<void>((resolve, reject) => {
      this.settleStart = { resolve, reject };
    });
    this.started.catch(() => undefined); // a stop() before the first list must not become an unhandled rejection
    if (this.stopped) {
      this.settleStart?.reject(new UnavailableError(`informer ${this.source.description} was stopped`));
      return this.started;
    }
    if (this.timing.resyncMs > 0) {
      this.resyncTimer = setInterval(() => { this.resync(); }, this.timing.resyncMs);
      this.resyncTimer.unref();
    }
    void this.loop();
    return this.started;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.resyncTimer !== undefined) clearInterval(this.resyncTimer);
    this.watchAbort?.abort();
    this.wake?.();
    this.settleStart?.reject(new UnavailableError(`informer ${this.source.description} stopped before its first list`));
  }

  list(): readonly T[] {
    return [...this.cache.values()];
  }

  get(namespace: string, name: string): T | undefined {
    return this.cache.get(`${namespace}/${name}`);
  }

  on(listener: (event: InformerEvent<T>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onError(listener: (err: unknown) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** Ask for a relist now (the periodic resync does this); the current watch is interrupted. */
  resync(): void {
    this.relistRequested = true;
    this.watchAbort?.abort();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        if (this.rv === '' || this.relistRequested) {
          this.relistRequested = false;
          await this.relist();
          failures = 0;
          continue;
        }
        const outcome = await this.watchOnce();
        if (outcome === 'gone') {
          this.log.info('watch expired (410 Gone), relisting', { resourceVersion: this.rv });
          this.rv = '';
        } else if (outcome === 'short') {
          await this.sleep(this.backoff(++failures));
        } else if (outcome === 'ok') failures = 0;
      } catch (err) {
        if (this.isStopped()) break;
        if (httpStatusOf(err) === 410) {
          this.log.info('resourceVersion expired (410 Gone), relisting', { resourceVersion: this.rv });
          this.rv = '';
          continue;
        }
        failures++;
        this.emitError(err);
        await this.sleep(this.backoff(failures));
      }
    }
  }

  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.source.list();
    if (this.isStopped()) return;
    const next = new Map<string, T>();
    for (const raw of items) {
      const obj = this.codec.decode(raw);
      if (obj === undefined) this.emitError(new UnavailableError(`${this.source.description}: undecodable object in list`));
      else next.set(this.keyOf(obj), obj);
    }
    const old = this.cache;
    this.cache = next;
    this.rv = resourceVersion;
    for (const [key, prev] of old) if (!next.has(key)) this.emit({ type: 'delete', object: prev });
    for (const [key, obj] of next) {
      const prev = old.get(key);
      if (prev === undefined) this.emit({ type: 'add', object: obj });
      else if (this.codec.versionOf(prev) !== this.codec.versionOf(obj)) this.emit({ type: 'update', object: obj, old: prev });
    }
    this.log.debug('listed', { count: next.size, resourceVersion });
    this.settleStart?.resolve();
  }

  private async watchOnce(): Promise<WatchOutcome> {
    const ctrl = new AbortController();
    this.watchAbort = ctrl;
    const startedAt = Date.now();
    let events = 0;
    const result: { gone: boolean; failure: Error | undefined } = { gone: false, failure: undefined };
    const onEvent = (type: string, object: unknown): void => {
      if (ctrl.signal.aborted) return;
      if (type === 'ERROR') {
        if (statusCode(object) === 410) result.gone = true;
        else result.failure = Object.assign(new UnavailableError(`${this.source.description}: watch error event`), { status: object });
        ctrl.abort();
        return;
      }
      events++;
      this.applyWatchEvent(type, object);
    };
    try {
      await this.source.watch(this.rv, onEvent, ctrl.signal);
    } catch (err) {
      if (!ctrl.signal.aborted) throw err;
    } finally {
      this.watchAbort = undefined;
    }
    if (result.gone) return 'gone';
    if (result.failure !== undefined) throw result.failure;
    if (ctrl.signal.aborted) return 'interrupted';
    return events > 0 || Date.now() - startedAt >= this.timing.minWatchMs ? 'ok' : 'short';
  }

  private applyWatchEvent(type: string, raw: unknown): void {
    const rv = resourceVersionOf(raw);
    if (type === 'BOOKMARK') {
      if (rv !== undefined && rv !== '') this.rv = rv;
      return;
    }
    const obj = this.codec.decode(raw);
    if (obj === undefined) {
      this.emitError(new UnavailableError(`${this.source.description}: undecodable ${type} watch event`));
      return;
    }
    if (rv !== undefined && rv !== '') this.rv = rv;
    const key = this.keyOf(obj);
    const prev = this.cache.get(key);
    if (type === 'DELETED') {
      if (prev === undefined) return;
      this.cache.delete(key);
      this.emit({ type: 'delete', object: obj });
    } else if (type === 'ADDED' || type === 'MODIFIED') {
      this.cache.set(key, obj);
      if (prev === undefined) this.emit({ type: 'add', object: obj });
      else if (this.codec.versionOf(prev) !== this.codec.versionOf(obj)) this.emit({ type: 'update', object: obj, old: prev });
    }
  }

  /** A method, so TypeScript does not narrow `stopped` across awaits. */
  private isStopped(): boolean {
    return this.stopped;
  }

  private keyOf(obj: T): string {
    return `${this.codec.namespaceOf(obj)}/${this.codec.nameOf(obj)}`;
  }

  private emit(event: InformerEvent<T>): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch (err) {
        this.log.warn('informer listener threw', { err: errorMessage(err) });
      }
    }
  }

  private emitError(err: unknown): void {
    this.log.warn('list/watch failed, retrying', { err: errorMessage(err), status: httpStatusOf(err) });
    for (const l of [...this.errorListeners]) {
      try {
        l(err);
      } catch {
        // an error listener must not break the loop
      }
    }
  }

  private backoff(failures: number): number {
    const base = Math.min(this.timing.backoffMaxMs, this.timing.backoffInitialMs * 2 ** Math.min(failures - 1, 20));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
