/**
 * The daemon's Prometheus metrics, in an owned registry (never the prom-client global one): the hub's own
 * (`terway_hub_*`) and Terway's set under Terway's names (./terway-metrics.ts). Other parts of the daemon register
 * theirs in the same registry (policy backend, builtin backend, policy model, pool calls, GC, config).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MethodName } from '../rpc/protocol.js';
import { registerTerwayMetrics, type TerwayMetrics } from './terway-metrics.js';

export const METRIC_PREFIX = 'terway_hub_';

export interface HubMetrics {
  readonly registry: Registry;
  readonly rpcDuration: Histogram<'method' | 'result'>;
  readonly leases: Gauge;
  readonly poolSize: Gauge;
  readonly poolFree: Gauge;
  readonly poolHeldForScheduled: Gauge;
  readonly allocationFailures: Counter<'reason'>;
  /** What the periodic pool sync with the cloud's view found, by kind: invalid (leased), adopted, dropped (idle). */
  readonly poolSyncIps: Counter<'kind'>;
  /** Where an ADD's time goes, phase by phase (ADD_PHASES). */
  readonly addPhase: Histogram<'phase'>;
  readonly terway: TerwayMetrics;
  /** One plugin call answered: the hub's histogram and Terway's. */
  observeRpc(method: MethodName, result: string, seconds: number): void;
}

/**
 * The phases of an ADD: on the daemon's side, the pod lookup, the provider's node facts, the address (from the
 * pool as it was: `pool`; after waiting for the pool's cloud call: `cloud`), a new ENI's host setup, the NetworkPolicy
 * rules of the pod (builtin backend: `policy`), the lease's durable write; on the plugin's side (its Confirm), the
 * netlink programming and its whole ADD.
 */
export const ADD_PHASES = ['pod_facts', 'node_facts', 'pool', 'cloud', 'eni_setup', 'policy', 'store', 'netlink', 'plugin'] as const;
export type AddPhase = (typeof ADD_PHASES)[number];

export interface HubMetricsOptions {
  /** Default: a new one. */
  readonly registry?: Registry;
  /** Terway's set, registered in `registry` by the daemon (it reads the pools too); default: registered here. */
  readonly terway?: TerwayMetrics;
}

export interface PoolProbe {
  leases(): number;
  poolSize(): number;
  poolFree(): number;
  poolHeldForScheduled(): number;
}

export function createHubMetrics(probe?: PoolProbe, o: HubMetricsOptions = {}): HubMetrics {
  const registry = o.registry ?? new Registry();
  const rpcDuration = new Histogram({
    name: `${METRIC_PREFIX}rpc_duration_seconds`,
    help: 'Daemon RPC latency by method and result (ok, or the error code of the refusal).',
    labelNames: ['method', 'result'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const gauge = (name: string, help: string, read: (() => number) | undefined): Gauge =>
    new Gauge({
      name: `${METRIC_PREFIX}${name}`,
      help,
      registers: [registry],
      ...(read !== undefined
        ? {
            collect(this: Gauge) {
              this.set(read());
            },
          }
        : {}),
    });
  const leases = gauge('leases', 'Leases held (attachments with an address).', probe?.leases.bind(probe));
  const poolSize = gauge('pool_size', 'Addresses the node holds now (VPC: its podCIDR; ENI modes: the warm pool\'s IPs on its ENIs).', probe?.poolSize.bind(probe));
  const poolFree = gauge('pool_free', 'Addresses held and not leased (ENI modes: idle IPs of the warm pool, and those held for scheduled pods; IPs being given back to the cloud are not counted: pool_size − leases − pool_free).', probe?.poolFree.bind(probe));
  const poolHeldForScheduled = gauge(
    'pool_held_for_scheduled',
    'Addresses held and not leased that pods scheduled to this node will take (their ADD has not come yet); pool_free minus this is what no pod holds or awaits, the idle that min/max_pool_size bound.',
    probe?.poolHeldForScheduled.bind(probe),
  );
  const allocationFailures = new Counter({
    name: `${METRIC_PREFIX}allocation_failures_total`,
    help: 'Failed allocations by reason (an error code).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const poolSyncIps = new Counter({
    name: `${METRIC_PREFIX}pool_sync_ips_total`,
    help: 'IPs the periodic sync with the cloud\'s view of the node (metadata service) found: invalid (leased, no longer on its ENI), adopted (unknown, taken as idle), dropped (idle, no longer on its ENI).',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const addPhase = new Histogram({
    name: `${METRIC_PREFIX}add_phase_seconds`,
    help: 'Where an ADD\'s time goes, by phase: pod_facts, node_facts, pool (an address the pool had), cloud (waited for the pool\'s cloud call), eni_setup, policy (the builtin backend isolating the pod), store (durable lease write), netlink and plugin (the plugin\'s own, reported in its Confirm).',
    labelNames: ['phase'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const terway = o.terway ?? registerTerwayMetrics(registry, () => (probe === undefined ? undefined : { poolTotal: () => probe.poolSize(), poolIdle: () => probe.poolFree(), factories: () => [] }));
  return {
    registry,
    rpcDuration,
    leases,
    poolSize,
    poolFree,
    poolHeldForScheduled,
    allocationFailures,
    poolSyncIps,
    addPhase,
    terway,
    observeRpc(method, result, seconds) {
      rpcDuration.observe({ method, result }, seconds);
      terway.observeRpc(method, result === 'ok', seconds);
    },
  };
}

/** Runs `run`, observing its wall time under `phase` (a function: the label decided once it is done), failed or not. */
export async function timePhase<T>(h: Histogram<'phase'>, phase: AddPhase | (() => AddPhase), run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await run();
  } finally {
    h.observe({ phase: typeof phase === 'function' ? phase() : phase }, (performance.now() - started) / 1000);
  }
}
