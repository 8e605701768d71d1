/** Test-side process helpers (argv only): synchronous `sh`/`shTry`, and `shAsync` through the hub's own runner. */
import { execFileSync, spawnSync } from 'node:child_process';
import { createProcessRunner } from '../../src/lib/exec.js';
import { runChecked } from '../../src/lib/run-checked.js';

export function sh(file: string, args: readonly string[], input?: string): string {
  return execFileSync(file, args, { encoding: 'utf8', input: input ?? '', stdio: ['pipe', 'pipe', 'pipe'] });
}

export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function shTry(file: string, args: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Ran {
  const r = spawnSync(file, args, {
    encoding: 'utf8',
    input: opts.input ?? '',
    env: opts.env ?? process.env,
    timeout: opts.timeoutMs ?? 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The production process runner (src/lib/exec.ts), for tests that hand it to an executor or probe. */
export const runner = createProcessRunner();

/** Runs without blocking the event loop (a daemon or server may live in the test process); rejects on non-zero. */
export function shAsync(file: string, ...args: string[]): Promise<string> {
  return runChecked(runner, { file, args });
}

export function hasCommand(cmd: string): boolean {
  return shTry('sh', ['-c', 'command -v "$1"', 'sh', cmd]).code === 0;
}
