/**
 * Terway's daemon metrics under Terway's own names, label names and units (milliseconds; Terway's pkg/metric), so
 * a dashboard or alert written for terwayd reads the hub unchanged. Registered in the daemon's registry (never the
 * prom-client global one). Buckets keep Terway's boundaries and add finer ones below them: the hub's RPCs take
 * milliseconds, where Terway's first bucket is 50 ms.
 *
 *  - `terway_rpc_latency{rpc_api, error}`: the plugin's calls; Terway's rpc_api names for its three (AllocIP,
 *    ReleaseIP, GetIPInfo), the hub's route name for the others; `error` "true"/"false".
 *  - `aliyun_openapi_latency{api, error}`, `aliyun_metadata_latency{url, error}`: every attempt of the Aliyun
 *    clients (fed by their CloudCallObserver, wired in src/main).
 *  - `terway_resource_pool_total_count` / `_idle_count` (gauges) and `_disposed_count` (counter), labels `type`
 *    (LocalIP) and `ipStack` (IPv4): the node's addresses, the unleased ones, the IPs given back to the cloud.
 *  - `terway_eniip_factory_eni_count{name, max_eni}`, `terway_eniip_factory_ip_count{name, eni, max_ip}` (gauges,
 *    `eni` is the MAC) and `terway_eniip_factory_ip_alloc_count{eni, status}` (counter, succeed/fail).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CloudCall } from '../cloud/aliyun/call-observer.js';
import type { MethodName } from '../rpc/protocol.js';

/** Terway's resource-pool label values: the hub's pool holds the node's own IPv4 addresses. */
const POOL_TYPE = 'LocalIP';
const IP_STACK = 'IPv4';

/** Terway's `rpc_api` for the calls it shares with the hub (its CNI's AllocIP, ReleaseIP, GetIPInfo). */
export const TERWAY_RPC_API: Readonly<Partial<Record<MethodName, string>>> = { allocate: 'AllocIP', release: 'ReleaseIP', lookup: 'GetIPInfo' };

const RPC_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 60000, 120000];
const OPENAPI_BUCKETS_MS = [10, 25, 50, 100, 200, 400, 800, 1600, 3200, 6400, 12800, 13800, 14800, 16800, 20800, 28800, 44800];
const METADATA_BUCKETS_MS = RPC_BUCKETS_MS.filter((b) => b <= 12800);

/** One ENI of a factory as the pool holds it now. */
export interface FactoryEniView {
  readonly mac: string;
  readonly ips: number;
}

/** One pool's factory: its name, its limits once known, its ENIs. */
export interface FactoryView {
  readonly name: string;
  readonly maxEnis?: number;
  readonly ipsPerEni?: number;
  readonly enis: readonly FactoryEniView[];
}

/** What the gauges read at scrape time. */
export interface TerwayProbe {
  /** Addresses the node holds now (pool_size). */
  poolTotal(): number;
  /** Of them, not leased (pool_free). */
  poolIdle(): number;
  /** Every ENI pool's factory (none in VPC mode). */
  factories(): readonly FactoryView[];
}



export interface TerwayMetrics {
  observeRpc(method: MethodName, ok: boolean, seconds: number): void;
  observeCloudCall(call: CloudCall): void;
  /** IPs given back to the cloud (Unassign, or the IPs of a deleted ENI). */
  disposed(count: number): void;
  /** IPs the factory asked the cloud for (Assign, Create): `eni` its MAC ('' when a Create failed). */
  allocated(eni: string, ok: boolean, count: number): void;
}

export function registerTerwayMetrics(registry: Registry, probe: () => TerwayProbe | undefined): TerwayMetrics {
  const registers = [registry];
  const rpc = new Histogram({ name: 'terway_rpc_latency', help: 'terway rpc latency in ms (the plugin\'s calls to the daemon; Terway\'s rpc_api names)', labelNames: ['rpc_api', 'error'] as const, buckets: RPC_BUCKETS_MS, registers });
  const openapi = new Histogram({ name: 'aliyun_openapi_latency', help: 'aliyun openapi latency in ms (every attempt)', labelNames: ['api', 'error'] as const, buckets: OPENAPI_BUCKETS_MS, registers });
  const metadata = new Histogram({ name: 'aliyun_metadata_latency', help: 'aliyun metadata latency in ms (every request)', labelNames: ['url', 'error'] as const, buckets: METADATA_BUCKETS_MS, registers });
  const labels = { type: POOL_TYPE, ipStack: IP_STACK };
  new Gauge({
    name: 'terway_resource_pool_total_count',
    help: 'terway total resources amount in the pool (addresses the node holds)',
    labelNames: ['type', 'ipStack'] as const,
    registers,
    collect(this: Gauge<'type' | 'ipStack'>) {
      const p = probe();
      if (p !== undefined) this.set(labels, p.poolTotal());
    },
  });
  new Gauge({
    name: 'terway_resource_pool_idle_count',
    help: 'terway amount of idle resources in the pool (addresses held and not leased)',
    labelNames: ['type', 'ipStack'] as const,
    registers,
    collect(this: Gauge<'type' | 'ipStack'>) {
      const p = probe();
      if (p !== undefined) this.set(labels, p.poolIdle());
    },
  });
  const disposed = new Counter({ name: 'terway_resource_pool_disposed_count', help: 'terway resource count of being disposed (IPs given back to the cloud)', labelNames: ['type', 'ipStack'] as const, registers });
  disposed.inc(labels, 0);
  new Gauge({
    name: 'terway_eniip_factory_eni_count',
    help: 'amount of allocated terway multi-ip factory eni',
    labelNames: ['name', 'max_eni'] as const,
    registers,
    collect(this: Gauge<'name' | 'max_eni'>) {
      this.reset();
      for (const f of probe()?.factories() ?? []) this.set({ name: f.name, max_eni: f.maxEnis === undefined ? '' : String(f.maxEnis) }, f.enis.length);
    },
  });
  new Gauge({
    name: 'terway_eniip_factory_ip_count',
    help: 'amount of allocated terway multi-ip secondary ip (per ENI, by MAC)',
    labelNames: ['name', 'eni', 'max_ip'] as const,
    registers,
    collect(this: Gauge<'name' | 'eni' | 'max_ip'>) {
      this.reset();
      for (const f of probe()?.factories() ?? []) {
        for (const e of f.enis) this.set({ name: f.name, eni: e.mac, max_ip: f.ipsPerEni === undefined ? '' : String(f.ipsPerEni) }, e.ips);
      }
    },
  });
  const ipAlloc = new Counter({ name: 'terway_eniip_factory_ip_alloc_count', help: 'counter of eniip factory ip allocation (IPs asked of the cloud; status succeed or fail)', labelNames: ['eni', 'status'] as const, registers });
  return {
    observeRpc(method, ok, seconds) {
      rpc.observe({ rpc_api: TERWAY_RPC_API[method] ?? method, error: String(!ok) }, seconds * 1000);
    },
    observeCloudCall(c) {
      if (c.service === 'openapi') openapi.observe({ api: c.api, error: String(c.error) }, c.ms);
      else metadata.observe({ url: c.api, error: String(c.error) }, c.ms);
    },
    disposed(count) {
      if (count > 0) disposed.inc(labels, count);
    },
    allocated(eni, ok, count) {
      if (count > 0) ipAlloc.inc({ eni, status: ok ? 'succeed' : 'fail' }, count);
    },
  };
}
