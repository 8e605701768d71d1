/** Throwaway network namespaces for privileged tests; each test deletes only its own. */
import { existsSync } from 'node:fs';
import { sh, shTry } from './sh.js';

export interface TestNetns {
  readonly name: string;
  readonly path: string;
  exec(args: readonly string[]): string;
  tryExec(args: readonly string[]): { code: number; stdout: string; stderr: string };
  ipJson<T = unknown>(args: readonly string[]): T;
  remove(): void;
}

export function createNetns(name: string): TestNetns {
  sh('ip', ['netns', 'add', name]);
  const path = `/var/run/netns/${name}`;
  sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return {
    name,
    path,
    exec: (args) => sh('ip', ['netns', 'exec', name, ...args]),
    tryExec: (args) => shTry('ip', ['netns', 'exec', name, ...args]),
    ipJson: <T>(args: readonly string[]) => JSON.parse(sh('ip', ['-n', name, '-j', ...args]) || '[]') as T,
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
