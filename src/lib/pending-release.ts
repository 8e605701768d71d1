/**
 * Releases the plugin could not hand to the daemon (daemon down during DEL). The plugin records them here and
 * succeeds; the daemon finishes them when it is back. One file per attachment, written atomically.
 * Directory: `<dirname(socket)>/pending-release`.
 */
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface PendingRelease {
  readonly containerId: string;
  readonly ifName: string;
  readonly podNamespace: string;
  readonly podName: string;
  /** Pod IPs known from prevResult, so the daemon can clean host leftovers even without a lease. */
  readonly ips: readonly string[];
  readonly reason: string;
  readonly at: string; // ISO time
}

export function pendingDirFor(socketPath: string): string {
  return join(dirname(socketPath), 'pending-release');
}

function fileName(containerId: string, ifName: string): string {
  return `${containerId}.${ifName}.json`;
}

export async function recordPendingRelease(dir: string, rec: PendingRelease): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const final = join(dir, fileName(rec.containerId, rec.ifName));
  const tmp = `${final}.${String(process.pid)}.tmp`;
  await writeFile(tmp, JSON.stringify(rec), { mode: 0o600 });
  await rename(tmp, final);
}

export async function listPendingReleases(dir: string): Promise<readonly PendingRelease[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: PendingRelease[] = [];
  for (const n of names.filter((x) => x.endsWith('.json'))) {
    try {
      const raw: unknown = JSON.parse(await readFile(join(dir, n), 'utf8'));
      if (isPendingRelease(raw)) out.push(raw);
    } catch {
      // a torn or foreign file: leave it for the operator, never crash the daemon
    }
  }
  return out;
}

export async function removePendingRelease(dir: string, containerId: string, ifName: string): Promise<void> {
  await unlink(join(dir, fileName(containerId, ifName))).catch(() => undefined);
}

function isPendingRelease(raw: unknown): raw is PendingRelease {
  if (typeof raw !== 'object' || raw === null) return false;
  const r = raw as Record<string, unknown>;
  return typeof r.containerId === 'string' && typeof r.ifName === 'string' && Array.isArray(r.ips);
}
