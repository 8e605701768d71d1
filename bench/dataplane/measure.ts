/**
 * bench:dataplane's measurements between the two pods of each dataplane: TCP throughput (iperf3 from pod a to pod b,
 * test/privileged/bandwidth/iperf.ts) and request/response latency (bench/rr.ts, a ping-pong over one kept-open TCP
 * connection). Dataplanes are interleaved round by round, in a rotated order, so each sees the same machine load.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from '../../test/helpers/hub.js';
import { iperf } from '../../test/privileged/bandwidth/iperf.js';
import { pct } from '../stats.js';
import type { Cleanups, PodPair } from './pods.js';

const RR = join(ROOT, 'bench', 'rr.ts');

export interface MeasureOptions {
  readonly rounds: number;
  /** iperf3 -t of each throughput run. */
  readonly seconds: number;
  /** Timed round trips per round (after one untimed warm-up round of a tenth as many). */
  readonly rrCount: number;
  /** Bytes per message each way. */
  readonly rrSize: number;
  /** Progress lines (a round can take a while under load or emulation). */
  readonly log: (line: string) => void;
}

export interface Figures {
  readonly key: string;
  readonly label: string;
  /** Throughput of each round, Gbit/s. */
  readonly gbps: readonly number[];
  /** RR p50 and p99 of each round, µs. */
  readonly p50s: readonly number[];
  readonly p99s: readonly number[];
  /** Every timed round trip of every round, µs. */
  readonly rrUs: readonly number[];
}

/** One dataplane's figures: per round (for paired ratios) and over all rounds (for the table). */
export interface Summary {
  readonly key: string;
  readonly label: string;
  readonly gbpsRounds: readonly number[];
  readonly p50Rounds: readonly number[];
  readonly p99Rounds: readonly number[];
  readonly gbps: number;
  readonly gbpsMin: number;
  readonly gbpsMax: number;
  readonly p50: number;
  readonly p99: number;
  readonly trips: number;
}

export function summarize(f: Figures): Summary {
  return {
    key: f.key,
    label: f.label,
    gbpsRounds: f.gbps,
    p50Rounds: f.p50s,
    p99Rounds: f.p99s,
    gbps: pct(f.gbps, 50),
    gbpsMin: Math.min(...f.gbps),
    gbpsMax: Math.max(...f.gbps),
    p50: pct(f.rrUs, 50),
    p99: pct(f.rrUs, 99),
    trips: f.rrUs.length,
  };
}

/**
 * `x` over `y` paired round by round (both measured within seconds of each other), the median of those ratios: load
 * that drifts between rounds (it does, by 2–4× on this shared machine) cancels out of each pair.
 */
export function pairedRatios(x: Summary, y: Summary): { readonly tput: number; readonly p50: number; readonly p99: number } {
  const med = (a: readonly number[], b: readonly number[]): number => pct(a.map((v, i) => v / (b[i] ?? NaN)), 50);
  return { tput: med(x.gbpsRounds, y.gbpsRounds), p50: med(x.p50Rounds, y.p50Rounds), p99: med(x.p99Rounds, y.p99Rounds) };
}

/** An `ip netns exec NS bun bench/rr.ts …` child whose stdout is read line by line. */
function rrProcess(ns: string, args: readonly string[]): { child: ChildProcessWithoutNullStreams; line: () => Promise<string> } {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, RR, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const pending: string[] = [];
  const waiters: ((l: string | undefined) => void)[] = [];
  const rl = createInterface({ input: child.stdout });
  rl.on('line', (l) => {
    const w = waiters.shift();
    if (w) w(l);
    else pending.push(l);
  });
  rl.on('close', () => {
    for (const w of waiters.splice(0)) w(undefined);
  });
  const line = async (): Promise<string> => {
    const l = pending.shift() ?? (await new Promise<string | undefined>((r) => waiters.push(r)));
    if (l === undefined) throw new Error(`rr ${args[0] ?? ''} in ${ns} exited: ${stderr.trim()}`);
    return l;
  };
  return { child, line };
}

interface RrSession {
  round(n: number): Promise<number[]>;
}

let nextPort = 17200 + Math.floor(Math.random() * 2000);

async function startRr(c: Cleanups, pair: PodPair, size: number): Promise<RrSession> {
  const port = String(nextPort++);
  const server = rrProcess(pair.b.ns, ['server', pair.b.ip, port]);
  c.push(() => server.child.kill());
  if ((await server.line()) !== 'listening') throw new Error(`rr server in ${pair.b.ns}: unexpected output`);
  const client = rrProcess(pair.a.ns, ['client', pair.b.ip, port, String(size)]);
  c.push(() => client.child.kill());
  return {
    round: async (n) => {
      client.child.stdin.write(`${String(n)}\n`);
      return (JSON.parse(await client.line()) as { us: number[] }).us;
    },
  };
}

export async function measure(c: Cleanups, pairs: readonly PodPair[], o: MeasureOptions): Promise<Figures[]> {
  const sessions = new Map<string, RrSession>();
  for (const p of pairs) {
    const s = await startRr(c, p, o.rrSize);
    await s.round(Math.ceil(o.rrCount / 10)); // warm-up: connection, JIT, caches
    sessions.set(p.key, s);
  }
  const figures = pairs.map((p) => ({ key: p.key, label: p.label, gbps: [] as number[], p50s: [] as number[], p99s: [] as number[], rrUs: [] as number[] }));
  for (let r = 0; r < o.rounds; r++) {
    const order = figures.map((_, i) => figures[(i + r) % figures.length]).filter((f) => f !== undefined);
    for (const f of order) {
      const p = pairs.find((x) => x.key === f.key);
      const s = sessions.get(f.key);
      if (p === undefined || s === undefined) throw new Error(`no pods for ${f.key}`);
      const gbps = (await iperf(p.b.ns, p.a.ns, p.b.ip, o.seconds)) / 1e9;
      const us = await s.round(o.rrCount);
      f.gbps.push(gbps);
      f.p50s.push(pct(us, 50));
      f.p99s.push(pct(us, 99));
      f.rrUs.push(...us);
      o.log(`round ${String(r + 1)}/${String(o.rounds)} ${f.label}: ${gbps.toFixed(2)} Gbit/s, RR p50 ${pct(us, 50).toFixed(0)} µs`);
    }
  }
  return figures;
}

/** One table: a row per dataplane, and its paired ratios to `refKey`'s row (this one over the reference). */
export function table(title: string, rows: readonly Summary[], refKey: string): string {
  const ref = rows.find((r) => r.key === refKey);
  const head = `${'dataplane'.padEnd(28)} ${'Gbit/s'.padStart(7)} ${'(min–max)'.padStart(13)} ${'RR p50 µs'.padStart(10)} ${'RR p99 µs'.padStart(10)}   paired ratio to ${refKey}: tput / p50 / p99`;
  const lines = rows.map((r) => {
    const q = ref === undefined || r.key === refKey ? undefined : pairedRatios(r, ref);
    const ratio = q === undefined ? '' : `   ${q.tput.toFixed(2)} / ${q.p50.toFixed(2)} / ${q.p99.toFixed(2)}`;
    return `${r.label.padEnd(28)} ${r.gbps.toFixed(2).padStart(7)} ${`(${r.gbpsMin.toFixed(2)}–${r.gbpsMax.toFixed(2)})`.padStart(13)} ${r.p50.toFixed(0).padStart(10)} ${r.p99.toFixed(0).padStart(10)}${ratio}`;
  });
  return [title, head, ...lines].join('\n');
}
