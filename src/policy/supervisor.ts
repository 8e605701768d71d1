/**
 * Runs one NetworkPolicy backend process (Felix, the Cilium agent) from its ProcessSpec and watches it, as a
 * kubelet would watch a container: argv only with exactly the spec's environment, output line by line to the log,
 * HTTP liveness/readiness probes on loopback, restarts with exponential backoff after a crash, an immediate restart
 * for the exit codes the backend uses to ask for one (Felix: 129), a kill and restart when liveness fails for too
 * long, and a graceful stop (SIGTERM, SIGKILL after the spec's grace). Everything it sees goes out as typed events
 * and a status snapshot; the daemon turns them into the CNI chain entry, Kubernetes events, metrics and status.
 *
 * start/stop/swap are serialised (a stop waits for a start in progress, then ends what it started).
 */
import { ConflictError, errorMessage, toError } from '../lib/errors.js';
import type { ProcessExit, ProcessSpawner, SpawnedProcess } from '../lib/exec.js';
import type { Logger } from '../lib/log.js';
import type { ProcessSpec } from './process-spec.js';
import { backoffDelay } from './supervisor/backoff.js';
import { realClock, type Clock, type Timer } from './supervisor/clock.js';
import { LineBuffer } from './supervisor/output.js';
import type { HealthProber, ProbeResult } from './supervisor/probe.js';
import { supervisorOptions, type SupervisorOptionsInput } from './supervisor/options.js';
import { checkProcessSpec } from './supervisor/spec-check.js';
import {
  type BackendState,
  type LastExit,
  type ProbeError,
  type ProbeKind,
  type RestartReason,
  type SupervisorEvent,
  type SupervisorListener,
  type SupervisorOptions,
  type SupervisorStatus,
} from './supervisor/types.js';

/** The daemon's single import point: the types it handles and the metric set it registers. */
export type { BackendState, LastExit, ProbeError, RestartReason, SupervisorEvent, SupervisorListener, SupervisorOptions, SupervisorStatus } from './supervisor/types.js';
export { createPolicyBackendMetrics, type PolicyBackendMetrics } from './supervisor/metrics.js';
export { supervisorOptions, type SupervisorOptionsInput } from './supervisor/options.js';


export interface SupervisorDeps {
  /** Real: createProcessSpawner() (src/lib/exec.ts), built in src/main. */
  readonly spawner: ProcessSpawner;
  /** Real: createHttpProber() (./supervisor/probe.ts), built in src/main. */
  readonly prober: HealthProber;
  readonly log: Logger;
  readonly clock?: Clock;
  /** [0, 1), for the backoff's jitter. */
  readonly random?: () => number;
  readonly options?: SupervisorOptionsInput;
}

/** One running process and what the supervisor knows about it. */
interface Run {
  readonly proc: SpawnedProcess;
  readonly startedAt: number;
  everLive: boolean;
  livenessFailingSince: number | undefined;
  /** Why the supervisor is ending it (undefined: it is not). */
  terminating: 'stop' | 'liveness' | undefined;
  timers: Timer[];
  /** Resolves when its exit has been handled. */
  readonly done: Promise<void>;
}

/** While waiting to start again: an asked-for restart is `starting`, anything else `crash-looping`. */
function stateAfter(reason: RestartReason): BackendState {
  return reason === 'restart-requested' ? 'starting' : 'crash-looping';
}


export class Supervisor {
  readonly #spawner: ProcessSpawner;
  readonly #prober: HealthProber;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #o: SupervisorOptions;
  readonly #listeners = new Set<SupervisorListener>();

