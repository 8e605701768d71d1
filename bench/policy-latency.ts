/**
 * bench:policy's connection-setup latency through a compiled host-scope ruleset vs no table, in throwaway netns
 * `bq-TAG-{h,s,c,d}`: a "host" (forwarding, the node address on lo) and server, client and denied-client pods wired
 * the Terway veth way (pod /32 on eth0, default via 169.254.1.1 with a permanent neighbour, host /32 route), the
 * host-side veth of a local pod named as the compiler's scope says (so the table's vmaps key on it). The server runs
 * the packet tests' echo agent on 8080; the client (bench/connect-client.ts) times connect + first echoed byte.
 * Rounds interleave "rules" (table applied with the hub's applier) and "none" (table removed), alternating which
 * goes first. The denied pod must fail with the table and connect without it (printed sanity check).
 */
import { join } from 'node:path';
import { parseNetnsPath } from '../src/lib/brand.js';
import { createProcessRunner } from '../src/lib/exec.js';
import { podNs } from '../src/netlink/ops.js';
import { createBuiltinApplier } from '../src/policy/builtin/apply.js';
import type { CompiledRuleset, LocalPod } from '../src/policy/builtin/compile.js';
import type { Decision } from '../src/policy/model/decision.js';
import { createEvaluator } from '../src/policy/model/decide.js';
import { podKey, type Pod, type PolicyModel } from '../src/policy/model/types.js';
import { sh, shTry } from '../test/helpers/exec.js';
import { ROOT } from '../test/helpers/hub.js';
import { BUN, startAgent } from '../test/privileged/policy/pods.js';
import { pct } from './stats.js';

const PORT = 8080;
const HOST_MAC = 'ee:ee:ee:ee:ee:ee';
const CLIENT = join(ROOT, 'bench', 'connect-client.ts');

export interface LatencyPods {
  readonly server: Pod;
  readonly client: Pod;
  readonly denied: Pod;
  readonly deniedBy: Decision;
}

export interface LatencyResult {
  readonly rules: readonly number[];
  readonly none: readonly number[];
  readonly failed: { readonly rules: number; readonly none: number };
  /** The denied pod's connects that succeeded with the table / without it (of DENIED_TRIES each). */
  readonly deniedConnected: { readonly rules: number; readonly none: number };
}

export const DENIED_TRIES = 3;

/**
 * A local pod isolated for ingress as the server, a pod the evaluator allows to reach it on 8080/TCP as the client
 * and one it denies (preferably denied by the server's ingress); local pods are preferred as clients (their
 * egress chain is traversed too).
 */
export function pickPods(model: PolicyModel, ruleset: CompiledRuleset, locals: readonly LocalPod[]): LatencyPods | undefined {
  const byKey = new Map(model.pods.map((p) => [podKey(p), p]));
  const local = new Set(locals.map((l) => l.pod));
  const candidates = [...model.pods.filter((p) => local.has(podKey(p))), ...model.pods.filter((p) => !local.has(podKey(p)))];
  const evaluator = createEvaluator(model);
  for (const iso of ruleset.isolated.filter((i) => i.ingress.length > 0)) {
    const server = byKey.get(iso.pod);
    if (server === undefined) continue;
    const judged = (p: Pod): Decision => evaluator.decide({ pod: podKey(p) }, { pod: iso.pod }, PORT, 'TCP');
    const others = candidates.filter((p) => p !== server);
    const client = others.find((p) => judged(p).allowed);
    const deniedAtIngress = others.find((p) => !judged(p).ingress.allowed && judged(p).egress.allowed);
    const denied = deniedAtIngress ?? others.find((p) => !judged(p).allowed);
    if (client !== undefined && denied !== undefined) return { server, client, denied, deniedBy: judged(denied) };
  }
  return undefined;
}

function ipOf(p: Pod): string {
  const ip = p.ips[0];
  if (ip === undefined) throw new Error(`pod ${podKey(p)} has no IP`);
  return ip;
}

/** Parses connect-client's JSON line, naming the bad field. */
function parseClientOutput(stdout: string): { us: number[]; failed: number } {
  const v = JSON.parse(stdout) as unknown;
  if (typeof v !== 'object' || v === null) throw new Error(`connect-client: not an object: ${stdout.slice(0, 200)}`);
  const us: unknown = Reflect.get(v, 'us');
  const failed: unknown = Reflect.get(v, 'failed');
  if (!Array.isArray(us) || !us.every((x): x is number => typeof x === 'number')) throw new Error('connect-client: field us is not a number list');
  if (typeof failed !== 'number') throw new Error('connect-client: field failed is not a number');
  return { us, failed };
}

