/** Test-side process helpers (argv only). */
import { execFileSync, spawnSync } from 'node:child_process';

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

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

export function hasCommand(cmd: string): boolean {
  return shTry('sh', ['-c', 'command -v "$1"', 'sh', cmd]).code === 0;
}

export function rand(n = 5): string {
  return Math.random().toString(36).slice(2, 2 + n).padEnd(n, '0');
}

/** Skips a whole describe block with a printed reason. */
export function describeIf(cond: boolean, reason: string): jest.Describe {
  if (!cond) console.warn(`SKIP: ${reason}`);
  return cond ? describe : describe.skip;
}
