/**
 * Pure rendering of ops: each op becomes one `ip -batch` or `tc -batch` line (tokens) or one sysctl write, and a
 * plan becomes ordered steps (consecutive ops of one tool and namespace share one `ip|tc -force -batch -` process).
 */
import { InvalidInputError } from '../lib/errors.js';
import type { Command } from '../lib/exec.js';
import type { NsRef, Op, Plan, QdiscSlot, QdiscSpec } from './ops.js';
import { quote } from '../lib/text.js';
import { U32_MAX } from './tbf-units.js';

export type TcOp = Extract<Op, { kind: 'qdisc.replace' | 'qdisc.del' | 'filter.redirect' | 'filter.u32-dst' | 'filter.del' }>;
export type IpOp = Exclude<Op, { kind: 'sysctl.set' } | TcOp>;
/** The iproute2 programs that run batches. */
export type BatchTool = 'ip' | 'tc';

export type Rendered =
  | { readonly kind: 'ip'; readonly tokens: readonly string[] }
  | { readonly kind: 'tc'; readonly tokens: readonly string[] }
  | { readonly kind: 'sysctl'; readonly ns: NsRef; readonly path: string; readonly value: string };

export interface IndexedOp {
  readonly index: number; // position in the plan
  readonly op: Op;
}

export type Step =
  | { readonly kind: BatchTool; readonly ns: NsRef; readonly ops: readonly IndexedOp[]; readonly command: Command }
  /** A host sysctl: one /proc/sys write, no process. */
  | { readonly kind: 'sysctl'; readonly entry: IndexedOp; readonly path: string; readonly value: string }
  /** Consecutive sysctls of one pod namespace: one `nsenter --net=PATH sysctl -q -w …` process. */
  | { readonly kind: 'pod-sysctl'; readonly ns: NsRef; readonly ops: readonly IndexedOp[]; readonly command: Command };

/**
 * Namespace path of the host (the namespace the executor runs in, whatever /proc/1's is: under the test runner or
 * in a container it is not init's), for a link moved into it from a pod namespace: `ip -n NAME` and `nsenter`
 * switch only themselves, so this process's entry still names the host.
 */
