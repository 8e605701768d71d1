/** Shared helpers for the privileged netlink tests: real runner, unique names, filtered host snapshots. */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { parseIp, parseNetnsPath, type IfName, type IpAddr } from '../../../src/lib/brand.js';
import { createProcessRunner, runChecked } from '../../../src/lib/exec.js';
import { silentLogger } from '../../../src/lib/log.js';
import { createExecutor } from '../../../src/netlink/executor.js';
import { createStateProbe } from '../../../src/netlink/probe.js';
import type { NodeFacts, PodNetworkSpec } from '../../../src/modes/types.js';

export const isRoot = process.getuid?.() === 0;
export const runner = createProcessRunner();
export const executor = createExecutor({ runner, log: silentLogger, writeSysctl: (path, value) => writeFile(path, value) });
export const probe = createStateProbe({ runner });

export async function sh(file: string, ...args: string[]): Promise<string> {
  return runChecked(runner, { file, args });
}
export async function ipJson(...args: string[]): Promise<unknown[]> {
  const out = await sh('ip', '-j', ...args);
  return out.trim() === '' ? [] : (JSON.parse(out) as unknown[]);
}
export async function nsJson(ns: string, ...args: string[]): Promise<unknown[]> {
  const out = await sh('ip', '-n', ns, '-j', ...args);
  return out.trim() === '' ? [] : (JSON.parse(out) as unknown[]);
}
export async function ping(ns: string, ip: string): Promise<string> {
  return sh('ip', 'netns', 'exec', ns, 'ping', '-c', '1', '-W', '3', ip);
}

export const tag = randomBytes(3).toString('hex');
/**
 * A /24 unique to this run inside a test range: the first two octets are per test file (so parallel files never
 * share a subnet), the third random.
 */
export function testSubnet(first2: '10.200' | '100.64'): { readonly subnet3: string; readonly ip: (last: number) => IpAddr } {
  const subnet3 = `${first2}.${String(1 + ((randomBytes(1)[0] ?? 0) % 250))}`;
  return { subnet3, ip: (last) => parseIp(`${subnet3}.${String(last)}`) };
}
export const node: NodeFacts = { vethPrefix: 'hub' };

export function podSpec(netnsName: string, podName: string): PodNetworkSpec {
  return {
    pod: { namespace: `hubtest-${tag}`, name: podName },
    containerId: `c-${tag}-${podName}`,
    netns: parseNetnsPath(`/var/run/netns/${netnsName}`),
    ifName: 'eth0' as IfName,
  };
}

/** The host's first global IPv4 address (a target to ping from pods). */
export async function hostAddress(): Promise<string | undefined> {
  const links = (await ipJson('-4', 'addr', 'show', 'scope', 'global')) as { addr_info?: { local?: string }[] }[];
  return links.flatMap((l) => l.addr_info ?? []).find((a) => a.local !== undefined)?.local;
}

/**
 * Host links/routes/rules that mention one of `needles` (our names, IPs, tables). Other engineers run tests on
 * this machine at the same time; filtering keeps the comparison about what we own.
 */
export async function hostSnapshot(needles: readonly string[]): Promise<Record<string, unknown[]>> {
  const mine = (xs: unknown[]): unknown[] => xs.filter((x) => needles.some((n) => JSON.stringify(x).includes(n)));
  return {
    link: mine(await ipJson('link', 'show')),
    route: mine(await ipJson('route', 'show', 'table', 'all')),
    rule: mine(await ipJson('rule', 'show')),
  };
}
