/** Runs the real `terway-hub` CLI from source (bun runs the TypeScript entry point) without blocking the event loop. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const BUN = join(process.cwd(), 'node_modules', '.bin', 'bun');
const CLI = join(process.cwd(), 'src', 'main', 'cli.ts');

export function runCli(args: readonly string[], input?: string): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(BUN, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}
