/**
 * The client side of probe-agent.ts (run with bun inside a pod's netns): connectivity probes, held connections and
 * throughput. Used by the demo and by the builtin-backend packet tests (test/privileged/policy/pods.ts re-exports it).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
/** bun from the project's node_modules (npm ci installs it); the one running this script otherwise. */
export const BUN = existsSync(join(ROOT, 'node_modules', '.bin', 'bun')) ? join(ROOT, 'node_modules', '.bin', 'bun') : process.execPath;
const AGENT = join(ROOT, 'scripts', 'demo', 'probe-agent.ts');

export interface Target {
  readonly ip: string;
  readonly port: number;
  readonly proto: 'TCP' | 'UDP';
}

export class Agent {
  private next = 1;
  private readonly waiting = new Map<number, (v: Record<string, unknown>) => void>();
  readonly ready: Promise<void>;
  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    let onReady: () => void = () => undefined;
    this.ready = new Promise((r) => {
      onReady = r;
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (msg['ready'] === true) onReady();
      const id = msg['id'];
      if (typeof id === 'number') this.waiting.get(id)?.(msg);
    });
  }
  private ask(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.stdin.write(`${JSON.stringify({ ...req, id })}\n`);
    });
  }
  /**
   * Probes every target at once; the ones that failed are probed once more, alone and with twice the time: on a
   * loaded machine a UDP echo can miss a short window (seen in a full run at load 11), while a denied flow fails
   * both times — a retry can turn a lost reply into a pass, never a denial into one.
   */
  async probe(targets: readonly Target[], timeoutMs: number): Promise<boolean[]> {
    const first = (await this.ask({ op: 'probe', targets, timeoutMs }))['results'] as boolean[];
    const failed = targets.map((t, i) => ({ t, i })).filter(({ i }) => first[i] !== true);
    if (failed.length === 0) return first;
    const again = (await this.ask({ op: 'probe', targets: failed.map(({ t }) => t), timeoutMs: timeoutMs * 2 }))['results'] as boolean[];
    const out = [...first];
    failed.forEach(({ i }, k) => { out[i] = again[k] === true; });
    return out;
  }
  /** Opens a TCP connection kept open; returns its key, or undefined when it could not connect. */
  async hold(ip: string, port: number, timeoutMs: number): Promise<number | undefined> {
    const id = this.next;
    return (await this.ask({ op: 'hold', ip, port, timeoutMs }))['ok'] === true ? id : undefined;
  }
  async send(key: number, timeoutMs: number): Promise<boolean> {
    return (await this.ask({ op: 'send', key, timeoutMs }))['ok'] === true;
  }
  /**
   * Streams to the sink port of the agent at `ip` for `ms`; the RECEIVER counts the bytes and the time from its
   * first to its last byte (so socket buffers do not count), and the rate comes back in bits/s (undefined: no link).
   */
  async throughput(ip: string, port: number, ms: number): Promise<number | undefined> {
    const r = await this.ask({ op: 'stream', ip, port, ms });
    return typeof r['bps'] === 'number' ? r['bps'] : undefined;
  }
  stop(): void {
    this.child.stdin.end();
    this.child.kill('SIGTERM');
  }
}

/** The agent in netns `netns` (the host when undefined), echo servers on `ports` and a byte sink on `sinkPort`. */
export function startAgent(netns: string | undefined, ports: readonly number[], sinkPort?: number): Agent {
  const argv = [BUN, AGENT, ports.length === 0 ? '-' : ports.join(','), ...(sinkPort !== undefined ? [String(sinkPort)] : [])];
  const child = netns === undefined ? spawn(argv[0] ?? '', argv.slice(1)) : spawn('ip', ['netns', 'exec', netns, ...argv]);
  child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
  return new Agent(child);
}
