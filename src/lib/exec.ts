/**
 * The only module that starts processes. argv only: never a shell string; tools by absolute path (./which.ts),
 * under the C locale.
 */
import { spawn } from 'node:child_process';
import { ExecError } from './errors.js';
import { toolEnv, which } from './which.js';

export interface Command {
  readonly file: string;
  readonly args: readonly string[];
  readonly stdin?: string;
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

/** The absolute path of `cmd.file`, or ExecError naming where it was looked for. */
export function executableOf(cmd: Command): string {
  const file = which(cmd.file);
  if (file === undefined) throw new ExecError([cmd.file, ...cmd.args], null, `${cmd.file}: not found in the system directories or PATH`);
  return file;
}

export function createProcessRunner(): CommandRunner {
  const env = toolEnv();
  return {
    run: (cmd, signal) =>
      new Promise((resolve, reject) => {
        const child = spawn(executableOf(cmd), cmd.args, { shell: false, env, stdio: ['pipe', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
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

/** Runs and throws ExecError on a non-zero exit. */
export async function runChecked(runner: CommandRunner, cmd: Command, signal?: AbortSignal): Promise<string> {
  const res = await runner.run(cmd, signal);
  if (res.exitCode !== 0) throw new ExecError([cmd.file, ...cmd.args], res.exitCode, res.stderr);
  return res.stdout;
}
