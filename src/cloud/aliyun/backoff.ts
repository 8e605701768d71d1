/**
 * Terway's backoff table (pkg/backoff): per key an initial delay and a k8s wait.Backoff (Duration, Factor, Jitter,
 * Steps, Cap). `Steps` is the number of attempts; between two attempts the sleep is Duration (+ up to Jitter ×
 * Duration), then Duration grows by Factor up to Cap. `eni_conf.backoff_override` replaces entries with Terway's JSON
 * shape (`{"Duration": 2000000000, "Factor": 1.5, "Jitter": 0.3, "Steps": 6, "InitialDelay": 0, "Cap": 0}`, durations
 * in nanoseconds or Go duration strings); an override without InitialDelay keeps the table's.
 */
import { ConfigError } from '../../lib/errors.js';

export type BackoffKey =
  | 'default'
  | 'eni_create'
  | 'eni_ops'
  | 'eni_release'
  | 'eni_ip_ops'
  | 'wait_eni_status'
  | 'eni_delete_confirm'
  | 'meta_assign_private_ip'
  | 'meta_unassign_private_ip'
  | 'metadata';

export interface Backoff {
  readonly initialDelayMs: number;
  readonly durationMs: number;
  readonly factor: number;
  readonly jitter: number;
  readonly steps: number;
  /** 0: no cap. */
  readonly capMs: number;
}

const b = (initialDelayMs: number, durationMs: number, factor: number, jitter: number, steps: number, capMs = 0): Backoff => ({ initialDelayMs, durationMs, factor, jitter, steps, capMs });

export const DEFAULT_BACKOFFS: Readonly<Record<BackoffKey, Backoff>> = {
  default: b(0, 2000, 1.5, 0.3, 6),
  eni_create: b(0, 10_000, 2, 0.3, 2),
  eni_ops: b(0, 5000, 2, 0.3, 6),
  eni_release: b(0, 4000, 2, 0.5, 8),
  eni_ip_ops: b(0, 5000, 1, 1.3, 6),
  wait_eni_status: b(3000, 3000, 1.5, 0.5, 8),
  eni_delete_confirm: b(1000, 2000, 1.5, 0, 4, 4000),
  meta_assign_private_ip: b(0, 1100, 1, 0.2, 10),
  meta_unassign_private_ip: b(0, 1100, 1, 0.2, 10),
  /** The metadata HTTP client's own retries on 429/5xx (Terway: 500 ms, 4 steps). */
  metadata: b(0, 500, 1, 0, 4),
};

const GO_UNITS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function durationMs(v: unknown, path: string): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v / 1e6; // Go's time.Duration JSON: nanoseconds
  if (typeof v === 'string') {
    const parts = [...v.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gu)];
    if (parts.length > 0 && parts.map((p) => p[0]).join('') === v) return parts.reduce((a, p) => a + Number(p[1]) * (GO_UNITS[p[2] ?? ''] ?? 0), 0);
  }
  throw new ConfigError(path, `not a duration (nanoseconds or a Go duration string): ${JSON.stringify(v)}`);
}

function num(v: unknown, path: string, min: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new ConfigError(path, `must be a number ≥ ${String(min)}; got ${JSON.stringify(v)}`);
  return v;
}

/** The table with `eni_conf.backoff_override` applied (keys as Terway's; "" is the default entry). */
export function backoffTable(override: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {}, path = 'eni_conf.backoff_override'): Readonly<Record<BackoffKey, Backoff>> {
  const out: Record<string, Backoff> = { ...DEFAULT_BACKOFFS };
  for (const [rawKey, o] of Object.entries(override)) {
    const key = rawKey === '' ? 'default' : rawKey;
    const p = `${path}.${rawKey === '' ? '""' : rawKey}`;
    const prev = out[key] ?? DEFAULT_BACKOFFS.default;
    const steps = o.Steps === undefined ? prev.steps : num(o.Steps, `${p}.Steps`, 1);
    if (!Number.isInteger(steps)) throw new ConfigError(`${p}.Steps`, `must be an integer; got ${String(steps)}`);
    const initial = o.InitialDelay === undefined ? 0 : durationMs(o.InitialDelay, `${p}.InitialDelay`);
    out[key] = {
      initialDelayMs: initial !== 0 ? initial : prev.initialDelayMs,
      durationMs: o.Duration === undefined ? prev.durationMs : durationMs(o.Duration, `${p}.Duration`),
      factor: o.Factor === undefined ? prev.factor : num(o.Factor, `${p}.Factor`, 0),
      jitter: o.Jitter === undefined ? prev.jitter : num(o.Jitter, `${p}.Jitter`, 0),
      steps,
      capMs: o.Cap === undefined ? prev.capMs : durationMs(o.Cap, `${p}.Cap`),
    };
  }
  return out as Record<BackoffKey, Backoff>;
}

/** The sleeps between attempts: steps − 1 of them (wait.Backoff.Step with jitter). */
export function backoffDelays(bo: Backoff, random: () => number = Math.random): number[] {
  const out: number[] = [];
  let d = bo.durationMs;
  for (let i = 1; i < bo.steps; i++) {
    out.push(bo.jitter > 0 ? d + random() * bo.jitter * d : d);
    d = d * bo.factor;
    if (bo.capMs > 0 && d > bo.capMs) d = bo.capMs;
  }
  return out;
}
