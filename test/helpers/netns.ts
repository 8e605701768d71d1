/** Throwaway network namespaces for privileged tests; each test deletes only its own. */
import { existsSync } from 'node:fs';
import { parseNetnsPath, type NetnsPath } from '../../src/lib/brand.js';
import { sh, shTry } from './exec.js';
import { ipRows } from './ip.js';

/** Where `ip netns add` binds its namespaces (inside `npm test`, a private tmpfs). */
export const NETNS_DIR = '/var/run/netns';

export function netnsPath(name: string): NetnsPath {
  return parseNetnsPath(`${NETNS_DIR}/${name}`);
}

export interface TestNetns {
  readonly name: string;
  readonly path: NetnsPath;
  exec(args: readonly string[]): string;
  tryExec(args: readonly string[]): { code: number; stdout: string; stderr: string };
  ipJson<T = unknown>(args: readonly string[]): T;
  /** Deletes the netns if it still exists; never throws (for cleanup). */
  remove(): void;
}

/**
 * `ip netns add NAME`, with `lo` brought up unless `lo: 'down'` (a suite checking that a plan brings `lo` up wants
 * the kernel's fresh netns, where it is down).
 */
export function createNetns(name: string, opts: { readonly lo?: 'up' | 'down' } = {}): TestNetns {
  sh('ip', ['netns', 'add', name]);
  const path = netnsPath(name);
  if (opts.lo !== 'down') sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return {
    name,
    path,
    exec: (args) => sh('ip', ['netns', 'exec', name, ...args]),
    tryExec: (args) => shTry('ip', ['netns', 'exec', name, ...args]),
    ipJson: <T>(args: readonly string[]) => ipRows(['-n', name, ...args]) as T,
    remove: () => {
      if (existsSync(path)) shTry('ip', ['netns', 'del', name]);
    },
  };
}

/** The addresses in a netns, as "ip/len" strings per device. */
export function addrsOf(ns: TestNetns, dev: string): string[] {
  const rows = ns.ipJson<{ addr_info: { family: string; local: string; prefixlen: number }[] }[]>(['addr', 'show', 'dev', dev]);
  return rows.flatMap((r) => r.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`));
}
