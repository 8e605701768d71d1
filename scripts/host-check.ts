/**
 * The end-of-run check of `npm test` (scripts/test.ts): a snapshot of the real host's network state, taken in the
 * real host netns before jest starts and again after it ends, and the differences between two snapshots.
 *
 * A snapshot holds, per section, entries keyed by identity with a normalised value:
 * - links (`ip -j link`), addresses (`ip -j addr`), routes (`ip -j -4/-6 route show table all`), rules
 *   (`ip -j -4/-6 rule`), qdiscs (`tc -j qdisc`), the names of `ip netns list`;
 * - every readable file under /proc/sys/net/ipv4, as `net.ipv4.…` = value (sysctl(8) spelling).
 *
 * Left out, because they change by themselves (VOLATILE): address lifetimes and IPv6 temporary (privacy)
 * addresses, which the kernel counts down and regenerates; route `expires` (RA-learned routes count down); qdisc
 * `refcnt`; netns ids (assigned lazily by whoever first asks); `net.ipv4.tcp_fastopen_key` (a secret the kernel
 * generates at the first TCP Fast Open use by any program; also not something to print). Write-only sysctls (e.g.
 * `net.ipv4.route.flush`) cannot be read and are not part of a snapshot.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sh } from '../test/helpers/exec.js';
import type { Row } from '../test/helpers/ip.js';

export const SECTIONS = ['links', 'addresses', 'routes', 'rules', 'qdiscs', 'netns', 'sysctls'] as const;
export type Section = (typeof SECTIONS)[number];
export type HostSnapshot = Readonly<Record<Section, Readonly<Record<string, string>>>>;

export interface HostChange {
  readonly section: Section;
  readonly kind: 'added' | 'removed' | 'changed';
  readonly key: string;
  readonly before?: string;
  readonly after?: string;
}

/** What a snapshot leaves out, and why (printed by the runner, asserted by the unit test). */
export const VOLATILE = {
  addressKeys: ['valid_life_time', 'preferred_life_time'],
  routeKeys: ['expires'],
  qdiscKeys: ['refcnt'],
  sysctls: ['net.ipv4.tcp_fastopen_key'],
} as const;

const SYSCTL_ROOT = '/proc/sys/net/ipv4';

function without(row: Row, keys: readonly string[]): Row {
  return Object.fromEntries(Object.entries(row).filter(([k]) => !keys.includes(k)));
}

/** `net/ipv4/conf/eth0.100/rp_filter` → `net.ipv4.conf.eth0/100.rp_filter`, as sysctl(8) spells it. */
export function sysctlName(relPath: string): string {
  return ['net', 'ipv4', ...relPath.split('/')].map((part) => part.replaceAll('.', '/')).join('.');
}

/** The raw command outputs a snapshot is built from (JSON text per command; sysctl name → value). */
export interface RawHostState {
  readonly links: readonly Row[];
  readonly addresses: readonly Row[];
  readonly routes4: readonly Row[];
  readonly routes6: readonly Row[];
  readonly rules4: readonly Row[];
  readonly rules6: readonly Row[];
  readonly qdiscs: readonly Row[];
  readonly netns: readonly Row[];
  readonly sysctls: Readonly<Record<string, string>>;
}

/** Builds the normalised snapshot from raw rows (pure: the unit test feeds it recorded or synthetic output). */
export function normalise(raw: RawHostState): HostSnapshot {
  const json = (r: Row): string => JSON.stringify(r);
  const keyed = (entries: readonly (readonly [string, string])[]): Record<string, string> => Object.fromEntries(entries);
  const asSet = (prefix: string, rows: readonly Row[], drop: readonly string[] = []): (readonly [string, string])[] =>
    rows.map((r) => [`${prefix}${json(without(r, drop))}`, ''] as const);
  return {
    links: keyed(raw.links.map((r) => [String(r.ifname), json(r)] as const)),
    addresses: keyed(
      raw.addresses.flatMap((link) =>
        ((link.addr_info as Row[] | undefined) ?? [])
          .filter((a) => a.temporary !== true)
          .map((a) => [`${String(link.ifname)} ${String(a.local)}/${String(a.prefixlen)}`, json(without(a, VOLATILE.addressKeys))] as const),
      ),
    ),
    routes: keyed([...asSet('v4 ', raw.routes4, VOLATILE.routeKeys), ...asSet('v6 ', raw.routes6, VOLATILE.routeKeys)]),
    rules: keyed([...asSet('v4 ', raw.rules4), ...asSet('v6 ', raw.rules6)]),
    qdiscs: keyed(raw.qdiscs.map((q) => [`${String(q.dev)} ${String(q.handle)} ${q.root === true ? 'root' : String(q.parent)}`, json(without(q, VOLATILE.qdiscKeys))] as const)),
    netns: keyed(raw.netns.map((n) => [String(n.name), ''] as const)),
    sysctls: Object.fromEntries(Object.entries(raw.sysctls).filter(([k]) => !(VOLATILE.sysctls as readonly string[]).includes(k))),
  };
}

