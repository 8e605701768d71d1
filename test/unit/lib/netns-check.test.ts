import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { netnsProblem, netnsUsable, netnsVerdict } from '../../../src/lib/netns-check.js';

const dir = mkdtempSync(join(tmpdir(), 'hub-netns-'));
const empty = join(dir, 'empty');
const full = join(dir, 'full');
writeFileSync(empty, '');
writeFileSync(full, 'not a namespace');

describe('netnsVerdict (stat st_dev against nsfs, no process)', () => {
  it('a namespace file is one: /proc/self/ns/net', async () => {
    expect(await netnsVerdict('/proc/self/ns/net')).toEqual({ kind: 'namespace' });
    expect(await netnsProblem('/proc/self/ns/net')).toBeUndefined();
    expect(await netnsUsable('/proc/self/ns/net')).toBe(true);
  });

  it('a missing path is missing', async () => {
    expect(await netnsVerdict(join(dir, 'gone'))).toEqual({ kind: 'missing' });
    expect(await netnsVerdict(join(full, 'below-a-file'))).toEqual({ kind: 'missing' });
    expect(await netnsProblem(join(dir, 'gone'))).toBe('CNI_NETNS does not exist');
  });

  it.each([
    [empty, 'an empty regular file (an unmounted netns?)'],
    [full, 'a regular file'],
    [dir, 'a directory'],
    ['/dev/null', 'a device'],
  ])('%s is not a namespace (%s)', async (path, what) => {
    expect(await netnsVerdict(path)).toEqual({ kind: 'not-a-namespace', what });
    expect(await netnsProblem(path)).toBe(`CNI_NETNS is not a namespace file (${what})`);
    expect(await netnsUsable(path)).toBe(false);
  });

  it('without a reference (no /proc) it cannot tell and does not refuse', async () => {
    expect(await netnsVerdict(full, join(dir, 'no-proc'))).toMatchObject({ kind: 'unknown', seen: true });
  });
});
