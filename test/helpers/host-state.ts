/**
 * A normalised snapshot of the host's network state: links, addresses, routes in all tables, rules and
 * permanent neighbours. Two snapshots are compared to prove that DEL (or a refused ADD) left the host as before.
 * IPv6 link-local addresses and their routes are left out: the kernel adds them by itself, some time after a link
 * comes up, so they say nothing about what the hub did (any link the hub leaves behind shows up in `links`).
 */
import { sh } from './exec.js';
import { ipRows, type Row } from './ip.js';

export interface HostState {
  readonly links: readonly string[];
  readonly addrs: readonly string[];
  readonly routes: readonly string[];
  readonly rules: readonly string[];
  readonly neighs: readonly string[];
  readonly qdiscs: readonly string[];
}

function pick(row: Row, keys: readonly string[]): string {
  return JSON.stringify(keys.map((k) => row[k] ?? null));
}

/** The host's state, or with `netns` (an `ip netns` name) a pod's: the same view from inside that namespace. */
export function snapshotHost(netns?: string): HostState {
  const n = netns === undefined ? [] : ['-n', netns];
  const rows = (args: readonly string[]): Row[] => ipRows([...n, ...args]);
  const links = rows(['link', 'show']).map((r) => pick(r, ['ifname', 'link_type', 'address', 'mtu', 'flags', 'master']));
  const addrs = rows(['addr', 'show']).flatMap((r) =>
    ((r.addr_info as Row[] | undefined) ?? [])
      .filter((a) => !(a.family === 'inet6' && a.scope === 'link'))
      .map((a) => `${String(r.ifname)} ${pick(a, ['family', 'local', 'prefixlen', 'scope'])}`),
  );
  const routes = rows(['route', 'show', 'table', 'all'])
    .filter((r) => !String(r.dst).startsWith('fe80:'))
    .map((r) => pick(r, ['table', 'dst', 'gateway', 'dev', 'scope', 'type', 'prefsrc', 'flags']));
  const rules = rows(['rule', 'show']).map((r) => pick(r, ['priority', 'src', 'srclen', 'dst', 'dstlen', 'table', 'iif', 'oif']));
  const neighs = rows(['neigh', 'show', 'nud', 'permanent']).map((r) => pick(r, ['dst', 'dev', 'lladdr']));
  const qdiscs = (JSON.parse(sh('tc', [...n, '-j', 'qdisc', 'show']) || '[]') as Row[]).map((r) => pick(r, ['kind', 'handle', 'dev', 'parent']));
  const sort = (xs: string[]): string[] => [...xs].sort();
  return { links: sort(links), addrs: sort(addrs), routes: sort(routes), rules: sort(rules), neighs: sort(neighs), qdiscs: sort(qdiscs) };
}

/** Lines present in one snapshot and not the other, for readable assertion failures. */
export function diffHost(before: HostState, after: HostState): { added: string[]; removed: string[] } {
  const added: string[] = [];
  const removed: string[] = [];
  for (const key of Object.keys(before) as (keyof HostState)[]) {
    const b = new Set(before[key]);
    const a = new Set(after[key]);
    for (const x of a) if (!b.has(x)) added.push(`${key}: ${x}`);
    for (const x of b) if (!a.has(x)) removed.push(`${key}: ${x}`);
  }
  return { added, removed };
}

export interface OwnedHostState {
  readonly link: Row[];
  readonly route: Row[];
  readonly rule: Row[];
}

/**
 * The host's links, routes (all tables) and rules, as `ip -j` rows, that mention one of `needles` (a test's own
 * names, IPs, tables): a comparison about what one test owns, whatever else shares the host.
 */
export function hostSnapshotOf(needles: readonly string[]): OwnedHostState {
  const mine = (xs: Row[]): Row[] => xs.filter((x) => needles.some((n) => JSON.stringify(x).includes(n)));
  return { link: mine(ipRows(['link', 'show'])), route: mine(ipRows(['route', 'show', 'table', 'all'])), rule: mine(ipRows(['rule', 'show'])) };
}

