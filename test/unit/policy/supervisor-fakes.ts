/** Fakes for the supervisor's seams: a spawner whose processes the test ends, a prober answering per path. */
import type { ProcessExit, ProcessSpawner, SpawnedProcess, SpawnOptions } from '../../../src/lib/exec.js';
import { ExecError } from '../../../src/lib/errors.js';
import { createLogger, type Logger } from '../../../src/lib/log.js';
import type { HttpProbe, ProcessSpec } from '../../../src/policy/process-spec.js';
import type { HealthProber, ProbeResult } from '../../../src/policy/supervisor/probe.js';

export class FakeProcess implements SpawnedProcess {
  readonly signals: NodeJS.Signals[] = [];
  readonly exited: Promise<ProcessExit>;
  #resolve: (e: ProcessExit) => void = () => undefined;
  #gone = false;

  constructor(
    readonly pid: number,
    readonly argv: readonly string[],
    readonly opts: SpawnOptions,
    private readonly journal: string[],
    /** SIGTERM is ignored (only SIGKILL ends it). */
    readonly ignoreTerm: boolean,
  ) {
    this.exited = new Promise((r) => { this.#resolve = r; });
  }

  get alive(): boolean {
    return !this.#gone;
  }

  signal(sig: NodeJS.Signals): boolean {
    if (this.#gone) return false;
    this.signals.push(sig);
    this.journal.push(`signal ${String(this.pid)} ${sig}`);
    if (sig === 'SIGKILL' || (sig === 'SIGTERM' && !this.ignoreTerm)) this.exit(null, sig);
    return true;
  }

  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.#gone) return;
    this.#gone = true;
    this.journal.push(`exit ${String(this.pid)}`);
    this.#resolve({ code, signal });
  }
}

export class FakeSpawner implements ProcessSpawner {
  readonly procs: FakeProcess[] = [];
  /** What happened, in order: `spawn <pid>`, `signal <pid> <sig>`, `exit <pid>`. */
  readonly journal: string[] = [];
  failNext: string | undefined;
  ignoreTerm = false;
  /** When set, spawn() waits for this before resolving. */
  gate: Promise<void> | undefined;
  #pid = 1000;

  async spawn(argv: readonly [string, ...string[]], opts: SpawnOptions): Promise<SpawnedProcess> {
    if (this.gate !== undefined) await this.gate;
    if (this.failNext !== undefined) {
      const msg = this.failNext;
      this.failNext = undefined;
      throw new ExecError([...argv], null, msg);
    }
    const p = new FakeProcess(++this.#pid, argv, opts, this.journal, this.ignoreTerm);
    this.journal.push(`spawn ${String(p.pid)}`);
    this.procs.push(p);
    return p;
  }

  get last(): FakeProcess {
    const p = this.procs.at(-1);
    if (p === undefined) throw new Error('nothing spawned');
    return p;
  }
}

export const OK: ProbeResult = { ok: true, status: 200 };
export const REFUSED: ProbeResult = { ok: false, kind: 'refused', message: 'connection refused' };
export const UNAVAILABLE: ProbeResult = { ok: false, kind: 'status', message: 'HTTP 503' };

export class FakeProber implements HealthProber {
  readonly answers = new Map<string, ProbeResult>();
  readonly calls: HttpProbe[] = [];

  set(path: string, r: ProbeResult): void {
    this.answers.set(path, r);
  }

  probe(p: HttpProbe): Promise<ProbeResult> {
    this.calls.push(p);
    return Promise.resolve(this.answers.get(p.path) ?? REFUSED);
  }
}

export function fakeSpec(over: Partial<ProcessSpec> = {}): ProcessSpec {
  return {
    name: 'felix',
    argv: ['/usr/bin/calico-felix', '-c', '/etc/calico/felix.cfg'],
    env: { FELIX_HEALTHENABLED: 'true', FELIX_HEALTHPORT: '9099' },
    liveness: { host: '127.0.0.1', port: 9099, path: '/liveness' },
    readiness: { host: '127.0.0.1', port: 9099, path: '/readiness' },
    restartNowExitCodes: [129],
    stopGraceMs: 5_000,
    ...over,
  };
}

export interface CapturedLog {
  readonly log: Logger;
  readonly lines: () => readonly Record<string, unknown>[];
}

export function captureLog(): CapturedLog {
  const out: string[] = [];
  const log = createLogger({ write: (l) => { out.push(l); } }, 'debug');
  return { log, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}
