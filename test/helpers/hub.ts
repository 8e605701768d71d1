/**
 * Runs the real hub for end-to-end tests: the daemon (node dist/main/cli.js daemon) with a throwaway config,
 * state dir and socket, and the real standalone plugin binary (dist/bin/terway-hub) called the way libcni does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shTry, type Ran } from './exec.js';
import { tempDir } from './tmp.js';
import { waitFor } from './wait.js';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const PLUGIN = join(ROOT, 'dist', 'bin', 'terway-hub');
export const CLI = join(ROOT, 'dist', 'main', 'cli.js');
/** The daemon runs on Node.js (better-sqlite3); bench and demo scripts themselves run under bun. */
export const NODE = 'bun' in process.versions ? (process.env.npm_node_execpath ?? 'node') : process.execPath;

export interface DaemonOptions {
  readonly mode: 'vpc' | 'veth-policy-routing' | 'eni' | 'ipvlan';
  readonly podCIDR?: string;
  readonly eni?: { readonly link: string; readonly gateway: string; readonly subnet: string; readonly ips: string };
  readonly networkName?: string;
  /** Plugin entries rendered after the hub's entry (daemon config `chain`); each is asked VERSION at start. */
  readonly chain?: readonly Record<string, unknown>[];
  /** Where the chain's binaries are looked for (daemon config `cniBinDirs`; default /opt/cni/bin, /usr/lib/cni). */
  readonly cniBinDirs?: readonly string[];
  readonly extra?: Record<string, unknown>;
  /** How long a (re)start may take until the conflist appears (default 20 s; a loaded host starts Node slowly). */
  readonly startTimeoutMs?: number;
  /** In its own process group: a terminal's Ctrl-C reaches the caller only, which can still DEL through it (demo). */
  readonly detached?: boolean;
}

export interface RunningDaemon {
  readonly dir: string;
  readonly socket: string;
  readonly confDir: string;
  readonly conflistPath: string;
  readonly configPath: string;
  readonly networkName: string;
  conflist(): Record<string, unknown>;
  logs(): string;
  /** The daemon process's pid now (undefined when not running). */
  pid(): number | undefined;
  /** SIGKILL: nothing runs on the daemon's way out (no socket, conflist or store clean-up). */
  kill9(): Promise<void>;
  stop(): Promise<void>;
  restart(): Promise<void>;
  cleanup(): void;
}

export async function startDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const dir = tempDir('hub-');
  const networkName = opts.networkName ?? `hubnet-${dir.slice(-6).toLowerCase().replace(/[^a-z0-9]/gu, 'x')}`;
  const socket = join(dir, 'run', 'daemon.sock');
  const confDir = join(dir, 'net.d');
  const conflistName = '05-terway-hub.conflist';
  const config = {
    mode: opts.mode,
    socket,
    stateDir: join(dir, 'state'),
    cniConfDir: confDir,
    conflistName,
    keepConflistOnExit: false, // the tests check a clean stop removes it (the default keeps it: a DaemonSet's)
    cniLogFile: join(dir, 'log', 'cni.log'), // the daemon creates its directory: never /var/log on the test host
    networkName,
    httpListen: '',
    logLevel: 'debug',
    ...(opts.podCIDR ? { vpc: { podCIDR: opts.podCIDR } } : {}),
    ...(opts.eni ? { local: { eni: opts.eni } } : {}),
    ...(opts.chain !== undefined ? { chain: opts.chain } : {}),
    ...(opts.cniBinDirs !== undefined ? { cniBinDirs: opts.cniBinDirs } : {}),
    ...opts.extra,
  };
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const conflistPath = join(confDir, conflistName);
  let child: ChildProcess | undefined;
  let logText = '';
  /** The conflist as last installed: the daemon removes it on stop, kubelet/libcni keep using what they read. */
  let rendered: Record<string, unknown> = {};
  const launch = async (): Promise<void> => {
    rmSync(conflistPath, { force: true }); // a SIGKILLed daemon leaves its conflist: wait for a fresh one
    const c = spawn(NODE, [CLI, 'daemon', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'], detached: opts.detached === true });
    c.stdout.on('data', (b: Buffer) => (logText += b.toString()));
    c.stderr.on('data', (b: Buffer) => (logText += b.toString()));
    child = c;
    await waitFor(() => existsSync(conflistPath) || c.exitCode !== null, { timeoutMs: opts.startTimeoutMs ?? 20_000, what: () => `the conflist; daemon logs:\n${logText}` });
    if (c.exitCode !== null) throw new Error(`daemon exited with ${String(c.exitCode)}:\n${logText}`);
    rendered = JSON.parse(readFileSync(conflistPath, 'utf8')) as Record<string, unknown>;
  };
  const stop = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return; // exited, or killed by a signal
    const done = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await done;
  };
  await launch();
  return {
    dir,
    socket,
    confDir,
    conflistPath,
    configPath,
    networkName,
    conflist: () => rendered,
    logs: () => logText,
    pid: () => (child !== undefined && child.exitCode === null && child.signalCode === null ? child.pid : undefined),
    kill9: async () => {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const done = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await done;
    },
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    cleanup: () => { rmSync(dir, { recursive: true, force: true }); },
  };
}

export interface CniCall {
  readonly command: string;
  readonly containerId?: string;
  readonly netns?: string;
  readonly ifName?: string;
  readonly args?: string;
  readonly extraEnv?: Record<string, string>;
}

/** The stdin libcni derives from a conflist: the plugin entry plus cniVersion and name. */
export function pluginStdin(conflist: Record<string, unknown>, overrides: Record<string, unknown> = {}): string {
  const plugins = conflist.plugins as Record<string, unknown>[];
  const first = plugins[0] ?? {};
  return JSON.stringify({ cniVersion: conflist.cniVersion, name: conflist.name, ...first, ...overrides });
}

/** The environment a CNI runtime gives the plugin (a clean one: nothing inherited but PATH). */
function pluginEnv(call: CniCall): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: call.command, CNI_PATH: '/opt/cni/bin' };
  if (call.containerId !== undefined) env.CNI_CONTAINERID = call.containerId;
  if (call.netns !== undefined) env.CNI_NETNS = call.netns;
  if (call.ifName !== undefined) env.CNI_IFNAME = call.ifName;
  if (call.args !== undefined) env.CNI_ARGS = call.args;
  return { ...env, ...call.extraEnv };
}

function parseOut(stdout: string): unknown {
  try {
    return stdout.trim() ? JSON.parse(stdout) : undefined;
  } catch {
    return { unparsable: stdout };
  }
}

export function callPlugin(call: CniCall, stdin: string): Ran & { json: unknown } {
  const r = shTry(PLUGIN, [], { input: stdin, env: pluginEnv(call) });
  return { ...r, json: parseOut(r.stdout) };
}

/** Like callPlugin, without blocking the event loop: for a daemon running inside the test process. */
export function callPluginAsync(call: CniCall, stdin: string): Promise<Ran & { json: unknown }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(PLUGIN, [], { env: pluginEnv(call), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      resolvePromise({ code: code ?? -1, stdout, stderr, json: parseOut(stdout) });
    });
    child.stdin.end(stdin);
  });
}
