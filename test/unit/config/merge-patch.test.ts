import { describe, expect, it } from '@jest/globals';
import { mergePatch, type Json } from '../../../src/config/merge-patch.js';

// RFC 7396 Appendix A, every vector.
const VECTORS: readonly (readonly [Json, Json, Json])[] = [
  [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
  [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
  [{ a: 'b' }, { a: null }, {}],
  [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
  [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
  [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
  [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
  [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
  [['a', 'b'], ['c', 'd'], ['c', 'd']],
  [{ a: 'b' }, ['c'], ['c']],
  [{ a: 'foo' }, null, null],
  [{ a: 'foo' }, 'bar', 'bar'],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: 'b', c: null }, { a: 'b' }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

describe('mergePatch (RFC 7396 appendix A)', () => {
  it.each(VECTORS.map((v, i) => [i + 1, ...v] as const))('vector %i', (_n, target, patch, result) => {
    expect(mergePatch(target, patch)).toEqual(result);
  });

  it('does not mutate its inputs', () => {
    const target = { a: { b: 1 } };
    const patch = { a: { c: 2 } };
    mergePatch(target, patch);
    expect(target).toEqual({ a: { b: 1 } });
    expect(patch).toEqual({ a: { c: 2 } });
  });

  it('merges nested Terway fields (vswitches per zone, a null drops a tag)', () => {
    const base = { vswitches: { 'cn-a': ['vsw-1'] }, eni_tags: { team: 'x', env: 'prod' }, max_pool_size: 5 };
    const over = { vswitches: { 'cn-b': ['vsw-2'] }, eni_tags: { env: null }, max_pool_size: 10 };
    expect(mergePatch(base, over)).toEqual({ vswitches: { 'cn-a': ['vsw-1'], 'cn-b': ['vsw-2'] }, eni_tags: { team: 'x' }, max_pool_size: 10 });
  });
});
