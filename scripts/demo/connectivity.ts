/**
 * Connectivity measured by the demo itself, with no ping: a bun agent (probe-agent.ts) in every pod's netns runs a
 * TCP/UDP echo server and a byte sink, and connects to the others on request; one more agent on the host plays the
 * node (kubelet probes). The matrix is TCP connections to port 80, row → column.
 */
import { startAgent, type Agent } from './agent.js';
import { WEB_PORT, key } from './cluster.js';
import { onCleanup } from './host.js';
import type { WiredPod } from './pods.js';
import { say } from './ui.js';
import { matrixKey } from '../../src/policy/model/matrix.js';

export const SINK_PORT = 5201;
const TIMEOUT_MS = 700;

export interface Agents {
  readonly pods: ReadonlyMap<string, Agent>;
  readonly node: Agent;
}

export async function startAgents(pods: readonly WiredPod[]): Promise<Agents> {
  const m = new Map<string, Agent>();
  for (const p of pods) m.set(key(p), startAgent(p.netns, [WEB_PORT.port], SINK_PORT));
  const node = startAgent(undefined, []);
  onCleanup('probe agents', () => {
    for (const a of [...m.values(), node]) a.stop();
  });
  await Promise.race([
    Promise.all([...m.values(), node].map((a) => a.ready)),
    new Promise((_r, reject) => setTimeout(() => { reject(new Error('the probe agents did not start within 15 s')); }, 15_000)),
  ]);
  return { pods: m, node };
}

export interface Matrix {
  /** pod → pod, keyed like `policy matrix --json`. */
  readonly pods: Record<string, boolean>;
  /** node → pod. */
  readonly node: Record<string, boolean>;
}

export async function measure(pods: readonly WiredPod[], agents: Agents): Promise<Matrix> {
  const out: Record<string, boolean> = {};
  await Promise.all(pods.map(async (src) => {
    const dsts = pods.filter((d) => d !== src);
    const agent = agents.pods.get(key(src));
    if (agent === undefined) throw new Error(`no agent in ${key(src)}`);
    const r = await agent.probe(dsts.map((d) => ({ ip: d.ip, port: WEB_PORT.port, proto: 'TCP' as const })), TIMEOUT_MS);
    dsts.forEach((d, i) => { out[matrixKey(key(src), key(d), WEB_PORT)] = r[i] === true; });
  }));
  const fromNode = await agents.node.probe(pods.map((d) => ({ ip: d.ip, port: WEB_PORT.port, proto: 'TCP' as const })), TIMEOUT_MS);
  return { pods: out, node: Object.fromEntries(pods.map((d, i) => [key(d), fromNode[i] === true])) };
}

/** Prints the matrix; a cell that differs from `expected` is marked and counted. Returns the mismatches. */
export function printMatrix(pods: readonly WiredPod[], m: Matrix, expected: Readonly<Record<string, boolean>>): string[] {
  const w = 17;
  const bad: string[] = [];
  say(`${'from \\ to'.padEnd(w)}${pods.map((p) => key(p).padEnd(w)).join('')}`);
  const cell = (ok: boolean | undefined, want: boolean | undefined, what: string): string => {
    const text = ok === true ? 'connects' : 'refused';
    if (ok !== want) bad.push(`${what}: measured ${text}, expected ${want === true ? 'connects' : 'refused'}`);
    return `${text}${ok !== want ? ' (!)' : ''}`.padEnd(w);
  };
  for (const src of pods) {
    say(`${key(src).padEnd(w)}${pods.map((d) => (d === src ? '-'.padEnd(w) : cell(m.pods[matrixKey(key(src), key(d), WEB_PORT)], expected[matrixKey(key(src), key(d), WEB_PORT)], `${key(src)} → ${key(d)}`))).join('')}`);
  }
  // the node always reaches its pods (kubelet probes): the builtin backend admits it under any policy
  say(`${'node'.padEnd(w)}${pods.map((d) => cell(m.node[key(d)], true, `node → ${key(d)}`)).join('')}`);
  return bad;
}
