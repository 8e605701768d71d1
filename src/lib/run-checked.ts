/**
 * A command whose non-zero exit is an error. Apart from ./exec.ts so that code running in the plugin binary (which
 * spawns through ./exec-bun.ts) does not load node:child_process for it.
 */
import { ExecError } from './errors.js';
import type { Command, CommandRunner } from './exec.js';

/** Runs and throws ExecError on a non-zero exit. */
export async function runChecked(runner: CommandRunner, cmd: Command, signal?: AbortSignal): Promise<string> {
  const res = await runner.run(cmd, signal);
  if (res.exitCode !== 0) throw new ExecError([cmd.file, ...cmd.args], res.exitCode, res.stderr);
  return res.stdout;
}