export function hostNetnsPath(): string {
  return `/proc/${String(process.pid)}/ns/net`;
}
const BAD_TOKEN = /[\s"'#\\]/u;

export function nsKey(ns: NsRef): string {
  return ns.kind === 'host' ? 'host' : `pod:${ns.path}`;
}

export function sameNs(a: NsRef, b: NsRef): boolean {
  return nsKey(a) === nsKey(b);
}

export function describeNs(ns: NsRef): string {
  return ns.kind === 'host' ? 'host' : `netns ${ns.path}`;
}

/** Whether a value can be one token of an `ip|tc -batch` line (no whitespace, quote, `#` or backslash). */
export function isBatchSafe(token: string): boolean {
  return token.length > 0 && !BAD_TOKEN.test(token);
}

function checkToken(token: string): string {
  if (!isBatchSafe(token)) {
    throw new InvalidInputError('op', `unsafe ip-batch token ${quote(token)}`);
  }
  return token;
}

function int(n: number, field: string, min: number, max: number): string {
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidInputError(field, `out of range: ${String(n)}`);
  return String(n);
}

function tableToken(table: number | 'main'): string {
  return table === 'main' ? 'main' : int(table, 'table', 1, 0xffffffff);
}

function selectors(op: { readonly from?: string; readonly to?: string }): string[] {
  return [...(op.from !== undefined ? ['from', op.from] : []), ...(op.to !== undefined ? ['to', op.to] : [])];
}

function nsPath(ns: NsRef): string {
  return ns.kind === 'pod' ? ns.path : hostNetnsPath();
}

function peerNsTokens(ns: NsRef, peerNs: NsRef): string[] {
  if (sameNs(ns, peerNs)) return [];
  return ['netns', nsPath(peerNs)];
}

/** The tokens of one `ip -batch` line for an ip op (without the leading `ip`). */
export function ipTokens(op: IpOp): readonly string[] {
  const tokens = ipTokensUnchecked(op);
  return tokens.map(checkToken);
}

function ipTokensUnchecked(op: IpOp): string[] {
  switch (op.kind) {
    case 'link.veth': {
      const mtu = int(op.mtu, 'mtu', 68, 65535);
      return [
        'link', 'add', op.host.name, 'mtu', mtu, 'address', op.host.mac, 'type', 'veth',
        'peer', 'name', op.peer.name, 'mtu', mtu, 'address', op.peer.mac, ...peerNsTokens(op.ns, op.peerNs),
      ];
    }
    case 'link.move':
      if (sameNs(op.ns, op.to)) throw new InvalidInputError('op', `link.move of ${op.name} into the namespace it is in (${describeNs(op.to)})`);
      return ['link', 'set', 'dev', op.name, 'netns', nsPath(op.to), 'name', op.newName, ...(op.mtu !== undefined ? ['mtu', int(op.mtu, 'mtu', 68, 65535)] : [])];
    case 'link.ipvlan':
      return [
        'link', 'add', 'link', op.parent, 'name', op.name, 'mtu', int(op.mtu, 'mtu', 68, 65535), ...peerNsTokens(op.ns, op.peerNs),
        'type', 'ipvlan', 'mode', op.mode,
      ];
    case 'link.arp-off':
      return ['link', 'set', 'dev', op.name, 'arp', 'off'];
    case 'link.up':
      return ['link', 'set', 'dev', op.name, 'up'];
    case 'link.del':
      return ['link', 'del', 'dev', op.name];
    case 'addr.replace':
      return ['addr', 'replace', op.cidr, 'dev', op.dev, ...(op.scope !== undefined ? ['scope', op.scope] : [])];
    case 'route.replace':
      return [
        'route', 'replace', op.dst,
        ...(op.via !== undefined ? ['via', op.via] : []),
        'dev', op.dev,
        ...(op.onlink === true ? ['onlink'] : []),
        ...(op.scope !== undefined ? ['scope', op.scope] : []),
        ...(op.table !== undefined ? ['table', tableToken(op.table)] : []),
      ];
    case 'route.del':
      return [
        'route', 'del', op.dst,
        ...(op.dev !== undefined ? ['dev', op.dev] : []),
        ...(op.table !== undefined ? ['table', tableToken(op.table)] : []),
      ];
    case 'rule.add':
      return ['rule', 'add', ...selectors(op), 'lookup', tableToken(op.table), 'priority', int(op.priority, 'priority', 0, 0xffffffff)];
    case 'rule.del':
      return [
        'rule', 'del', ...selectors(op),
        ...(op.table !== undefined ? ['lookup', tableToken(op.table)] : []),
        'priority', int(op.priority, 'priority', 0, 0xffffffff),
      ];
    case 'neigh.replace':
      return ['neigh', 'replace', op.ip, 'lladdr', op.lladdr, 'dev', op.dev, 'nud', 'permanent'];
    case 'link.ifb':
      return ['link', 'add', op.name, ...(op.mac !== undefined ? ['address', op.mac] : []), 'mtu', int(op.mtu, 'mtu', 68, 65535), 'txqueuelen', '0', 'type', 'ifb'];
  }
}

function qdiscTokens(q: QdiscSpec): string[] {
  switch (q.type) {
    case 'tbf':
      // `bps` = bytes per second in tc's units; burst and limit are bytes.
      return [
        'root', 'handle', '1:', 'tbf',
        'rate', `${int(q.rateBytes, 'rateBytes', 1, Number.MAX_SAFE_INTEGER)}bps`,
        'burst', int(q.burstBytes, 'burstBytes', 1, U32_MAX - 1),
        'limit', int(q.limitBytes, 'limitBytes', 1, U32_MAX),
      ];
    case 'ingress':
      return ['handle', 'ffff:', 'ingress'];
    case 'clsact':
      return ['clsact'];
  }
}

const SLOT_TOKENS: Readonly<Record<QdiscSlot, readonly string[]>> = { root: ['root'], ingress: ['handle', 'ffff:', 'ingress'], clsact: ['clsact'] };

/** The tokens of one `tc -batch` line for a tc op (without the leading `tc`). */
export function tcTokens(op: TcOp): readonly string[] {
  const tokens = ((): string[] => {
    switch (op.kind) {
      case 'qdisc.replace':
        return ['qdisc', 'replace', 'dev', op.dev, ...qdiscTokens(op.qdisc)];
      case 'qdisc.del':
        return ['qdisc', 'del', 'dev', op.dev, ...SLOT_TOKENS[op.slot]];
      case 'filter.redirect':
        return [
          'filter', 'replace', 'dev', op.dev, 'parent', 'ffff:', 'protocol', 'all', 'prio', '1', 'handle', '800::800',
          'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', op.target,
        ];
      case 'filter.u32-dst':
        return [
          'filter', 'add', 'dev', op.dev, op.hook, 'pref', int(op.pref, 'pref', 1, 0xffff), 'protocol', 'ip',
          'u32', 'match', 'ip', 'dst', op.dst,
          ...(op.redirect === 'ingress' ? ['action', 'skbedit', 'ptype', 'host', 'pipe'] : []),
          'action', 'mirred', op.redirect, 'redirect', 'dev', op.target,
        ];
      case 'filter.del':
        return ['filter', 'del', 'dev', op.dev, op.hook, 'pref', int(op.pref, 'pref', 1, 0xffff), 'protocol', 'ip', 'u32'];
    }
  })();
  return tokens.map(checkToken);
}

export function isTcOp(op: Op): op is TcOp {
  return op.kind === 'qdisc.replace' || op.kind === 'qdisc.del' || op.kind === 'filter.redirect' || op.kind === 'filter.u32-dst' || op.kind === 'filter.del';
}

/**
 * sysctl(8) key convention (keys are built by sysctlKey in ./ops.ts): dots separate levels; a `/` inside a key stands for a literal dot (e.g. a VLAN
 * link `eth0.5` is written `net.ipv4.conf.eth0/5.rp_filter`).
 */
export function sysctlPath(key: string): string {
  const parts = key.split('.').map((p) => p.replaceAll('/', '.'));
  if (parts.some((p) => p.length === 0 || p === '.' || p === '..' || !/^[A-Za-z0-9_.@-]+$/u.test(p))) {
    throw new InvalidInputError('sysctl', `unsafe sysctl key ${quote(key)}`);
  }
  return `/proc/sys/${parts.join('/')}`;
}

const PROC_SYS = '/proc/sys/';

export function renderOp(op: Op): Rendered {
  if (op.kind === 'sysctl.set') {
    if (/[\s\0]/u.test(op.value) || op.value.length === 0) throw new InvalidInputError('sysctl', `unsafe value ${quote(op.value)}`);
    return { kind: 'sysctl', ns: op.ns, path: sysctlPath(op.key), value: op.value };
  }
  if (isTcOp(op)) return { kind: 'tc', tokens: tcTokens(op) };
  return { kind: 'ip', tokens: ipTokens(op) };
}

export function batchLine(tokens: readonly string[]): string {
  return tokens.map(checkToken).join(' ');
}

/**
 * `ip -force -batch -` (or `tc -force -batch -`) in the host, or through `nsenter --net=PATH` in a pod namespace;
 * lines go to stdin.
 */
/**
 * A netns iproute2 can open by name itself (`ip -n NAME`, `tc -n NAME` open /var/run/netns/NAME): one exec instead
 * of nsenter + ip, which is ~3 ms per ADD here. Any other path (podman's /run/netns, /proc/PID/ns/net) goes through
 * nsenter.
 */
const NAMED_NETNS = /^\/var\/run\/netns\/([^/]+)$/u;

export function batchCommand(ns: NsRef, lines: readonly (readonly string[])[], tool: BatchTool = 'ip'): Command {
  const stdin = lines.map((l) => `${batchLine(l)}\n`).join('');
  const argv = [tool, '-force', '-batch', '-'];
  if (ns.kind === 'host') return { file: tool, args: argv.slice(1), stdin };
  const named = NAMED_NETNS.exec(checkToken(ns.path))?.[1];
  return named !== undefined
    ? { file: tool, args: ['-n', named, ...argv.slice(1)], stdin }
    : { file: 'nsenter', args: [`--net=${ns.path}`, ...argv], stdin };
}

/**
 * Pod-namespace sysctls: `nsenter --net=PATH sysctl -q -w net/ipv4/…=V …`. The path form (relative to /proc/sys,
 * slashes) is passed, not the dotted key: procps takes it as is (its first separator is `/`), so a dot inside a
 * level (`eth0.5`) is never mistaken for a separator. One process for the run: sysctl goes on past a failing key,
 * names it on stderr (its /proc/sys path or its dotted key) and exits non-zero.
 */
export function podSysctlCommand(ns: NsRef & { readonly kind: 'pod' }, entries: readonly { readonly path: string; readonly value: string }[]): Command {
  const args = entries.map((e) => {
    if (!e.path.startsWith(PROC_SYS)) throw new InvalidInputError('sysctl', `not a /proc/sys path: ${quote(e.path)}`);
    return `${e.path.slice(PROC_SYS.length)}=${e.value}`;
  });
  return { file: 'nsenter', args: [`--net=${checkToken(ns.path)}`, 'sysctl', '-q', '-w', ...args] };
}

/**
 * Groups consecutive ip (or tc) ops of one namespace into one batch step, and consecutive sysctls of one pod
 * namespace into one `nsenter … sysctl` step; each host sysctl is its own step (a file write).
 */
export function planSteps(plan: Plan): readonly Step[] {
  const steps: Step[] = [];
  let group: { tool: BatchTool | 'pod-sysctl'; ns: NsRef; ops: IndexedOp[]; lines: (readonly string[])[] } | undefined;
  const flush = (): void => {
    if (group?.tool === 'pod-sysctl' && group.ns.kind === 'pod') {
      const ns = group.ns;
      steps.push({ kind: 'pod-sysctl', ns, ops: group.ops, command: podSysctlCommand(ns, group.lines.map(([path = '', value = '']) => ({ path, value }))) });
    } else if (group && group.tool !== 'pod-sysctl') {
      steps.push({ kind: group.tool, ns: group.ns, ops: group.ops, command: batchCommand(group.ns, group.lines, group.tool) });
    }
    group = undefined;
  };
  plan.forEach((op, index) => {
    const r = renderOp(op);
    if (r.kind === 'sysctl' && r.ns.kind === 'host') {
      flush();
      steps.push({ kind: 'sysctl', entry: { index, op }, path: r.path, value: r.value });
      return;
    }
    if (r.kind === 'sysctl') {
      if (group && (!sameNs(group.ns, op.ns) || group.tool !== 'pod-sysctl')) flush();
      group ??= { tool: 'pod-sysctl', ns: op.ns, ops: [], lines: [] };
      group.ops.push({ index, op });
      group.lines.push([r.path, r.value]);
      return;
    }
    if (group && (!sameNs(group.ns, op.ns) || group.tool !== r.kind)) flush();
    group ??= { tool: r.kind, ns: op.ns, ops: [], lines: [] };
    group.ops.push({ index, op });
    group.lines.push(r.tokens);
  });
  flush();
  return steps;
}

/**
 * With `-force`, iproute2 (`ip` and `tc` alike) keeps going after a failing line and prints, for each, the error
 * text followed by `Command failed -:N` (N 1-based). tc may print several lines for one failure (e.g. `Error:
 * Parent Qdisc doesn't exists.` then `We have an error talking to the kernel`); they are joined. Returns line
 * number → error text.
 */
export function parseBatchFailures(stderr: string): ReadonlyMap<number, string> {
  const out = new Map<number, string>();
  let pending: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = /^Command failed -:(\d+)\s*$/u.exec(line);
    if (m?.[1] !== undefined) {
      out.set(Number(m[1]), pending.join('\n').trim());
      pending = [];
    } else if (line.trim().length > 0) {
      pending.push(line);
    }
  }
  return out;
}

/** Human-readable one-line description of an op (for logs, errors and probe reports). */
export function describeOp(op: Op): string {
  const r = renderOp(op);
  const text = r.kind === 'sysctl' ? `sysctl ${op.kind === 'sysctl.set' ? op.key : ''}=${r.value}` : `${r.kind} ${r.tokens.join(' ')}`;
  return op.ns.kind === 'host' ? text : `${text} (in ${describeNs(op.ns)})`;
}
