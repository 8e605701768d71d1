/** Observed network state of one namespace, parsed from `ip -j` output (pure: parsing only). */

export interface ObservedLink {
  readonly name: string;
  readonly mtu: number;
  readonly mac: string;
  /** Administratively up (the UP flag). */
  readonly up: boolean;
  readonly operstate: string;
  /** The NOARP flag (ipvlan's host slave). */
  readonly noarp?: boolean;
  readonly ifindex?: number;
  /** The lower device (`link` of `ip -j link`: an ipvlan's or a VLAN's parent in the same netns). */
  readonly parent?: string;
}

export interface ObservedAddr {
  readonly dev: string;
  readonly cidr: string; // local/prefixlen
  /** `global`, `host`, `link` (absent when ip(8) did not say). */
  readonly scope?: string;
}

export interface ObservedRoute {
  readonly type: string; // unicast, local, broadcast, ...
  readonly dst: string; // 'default' or a canonical CIDR
  readonly dev?: string;
  readonly gateway?: string;
  readonly table: string; // 'main', 'local' or a number
  readonly scope?: string;
  readonly onlink: boolean;
}

export interface ObservedRule {
  readonly priority: number;
  readonly from?: string; // canonical CIDR; absent for "all"
  readonly to?: string;
  readonly table: string;
}

export interface ObservedNeigh {
  readonly dev: string;
  readonly ip: string;
  readonly lladdr?: string;
  readonly state: readonly string[];
}

/** From `tc -j -raw qdisc show`; the tbf fields only for tbf. */
export interface ObservedQdisc {
  readonly dev: string;
  readonly kind: string; // tbf, ingress, noqueue, ...
  readonly handle: string; // '1:', 'ffff:'
  readonly root: boolean;
  /** bytes/s */
  readonly rateBytes?: number;
  /** psched ticks (the `burst_raw` hex of -raw) */
  readonly bufferTicks?: number;
  /** bytes */
  readonly limitBytes?: number;
}

/** From `tc -j filter show dev DEV <hook>`: a u32 filter with its first `match` and its mirred action. */
export interface ObservedFilter {
  readonly dev: string;
  readonly hook: 'ingress' | 'egress';
  readonly pref: number;
  readonly kind: string;
  /** The destination a u32 key at offset 16 (the IPv4 daddr) matches, as a canonical CIDR. */
  readonly dst?: string;
  /** mirred: `egress` or `ingress`, and the target device. */
  readonly mirred?: { readonly direction: string; readonly target: string };
  /** Other actions in order (`skbedit`, …). */
  readonly actions: readonly string[];
}

export interface ObservedState {
  readonly links: readonly ObservedLink[];
  readonly addrs: readonly ObservedAddr[];
  readonly routes: readonly ObservedRoute[];
  readonly rules: readonly ObservedRule[];
  readonly neighs: readonly ObservedNeigh[];
  /** Only observed when a plan has tc ops in the namespace. */
  readonly qdiscs?: readonly ObservedQdisc[];
  /** Only the (dev, hook) pairs a plan puts filters on that CHECK compares (filter.u32-dst). */
  readonly filters?: readonly ObservedFilter[];
}

type Json = Readonly<Record<string, unknown>>;

function records(raw: unknown): readonly Json[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter((x): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x));
}

function str(r: Json, key: string): string | undefined {
  const v = r[key];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

function num(r: Json, key: string): number | undefined {
  const v = r[key];
  return typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/u.test(v) ? Number(v) : undefined;
}

function strings(r: Json, key: string): readonly string[] {
  const v = r[key];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** `10.0.0.1` → `10.0.0.1/32`; keeps `default` and CIDRs; masks host bits (`10.0.0.7/24` → `10.0.0.0/24`). */
export function canonicalDst(dst: string): string {
  if (dst === 'default' || dst === 'all') return dst;
  const [ip = '', len = '32'] = dst.split('/');
  const parts = ip.split('.').map(Number);
  const prefix = Number(len);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p)) || !Number.isInteger(prefix)) return dst;
  const n = parts.reduce((acc, p) => acc * 256 + p, 0);
  const size = 2 ** (32 - prefix);
  const net = Math.floor(n / size) * size;
  return `${[(net >>> 24) & 255, (net >>> 16) & 255, (net >>> 8) & 255, net & 255].join('.')}/${String(prefix)}`;
}

export function parseLinks(raw: unknown): readonly ObservedLink[] {
  return records(raw).flatMap((r) => {
    const name = str(r, 'ifname');
    if (name === undefined) return [];
    const flags = strings(r, 'flags');
    const ifindex = num(r, 'ifindex');
    const parent = str(r, 'link');
    return [{
      name, mtu: num(r, 'mtu') ?? 0, mac: (str(r, 'address') ?? '').toLowerCase(), up: flags.includes('UP'), operstate: str(r, 'operstate') ?? '',
      noarp: flags.includes('NOARP'),
      ...(ifindex !== undefined ? { ifindex } : {}),
      ...(parent !== undefined ? { parent } : {}),
    }];
  });
}

/** From `ip -j addr show`: one entry per IPv4 address. */
export function parseAddrs(raw: unknown): readonly ObservedAddr[] {
  return records(raw).flatMap((r) => {
    const dev = str(r, 'ifname');
    if (dev === undefined) return [];
    return records(r.addr_info).flatMap((a) => {
      const local = str(a, 'local');
      const len = num(a, 'prefixlen');
      const scope = str(a, 'scope');
      return str(a, 'family') === 'inet' && local !== undefined && len !== undefined ? [{ dev, cidr: `${local}/${String(len)}`, ...(scope !== undefined ? { scope } : {}) }] : [];
    });
  });
}

