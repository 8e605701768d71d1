/**
 * Exposes the conflist (and, through `install-cni`, the plugin binary) to the runtime. Written atomically (temp file in the same directory, fsync, rename, fsync
 * the directory) and only once the RPC server is serving, so kubelet never sees a network that cannot answer.
 */
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export async function writeFileAtomic(dir: string, name: string, content: string | Uint8Array, mode = 0o644): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const final = join(dir, name);
  // a dot-prefixed name without the .conflist suffix: libcni ignores it while it is incomplete
  const tmp = join(dir, `.${name}.${String(process.pid)}.tmp`);
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(content);
    await fh.chmod(mode); // open's mode is masked by the umask, and a leftover temp file keeps its old mode
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, final);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
  return final;
}

export async function removeFile(path: string): Promise<void> {
  await unlink(path).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  });
}
