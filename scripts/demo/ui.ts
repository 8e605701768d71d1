/** The demo's output (short sections, each saying what it shows) and its argv-only command runner. */
import { spawnSync } from 'node:child_process';

let n = 0;
const t0 = performance.now();

/** A numbered heading and one line saying what the section shows. */
export function section(title: string, what: string): void {
  n++;
  console.log(`\n== ${String(n)}. ${title} ==  [${((performance.now() - t0) / 1000).toFixed(1)} s]`);
  console.log(`   ${what}`);
}

export function say(line = ''): void {
  console.log(line === '' ? '' : `   ${line.replace(/\n/gu, '\n   ')}`);
}

/** A failure the demo explains: printed as the reason, exit 1. */
export class DemoFailure extends Error {}

export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(args: readonly string[], input?: string): Ran {
  const r = spawnSync(args[0] ?? '', args.slice(1), { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.error !== undefined ? r.error.message : r.stderr };
}

/** Runs `args`; a non-zero exit is a DemoFailure naming the command. */
export function sh(args: readonly string[]): string {
  const r = run(args);
  if (r.code !== 0) throw new DemoFailure(`${args.join(' ')} failed (${String(r.code)}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Mbit/s, one decimal. */
export const mbit = (bps: number): string => `${(bps / 1e6).toFixed(1)} Mbit/s`;
