/**
 * The 3×3 "pods" of the builtin-backend packet tests: netns `nb-NS-POD` wired by hand to the suite's host netns
 * the Terway veth way (pod /32 on eth0, default via 169.254.1.1 with a permanent neighbour to the host veth's MAC,
 * host /32 routes with the node address as source), each running probe-agent.ts (TCP+UDP echo servers + prober).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from '../../helpers/hub.js';
import { sh, shTry } from '../../helpers/exec.js';
import { createNetns, type TestNetns } from '../../helpers/netns.js';

export const BUN = join(ROOT, 'node_modules', '.bin', 'bun');
const AGENT = join(ROOT, 'test', 'privileged', 'policy', 'probe-agent.ts');
export const NODE_IP = '192.168.77.1';
const HOST_MAC = 'ee:ee:ee:ee:ee:ee';

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
  stop(): void {
    this.child.stdin.end();
    this.child.kill('SIGTERM');
  }
}

export function startAgent(netns: string | undefined, ports: readonly number[]): Agent {
  const argv = [BUN, AGENT, ports.length === 0 ? '-' : ports.join(',')];
  const child = netns === undefined ? spawn(argv[0] ?? '', argv.slice(1)) : spawn('ip', ['netns', 'exec', netns, ...argv]);
  child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
  return new Agent(child);
}

export interface TestPod {
  readonly namespace: string;
  readonly name: string;
  readonly ip: string;
  readonly hostVeth: string;
  readonly netns: TestNetns;
}

/** Creates netns `nb-NS-POD`, its veth pair (host side `nbvNSPOD`) and routes; the host forwards. */
export function wirePod(namespace: string, name: string, ip: string): TestPod {
  const netns = createNetns(`nb-${namespace}-${name}`);
  const hostVeth = `nbv${namespace}${name}`;
  sh('ip', ['link', 'add', hostVeth, 'address', HOST_MAC, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns.name]);
  sh('ip', ['link', 'set', hostVeth, 'up']);
  sh('ip', ['route', 'add', `${ip}/32`, 'dev', hostVeth, 'src', NODE_IP]);
  const n = (args: string[]): void => {
    sh('ip', ['-n', netns.name, ...args]);
  };
  n(['addr', 'add', `${ip}/32`, 'dev', 'eth0']);
  n(['link', 'set', 'eth0', 'up']);
  n(['route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
  n(['route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
  n(['neigh', 'add', '169.254.1.1', 'lladdr', HOST_MAC, 'dev', 'eth0', 'nud', 'permanent']);
  return { namespace, name, ip, hostVeth, netns };
}

/** The node address on lo and forwarding on, in the suite's host netns; returns the undo. */
export function prepareHost(): () => void {
  const forward = sh('sysctl', ['-n', 'net.ipv4.ip_forward']).trim();
  sh('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  sh('ip', ['addr', 'add', `${NODE_IP}/32`, 'dev', 'lo']);
  return () => {
    shTry('ip', ['addr', 'del', `${NODE_IP}/32`, 'dev', 'lo']);
    shTry('sysctl', ['-qw', `net.ipv4.ip_forward=${forward}`]);
  };
}
