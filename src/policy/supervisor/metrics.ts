/**
 * The policy backend's Prometheus metrics, registered in the daemon's own registry (src/daemon/metrics.ts's
 * conventions: the daemon passes its registry and its `terway_hub_` prefix; this folder may not import the daemon).
 * `observe` is a SupervisorListener: `supervisor.on(metrics.observe)`.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { BACKEND_STATES, type SupervisorEvent, type SupervisorListener } from './types.js';

export interface PolicyBackendMetrics {
  /** 1 for the backend's current state, 0 for the others (labels backend, state). */
  readonly state: Gauge<'backend' | 'state'>;
  /** Processes started again, by reason (crash, restart-requested, liveness, spawn-failed). */
  readonly restarts: Counter<'backend' | 'reason'>;
  /** Times the backend stayed not ready longer than unhealthyGraceMs. */
  readonly outages: Counter<'backend'>;
  readonly observe: SupervisorListener;
}

export function createPolicyBackendMetrics(registry: Registry, prefix: string): PolicyBackendMetrics {
  const state = new Gauge({
    name: `${prefix}policy_backend_state`,
    help: 'The NetworkPolicy backend process state (1 for the current one).',
    labelNames: ['backend', 'state'] as const,
    registers: [registry],
  });
  const restarts = new Counter({
    name: `${prefix}policy_backend_restarts_total`,
    help: 'NetworkPolicy backend restarts by reason (crash, restart-requested, liveness, spawn-failed).',
    labelNames: ['backend', 'reason'] as const,
    registers: [registry],
  });
  const outages = new Counter({
    name: `${prefix}policy_backend_unhealthy_too_long_total`,
    help: 'Times the NetworkPolicy backend stayed not ready longer than its grace.',
    labelNames: ['backend'] as const,
    registers: [registry],
  });
  const observe = (e: SupervisorEvent): void => {
    switch (e.type) {
      case 'state': {
        const backend = e.status.backend;
        if (backend === undefined) return;
        for (const s of BACKEND_STATES) state.set({ backend, state: s }, s === e.to ? 1 : 0);
        return;
      }
      case 'restarting':
        restarts.inc({ backend: e.backend, reason: e.reason });
        return;
      case 'unhealthy-too-long':
        outages.inc({ backend: e.backend });
        return;
      case 'ready':
      case 'unready':
      case 'exited':
      case 'gave-up':
        return;
    }
  };
  return { state, restarts, outages, observe };
}
