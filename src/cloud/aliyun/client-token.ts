/**
 * ClientToken reuse (Terway pkg/aliyun/client/token.go): the token of a logical request is keyed by a digest of its
 * action and parameters; every retry of that request carries it; after a final failure (other than an idempotency
 * mismatch) it is kept, so the next identical request reuses it and ECS answers the first call's result if that
 * call did take effect (a reply lost after the ENI was created never yields a second ENI); on success it is dropped.
 * An LRU of 500 entries (Terway's default, env IDEMPOTENT_KEY_CACHE_SIZE there).
 */
import { createHash, randomUUID } from 'node:crypto';

export class ClientTokens {
  private readonly lru = new Map<string, string>();

  constructor(private readonly size = 500) {}

  static keyOf(action: string, params: Readonly<Record<string, unknown>>): string {
    const sorted = Object.keys(params)
      .sort()
      .map((k) => [k, params[k]]);
    return createHash('md5').update(action).update('\0').update(JSON.stringify(sorted)).digest('hex');
  }

  /** The token for this request: a kept one (removed from the cache while in use), or a new UUID. */
  take(key: string): string {
    const t = this.lru.get(key);
    if (t !== undefined) {
      this.lru.delete(key);
      return t;
    }
    return randomUUID();
  }

  /** Keeps the token after a final failure, for the next identical request. */
  putBack(key: string, token: string): void {
    this.lru.delete(key);
    this.lru.set(key, token);
    while (this.lru.size > this.size) {
      const oldest = this.lru.keys().next().value;
      if (oldest === undefined) break;
      this.lru.delete(oldest);
    }
  }

  get kept(): number {
    return this.lru.size;
  }
}
