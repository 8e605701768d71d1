/** The supervisor's vocabulary: states, status snapshot, events and tunables. Pure types and defaults. */

/**
 * - `stopped`: nothing runs and nothing will (initial; after stop(); after giving up).
 * - `starting`: a process runs and its readiness has not passed yet.
 * - `ready`: the readiness probe passed (200/204) and has not failed since.
 * - `unready`: the process was ready and its readiness now fails.
 * - `crash-looping`: the process ended unexpectedly; the next start waits for its backoff.
 * - `stopping`: SIGTERM sent (SIGKILL after the grace); stop(), swap() or a liveness kill.
 */
export type BackendState = 'stopped' | 'starting' | 'ready' | 'unready' | 'crash-looping' | 'stopping';

export const BACKEND_STATES: readonly BackendState[] = ['stopped', 'starting', 'ready', 'unready', 'crash-looping', 'stopping'];

/**
 * Why a process was started again:
 * - `crash`: it exited by itself with a code not in restartNowExitCodes, or a signal (backoff applies);
 * - `restart-requested`: an exit code in restartNowExitCodes (Felix's 129): not a crash, no backoff;
 * - `liveness`: its liveness probe failed for longer than livenessFailureMs, so it was killed (backoff applies,
 *   as after a kubelet liveness kill);
 * - `spawn-failed`: it could not be started at all (ENOENT, EACCES; backoff applies).
 */
export type RestartReason = 'crash' | 'restart-requested' | 'liveness' | 'spawn-failed';

export interface LastExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** Epoch ms. */
  readonly at: number;
  readonly pid: number | null;
  /** How long the process had run. */
  readonly ranMs: number;
  /** What the supervisor made of it; `stopped` when stop()/swap() ended it. */
  readonly reason: RestartReason | 'stopped';
  /** Set when the process could not start. */
  readonly error?: string;
}

export type ProbeKind = 'liveness' | 'readiness';

export interface ProbeError {
  readonly probe: ProbeKind;
  /** `refused` (nothing listens yet), `timeout`, `status` (an HTTP status other than 200/204), `error`. */
  readonly kind: 'refused' | 'timeout' | 'status' | 'error';
  readonly message: string;
  readonly at: number;
}

/** A snapshot for /healthz, /readyz, `terway-hub status` and events. Times are epoch ms. */
export interface SupervisorStatus {
  /** ProcessSpec.name of the supervised backend; undefined before the first start(). */
  readonly backend: string | undefined;
  readonly state: BackendState;
  /** When the state was entered. */
  readonly since: number;
  readonly pid: number | undefined;
  /** Every start after the first of this start(): crashes, requested restarts and liveness kills. */
  readonly restarts: number;
  /** Crashes in a row (backoff exponent); back to 0 after the process ran stableAfterMs. */
  readonly consecutiveCrashes: number;
  readonly lastExit: LastExit | undefined;
  readonly lastProbeError: ProbeError | undefined;
  /** When a pending restart will happen (crash-looping). */
  readonly nextStartAt: number | undefined;
  /** Since when the backend has not been ready (since start() if it never was); undefined while ready or stopped. */
  readonly notReadySince: number | undefined;
}

export type SupervisorEvent =
  | { readonly type: 'state'; readonly from: BackendState; readonly to: BackendState; readonly status: SupervisorStatus }
  /** Readiness passed: the daemon may add the backend's CNI chain entry now. */
  | { readonly type: 'ready'; readonly backend: string; readonly pid: number; readonly status: SupervisorStatus }
  /** A ready backend's readiness failed (or its process ended). */
  | { readonly type: 'unready'; readonly backend: string; readonly reason: string; readonly status: SupervisorStatus }
  /**
   * Not ready for unhealthyGraceMs (once per outage; `neverReady` when it has not been ready since start()): the
   * daemon should take the backend's CNI chain entry out, or every ADD on the node fails.
   */
  | { readonly type: 'unhealthy-too-long'; readonly backend: string; readonly forMs: number; readonly neverReady: boolean; readonly status: SupervisorStatus }
  | { readonly type: 'exited'; readonly backend: string; readonly exit: LastExit; readonly status: SupervisorStatus }
  /** A new process is scheduled: at once (`delayMs` 0) or after its backoff. */
  | { readonly type: 'restarting'; readonly backend: string; readonly reason: RestartReason; readonly delayMs: number; readonly status: SupervisorStatus }
  /** giveUpAfterCrashes crashes in a row: the supervisor stopped trying (state `stopped`). */
  | { readonly type: 'gave-up'; readonly backend: string; readonly crashes: number; readonly status: SupervisorStatus };

export type SupervisorListener = (event: SupervisorEvent) => void;

export interface BackoffOptions {
  /** First delay after a crash. */
  readonly baseMs: number;
  /** The delay doubles per crash in a row up to this. */
  readonly capMs: number;
  /** ± this fraction of the delay, at random (0 … 1): restarts of many nodes do not line up. */
  readonly jitter: number;
}

export interface SupervisorOptions {
  readonly backoff: BackoffOptions;
  /** A process that ran this long without crashing resets the crash streak (kubelet: 10 min). */
  readonly stableAfterMs: number;
  /** Probe period while a process runs (both probes each time). */
  readonly probeIntervalMs: number;
  /** Per probe request. */
  readonly probeTimeoutMs: number;
  /** Liveness failures are not counted before the first success or this long after the start (a startup probe). */
  readonly startupGraceMs: number;
  /** Liveness failing without a success for this long kills the process (SIGTERM, SIGKILL after stopGraceMs). */
  readonly livenessFailureMs: number;
  /** Not ready this long → the `unhealthy-too-long` event. */
  readonly unhealthyGraceMs: number;
  /** Restart-now exits closer together than this are spaced out to it (a config-change loop must not spin). */
  readonly restartNowMinIntervalMs: number;
  /** Crashes in a row after which the supervisor gives up; undefined: never (the default, like kubelet). */
  readonly giveUpAfterCrashes?: number;
  /** Output: lines longer than this are cut (bytes). */
  readonly maxLineBytes: number;
  /** Output: at most this many lines per stream and second reach the log; the rest are counted and reported. */
  readonly maxLinesPerSecond: number;
}

export const DEFAULT_SUPERVISOR_OPTIONS: SupervisorOptions = {
  backoff: { baseMs: 1_000, capMs: 60_000, jitter: 0.2 },
  stableAfterMs: 120_000,
  probeIntervalMs: 2_000,
  probeTimeoutMs: 2_000,
  startupGraceMs: 60_000,
  livenessFailureMs: 30_000,
  unhealthyGraceMs: 120_000,
  restartNowMinIntervalMs: 5_000,
  maxLineBytes: 16_384,
  maxLinesPerSecond: 200,
};
