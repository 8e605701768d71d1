/** Node sysctls the dataplane needs, written straight to /proc/sys through an injected writer. */
import { writeFile } from 'node:fs/promises';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';

export type SysctlWriter = (path: string, value: string) => Promise<void>;

export const NODE_SYSCTLS: readonly (readonly [string, string])[] = [
  ['net.ipv4.ip_forward', '1'],
  ['net.ipv4.conf.all.rp_filter', '0'],
  ['net.ipv4.conf.default.rp_filter', '0'],
];

export function sysctlPath(key: string): string {
  return `/proc/sys/${key.replaceAll('.', '/')}`;
}

export const procSysctlWriter: SysctlWriter = (path, value) => writeFile(path, value);

/** Applies every sysctl; returns the failures (logged) instead of throwing, so one read-only key does not stop the node. */
export async function applyNodeSysctls(write: SysctlWriter, log: Logger): Promise<readonly string[]> {
  const failed: string[] = [];
  for (const [key, value] of NODE_SYSCTLS) {
    try {
      await write(sysctlPath(key), value);
    } catch (e) {
      failed.push(key);
      log.error('sysctl write failed', { key, value, err: errorMessage(e) });
    }
  }
  return failed;
}
