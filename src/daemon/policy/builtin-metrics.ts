/** Metrics of the builtin NetworkPolicy backend's applies (src/daemon/policy/enforcer.ts), in the daemon's registry. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EnforcerRun } from './enforcer.js';

export interface BuiltinMetrics {
  observe(run: EnforcerRun): void;
}

export function registerBuiltinMetrics(registry: Registry, prefix: string): BuiltinMetrics {
  const duration = new Histogram({
    name: `${prefix}policy_builtin_apply_duration_seconds`,
    help: 'Builtin NetworkPolicy backend: one run (compile every scope, nft -f the changed ones, conntrack cut).',
    labelNames: ['result'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const rules = new Gauge({ name: `${prefix}policy_builtin_rules`, help: 'Builtin NetworkPolicy backend: nftables rules programmed (all scopes).', registers: [registry] });
  const cut = new Counter({ name: `${prefix}policy_builtin_flows_cut_total`, help: 'Conntrack entries removed because a changed policy denies their flow.', registers: [registry] });
  return {
    observe(run) {
      duration.observe({ result: run.ok ? 'ok' : 'error' }, run.durationMs / 1000);
      rules.set(run.rules);
      if (run.cut > 0) cut.inc(run.cut);
    },
  };
}
