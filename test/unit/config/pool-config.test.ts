import { parseEniConf } from '../../../src/config/eni-conf.js';
import { DEFAULT_POOL_CONFIG, parsePoolConfig, poolFromEniConf } from '../../../src/config/pool-config.js';
import { ConfigError } from '../../../src/lib/errors.js';

const fieldOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return e instanceof ConfigError ? e.path : `not a ConfigError: ${String(e)}`;
  }
  return undefined;
};

describe('the pool section', () => {
  it('defaults to Terway\'s reclaim settings (off; 10 min ± 10 %, 5 per round)', () => {
    expect(parsePoolConfig(undefined)).toMatchObject({ reclaimAfterSeconds: 0, reclaimIntervalSeconds: 600, reclaimJitter: 0.1, reclaimBatchSize: 5 });
  });

  it('parses the reclaim settings and names a bad one', () => {
    expect(parsePoolConfig({ reclaimAfterSeconds: 300, reclaimIntervalSeconds: 60, reclaimJitter: 0.5, reclaimBatchSize: 2 })).toMatchObject({ reclaimAfterSeconds: 300, reclaimIntervalSeconds: 60, reclaimJitter: 0.5, reclaimBatchSize: 2 });
    expect(fieldOf(() => parsePoolConfig({ reclaimIntervalSeconds: 0 }))).toBe('pool.reclaimIntervalSeconds');
    expect(fieldOf(() => parsePoolConfig({ reclaimJitter: 1.5 }))).toBe('pool.reclaimJitter');
    expect(fieldOf(() => parsePoolConfig({ reclaimBatchSize: 0 }))).toBe('pool.reclaimBatchSize');
    expect(fieldOf(() => parsePoolConfig({ reclaimBatch: 1 }))).toBe('pool.reclaimBatch');
  });

  it('warm ENIs: auto by default; a count in 0..1000; the node max pods default to the kubelet\'s 110', () => {
    expect(parsePoolConfig(undefined)).toMatchObject({ warmEnis: 'auto', nodeMaxPods: 110, minEnis: 0 });
    expect(parsePoolConfig({ warmEnis: 0, nodeMaxPods: 250 })).toMatchObject({ warmEnis: 0, nodeMaxPods: 250 });
    expect(parsePoolConfig({ warmEnis: 'auto' }).warmEnis).toBe('auto');
    expect(fieldOf(() => parsePoolConfig({ warmEnis: 'many' }))).toBe('pool.warmEnis');
    expect(fieldOf(() => parsePoolConfig({ warmEnis: 1001 }))).toBe('pool.warmEnis');
    expect(fieldOf(() => parsePoolConfig({ warmEnis: -1 }))).toBe('pool.warmEnis');
    expect(fieldOf(() => parsePoolConfig({ nodeMaxPods: 1.5 }))).toBe('pool.nodeMaxPods');
    expect(fieldOf(() => parsePoolConfig({ minEnis: 2 }))).toBe('pool.minEnis'); // eni_conf's min_eni, not a local key
  });

  it('takes the watermarks and the idle_ip_reclaim_* keys from eni_conf (Terway\'s duration strings)', () => {
    const conf = parseEniConf({
      min_pool_size: 3, max_pool_size: 12, idle_ip_reclaim_after: '5m', idle_ip_reclaim_interval: '90s', idle_ip_reclaim_batch_size: 4, idle_ip_reclaim_jitter_factor: '0.3',
    }).value;
    expect(poolFromEniConf(DEFAULT_POOL_CONFIG, conf)).toEqual({ ...DEFAULT_POOL_CONFIG, minIdle: 3, maxIdle: 12, reclaimAfterSeconds: 300, reclaimIntervalSeconds: 90, reclaimJitter: 0.3, reclaimBatchSize: 4 });
    expect(poolFromEniConf(DEFAULT_POOL_CONFIG, parseEniConf({ min_eni: 2 }).value).minEnis).toBe(2);
  });

  it('leaves reclaim off when eni_conf has no idle_ip_reclaim_after (Terway\'s default)', () => {
    const conf = parseEniConf({ min_pool_size: 0, max_pool_size: 5 }).value;
    expect(poolFromEniConf({ ...DEFAULT_POOL_CONFIG, reclaimAfterSeconds: 60 }, conf).reclaimAfterSeconds).toBe(0);
  });
});
