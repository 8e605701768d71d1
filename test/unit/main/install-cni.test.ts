/**
 * `terway-hub install-cni`: the DaemonSet's init step. The installed file is the source byte for byte, 0755 even
 * under a restrictive umask or over a leftover temp file, it replaces an older binary through a rename (a process
 * holding the old file keeps its inode), and leaves no temp file; bad flags are ConfigErrors.
 */
import { chmodSync, closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCni } from '../../../src/main/install-cni.js';
import { ConfigError } from '../../../src/lib/errors.js';

describe('install-cni', () => {
  let dir: string;
  let src: string;
  const lines: string[] = [];
  const out = (l: string): void => { lines.push(l); };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mf-install-'));
    src = join(dir, 'terway-hub');
    writeFileSync(src, Buffer.from([0x7f, 0x45, 0x4c, 0x46, ...Array.from({ length: 4096 }, (_, i) => i % 251)]));
    chmodSync(src, 0o644);
  });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('installs a byte-identical 0755 executable under the source name, leaving no temp file', async () => {
    const to = join(dir, 'bin');
    const old = process.umask(0o077);
    try {
      expect(await installCni(['--from', src, '--to', to], out)).toBe(0);
    } finally {
      process.umask(old);
    }
    expect(readFileSync(join(to, 'terway-hub')).equals(readFileSync(src))).toBe(true);
    expect(statSync(join(to, 'terway-hub')).mode & 0o777).toBe(0o755);
    expect(readdirSync(to)).toEqual(['terway-hub']);
    expect(lines.at(-1)).toContain(`as ${join(to, 'terway-hub')} (4100 bytes)`);
  });

  it('replaces an older binary by rename: an open handle still reads the old content', async () => {
    const to = join(dir, 'bin');
    await installCni(['--from', src, '--to', to, '--name', 'hub'], out);
    const fd = openSync(join(to, 'hub'), 'r');
    const before = statSync(join(to, 'hub')).ino;
    writeFileSync(src, 'new content');
    await installCni(['--from', src, '--to', to, '--name', 'hub'], out);
    expect(statSync(join(to, 'hub')).ino).not.toBe(before);
    expect(readFileSync(join(to, 'hub'), 'utf8')).toBe('new content');
    expect(readFileSync(fd).subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))).toBe(true);
    closeSync(fd);
  });

  it('fixes the mode of a leftover temp file of the same name', async () => {
    const to = join(dir, 'bin');
    await installCni(['--from', src, '--to', to], out);
    const leftover = join(to, `.terway-hub.${String(process.pid)}.tmp`);
    writeFileSync(leftover, 'half');
    chmodSync(leftover, 0o600);
    await installCni(['--from', src, '--to', to], out);
    expect(statSync(join(to, 'terway-hub')).mode & 0o777).toBe(0o755);
    expect(readdirSync(to)).toEqual(['terway-hub']);
  });

  it('refuses missing flags and a name that is not a plain file name', async () => {
    await expect(installCni(['--from', src], out)).rejects.toThrow(ConfigError);
    await expect(installCni(['--from', src, '--to', dir, '--name', '../x'], out)).rejects.toThrow(/plain file name/u);
    await expect(installCni(['--from', src, '--to', dir, '--name', '.hidden'], out)).rejects.toThrow(ConfigError);
    await expect(installCni(['--from', join(dir, 'absent'), '--to', dir], out)).rejects.toThrow(/ENOENT/u);
  });
});
