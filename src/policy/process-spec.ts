/**
 * What a policy backend needs run: data a backend renders (src/policy/<backend>) and the supervisor
 * (src/policy/supervisor.ts) executes. Pure types; no I/O here.
 */

/** An HTTP health endpoint on loopback (Felix `/liveness` `/readiness`, Cilium `/healthz` with `brief: true`). */
export interface HttpProbe {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** Request headers, e.g. Cilium's `brief: true` and `require-k8s-connectivity: false`. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A file a backend needs on disk before its process starts (felix.cfg, the Cilium agent's config dir). */
export interface RenderedFile {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

/** How to run one backend process: argv (never a shell) and its whole environment, plus how to watch it. */
export interface ProcessSpec {
  /** Short name for logs, metrics and status: `felix`, `cilium-agent`. */
  readonly name: string;
  /** Absolute path of the executable first. */
  readonly argv: readonly [string, ...string[]];
  /** The complete environment of the process (nothing is inherited). */
  readonly env: Readonly<Record<string, string>>;
  readonly liveness: HttpProbe;
  readonly readiness: HttpProbe;
  /** Exit codes that mean "restart me now" rather than a crash (Felix: 129 after a config change). */
  readonly restartNowExitCodes: readonly number[];
  /** SIGTERM, then SIGKILL after this long. */
  readonly stopGraceMs: number;
}