export function parseRoutes(raw: unknown): readonly ObservedRoute[] {
  return records(raw).flatMap((r) => {
    const dst = str(r, 'dst');
    if (dst === undefined || dst.includes(':')) return [];
    const dev = str(r, 'dev');
    const gateway = str(r, 'gateway');
    const scope = str(r, 'scope');
    return [
      {
        type: str(r, 'type') ?? 'unicast',
        dst: canonicalDst(dst),
        table: str(r, 'table') ?? 'main',
        onlink: strings(r, 'flags').includes('onlink'),
        ...(dev !== undefined ? { dev } : {}),
        ...(gateway !== undefined ? { gateway } : {}),
        ...(scope !== undefined ? { scope } : {}),
      },
    ];
  });
}

function selector(r: Json, key: 'src' | 'dst'): string | undefined {
  const ip = str(r, key);
  if (ip === undefined || ip === 'all') return undefined;
  const len = num(r, `${key}len`);
  return canonicalDst(len === undefined ? ip : `${ip}/${String(len)}`);
}

export function parseRules(raw: unknown): readonly ObservedRule[] {
  return records(raw).flatMap((r) => {
    const priority = num(r, 'priority');
    if (priority === undefined) return [];
    const from = selector(r, 'src');
    const to = selector(r, 'dst');
    return [{ priority, table: str(r, 'table') ?? 'main', ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) }];
  });
}

export function parseNeighs(raw: unknown): readonly ObservedNeigh[] {
  return records(raw).flatMap((r) => {
    const ip = str(r, 'dst');
    const dev = str(r, 'dev');
    if (ip === undefined || dev === undefined) return [];
    const lladdr = str(r, 'lladdr');
    return [{ ip, dev, state: strings(r, 'state'), ...(lladdr !== undefined ? { lladdr: lladdr.toLowerCase() } : {}) }];
  });
}

/**
 * From `tc -j -raw qdisc show` (every device). `tc -j` does not name the device per entry when a device is given,
 * so the whole namespace is listed and entries carry `dev`.
 */
export function parseQdiscs(raw: unknown): readonly ObservedQdisc[] {
  return records(raw).flatMap((r) => {
    const dev = str(r, 'dev');
    const kind = str(r, 'kind');
    const handle = str(r, 'handle');
    if (dev === undefined || kind === undefined || handle === undefined) return [];
    const opts = records([r.options])[0] ?? {};
    const rateBytes = num(opts, 'rate');
    const rawBuffer = str(opts, 'burst_raw');
    const bufferTicks = rawBuffer !== undefined && /^[0-9a-f]+$/iu.test(rawBuffer) ? Number.parseInt(rawBuffer, 16) : undefined;
    const limitBytes = num(opts, 'limit');
    return [
      {
        dev,
        kind,
        handle,
        root: r.root === true,
        ...(rateBytes !== undefined ? { rateBytes } : {}),
        ...(bufferTicks !== undefined ? { bufferTicks } : {}),
        ...(limitBytes !== undefined ? { limitBytes } : {}),
      },
    ];
  });
}

/** A u32 key (`value`/`mask` hex at offset 16: IPv4 daddr) as a CIDR; undefined for any other key or a non-prefix mask. */
function u32Dst(match: Json): string | undefined {
  const value = str(match, 'value');
  const mask = str(match, 'mask');
  if (num(match, 'off') !== 16 || value === undefined || mask === undefined || !/^[0-9a-f]{1,8}$/iu.test(value) || !/^[0-9a-f]{1,8}$/iu.test(mask)) return undefined;
  const m = Number.parseInt(mask, 16);
  const len = 32 - Math.log2(2 ** 32 - m);
  if (!Number.isInteger(len)) return undefined;
  const v = Number.parseInt(value, 16);
  return canonicalDst(`${[(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.')}/${String(len)}`);
}

/** From `tc -j filter show dev DEV <hook>`: the entries that carry a filter (not the per-pref and hash-table headers). */
export function parseFilters(raw: unknown, dev: string, hook: 'ingress' | 'egress'): readonly ObservedFilter[] {
  return records(raw).flatMap((r) => {
    const pref = num(r, 'pref');
    const kind = str(r, 'kind');
    const opts = records([r.options])[0];
    if (pref === undefined || kind === undefined || opts === undefined) return [];
    const acts = records(opts.actions);
    if (acts.length === 0 && opts.match === undefined) return []; // a u32 hash table entry
    const match = records([opts.match])[0];
    const dst = match === undefined ? undefined : u32Dst(match);
    const mirredAct = acts.find((a) => str(a, 'kind') === 'mirred');
    const direction = mirredAct === undefined ? undefined : str(mirredAct, 'direction');
    const target = mirredAct === undefined ? undefined : str(mirredAct, 'to_dev');
    return [
      {
        dev,
        hook,
        pref,
        kind,
        ...(dst !== undefined ? { dst } : {}),
        ...(direction !== undefined && target !== undefined ? { mirred: { direction, target } } : {}),
        actions: acts.flatMap((a) => {
          const k = str(a, 'kind');
          return k === undefined || k === 'mirred' ? [] : [k];
        }),
      },
    ];
  });
}
