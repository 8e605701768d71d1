/** The supervisor's tunables: defaults merged with what the daemon passes, each checked (ConfigError naming it). */
import { ConfigError } from '../../lib/errors.js';
import { DEFAULT_SUPERVISOR_OPTIONS, type BackoffOptions, type SupervisorOptions } from './types.js';

export type SupervisorOptionsInput = Partial<Omit<SupervisorOptions, 'backoff'>> & { readonly backoff?: Partial<BackoffOptions> };

export function supervisorOptions(input: SupervisorOptionsInput = {}): SupervisorOptions {
  const o: SupervisorOptions = { ...DEFAULT_SUPERVISOR_OPTIONS, ...input, backoff: { ...DEFAULT_SUPERVISOR_OPTIONS.backoff, ...input.backoff } };
  const nonNeg: readonly [string, number][] = [
    ['backoff.baseMs', o.backoff.baseMs],
    ['backoff.capMs', o.backoff.capMs],
    ['stableAfterMs', o.stableAfterMs],
    ['startupGraceMs', o.startupGraceMs],
    ['livenessFailureMs', o.livenessFailureMs],
    ['unhealthyGraceMs', o.unhealthyGraceMs],
    ['restartNowMinIntervalMs', o.restartNowMinIntervalMs],
  ];
  for (const [k, v] of nonNeg) if (!Number.isFinite(v) || v < 0) throw new ConfigError(`supervisor.${k}`, `${String(v)} must be a finite number ≥ 0`);
  const positive: readonly [string, number][] = [
    ['probeIntervalMs', o.probeIntervalMs],
    ['probeTimeoutMs', o.probeTimeoutMs],
    ['maxLineBytes', o.maxLineBytes],
    ['maxLinesPerSecond', o.maxLinesPerSecond],
  ];
  for (const [k, v] of positive) if (!Number.isFinite(v) || v <= 0) throw new ConfigError(`supervisor.${k}`, `${String(v)} must be a finite number > 0`);
  if (o.backoff.capMs < o.backoff.baseMs) throw new ConfigError('supervisor.backoff.capMs', `${String(o.backoff.capMs)} is below baseMs ${String(o.backoff.baseMs)}`);
  if (!(o.backoff.jitter >= 0 && o.backoff.jitter <= 1)) throw new ConfigError('supervisor.backoff.jitter', `${String(o.backoff.jitter)} must be within 0 … 1`);
  if (o.giveUpAfterCrashes !== undefined && !(Number.isInteger(o.giveUpAfterCrashes) && o.giveUpAfterCrashes >= 1)) {
    throw new ConfigError('supervisor.giveUpAfterCrashes', `${String(o.giveUpAfterCrashes)} must be an integer ≥ 1`);
  }
  return o;
}
