/** The daemon's Prometheus metrics, in an owned registry (never the prom-client global one). */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

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
}

export interface PoolProbe {
  leases(): number;
  poolSize(): number;
  poolFree(): number;
  poolHeldForScheduled(): number;
}

export function createHubMetrics(probe?: PoolProbe): HubMetrics {
  const registry = new Registry();
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
  return { registry, rpcDuration, leases, poolSize, poolFree, poolHeldForScheduled, allocationFailures, poolSyncIps };
}
