import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { LeaseStore, SCHEMA_VERSION } from '../../../src/store/store.js';
import { ConflictError } from '../../../src/lib/errors.js';
import { lease } from '../daemon/helpers/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';
import { transpileToTemp } from '../daemon/helpers/transpile.js';

describe('LeaseStore', () => {
  it('puts, gets, lists, finds by ip and deletes', () => {
    const dir = join(tempDir(), 'state');
    const s = LeaseStore.open(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(s.schemaVersion()).toBe(SCHEMA_VERSION);
    const a = lease('c1', '10.0.0.10');
    s.put(a);
    s.put(lease('c2', '10.0.0.11', { ifName: 'eth1', podName: '' }));
    expect(s.get({ containerId: 'c1', ifName: 'eth0' })).toEqual(a);
    expect(s.get({ containerId: 'c1', ifName: 'eth1' })).toBeUndefined();
    expect(s.findByIp('10.0.0.11')?.containerId).toBe('c2');
    expect(s.list().map((l) => l.containerId)).toEqual(['c1', 'c2']);
    expect(s.count()).toBe(2);
    expect([...s.usedIps()].sort()).toEqual(['10.0.0.10', '10.0.0.11']);
    expect(s.delete({ containerId: 'c1', ifName: 'eth0' })).toBe(true);
    expect(s.delete({ containerId: 'c1', ifName: 'eth0' })).toBe(false);
    expect(s.count()).toBe(1);
    s.close();
  });

  it('refuses a second lease for an IP or for an attachment', () => {
    const s = LeaseStore.open(tempDir());
    s.put(lease('c1', '10.0.0.10'));
    expect(() => { s.put(lease('c2', '10.0.0.10')); }).toThrow(ConflictError);
    expect(() => { s.put(lease('c2', '10.0.0.10')); }).toThrow(/already leased to c1\/eth0/u);
    expect(() => { s.put(lease('c1', '10.0.0.99')); }).toThrow(/already has a lease/u);
    expect(s.count()).toBe(1);
    s.close();
  });

  it('keeps leases and the unique ip across reopen', () => {
    const dir = tempDir();
    const s = LeaseStore.open(dir);
    s.put(lease('c1', '10.0.0.10'));
    s.close();
    const again = LeaseStore.open(dir);
    expect(again.get({ containerId: 'c1', ifName: 'eth0' })?.allocation.ip).toBe('10.0.0.10');
    expect(() => { again.put(lease('c9', '10.0.0.10')); }).toThrow(ConflictError);
    again.close();
    const ro = LeaseStore.open(dir, { readonly: true });
    expect(ro.list()).toHaveLength(1);
    ro.close();
  });

  it('a lease written by a process that is then SIGKILLed is there after reopen (also one of a group commit)', async () => {
    const dir = tempDir('hub-crash-');
    const code = join(dir, 'code');
    transpileToTemp(code, ['src/store/store.ts', 'src/store/db.ts', 'src/store/pool-journal.ts', 'src/store/group-commit.ts', 'src/lib/errors.ts', 'src/lib/brand.ts', 'src/lib/text.ts', 'src/lib/validate/paths.ts', 'src/modes/types.ts', 'src/modes/allocation.ts', 'src/lib/validate/input-fields.ts']);
    const stateDir = join(dir, 'state');
    const script = `
      import { LeaseStore } from ${JSON.stringify(join(code, 'src/store/store.js'))};
      const s = LeaseStore.open(${JSON.stringify(stateDir)});
      s.put(${JSON.stringify(lease('crashy', '10.0.0.42'))});
      // and one through the group commit, reported only once durable (as the daemon replies)
      await s.inGroup(() => { s.put(${JSON.stringify(lease('grouped', '10.0.0.43'))}); }).durable;
      process.stdout.write('written\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        if (c.toString().includes('written')) resolve();
      });
      child.on('exit', () => { reject(new Error(`child exited early: ${stderr}`)); });
    });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, sig) => { r(sig); }));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const s = LeaseStore.open(stateDir);
    expect(s.get({ containerId: 'crashy', ifName: 'eth0' })?.allocation.ip).toBe('10.0.0.42');
    expect(s.get({ containerId: 'grouped', ifName: 'eth0' })?.allocation.ip).toBe('10.0.0.43');
    expect(() => { s.put(lease('other', '10.0.0.42')); }).toThrow(ConflictError);
    s.close();
  });
});
