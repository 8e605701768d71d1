/**
 * `terway-hub node-setup`: applies the node plan of the configured mode once (Dataplane.planNode: ip_forward and
 * rp_filter, the ENI table's default route, ipvlan's host slave) part by part (src/daemon/node-setup.ts). Meant for
 * the DaemonSet's privileged init step, where /proc/sys is writable; the unprivileged daemon then finds the values
 * right. Exit 0 when every part took effect (or already was so), 1 naming each failed op, 2 on bad flags or config.
 */
import { parseArgs } from 'node:util';
import { loadDaemonConfig } from '../config/load.js';
import { applyNodePlan, describeFailures } from '../daemon/node-setup.js';
import { createLogger, parseLogLevel } from '../lib/log.js';
import { dataplaneFor } from '../modes/registry.js';
import { nodeAdapters } from './adapters.js';

export const NODE_SETUP_USAGE = '[--config FILE] [--mode MODE] [--json]   apply the node setup of the configured mode once (privileged init step; exit 1 naming what failed)';

export async function runNodeSetup(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { config: { type: 'string', short: 'c' }, mode: { type: 'string' }, json: { type: 'boolean' } }, strict: true });
  const cfg = await loadDaemonConfig(values.config, { mode: values.mode });
  const log = createLogger(process.stderr, parseLogLevel(cfg.logLevel), { component: 'node-setup' });
  const adapters = nodeAdapters({ log });
  const provider = await adapters.providerFor(cfg);
  await provider.verify();
  const plan = dataplaneFor(provider.mode).planNode({ vethPrefix: cfg.vethPrefix }, await provider.localFacts());
  const outcome = await applyNodePlan(plan, adapters.executorFor(log), adapters.readSysctl);
  const ok = outcome.failures.length === 0;
  if (values.json === true) process.stdout.write(`${JSON.stringify({ ok, mode: provider.mode, ...outcome })}\n`);
  else {
    const head = `node setup (${provider.mode}): ${ok ? 'done' : 'FAILED'}; ${String(outcome.applied)} ops applied, ${String(outcome.alreadySet.length)} sysctls already set${outcome.alreadySet.length > 0 ? ` (${outcome.alreadySet.join(', ')})` : ''}`;
    process.stdout.write(`${head}\n${ok ? '' : `failed: ${describeFailures(outcome.failures)}\n`}`);
  }
  return ok ? 0 : 1;
}
