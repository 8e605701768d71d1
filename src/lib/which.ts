/**
 * Absolute paths for the tools the hub runs (ip, tc, nsenter, …), resolved once per process. A CNI plugin inherits
 * whatever PATH the runtime gives it; the system directories are searched first so a PATH entry cannot shadow
 * iproute2, then the absolute entries of PATH (a relative entry is never searched). Not found → undefined.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ExecError } from './errors.js';

export const SYSTEM_DIRS: readonly string[] = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin'];

const cache = new Map<string, string | undefined>();

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** `file` itself when it holds a slash; else the first executable `dir/file` of SYSTEM_DIRS, then of PATH. */
export function which(file: string, path = process.env.PATH ?? ''): string | undefined {
  if (file.includes('/')) return file;
  if (cache.has(file)) return cache.get(file);
  const dirs = [...SYSTEM_DIRS, ...path.split(':').filter((d) => isAbsolute(d))];
  const found = dirs.map((d) => join(d, file)).find(isExecutable);
  cache.set(file, found);
  return found;
}

/**
 * The environment every tool runs with: the caller's, with the C locale pinned (iproute2's and tc's errors are
 * classified by their English text, netlink/tolerate.ts).
 */
export function toolEnv(base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && k !== 'LANGUAGE' && !k.startsWith('LC_')) env[k] = v;
  return { ...env, LC_ALL: 'C', LANG: 'C' };
}

/** The absolute path a command runs from; ExecError when it is nowhere to be found. */
export function executableOf(cmd: { readonly file: string; readonly args: readonly string[] }): string {
  const file = which(cmd.file);
  if (file === undefined) throw new ExecError([cmd.file, ...cmd.args], null, `${cmd.file}: not found in the system directories or PATH`);
  return file;
}
