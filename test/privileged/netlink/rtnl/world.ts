/**
 * One side of the differential test: a fresh "host" netns (with the ENI stand-ins of ./scenarios.ts) and two pod
 * netns, the executor process run inside that host (./run-plans.ts under bun), and the kernel state of all three
 * read with `ip -j`/`tc -j` and normalised so two worlds compare: interface indexes dropped (names stay; peers by
 * name or netnsid), MACs kept when a plan or the stand-ins chose them and replaced by `<random>` otherwise, the
 * world's netns names replaced by placeholders, counters dropped.
 */
import { join } from 'node:path';
import type { NetnsPath } from '../../../../src/lib/brand.js';
import { sh, shTry } from '../../../helpers/exec.js';
import { ROOT } from '../../../helpers/hub.js';
import { createNetns, type TestNetns } from '../../../helpers/netns.js';
import { ENI, EXCLUSIVE, type Action } from './scenarios.js';

export const BUN = join(ROOT, 'node_modules', '.bin', 'bun');
const RUNNER = join(ROOT, 'test', 'privileged', 'netlink', 'rtnl', 'run-plans.ts');

export type Which = 'rtnl' | 'iproute2';

/** A process the executor started: its argv joined, and what it read on stdin (a batch's lines). */
export interface RunCommand {
  readonly argv: string;
  readonly stdin: string;
}

export interface RunOutput {
  readonly driver: string;
  readonly results: readonly unknown[];
  readonly commands: readonly RunCommand[];
}

export interface World {
  readonly which: Which;
  readonly host: TestNetns;
  readonly pods: readonly [TestNetns, TestNetns];
  readonly podPaths: readonly [NetnsPath, NetnsPath];
  /** `ip ARGS` in the host netns. */
  ip(args: readonly string[]): void;
  /** Runs the actions through this world's executor, in its host netns; results with netns names normalised. */
  run(actions: readonly Action[]): RunOutput;
  /** The normalised kernel state of the host and both pods. */
  state(knownMacs: ReadonlySet<string>): unknown;
  remove(): void;
}

const DROP = new Set(['ifindex', 'link_index', 'stats', 'stats64', 'valid_life_time', 'preferred_life_time', 'operstate', 'used', 'confirmed', 'updated', 'refcnt']);
const MAC_KEYS = new Set(['address', 'broadcast', 'lladdr', 'perm_address']);
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/u;

export function createWorld(which: Which, tag: string): World {
  const w = which === 'rtnl' ? 'r' : 'i';
  const host = createNetns(`rt${tag}${w}h`);
  const pods = [createNetns(`rt${tag}${w}1`, { lo: 'down' }), createNetns(`rt${tag}${w}2`, { lo: 'down' })] as const;
  const ip = (args: readonly string[]): void => void sh('ip', ['-n', host.name, ...args]);
  for (const e of [ENI, EXCLUSIVE]) {
    ip(['link', 'add', e.link, 'address', e.mac, 'type', 'veth', 'peer', 'name', e.peer, 'address', e.peerMac]);
    ip(['link', 'set', e.peer, 'up']);
    ip(['link', 'set', e.link, 'up']);
  }
  const names: [string, string][] = [[host.name, '<host>'], [pods[0].name, '<pod1>'], [pods[1].name, '<pod2>']];
  const normalise = (v: unknown, knownMacs?: ReadonlySet<string>, key = ''): unknown => {
    if (typeof v === 'string') {
      if (knownMacs !== undefined && MAC_KEYS.has(key) && MAC.test(v) && !knownMacs.has(v) && v !== 'ff:ff:ff:ff:ff:ff' && v !== '00:00:00:00:00:00') return '<random>';
      return names.reduce((s, [from, to]) => s.replaceAll(from, to), v);
    }
    if (Array.isArray(v)) return v.map((x) => normalise(x, knownMacs));
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).filter(([k]) => !DROP.has(k)).map(([k, x]) => [k, normalise(x, knownMacs, k)]));
    }
    return v;
  };
  const rows = (tool: string, ns: string, args: readonly string[]): unknown[] => {
    const out = sh(tool, ['-n', ns, '-j', ...args]).trim();
    return out === '' ? [] : (JSON.parse(out) as unknown[]);
  };
  const byName = (xs: unknown[]): unknown[] => [...xs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return {
    which,
    host,
    pods,
    podPaths: [pods[0].path, pods[1].path],
    ip,
    run(actions) {
      const r = shTry('ip', ['netns', 'exec', host.name, BUN, RUNNER, which], { input: JSON.stringify(actions) });
      if (r.code !== 0) throw new Error(`run-plans ${which} exited ${String(r.code)}: ${r.stderr}`);
      const out = JSON.parse(r.stdout) as RunOutput;
      return { ...out, results: normalise(out.results) as unknown[] };
    },
    state(knownMacs) {
      const of = (ns: string): unknown => ({
        links: byName(rows('ip', ns, ['-d', 'link', 'show'])),
        addrs: byName(rows('ip', ns, ['-4', 'addr', 'show'])),
        routes: byName(rows('ip', ns, ['-4', 'route', 'show', 'table', 'all'])),
        rules: rows('ip', ns, ['-4', 'rule', 'show']),
        neigh: byName(rows('ip', ns, ['-4', 'neigh', 'show'])),
        qdiscs: byName(rows('tc', ns, ['qdisc', 'show'])),
      });
      return normalise({ host: of(host.name), pod1: of(pods[0].name), pod2: of(pods[1].name) }, knownMacs);
    },
    remove() {
      for (const p of pods) p.remove();
      host.remove();
    },
  };
}

/** Every MAC a plan names (stable MACs the planners chose), plus the stand-ins'. */
export function macsOf(actions: readonly Action[]): ReadonlySet<string> {
  const text = JSON.stringify(actions);
  return new Set([...(text.match(/[0-9a-f]{2}(?::[0-9a-f]{2}){5}/gu) ?? []), ENI.mac, ENI.peerMac, EXCLUSIVE.mac, EXCLUSIVE.peerMac]);
}
