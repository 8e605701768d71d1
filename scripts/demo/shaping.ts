/**
 * Bandwidth shaping measured without iperf3: the bun agents stream TCP for ~2 s and the receiver reports the rate
 * it saw (first to last byte). shop/web carries the ingress/egress annotations; a flow between two unannotated pods
 * shows the unshaped rate for contrast.
 */
import { WEB_EGRESS_BPS, WEB_INGRESS_BPS, key } from './cluster.js';
import { SINK_PORT, type Agents } from './connectivity.js';
import type { WiredPod } from './pods.js';
import { mbit, run, say } from './ui.js';

const STREAM_MS = 2000;

interface Flow {
  readonly from: WiredPod;
  readonly to: WiredPod;
  readonly limitBps?: number;
  readonly what: string;
}

/** The host veth's qdiscs, one line each (what the plugin programmed for the annotations). */
function qdiscs(dev: string): string[] {
  return run(['tc', 'qdisc', 'show', 'dev', dev]).stdout.split('\n').filter((l) => l.trim() !== '' && !/qdisc noqueue/u.test(l));
}

/** Measures each flow; returns the failures (a shaped flow above its limit by > 10 %, or below half of it). */
export async function measureShaping(pods: readonly WiredPod[], agents: Agents): Promise<string[]> {
  const byName = (n: string): WiredPod => {
    const p = pods.find((q) => key(q) === n);
    if (p === undefined) throw new Error(`no pod ${n}`);
    return p;
  };
  const web = byName('shop/web');
  const client = byName('shop/client');
  const stranger = byName('outside/stranger');
  say(`tc on ${web.hostVeth} (shop/web's host veth):`);
  for (const l of qdiscs(web.hostVeth)) say(`  ${l}`);
  const flows: Flow[] = [
    { from: client, to: web, limitBps: WEB_INGRESS_BPS, what: 'into shop/web (ingress-bandwidth 20M)' },
    { from: web, to: client, limitBps: WEB_EGRESS_BPS, what: 'out of shop/web (egress-bandwidth 10M)' },
    { from: client, to: stranger, what: 'unshaped pods, for contrast' },
  ];
  const bad: string[] = [];
  for (const f of flows) {
    const agent = agents.pods.get(key(f.from));
    const bps = agent === undefined ? undefined : await agent.throughput(f.to.ip, SINK_PORT, STREAM_MS);
    const label = `${key(f.from)} → ${key(f.to)}`.padEnd(32);
    if (bps === undefined) {
      bad.push(`${label.trim()}: no throughput measured (the stream did not connect)`);
      say(`${label} FAILED to stream`);
      continue;
    }
    const lim = f.limitBps;
    const ratio = lim === undefined ? '' : `  = ${((bps / lim) * 100).toFixed(0)} % of the configured ${mbit(lim)}`;
    say(`${label} ${mbit(bps).padStart(14)}  ${f.what}${ratio}`);
    if (lim !== undefined && (bps > lim * 1.1 || bps < lim * 0.5)) bad.push(`${label.trim()}: ${mbit(bps)} measured, ${mbit(lim)} configured`);
  }
  return bad;
}