function rows(file: string, args: readonly string[]): Row[] {
  const out = sh(file, args).trim();
  return out === '' ? [] : (JSON.parse(out) as Row[]);
}

function readSysctls(dir = SYSCTL_ROOT, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const relPath = rel === '' ? name : `${rel}/${name}`;
    if (statSync(path).isDirectory()) {
      Object.assign(out, readSysctls(path, relPath));
      continue;
    }
    try {
      out[sysctlName(relPath)] = readFileSync(path, 'utf8').trim().replace(/\s+/gu, ' ');
    } catch {
      // write-only (route/flush): not state
    }
  }
  return out;
}

/** The network state of the netns this process is in (the runner calls it in the real host's). */
export function readHostState(): RawHostState {
  return {
    links: rows('ip', ['-j', 'link', 'show']),
    addresses: rows('ip', ['-j', 'addr', 'show']),
    routes4: rows('ip', ['-j', '-4', 'route', 'show', 'table', 'all']),
    routes6: rows('ip', ['-j', '-6', 'route', 'show', 'table', 'all']),
    rules4: rows('ip', ['-j', '-4', 'rule', 'show']),
    rules6: rows('ip', ['-j', '-6', 'rule', 'show']),
    qdiscs: rows('tc', ['-j', 'qdisc', 'show']),
    netns: rows('ip', ['-j', 'netns', 'list']),
    sysctls: readSysctls(),
  };
}

export function snapshotHostNetwork(): HostSnapshot {
  return normalise(readHostState());
}

export function diffSnapshots(before: HostSnapshot, after: HostSnapshot): HostChange[] {
  const changes: HostChange[] = [];
  for (const section of SECTIONS) {
    const b = before[section];
    const a = after[section];
    for (const key of Object.keys(b).sort()) {
      const was = b[key] ?? '';
      const now = a[key];
      if (now === undefined) changes.push({ section, kind: 'removed', key, before: was });
      else if (now !== was) changes.push({ section, kind: 'changed', key, before: was, after: now });
    }
    for (const key of Object.keys(a).sort()) if (!(key in b)) changes.push({ section, kind: 'added', key, after: a[key] ?? '' });
  }
  return changes;
}

export function entryCount(s: HostSnapshot): number {
  return SECTIONS.reduce((n, section) => n + Object.keys(s[section]).length, 0);
}

/** A link's own sysctls (`net.ipv4.conf.DEV.*`, `net.ipv4.neigh.DEV.*`) come and go with it: one line per group. */
function sysctlGroup(c: HostChange): string | undefined {
  if (c.section !== 'sysctls' || c.kind === 'changed') return undefined;
  const m = /^(net\.ipv4\.(?:conf|neigh)\.[^.]+)\./u.exec(c.key);
  return m?.[1] === undefined ? undefined : `${c.kind} ${m[1]}`;
}

/** One line per change: `+` added, `-` removed, `~` changed (before → after); a link's sysctls as one line. */
export function formatChanges(changes: readonly HostChange[]): string {
  const show = (key: string, value: string | undefined): string => (value === undefined || value === '' ? key : `${key} = ${value}`);
  const groups = new Map<string, HostChange[]>();
  for (const c of changes) {
    const g = sysctlGroup(c);
    if (g !== undefined) groups.set(g, [...(groups.get(g) ?? []), c]);
  }
  const printed = new Set<string>();
  const lines: string[] = [];
  for (const c of changes) {
    const g = sysctlGroup(c);
    const group = g === undefined ? undefined : groups.get(g);
    if (g !== undefined && group !== undefined && group.length > 1) {
      if (!printed.has(g)) lines.push(`  sysctls: ${c.kind === 'added' ? '+' : '-'} ${g.slice(g.indexOf(' ') + 1)}.* (${String(group.length)} entries)`);
      printed.add(g);
    } else if (c.kind === 'added') lines.push(`  ${c.section}: + ${show(c.key, c.after)}`);
    else if (c.kind === 'removed') lines.push(`  ${c.section}: - ${show(c.key, c.before)}`);
    else lines.push(`  ${c.section}: ~ ${c.key}: ${c.before ?? ''} -> ${c.after ?? ''}`);
  }
  return lines.join('\n');
}
