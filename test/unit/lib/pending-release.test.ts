import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExhaustedError } from '../../../src/lib/errors.js';
import { createLogger } from '../../../src/lib/log.js';
import {
  MAX_PENDING_RELEASES,
  listPendingReleases,
  pendingFileName,
  recordPendingRelease,
  removePendingRelease,
  type PendingRelease,
} from '../../../src/lib/pending-release.js';

const dirOf = (): string => join(mkdtempSync(join(tmpdir(), 'hub-pending-')), 'pending-release');
const rec = (containerId: string, ifName = 'eth0'): PendingRelease => ({
  containerId,
  ifName,
  podNamespace: 'default',
  podName: 'web',
  ips: ['10.0.0.7'],
  reason: 'daemon down',
  at: '2026-01-02T03:04:05.000Z',
});

function capture(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger({ write: (l) => void lines.push(l) }, 'debug') };
}

describe('pending-release queue', () => {
  it('names records by a digest: a.b+c and a+b.c are two records, identity kept inside', async () => {
    const dir = dirOf();
    await recordPendingRelease(dir, rec('a.b', 'c'));
    await recordPendingRelease(dir, rec('a', 'b.c'));
    expect(readdirSync(dir).sort()).toEqual([pendingFileName('a.b', 'c'), pendingFileName('a', 'b.c')].sort());
    expect(pendingFileName('a.b', 'c')).toMatch(/^[0-9a-f]{40}\.json$/u);
    const listed = await listPendingReleases(dir);
    expect(listed.map((r) => `${r.containerId}|${r.ifName}`).sort()).toEqual(['a.b|c', 'a|b.c']);
    expect(JSON.parse(readFileSync(join(dir, pendingFileName('a', 'b.c')), 'utf8'))).toEqual(rec('a', 'b.c'));
    await removePendingRelease(dir, 'a', 'b.c');
    expect((await listPendingReleases(dir)).map((r) => r.containerId)).toEqual(['a.b']);
  });

  it('records a legal 300-character container id (no ENAMETOOLONG) and removes it', async () => {
    const dir = dirOf();
    const id = 'f'.repeat(300);
    await recordPendingRelease(dir, rec(id));
    expect((await listPendingReleases(dir)).map((r) => r.containerId)).toEqual([id]);
    await removePendingRelease(dir, id, 'eth0');
    expect(readdirSync(dir)).toEqual([]);
  });

  it(`refuses beyond ${String(MAX_PENDING_RELEASES)} records (retryable), but re-records one already queued`, async () => {
    const dir = dirOf();
    for (let i = 0; i < MAX_PENDING_RELEASES; i++) await recordPendingRelease(dir, rec(`c${String(i)}`));
    await expect(recordPendingRelease(dir, rec('one-too-many'))).rejects.toBeInstanceOf(ExhaustedError);
    await expect(recordPendingRelease(dir, rec('one-too-many'))).rejects.toMatchObject({ retryable: true });
    await expect(recordPendingRelease(dir, rec('c7'))).resolves.toBeUndefined();
    expect(readdirSync(dir)).toHaveLength(MAX_PENDING_RELEASES);
  });

  it('skips, logs and sets aside invalid or foreign files without crashing; valid ones still drain', async () => {
    const dir = dirOf();
    await recordPendingRelease(dir, rec('good'));
    mkdirSync(join(dir, 'sub.json'));
    const put = (name: string, body: string): void => {
      writeFileSync(join(dir, name), body);
    };
    put(pendingFileName('torn', 'eth0'), '{"containerId":');
    put(pendingFileName('big', 'eth0'), JSON.stringify({ ...rec('big'), reason: 'x'.repeat(20_000) }));
    put(pendingFileName('bad;id', 'eth0'), JSON.stringify(rec('bad;id')));
    put(pendingFileName('c', 'a/b'), JSON.stringify(rec('c', 'a/b')));
    put(pendingFileName('shape', 'eth0'), JSON.stringify({ ...rec('shape'), ips: 'all' }));
    put(pendingFileName('time', 'eth0'), JSON.stringify({ ...rec('time'), at: '' }));
    put(pendingFileName('other', 'eth0'), JSON.stringify(rec('victim'))); // name does not match the identity
    put('random.json', JSON.stringify(rec('random')));
    symlinkSync('/etc/passwd', join(dir, pendingFileName('link', 'eth0')));
    const { lines, log } = capture();
    const listed = await listPendingReleases(dir, log);
    expect(listed.map((r) => r.containerId)).toEqual(['good']);
    expect(lines.filter((l) => l.includes('invalid file skipped'))).toHaveLength(10);
    expect(readdirSync(dir).filter((n) => n.endsWith('.json'))).toEqual([pendingFileName('good', 'eth0')]);
    expect(readdirSync(dir).filter((n) => n.endsWith('.invalid'))).toHaveLength(10);
    expect(existsSync('/etc/passwd')).toBe(true);
    // logged once: set aside, they are not seen again
    const again = capture();
    expect((await listPendingReleases(dir, again.log)).map((r) => r.containerId)).toEqual(['good']);
    expect(again.lines).toEqual([]);
  });

  it('still drains a record an older plugin named <containerId>.<ifName>.json, and removes it', async () => {
    const dir = dirOf();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'old.eth0.json'), JSON.stringify(rec('old')));
    expect((await listPendingReleases(dir)).map((r) => r.containerId)).toEqual(['old']);
    await removePendingRelease(dir, 'old', 'eth0');
    expect(readdirSync(dir)).toEqual([]);
  });
});
