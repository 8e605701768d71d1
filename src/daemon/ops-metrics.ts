/**
 * Metrics of the daemon's background work, in its registry: the pool's cloud calls (./factory-metrics.ts feeds
 * them, and Terway's disposed/alloc counters), what each GC pass reclaimed, and the cluster configs rejected.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { GcResult } from '../gc/collector.js';
import type { GcCounts } from '../gc/types.js';
import type { FactoryCall } from './factory-metrics.js';
import type { TerwayMetrics } from './terway-metrics.js';

/** What a GC pass reclaimed: the counts this reads, and its errors. */
interface GcPassLike extends Pick<GcResult, 'errors'> {
  readonly counts: Pick<GcCounts, 'released' | 'veths' | 'rules' | 'routes' | 'ifbs'>;
}

export const GC_KINDS = ['lease', 'veth', 'rule', 'route', 'ifb'] as const;

export interface OpsMetrics {
  factoryCall(c: FactoryCall): void;
  gcPass(r: GcPassLike): void;
  /** A cluster config was rejected with a new error (the `ConfigError` node event). */
  configRejected(source: string): void;
}

export function registerOpsMetrics(registry: Registry, prefix: string, terway: TerwayMetrics, lastConfigError: () => string | undefined): OpsMetrics {
  const registers = [registry];
  const calls = new Histogram({
    name: `${prefix}pool_cloud_call_seconds`,
    help: 'The warm pool\'s cloud calls (create-eni, assign, unassign, delete-eni) by result, every provider (the local one too); retries inside the cloud client included.',
    labelNames: ['call', 'result'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const reclaimed = new Counter({ name: `${prefix}gc_reclaimed_total`, help: 'What GC passes reclaimed, by kind: lease (released), and the host leftovers deleted (veth, rule, route, ifb).', labelNames: ['kind'] as const, registers });
  for (const kind of GC_KINDS) reclaimed.inc({ kind }, 0);
  const passes = new Counter({ name: `${prefix}gc_passes_total`, help: 'GC passes by result (ok, or incomplete: some teardown or release failed; the next pass retries).', labelNames: ['result'] as const, registers });
  const configErrors = new Counter({ name: `${prefix}config_errors_total`, help: 'Cluster configs rejected (each new error: the ConfigError node event), by source; the last good config keeps running.', labelNames: ['source'] as const, registers });
  new Gauge({
    name: `${prefix}config_error`,
    help: '1 while the cluster config is rejected (the node runs its last good config), else 0.',
    registers,
    collect(this: Gauge) {
      this.set(lastConfigError() === undefined ? 0 : 1);
    },
  });
  return {
    factoryCall(c) {
      calls.observe({ call: c.call, result: c.ok ? 'ok' : 'error' }, c.seconds);
      if (c.call === 'create-eni' || c.call === 'assign') terway.allocated(c.eni, c.ok, c.ips);
      else if (c.ok) terway.disposed(c.ips);
    },
    gcPass(r) {
      const n = r.counts;
      const by: Record<(typeof GC_KINDS)[number], number> = { lease: n.released, veth: n.veths, rule: n.rules, route: n.routes, ifb: n.ifbs };
      for (const kind of GC_KINDS) if (by[kind] > 0) reclaimed.inc({ kind }, by[kind]);
      passes.inc({ result: r.errors.length === 0 ? 'ok' : 'incomplete' });
    },
    configRejected(source) {
      configErrors.inc({ source });
    },
  };
}
