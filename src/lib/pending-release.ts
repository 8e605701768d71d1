/**
 * Releases the plugin could not hand to the daemon (daemon down during DEL). The plugin records them here and
 * succeeds; the daemon finishes them when it is back. Directory: `<dirname(socket)>/pending-release`.
 *
 * - One file per attachment, written atomically (tmp + rename), named by a digest of the identity:
 *   `sha1(JSON [containerId, ifName]).json`. The identity itself is inside the file. So a legal 300-character
 *   container id never makes a name too long, and `a.b`+`c` and `a`+`b.c` are two records.
 * - Bounded: at most MAX_PENDING_RELEASES records (Cilium bounds its deletion queue at 256 too). Beyond it the
 *   plugin refuses to record (ExhaustedError, retryable) and DEL fails with code 11: the runtime retries DEL, and
 *   the IP stays leased (never handed out while host state might remain) until the daemon is back.
 * - Never trusted: listing keeps only regular files (no symlink followed) of at most MAX_RECORD_BYTES holding the
 *   exact JSON shape, a valid container id and ifName, and whose name is the digest of that identity. Anything else
 *   is logged and renamed `<name>.invalid` (out of the queue, kept for the operator, logged once).
 * - Upgrade: a record written by an older plugin (`<containerId>.<ifName>.json`) is accepted when its name is
 *   exactly that of the identity inside, and removed with it.
 */
import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ifNameProblem, isIpv4 } from './brand.js';
import { ExhaustedError, errorMessage } from './errors.js';
import type { Logger } from './log.js';
import { sha1Hex } from './sha1.js';
import { quote } from './text.js';
import { containerIdProblem } from './validate/names.js';

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

export const MAX_PENDING_RELEASES = 256;
/** A record is a few hundred bytes; a file larger than this is not one of ours. */
export const MAX_RECORD_BYTES = 16 * 1024;
const RECORD = /^[0-9a-f]{40}\.json$/u;

export function pendingDirFor(socketPath: string): string {
  return join(dirname(socketPath), 'pending-release');
}

/** The record's file name: a digest of an unambiguous encoding of the identity. */
export function pendingFileName(containerId: string, ifName: string): string {
  return `${sha1Hex(JSON.stringify([containerId, ifName]))}.json`;
}

/** The name older plugins used (ambiguous, and too long for long ids): read and removed, never written. */
function legacyFileName(containerId: string, ifName: string): string {
  return `${containerId}.${ifName}.json`;
}

export async function recordPendingRelease(dir: string, rec: PendingRelease): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const name = pendingFileName(rec.containerId, rec.ifName);
  const queued = (await readdir(dir)).filter((n) => RECORD.test(n));
  if (queued.length >= MAX_PENDING_RELEASES && !queued.includes(name)) {
    throw new ExhaustedError(`pending-release queue ${dir} is full (${String(MAX_PENDING_RELEASES)} records): the daemon must drain it first`);
  }
  const final = join(dir, name);
  const tmp = `${final}.${String(process.pid)}.tmp`;
  await writeFile(tmp, JSON.stringify(rec), { mode: 0o600 });
  await rename(tmp, final);
}

/** The valid records; invalid or foreign files are logged and set aside (see the header). */
export async function listPendingReleases(dir: string, log?: Logger): Promise<readonly PendingRelease[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: PendingRelease[] = [];
  for (const n of names.filter((x) => x.endsWith('.json'))) {
    const path = join(dir, n);
    const verdict = await readRecord(path, n);
    if (typeof verdict !== 'string') {
      out.push(verdict);
      continue;
    }
    log?.warn('pending release: invalid file skipped and set aside', { file: path, problem: verdict });
    await rename(path, `${path}.invalid`).catch((err: unknown) => log?.warn('pending release: could not set aside', { file: path, err: errorMessage(err) }));
  }
  return out;
}

export async function removePendingRelease(dir: string, containerId: string, ifName: string): Promise<void> {
  for (const name of [pendingFileName(containerId, ifName), legacyFileName(containerId, ifName)]) {
    await unlink(join(dir, name)).catch(() => undefined); // ENOENT, or ENAMETOOLONG for the legacy name of a long id
  }
}

/** The record, or what is wrong with the file. */
async function readRecord(path: string, name: string): Promise<PendingRelease | string> {
  let text: string;
  try {
    const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const st = await fh.stat();
      if (!st.isFile()) return 'not a regular file';
      if (st.size > MAX_RECORD_BYTES) return `larger than ${String(MAX_RECORD_BYTES)} bytes`;
      text = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch (err) {
    return `unreadable: ${errorMessage(err)}`;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  const problem = recordProblem(raw);
  if (problem !== undefined) return problem;
  const rec = raw as PendingRelease;
  const named = name === pendingFileName(rec.containerId, rec.ifName) || name === legacyFileName(rec.containerId, rec.ifName);
  return named ? rec : 'file name is not the digest of the identity inside';
}

function recordProblem(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not a JSON object';
  const r = raw as Record<string, unknown>;
  for (const k of ['containerId', 'ifName', 'podNamespace', 'podName', 'reason', 'at'] as const) {
    if (typeof r[k] !== 'string') return `${k} is not a string`;
  }
  const { containerId, ifName, at, ips } = r as { containerId: string; ifName: string; at: string; ips: unknown };
  const idProblem = containerIdProblem(containerId);
  if (idProblem !== undefined) return `${idProblem}: ${quote(containerId)}`;
  const ifProblem = ifNameProblem(ifName);
  if (ifProblem !== undefined) return `${ifProblem}: ${quote(ifName)}`;
  if (Number.isNaN(Date.parse(at))) return `at is not a time: ${quote(at)}`;
  if (!Array.isArray(ips) || !ips.every((ip) => typeof ip === 'string' && isIpv4(ip))) return 'ips is not a list of IPv4 addresses';
  return undefined;
}
