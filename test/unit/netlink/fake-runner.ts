import type { Command, CommandOutput, CommandRunner } from '../../../src/lib/exec.js';

export type Script = (cmd: Command, call: number) => Partial<CommandOutput> | Error;

/** A CommandRunner that records every call and answers from a script (default: success, empty output). */
export class FakeRunner implements CommandRunner {
  readonly calls: { cmd: Command; signal: AbortSignal | undefined }[] = [];
  constructor(private readonly script: Script = () => ({})) {}
  run(cmd: Command, signal?: AbortSignal): Promise<CommandOutput> {
    this.calls.push({ cmd, signal });
    const r = this.script(cmd, this.calls.length - 1);
    if (r instanceof Error) return Promise.reject(r);
    return Promise.resolve({ stdout: r.stdout ?? '', stderr: r.stderr ?? '', exitCode: r.exitCode ?? 0 });
  }
  /** stdin lines of call i. */
  lines(i: number): string[] {
    return (this.calls[i]?.cmd.stdin ?? '').split('\n').filter((l) => l.length > 0);
  }
}

/** Fails the given 1-based batch lines with the given texts, the way `ip -force -batch -` reports. */
export function failLines(fails: Record<number, string>): Partial<CommandOutput> {
  const stderr = Object.entries(fails)
    .map(([n, text]) => `${text}\nCommand failed -:${n}\n`)
    .join('');
  return { stderr, exitCode: stderr === '' ? 0 : 1 };
}
