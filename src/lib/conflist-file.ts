/**
 * Finds the conflist of a network in a CNI conf dir the way libcni's LoadConfList does: `*.conflist` files in
 * lexical order, the first whose `name` matches. An unreadable or undecodable file is skipped (the runtime that
 * invoked us has read the right one). The plugin loads this module only when it is about to shape pod bandwidth
 * (src/cni/shapers.ts): never on the start-up path.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface NetworkConflist {
  readonly file: string;
  readonly plugins: readonly unknown[];
}

/** At most this many bytes are read per file (libcni has no limit; a conf dir holds small files). */
const MAX_BYTES = 1 << 20;

export async function readNetworkConflist(dir: string, name: string): Promise<NetworkConflist | undefined> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.conflist')).sort();
  } catch {
    return undefined; // no conf dir: nothing to check
  }
  for (const f of files) {
    const file = join(dir, f);
    try {
      const text = await readFile(file, 'utf8');
      if (text.length > MAX_BYTES) continue;
      const o = JSON.parse(text) as unknown;
      if (typeof o !== 'object' || o === null || Array.isArray(o)) continue;
      const c = o as Readonly<Record<string, unknown>>;
      if (c.name !== name || !Array.isArray(c.plugins)) continue;
      return { file, plugins: c.plugins as unknown[] };
    } catch {
      // unreadable or not JSON: not the network we run in
    }
  }
  return undefined;
}
