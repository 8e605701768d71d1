/** `ip -j` output as rows: synchronous for snapshots and TestNetns, asynchronous beside an in-process daemon. */
import { sh, shAsync } from './exec.js';

export type Row = Record<string, unknown>;

function parseRows(out: string): Row[] {
  return out.trim() === '' ? [] : (JSON.parse(out) as Row[]);
}

/** `ip -j ARGS` (ARGS may start with `-n NS` or `-4`/`-6`), synchronously. */
export function ipRows(args: readonly string[]): Row[] {
  return parseRows(sh('ip', ['-j', ...args]));
}

/** `ip -j ARGS` in this (the test's host) netns. */
export async function ipJson(...args: string[]): Promise<unknown[]> {
  return parseRows(await shAsync('ip', '-j', ...args));
}

/** `ip -n NS -j ARGS`. */
export async function nsJson(ns: string, ...args: string[]): Promise<unknown[]> {
  return parseRows(await shAsync('ip', '-n', ns, '-j', ...args));
}

/**
 * The host's primary IPv4 address (one of this machine's, so traffic to it never leaves the host), or undefined
 * when it has none. Addresses in 10.2xx.0.0/16 are the suites' own pod ranges and are never it.
 */
export function hostAddress(): string | undefined {
  const links = ipRows(['-4', 'addr', 'show', 'scope', 'global']) as { addr_info?: { local?: string }[] }[];
  return links.flatMap((l) => l.addr_info ?? []).map((a) => a.local).find((a): a is string => a !== undefined && !a.startsWith('10.2'));
}
