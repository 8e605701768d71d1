/** The batched InUse checks (src/cloud/aliyun/describe-batch.ts): one call for many askers; an aborted asker stops waiting alone. */
import { realClock } from '../../../src/cloud/aliyun/clock.js';
import { DescribeBatcher } from '../../../src/cloud/aliyun/describe-batch.js';
import type { EniInfo } from '../../../src/cloud/aliyun/types.js';

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

describe('DescribeBatcher', () => {
  it('asks once for the ENIs asked within the window; an aborted asker is rejected at once with its reason, the others get the answer', async () => {
    const calls: (readonly string[])[] = [];
    const answer = deferred<readonly EniInfo[]>();
    const b = new DescribeBatcher(20, realClock, (ids) => { calls.push(ids); return answer.promise; });
    const ac = new AbortController();
    const a = b.get('eni-a');
    const c = b.get('eni-c', ac.signal).then(() => 'answered', (e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50)); // the shared call is out, not answered
    expect(calls).toEqual([['eni-a', 'eni-c']]);
    ac.abort(new Error('caller gave up'));
    expect(((await c) as Error).message).toBe('caller gave up');
    answer.resolve([{ id: 'eni-a', status: 'InUse' } as EniInfo]);
    expect((await a)?.status).toBe('InUse');
    const pre = new AbortController();
    pre.abort(new Error('already'));
    await expect(b.get('eni-x', pre.signal)).rejects.toThrow('already');
    expect(calls).toHaveLength(1); // an asker aborted before asking adds no call
  });
});