  #spec: ProcessSpec | undefined;
  /** Between start() and stop() (or giving up): exits are followed by restarts. */
  #wanted = false;
  #state: BackendState = 'stopped';
  #since: number;
  #run: Run | undefined;
  #restarts = 0;
  #crashes = 0;
  #lastExit: LastExit | undefined;
  #lastProbeError: ProbeError | undefined;
  #nextStartAt: number | undefined;
  #restartTimer: Timer | undefined;
  #lastRestartNowAt = Number.NEGATIVE_INFINITY;
  #notReadySince: number | undefined;
  #everReady = false;
  #outageReported = false;
  #outageTimer: Timer | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(deps: SupervisorDeps) {
    this.#spawner = deps.spawner;
    this.#prober = deps.prober;
    this.#log = deps.log.child({ component: 'policy-supervisor' });
    this.#clock = deps.clock ?? realClock;
    this.#random = deps.random ?? Math.random;
    this.#o = supervisorOptions(deps.options);
    this.#since = this.#clock.now();
  }

  /** Listens to every event; returns the unsubscribe function. A throwing listener is logged, never fatal. */
  on(listener: SupervisorListener): () => void {
    this.#listeners.add(listener);
    return () => { this.#listeners.delete(listener); };
  }

  status(): SupervisorStatus {
    return {
      backend: this.#spec?.name,
      state: this.#state,
      since: this.#since,
      pid: this.#run?.proc.pid,
      restarts: this.#restarts,
      consecutiveCrashes: this.#crashes,
      lastExit: this.#lastExit,
      lastProbeError: this.#lastProbeError,
      nextStartAt: this.#nextStartAt,
      notReadySince: this.#notReadySince,
    };
  }

  /**
   * Checks the spec (ConfigError naming the field) and starts supervising it. Resolves once the first process
   * runs, or its start failed and a retry is scheduled; readiness comes later, as the `ready` event.
   * Rejects with ConflictError while another backend is supervised (use swap()).
   */
  start(spec: ProcessSpec): Promise<void> {
    return this.#serial(() => this.#startNow(spec));
  }

  /** Stops supervising: SIGTERM to the process group, SIGKILL after stopGraceMs; resolves when the process is gone. */
  stop(): Promise<void> {
    this.#unwant();
    return this.#serial(() => this.#stopNow());
  }

  /** Stops the running backend (as stop()) and only then starts `spec` (as start()). */
  swap(spec: ProcessSpec): Promise<void> {
    try {
      checkProcessSpec(spec); // a bad new spec leaves the old backend running
    } catch (e) {
      return Promise.reject(toError(e));
    }
    this.#unwant();
    return this.#serial(async () => {
      await this.#stopNow();
      await this.#startNow(spec);
    });
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(task);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #startNow(spec: ProcessSpec): Promise<void> {
    if (this.#wanted || this.#run !== undefined) {
      throw new ConflictError(`policy backend ${this.#spec?.name ?? '?'} is already supervised: stop it or swap()`);
    }
    checkProcessSpec(spec);
    this.#spec = spec;
    this.#wanted = true;
    this.#restarts = 0;
    this.#crashes = 0;
    this.#lastExit = undefined;
    this.#lastProbeError = undefined;
    this.#lastRestartNowAt = Number.NEGATIVE_INFINITY;
    this.#everReady = false;
    this.#outageReported = false;
    this.#notReadySince = this.#clock.now();
    this.#armOutageTimer();
    this.#log.info('starting policy backend', { backend: spec.name, argv: spec.argv });
    await this.#spawnNow();
  }

  /** Cancels what would start a process again; the queued stop ends the one that runs. */
  #unwant(): void {
    this.#wanted = false;
    this.#restartTimer?.cancel();
    this.#restartTimer = undefined;
    this.#outageTimer?.cancel();
    this.#outageTimer = undefined;
  }

  async #stopNow(): Promise<void> {
    this.#unwant();
    const run = this.#run;
    if (run !== undefined) await this.#terminate(run, 'stop');
    this.#nextStartAt = undefined;
    this.#notReadySince = undefined;
    if (this.#state !== 'stopped') this.#log.info('policy backend stopped', { backend: this.#spec?.name });
    this.#setState('stopped');
  }

  async #spawnNow(): Promise<void> {
    const spec = this.#spec;
    if (spec === undefined || !this.#wanted) return;
    this.#nextStartAt = undefined;
    this.#setState('starting');
    const out = (stream: 'stdout' | 'stderr'): LineBuffer =>
      new LineBuffer(
        {
          line: (line) => { this.#log.info('backend output', { backend: spec.name, stream, line }); },
          dropped: (count) => { this.#log.warn('backend output dropped (rate limit)', { backend: spec.name, stream, count }); },
        },
        this.#o,
        this.#clock,
      );
    const buffers = { stdout: out('stdout'), stderr: out('stderr') };
    let proc: SpawnedProcess;
    try {
      proc = await this.#spawner.spawn(spec.argv, {
        env: spec.env,
        onOutput: (stream, chunk) => {
          if (chunk === null) buffers[stream].end();
          else buffers[stream].push(chunk);
        },
      });
    } catch (e) {
      const now = this.#clock.now();
      this.#lastExit = { code: null, signal: null, at: now, pid: null, ranMs: 0, reason: 'spawn-failed', error: errorMessage(e) };
      this.#log.error('policy backend could not start', { backend: spec.name, err: errorMessage(e) });
      this.#emit({ type: 'exited', backend: spec.name, exit: this.#lastExit, status: this.status() });
      this.#afterExit('spawn-failed', 0);
      return;
    }
    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((r) => { resolveDone = r; });
    const run: Run = { proc, startedAt: this.#clock.now(), everLive: false, livenessFailingSince: undefined, terminating: undefined, timers: [], done };
    this.#run = run;
    this.#log.info('policy backend running', { backend: spec.name, pid: proc.pid, restarts: this.#restarts });
    void proc.exited.then((exit) => {
      this.#onExit(run, exit);
      resolveDone();
    });
    run.timers.push(
      this.#clock.after(this.#o.stableAfterMs, () => {
        if (this.#crashes > 0) this.#log.info('policy backend stable, crash streak reset', { backend: spec.name, crashes: this.#crashes });
        this.#crashes = 0;
      }),
    );
    this.#scheduleProbe(run);
    // a stop() queued behind this start ends it; an exit during the spawn is handled by #onExit
  }

  #scheduleProbe(run: Run): void {
    run.timers.push(this.#clock.after(this.#o.probeIntervalMs, () => { void this.#probe(run); }));
  }

  async #probe(run: Run): Promise<void> {
    const spec = this.#spec;
    if (spec === undefined || !this.#isCurrent(run)) return;
    const [live, ready] = await Promise.all([
      this.#prober.probe(spec.liveness, this.#o.probeTimeoutMs),
      this.#prober.probe(spec.readiness, this.#o.probeTimeoutMs),
    ]);
    if (!this.#isCurrent(run)) return; // stopped, killed or replaced while probing
    const now = this.#clock.now();
    if (live.ok) {
      run.everLive = true;
      run.livenessFailingSince = undefined;
    } else {
      this.#probeFailed('liveness', live, now);
      if (run.everLive || now - run.startedAt >= this.#o.startupGraceMs) {
        run.livenessFailingSince ??= now;
        if (now - run.livenessFailingSince >= this.#o.livenessFailureMs) {
          this.#log.warn('policy backend liveness failed too long, killing it', {
            backend: spec.name,
            pid: run.proc.pid,
            failingMs: now - run.livenessFailingSince,
            err: live.message,
          });
          void this.#terminate(run, 'liveness');
          return;
        }
      }
    }
    if (ready.ok) {
      if (this.#state !== 'ready') {
        this.#everReady = true;
        this.#notReadySince = undefined;
        this.#outageReported = false;
        this.#outageTimer?.cancel();
        this.#outageTimer = undefined;
        this.#setState('ready');
        this.#log.info('policy backend ready', { backend: spec.name, pid: run.proc.pid });
        this.#emit({ type: 'ready', backend: spec.name, pid: run.proc.pid, status: this.status() });
      }
    } else {
      this.#probeFailed('readiness', ready, now);
      if (this.#state === 'ready') this.#leaveReady(`readiness: ${ready.message}`, 'unready');
    }
    this.#scheduleProbe(run);
  }

  /** The process this supervisor runs now, and not being ended. */
  #isCurrent(run: Run): boolean {
    return this.#run === run && run.terminating === undefined;
  }

  #probeFailed(probe: ProbeKind, r: Exclude<ProbeResult, { ok: true }>, at: number): void {
    this.#lastProbeError = { probe, kind: r.kind, message: r.message, at };
    this.#log.debug('policy backend probe failed', { backend: this.#spec?.name, probe, kind: r.kind, err: r.message });
  }

  /** Ready → not ready: the outage clock starts. */
  #leaveReady(reason: string, next: BackendState): void {
    const spec = this.#spec;
    if (spec === undefined) return;
    this.#notReadySince = this.#clock.now();
    this.#setState(next);
    this.#log.warn('policy backend not ready', { backend: spec.name, reason });
    this.#emit({ type: 'unready', backend: spec.name, reason, status: this.status() });
    this.#armOutageTimer();
  }

  #armOutageTimer(): void {
    this.#outageTimer?.cancel();
    this.#outageTimer = undefined;
    const since = this.#notReadySince;
    if (since === undefined || this.#outageReported || !this.#wanted) return;
    const wait = Math.max(0, since + this.#o.unhealthyGraceMs - this.#clock.now());
    this.#outageTimer = this.#clock.after(wait, () => {
      this.#outageTimer = undefined;
      const spec = this.#spec;
      if (spec === undefined || !this.#wanted || this.#state === 'ready' || this.#notReadySince === undefined || this.#outageReported) return;
      this.#outageReported = true;
      const forMs = this.#clock.now() - this.#notReadySince;
      this.#log.error('policy backend not ready for too long', { backend: spec.name, forMs, neverReady: !this.#everReady, lastProbeError: this.#lastProbeError?.message });
      this.#emit({ type: 'unhealthy-too-long', backend: spec.name, forMs, neverReady: !this.#everReady, status: this.status() });
    });
  }

  /** SIGTERM to the group, SIGKILL after the spec's grace; resolves when the exit has been handled. */
  async #terminate(run: Run, why: 'stop' | 'liveness'): Promise<void> {
    const first = run.terminating === undefined;
    // a stop during a liveness kill turns it into a stop (no restart afterwards)
    if (why === 'stop' || first) run.terminating = why;
    if (first) {
      for (const t of run.timers) t.cancel();
      run.timers = [];
      if (why === 'liveness' && this.#state === 'ready') this.#leaveReady('liveness failed', 'stopping');
      else this.#setState('stopping');
      const grace = this.#spec?.stopGraceMs ?? 0;
      this.#log.info('stopping policy backend', { backend: this.#spec?.name, pid: run.proc.pid, why, graceMs: grace });
      run.proc.signal('SIGTERM');
      run.timers.push(
        this.#clock.after(grace, () => {
          this.#log.warn('policy backend ignored SIGTERM, sending SIGKILL', { backend: this.#spec?.name, pid: run.proc.pid, graceMs: grace });
          run.proc.signal('SIGKILL');
        }),
      );
    }
    await run.done;
  }

  #onExit(run: Run, exit: ProcessExit): void {
    const spec = this.#spec;
    for (const t of run.timers) t.cancel();
    run.timers = [];
    if (this.#run === run) this.#run = undefined;
    if (spec === undefined) return;
    const now = this.#clock.now();
    const ranMs = now - run.startedAt;
    const reason: LastExit['reason'] =
      run.terminating === 'stop'
        ? 'stopped'
        : run.terminating === 'liveness'
          ? 'liveness'
          : exit.code !== null && spec.restartNowExitCodes.includes(exit.code)
            ? 'restart-requested'
            : 'crash';
    this.#lastExit = { code: exit.code, signal: exit.signal, at: now, pid: run.proc.pid, ranMs, reason };
    const fields = { backend: spec.name, pid: run.proc.pid, code: exit.code, signal: exit.signal, ranMs, reason };
    if (reason === 'crash') this.#log.error('policy backend exited', fields);
    else this.#log.info('policy backend exited', fields);
    this.#emit({ type: 'exited', backend: spec.name, exit: this.#lastExit, status: this.status() });
    if (reason === 'stopped') return;
    if (this.#state === 'ready') {
      this.#leaveReady(`process exited (${exit.code !== null ? `code ${String(exit.code)}` : `signal ${String(exit.signal)}`})`, stateAfter(reason));
    }
    this.#afterExit(reason, ranMs);
  }

  /** After an exit that stop() did not ask for: a restart now, after a backoff, or giving up. */
  #afterExit(reason: RestartReason, ranMs: number): void {
    const spec = this.#spec;
    if (spec === undefined || !this.#wanted) return;
    const now = this.#clock.now();
    let delay: number;
    if (reason === 'restart-requested') {
      delay = Math.max(0, this.#lastRestartNowAt + this.#o.restartNowMinIntervalMs - now);
      this.#lastRestartNowAt = now + delay;
    } else {
      if (ranMs >= this.#o.stableAfterMs) this.#crashes = 0;
      this.#crashes++;
      const limit = this.#o.giveUpAfterCrashes;
      if (limit !== undefined && this.#crashes >= limit) {
        this.#log.error('policy backend keeps crashing, giving up', { backend: spec.name, crashes: this.#crashes });
        this.#unwant();
        this.#notReadySince = undefined;
        this.#setState('stopped');
        this.#emit({ type: 'gave-up', backend: spec.name, crashes: this.#crashes, status: this.status() });
        return;
      }
      delay = backoffDelay(this.#crashes, this.#o.backoff, this.#random);
    }
    this.#nextStartAt = now + delay;
    this.#setState(stateAfter(reason));
    this.#log.info('policy backend restarting', { backend: spec.name, reason, delayMs: delay, crashes: this.#crashes });
    this.#emit({ type: 'restarting', backend: spec.name, reason, delayMs: delay, status: this.status() });
    const go = (): void => {
      this.#restartTimer = undefined;
      void this.#serial(async () => {
        if (!this.#wanted || this.#run !== undefined) return;
        this.#restarts++;
        await this.#spawnNow();
      });
    };
    if (delay === 0) go();
    else this.#restartTimer = this.#clock.after(delay, go);
  }

  #setState(next: BackendState): void {
    const from = this.#state;
    if (from === next) return;
    this.#state = next;
    this.#since = this.#clock.now();
    this.#emit({ type: 'state', from, to: next, status: this.status() });
  }

  #emit(e: SupervisorEvent): void {
    for (const l of [...this.#listeners]) {
      try {
        l(e);
      } catch (err) {
        this.#log.error('policy supervisor listener failed', { event: e.type, err: errorMessage(err) });
      }
    }
  }
}
