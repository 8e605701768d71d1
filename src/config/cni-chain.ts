/**
 * The user's plugins of a CNI chain (eni-config's `10-terway.conflist`, or the daemon config's `chain`): each entry
 * is kept as the user wrote it, after validation — an object, `type` a plain plugin name, not a second hub/terway
 * entry, `capabilities` an object of booleans. libcni gives every plugin the list's `name` and `cniVersion`, so
 * per-entry ones are dropped (as Terway's terway-cli does). Pure; errors are ConfigErrors naming the entry's path.
 */
import { HUB_TYPE, TERWAY_TYPE, pluginTypeProblem } from '../lib/cni-chain-facts.js';
import { ConfigError } from '../lib/errors.js';
import { quote } from '../lib/text.js';
import { asObj, kindOf } from './fields.js';

/** One plugin entry of the chain, as the conflist will carry it. */
export type ChainEntry = Readonly<Record<string, unknown>> & { readonly type: string };

/** An entry with the config path it came from (`10-terway.conflist.plugins[2]`, `chain[0]`), for messages. */
export interface ChainItem {
  readonly path: string;
  readonly entry: ChainEntry;
}

/** More would be a mistake, and every plugin costs each pod a process per verb. */
export const MAX_CHAIN_ENTRIES = 16;

export function parseChainEntry(raw: unknown, path: string): ChainEntry {
  const o = asObj(raw, path);
  const type = o.type;
  if (type === undefined) throw new ConfigError(`${path}.type`, 'required (the plugin binary name)');
  if (typeof type !== 'string') throw new ConfigError(`${path}.type`, `must be a string; got ${kindOf(type)}`);
  const problem = pluginTypeProblem(type);
  if (problem !== undefined) throw new ConfigError(`${path}.type`, `${problem}; got ${quote(type)}`);
  if (type === HUB_TYPE || type === TERWAY_TYPE) {
    throw new ConfigError(`${path}.type`, `a second ${quote(type)} entry: the hub's own entry is always the chain's first plugin`);
  }
  if (o.capabilities !== undefined) {
    const caps = asObj(o.capabilities, `${path}.capabilities`);
    for (const [k, v] of Object.entries(caps)) {
      if (typeof v !== 'boolean') throw new ConfigError(`${path}.capabilities.${k}`, `must be true or false; got ${kindOf(v)}`);
    }
  }
  const entry: Record<string, unknown> = { ...o };
  delete entry.name;
  delete entry.cniVersion;
  return entry as ChainEntry;
}

/** `items[i]` parsed with the path `pathOf(i)`. */
export function parseChain(items: readonly unknown[], pathOf: (i: number) => string, listPath: string): readonly ChainItem[] {
  if (items.length > MAX_CHAIN_ENTRIES) throw new ConfigError(listPath, `at most ${String(MAX_CHAIN_ENTRIES)} chained plugins; got ${String(items.length)}`);
  return items.map((raw, i) => ({ path: pathOf(i), entry: parseChainEntry(raw, pathOf(i)) }));
}
