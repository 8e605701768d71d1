/**
 * Group commit (src/store/group-commit.ts): the writes of concurrent requests share one COMMIT (one fsync), are
 * visible on the daemon's connection at once and on disk (another connection: what a restarted daemon reads) only
 * when `durable` settles; a write that fails rolls back alone; a durable write commits the open group first.
 */
import { describe, expect, it } from '@jest/globals';
import { LeaseStore } from '../../../src/store/store.js';
import { ConflictError } from '../../../src/lib/errors.js';
import { HubService } from '../../../src/daemon/service.js';
import { FakeProvider, lease, req } from '../daemon/helpers/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';

/** What another process (a restarted daemon, the CLI) reads from the database file now. */
function onDisk(dir: string): string[] {
  const ro = LeaseStore.open(dir, { readonly: true });
  try {
    return ro.list().map((l) => l.containerId);
  } finally {
    ro.close();
  }
}

describe('group commit', () => {
  it('writes of one moment: visible at once, on disk together after one commit; a conflicting one fails alone', async () => {
    const dir = tempDir();
    const s = LeaseStore.open(dir);
    const durables: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) durables.push(s.inGroup(() => { s.put(lease(`c${String(i)}`, `10.0.0.${String(10 + i)}`)); }).durable);
    expect(() => s.inGroup(() => { s.put(lease('dup', '10.0.0.10')); })).toThrow(ConflictError);
    expect(s.count()).toBe(20); // this connection sees them now
    expect(onDisk(dir)).toEqual([]); // not committed yet: nothing on disk
    await Promise.all(durables);
    expect(onDisk(dir)).toHaveLength(20);
    expect(s.commitStats()).toEqual({ groupCommits: 1, groupedWrites: 21 });
    expect(s.get({ containerId: 'dup', ifName: 'eth0' })).toBeUndefined();
    s.close();
  });

  it('a write outside a group commits the open group first and is on disk when it returns', async () => {
    const dir = tempDir();
    const s = LeaseStore.open(dir);
    const { durable } = s.inGroup(() => { s.put(lease('c1', '10.0.0.10')); });
    s.put(lease('c2', '10.0.0.11'));
    expect(onDisk(dir).sort()).toEqual(['c1', 'c2']);
    await durable;
    // the pool journal's writes precede cloud calls: durable when they return, also inside a group
    s.inGroup(() => {
      s.put(lease('c3', '10.0.0.12'));
      s.pool.begin({ id: 'op-1', kind: 'assign', eniId: 'eni-1', count: 1, token: 'tok-1', startedAt: 1 });
      expect(onDisk(dir)).toContain('c3'); // the group committed first: order kept
    });
    s.close();
  });

  it('close commits what is open', () => {
    const dir = tempDir();
    const s = LeaseStore.open(dir);
    s.inGroup(() => { s.put(lease('c1', '10.0.0.10')); });
    s.close();
    expect(onDisk(dir)).toEqual(['c1']);
  });

  it('the service: 30 concurrent ADDs, then 30 concurrent DELs, share a few commits; every reply comes after its commit', async () => {
    const dir = tempDir();
    const store = LeaseStore.open(dir);
    const svc = new HubService({ store, provider: new FakeProvider(['10.0.0.10-10.0.0.60']), mtu: 1450 });
    const ids = Array.from({ length: 30 }, (_, i) => `c${String(i)}`);
    await Promise.all(ids.map(async (id) => {
      await svc.allocate(req(id));
      expect(onDisk(dir)).toContain(id); // replied: on disk
    }));
    const afterAdd = store.commitStats();
    expect(afterAdd.groupedWrites).toBe(30);
    expect(afterAdd.groupCommits).toBeLessThan(30);
    await Promise.all(ids.map(async (id) => {
      expect(await svc.release({ containerId: id, ifName: 'eth0', reason: 'CNI DEL' })).toEqual({ released: true });
      expect(onDisk(dir)).not.toContain(id);
    }));
    expect(store.commitStats().groupCommits - afterAdd.groupCommits).toBeLessThan(30);
    expect(onDisk(dir)).toEqual([]);
    store.close();
  });
});
