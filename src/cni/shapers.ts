/**
 * The two-shaper rule on the plugin side. When the hub is about to shape a pod (limits present) and its network's
 * conflist (found in `cniConfDir`, as libcni found it) has another entry that shapes (the reference `bandwidth`
 * plugin, or a `bandwidth` capability), the second `tc qdisc add` of that chain would fail with "file exists" after
 * the hub's ADD: the ADD is refused up front, CNI code 7, naming both entries and the fix. The daemon renders chains
 * that cannot conflict (`"shaping": false`); this catches hand-built ones.
 */
import { HUB_TYPE, entryShapes } from '../lib/cni-chain-facts.js';
import type { NetConf } from './config.js';
import type { CniDeps } from './deps.js';
import { CniError } from './errors.js';
import { CniCode } from './spec.js';

function describe(entry: unknown, i: number): string {
  const type = typeof entry === 'object' && entry !== null ? (entry as Readonly<Record<string, unknown>>).type : undefined;
  return `plugins[${String(i)}] (${typeof type === 'string' ? JSON.stringify(type) : 'no type'})`;
}

/** Pure: why the conflist's plugins have two shapers when the hub shapes, or undefined. */
export function twoShapersProblem(file: string, network: string, plugins: readonly unknown[]): string | undefined {
  const hub = plugins.findIndex((p) => typeof p === 'object' && p !== null && (p as Readonly<Record<string, unknown>>).type === HUB_TYPE);
  const others = plugins.map((p, i) => ({ p, i })).filter(({ p, i }) => i !== hub && entryShapes(p));
  const first = others[0];
  if (first === undefined) return undefined;
  const me = hub < 0 ? `the ${HUB_TYPE} entry` : describe(plugins[hub], hub);
  const them = others.map(({ p, i }) => describe(p, i)).join(', ');
  return (
    `network ${JSON.stringify(network)} in ${file}: ${me} and ${them} both shape pod bandwidth; ` +
    `the second "tc qdisc add" would fail with "file exists". Keep one shaper: set "shaping": false on the ${HUB_TYPE} ` +
    `entry and drop its "capabilities": {"bandwidth": true} (the terway-hub daemon renders chains that way), or remove ${describe(first.p, first.i)}`
  );
}

/** Throws CNI code 7 when this invocation's network has a second shaper. No conflist found → no check. */
export async function refuseTwoShapers(config: NetConf, deps: CniDeps): Promise<void> {
  const found = await deps.readNetworkConflist(config.cniConfDir, config.name);
  if (found === undefined) return;
  const problem = twoShapersProblem(found.file, config.name, found.plugins);
  if (problem !== undefined) throw new CniError(CniCode.INVALID_CONFIG, 'two bandwidth shapers in one chain', problem);
}
