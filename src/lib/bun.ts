/**
 * The parts of bun's global the plugin binary (bun --compile) uses, typed narrowly; undefined on Node.js (the daemon,
 * the CLI and the tests), where each caller has its own answer (another runner, an error, iproute2).
 */

export interface BunSubprocess {
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly exited: Promise<number>;
  kill(): void;
}

export interface BunGlobal {
  spawn(argv: readonly string[], opts: { stdin: Uint8Array; stdout: 'pipe'; stderr: 'pipe'; env: Record<string, string> }): BunSubprocess;
  /** Reading stdin this way costs ≈ 0.5 ms of start-up; `for await (process.stdin)` (node streams) ≈ 10 ms. */
  readonly stdin: { text(): Promise<string> };
}

export function bunGlobal(): BunGlobal | undefined {
  return (globalThis as { Bun?: BunGlobal }).Bun;
}
