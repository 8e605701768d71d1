/**
 * One DescribeNetworkInterfaces for many ENIs: the InUse waits of ENIs attached at the same time (a node warming up
 * creates and attaches several at once, and each waits with Terway's `wait_eni_status` backoff, first check after
 * 3 s) ask within `windowMs` of each other; their checks go out as one call listing up to 100 ids (the API's page)
 * instead of one call per ENI. Same checks, fewer calls against DescribeNetworkInterfaces' rate limit.
 */
import { toError } from '../../lib/errors.js';
import type { Clock } from './clock.js';
import type { EniInfo } from './types.js';

/** DescribeNetworkInterfaces takes at most this many NetworkInterfaceId.N. */
const MAX_IDS = 100;

interface Asker {
  readonly id: string;
  resolve(e: EniInfo | undefined): void;
  reject(err: unknown): void;
}

export class DescribeBatcher {
  #queue: Asker[] = [];
  #scheduled = false;

  constructor(
    private readonly windowMs: number,
    private readonly clock: Clock,
    private readonly describe: (ids: readonly string[]) => Promise<readonly EniInfo[]>,
  ) {}

  /**
   * The ENI as DescribeNetworkInterfaces shows it now (undefined: gone), asked together with others within the window.
   * `signal` ends this asker's wait (rejecting with its reason); the shared call goes on for the others.
   */
  get(id: string, signal?: AbortSignal): Promise<EniInfo | undefined> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(toError(signal.reason));
        return;
      }
      const onAbort = (): void => { reject(toError(signal?.reason)); };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => { signal?.removeEventListener('abort', onAbort); };
      this.#queue.push({ id, resolve: (e) => { done(); resolve(e); }, reject: (err) => { done(); reject(toError(err)); } });
      if (this.#scheduled) return;
      this.#scheduled = true;
      void this.clock.sleep(this.windowMs).then(() => this.#flush());
    });
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    const askers = this.#queue.splice(0);
    const ids = [...new Set(askers.map((a) => a.id))];
    for (let i = 0; i < ids.length; i += MAX_IDS) {
      const chunk = ids.slice(i, i + MAX_IDS);
      const mine = askers.filter((a) => chunk.includes(a.id));
      try {
        const found = await this.describe(chunk);
        for (const a of mine) a.resolve(found.find((e) => e.id === a.id));
      } catch (err) {
        for (const a of mine) a.reject(err);
      }
    }
  }
}
