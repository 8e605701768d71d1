/**
 * The pool's settings from the effective config: the Node's `status.capacity.pods` and eni_conf's `min_eni` size the
 * auto warm ENIs; the idle reclaim timing and the warm ENI count reach the pool's options (PoolKeeper.poolOptionsOf).
 */
import { parseDaemonConfig } from '../../../src/config/daemon-config.js';
import { effectiveConfig } from '../../../src/daemon/k8s/effective-config.js';
import { poolOptionsOf } from '../../../src/daemon/pool-keeper.js';
import type { ConfigMapInfo, NodeInfo } from '../../../src/k8s/types.js';

const local = parseDaemonConfig({ socket: '/tmp/x.sock', stateDir: '/tmp/s', cniConfDir: '/tmp/n', httpListen: '', mode: 'vpc', vpc: { podCIDR: '10.1.0.0/24' }, pool: { warmEnis: 'auto', nodeMaxPods: 64 } });
const node = (maxPods?: number): NodeInfo => ({ name: 'n1', uid: 'u', labels: {}, annotations: {}, podCIDR: '10.2.0.0/24', resourceVersion: '1', ...(maxPods !== undefined ? { maxPods } : {}) });
const eniConfig: ConfigMapInfo = {
  namespace: 'kube-system',
  name: 'eni-config',
  data: { eni_conf: JSON.stringify({ min_pool_size: 2, max_pool_size: 20, min_eni: 3, idle_ip_reclaim_after: '5m', idle_ip_reclaim_interval: '2m', idle_ip_reclaim_batch_size: 7, idle_ip_reclaim_jitter_factor: '0.25' }), daemon_mode: 'VPC' },
  resourceVersion: '1',
};

function poolOf(n: NodeInfo | undefined, cm: ConfigMapInfo | undefined) {
  const r = effectiveConfig({ local, node: n, configMap: (ns, name) => (cm !== undefined && ns === cm.namespace && name === cm.name ? cm : undefined) });
  if (!r.ok) throw 'refusal' in r ? new Error(r.refusal.message) : r.error;
  return r.config.daemon.pool;
}

describe('pool options from the effective config', () => {
  it('node max pods: the Node status.capacity.pods when Kubernetes has it, else pool.nodeMaxPods', () => {
    expect(poolOf(node(250), undefined).nodeMaxPods).toBe(250);
    expect(poolOf(node(), undefined).nodeMaxPods).toBe(64);
    expect(() => poolOf(undefined, undefined)).toThrow(/VPC mode takes the pod CIDR from the Node, and the Node is not known yet/u); // a cluster's VPC pool is the Node's
    expect(poolOf(node(30), eniConfig).nodeMaxPods).toBe(30);
  });

  it('eni_conf: min_eni and the idle_ip_reclaim_* timing reach the pool options', () => {
    const o = poolOptionsOf(poolOf(node(110), eniConfig));
    expect(o).toMatchObject({ minIdle: 2, maxIdle: 20, warmEnis: 'auto', nodeMaxPods: 110, minEnis: 3, reclaimAfterMs: 300_000, reclaimIntervalMs: 120_000, reclaimJitter: 0.25, reclaimBatch: 7 });
  });

  it('a fixed warmEnis and the local reclaim keys without eni-config', () => {
    const c = parseDaemonConfig({ socket: '/tmp/x.sock', stateDir: '/tmp/s', cniConfDir: '/tmp/n', httpListen: '', mode: 'vpc', vpc: { podCIDR: '10.1.0.0/24' }, pool: { warmEnis: 0, reclaimAfterSeconds: 60, reclaimIntervalSeconds: 30, reclaimJitter: 0, reclaimBatchSize: 1 } });
    expect(poolOptionsOf(c.pool)).toMatchObject({ warmEnis: 0, nodeMaxPods: 110, minEnis: 0, reclaimAfterMs: 60_000, reclaimIntervalMs: 30_000, reclaimJitter: 0, reclaimBatch: 1 });
  });
});
