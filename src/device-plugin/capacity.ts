/**
 * How many `aliyun/eni` devices the node advertises (Terway §8): in exclusive-ENI mode every pod takes a whole
 * secondary ENI, so the capacity is what the instance type allows (maxENI = ⌊Adapters × eni_cap_ratio⌋ +
 * eni_cap_shift − 1, capped by max_eni: the pool's limits); in the other modes the configured number. Pure.
 */
import { ConfigError } from '../lib/errors.js';
import type { ModeName } from '../modes/types.js';

export function devicePluginCapacity(mode: ModeName, configured: number, maxEnis: number | undefined): number {
  if (mode !== 'eni') return configured;
  if (maxEnis === undefined) throw new ConfigError('devicePlugin', 'eni mode: the instance type\'s ENI capacity is unknown (no exclusive-ENI pool)');
  return maxEnis;
}
