/**
 * The only module that starts processes. argv only: never a shell string; tools by absolute path (./which.ts),
 * under the C locale.
 */
import { spawn } from 'node:child_process';
import { ExecError } from './errors.js';
import { executableOf, toolEnv } from './which.js';

export interface Command {
  readonly file: string;
  readonly args: readonly string[];
  readonly stdin?: string;
  /** Variables set on top of the tool environment (./which.ts toolEnv), e.g. CNI_COMMAND for a CNI plugin. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

export interface CommandRunner {
  /** Runs the command; resolves with its output whatever the exit code. Rejects only if it could not start. */
  run(cmd: Command, signal?: AbortSignal): Promise<CommandOutput>;
}

export function createProcessRunner(): CommandRunner {
  const env = toolEnv();
  return {
    run: (cmd, signal) =>
      new Promise((resolve, reject) => {
        const child = spawn(executableOf(cmd), cmd.args, { shell: false, env: cmd.env === undefined ? env : { ...env, ...cmd.env }, stdio: ['pipe', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (c: Buffer) => out.push(c));
        child.stderr.on('data', (c: Buffer) => err.push(c));
        child.on('error', (e) => {
          reject(new ExecError([cmd.file, ...cmd.args], null, e.message, { cause: e }));
        });
        child.on('close', (code) => {
          resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), exitCode: code ?? -1 });
        });
        child.stdin.on('error', () => undefined);
        child.stdin.end(cmd.stdin ?? '');
      }),
  };
}

/** How a long-running process ended: its exit code, or the signal that killed it. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A long-running process started by a ProcessSpawner (a policy backend). */
export interface SpawnedProcess {
  readonly pid: number;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  /**
   * Sends `sig` to the process's whole process group (it leads its own session, as a container's init would):
   * helpers it started die with it. False when nothing was left to signal.
   */
  signal(sig: NodeJS.Signals): boolean;
}

export interface SpawnOptions {
  /** The complete environment: nothing of the caller's is inherited. */
  readonly env: Readonly<Record<string, string>>;
  /** Called with each chunk of output, then once with null when that stream has ended. */
  readonly onOutput: (stream: 'stdout' | 'stderr', chunk: Buffer | null) => void;
}

/** Starts long-running processes: argv only (never a shell), argv[0] an absolute path, an explicit environment. */
export interface ProcessSpawner {
  /** Resolves once the process runs; rejects with ExecError when it cannot start (ENOENT, EACCES, …). */
  spawn(argv: readonly [string, ...string[]], opts: SpawnOptions): Promise<SpawnedProcess>;
}

export function createProcessSpawner(): ProcessSpawner {
  return {
    spawn: (argv, opts) =>
      new Promise((resolve, reject) => {
        const [file, ...args] = argv;
        if (!file.startsWith('/')) {
          reject(new ExecError([...argv], null, `${file}: not an absolute path`));
          return;
        }
        // detached: setsid(), so the process leads its own group and stop/crash clean-up can signal all of it
        const child = spawn(file, args, { shell: false, env: { ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
        const groupSignal = (sig: NodeJS.Signals): boolean => {
          if (child.pid === undefined) return false;
          try {
            process.kill(-child.pid, sig);
            return true;
          } catch {
            return false;
          }
        };
        const exited = new Promise<ProcessExit>((res) => {
          child.once('exit', (code, signal) => {
            // the leader is gone: whatever it left in its group goes too (the group id is not reused while it has members)
            groupSignal('SIGKILL');
            res({ code, signal });
          });
        });
        child.stdout.on('data', (c: Buffer) => { opts.onOutput('stdout', c); });
        child.stdout.once('end', () => { opts.onOutput('stdout', null); });
        child.stderr.on('data', (c: Buffer) => { opts.onOutput('stderr', c); });
        child.stderr.once('end', () => { opts.onOutput('stderr', null); });
        child.once('error', (e) => {
          if (child.pid === undefined) reject(new ExecError([...argv], null, e.message, { cause: e }));
        });
        child.once('spawn', () => {
          const pid = child.pid;
          if (pid === undefined) return;
          resolve({ pid, exited, signal: groupSignal });
        });
      }),
  };
}