function connect(netns: string, ip: string, n: number, warmup: number, timeoutMs: number): { us: number[]; failed: number } {
  const r = shTry('ip', ['netns', 'exec', netns, BUN, CLIENT, ip, String(PORT), String(n), String(warmup), String(timeoutMs)], { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`connect-client in ${netns} exited ${String(r.code)}: ${r.stderr.slice(0, 300)}`);
  return parseClientOutput(r.stdout);
}

/** Builds the layout; every netns created is pushed on `cleanups` before anything else can fail. */
function wire(tag: string, nodeIp: string, pods: LatencyPods, locals: readonly LocalPod[], cleanups: (() => void)[]): { host: string; server: string; client: string; denied: string } {
  const name = (role: string): string => {
    const ns = `bq-${tag}-${role}`;
    sh('ip', ['netns', 'add', ns]);
    cleanups.push(() => {
      shTry('ip', ['netns', 'del', ns]);
    });
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  };
  const host = name('h');
  sh('ip', ['-n', host, 'addr', 'add', `${nodeIp}/32`, 'dev', 'lo']);
  sh('ip', ['netns', 'exec', host, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  const pod = (role: string, p: Pod): string => {
    const ns = name(role);
    const ip = ipOf(p);
    const veth = locals.find((l) => l.pod === podKey(p))?.ifname ?? `bq${tag}${role}`;
    sh('ip', ['-n', host, 'link', 'add', veth, 'address', HOST_MAC, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    sh('ip', ['-n', host, 'link', 'set', veth, 'up']);
    sh('ip', ['-n', host, 'route', 'add', `${ip}/32`, 'dev', veth, 'src', nodeIp]);
    for (const args of [
      ['addr', 'add', `${ip}/32`, 'dev', 'eth0'],
      ['link', 'set', 'eth0', 'up'],
      ['route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link'],
      ['route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0'],
      ['neigh', 'add', '169.254.1.1', 'lladdr', HOST_MAC, 'dev', 'eth0', 'nud', 'permanent'],
    ]) sh('ip', ['-n', ns, ...args]);
    return ns;
  };
  return { host, server: pod('s', pods.server), client: pod('c', pods.client), denied: pod('d', pods.denied) };
}

/** Runs the layout for one ruleset; removes its netns (and the echo agent) before returning or throwing. */
export async function measureLatency(o: {
  readonly tag: string;
  readonly nodeIp: string;
  readonly ruleset: CompiledRuleset;
  readonly locals: readonly LocalPod[];
  readonly pods: LatencyPods;
  readonly connects: number;
  readonly rounds: number;
  readonly cleanups: (() => void)[];
}): Promise<LatencyResult> {
  const mine: (() => void)[] = [];
  const undo = (): void => {
    for (const f of mine.splice(0).reverse()) f();
  };
  o.cleanups.push(undo);
  try {
    const ns = wire(o.tag, o.nodeIp, o.pods, o.locals, mine);
    const agent = startAgent(ns.server, [PORT]);
    mine.push(() => {
      agent.stop();
    });
    await agent.ready;
    const applier = createBuiltinApplier(createProcessRunner());
    const hostNs = podNs(parseNetnsPath(`/var/run/netns/${ns.host}`));
    const serverIp = ipOf(o.pods.server);
    const rules: number[] = [];
    const none: number[] = [];
    const failed = { rules: 0, none: 0 };
    const per = Math.ceil(o.connects / o.rounds);
    const run = async (withRules: boolean): Promise<void> => {
      if (withRules) await applier.apply(hostNs, o.ruleset);
      else await applier.removeTable(hostNs, o.ruleset.table);
      const r = connect(ns.client, serverIp, per, 20, 2000);
      (withRules ? rules : none).push(...r.us);
      failed[withRules ? 'rules' : 'none'] += r.failed;
    };
    for (let round = 0; round < o.rounds; round++) {
      await run(round % 2 === 0);
      await run(round % 2 !== 0);
    }
    await applier.apply(hostNs, o.ruleset);
    const deniedRules = DENIED_TRIES - connect(ns.denied, serverIp, DENIED_TRIES, 0, 1000).failed;
    await applier.removeTable(hostNs, o.ruleset.table);
    const deniedNone = DENIED_TRIES - connect(ns.denied, serverIp, DENIED_TRIES, 0, 1000).failed;
    return { rules, none, failed, deniedConnected: { rules: deniedRules, none: deniedNone } };
  } finally {
    undo();
  }
}

export function summary(xs: readonly number[]): { p50: number; p99: number } {
  return { p50: pct(xs, 50), p99: pct(xs, 99) };
}
