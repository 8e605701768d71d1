/**
 * What the node conflist says when the hub runs as the first plugin of a chain (issue 13). Pure: the hub's entry
 * first, then the user's plugins in order; the hub's capabilities (its default `bandwidth` merged with the terway
 * entry's); the CNI versions every plugin in the chain supports; and the two-shaper rule — when a chained plugin
 * shapes pod bandwidth, the hub's entry neither claims `bandwidth` nor shapes (`"shaping": false`).
 */
import type { ChainEntry, ChainItem } from '../config/cni-chain.js';
import { compareVersions } from '../cni/spec.js';
import { entryShapes } from '../lib/cni-chain-facts.js';
import { ConfigError } from '../lib/errors.js';
import type { ConflistContext } from './render.js';

/** What the hub's entry claims by itself. */
export const HUB_CAPABILITIES: Readonly<Record<string, boolean>> = { bandwidth: true };

/** The chain to render: the user's plugins and the terway entry's `capabilities` (eni-config), if any. */
export interface ChainInput {
  readonly items: readonly ChainItem[];
  readonly capabilities?: Readonly<Record<string, boolean>>;
}

/** What one plugin binary answered to VERSION, or why it could not be asked. */
export type PluginVersions =
  | { readonly ok: true; readonly binary: string; readonly supported: readonly string[] }
  | { readonly ok: false; readonly problem: string };

export interface ConflistSettings {
  readonly cniVersion: string;
  readonly cniVersions: readonly string[];
  readonly networkName: string;
  readonly socket: string;
  readonly vethPrefix: string;
  readonly mtu: number;
  readonly cniLogFile: string;
  readonly cniBinDirs: readonly string[];
}

/** Whether a plugin after the hub shapes pod bandwidth (the reference `bandwidth`, or a `bandwidth` capability). */
export function chainShapes(items: readonly ChainItem[]): boolean {
  return items.some((i) => entryShapes(i.entry));
}

/** The hub entry's capabilities: its own merged with the terway entry's; no `bandwidth` when the chain shapes. */
export function hubCapabilities(terway: Readonly<Record<string, boolean>> | undefined, chainShaper: boolean): Readonly<Record<string, boolean>> {
  const caps: Record<string, boolean> = { ...HUB_CAPABILITIES, ...terway };
  if (chainShaper) delete caps.bandwidth;
  return caps;
}

/** The highest of `versions` (undefined when empty). */
export function highestVersion(versions: readonly string[]): string | undefined {
  return [...versions].sort(compareVersions).at(-1);
}

/**
 * The hub's versions (in its order) that every plugin supports. ConfigError naming the plugin (its config path,
 * binary and versions) that left none, or the plugin whose binary could not be asked (with the dirs searched).
 */
export function commonVersions(hub: readonly string[], items: readonly ChainItem[], versions: ReadonlyMap<string, PluginVersions>, dirs: readonly string[]): readonly string[] {
  let common = [...hub];
  for (const { path, entry } of items) {
    const v = versions.get(entry.type);
    if (v === undefined || !v.ok) {
      throw new ConfigError(`${path}.type`, `plugin ${JSON.stringify(entry.type)}: ${v?.ok === false ? v.problem : 'not asked for its versions'} (searched ${dirs.join(', ')})`);
    }
    const next = common.filter((c) => v.supported.includes(c));
    if (next.length === 0) {
      throw new ConfigError(
        `${path}.type`,
        `plugin ${JSON.stringify(entry.type)} (${v.binary}) supports CNI versions [${v.supported.join(', ')}], none of the chain's [${common.join(', ')}] (the hub offers [${hub.join(', ')}]); upgrade the plugin or remove it from the chain`,
      );
    }
    common = next;
  }
  return common;
}

/**
 * The conflist version: the configured `cniVersion` (what old libcni, podman 4.3, reads) when the chain supports
 * it, else the highest common version below it, else the highest common one.
 */
export function chooseCniVersion(preferred: string, common: readonly string[]): string {
  if (common.includes(preferred)) return preferred;
  const below = common.filter((v) => compareVersions(v, preferred) < 0);
  return highestVersion(below) ?? highestVersion(common) ?? preferred;
}

export interface ConflistPlan {
  readonly context: ConflistContext;
  /** False when a chained plugin shapes: the hub (plugin and daemon) must not shape this network's pods. */
  readonly shaping: boolean;
}

/** The conflist's context. Without a chain it is exactly the daemon config's versions and the hub's capabilities. */
export function planConflist(s: ConflistSettings, chain: ChainInput, versions: ReadonlyMap<string, PluginVersions>): ConflistPlan {
  const shaper = chainShapes(chain.items);
  const common = chain.items.length === 0 ? s.cniVersions : commonVersions(s.cniVersions, chain.items, versions, s.cniBinDirs);
  const entries: readonly ChainEntry[] = chain.items.map((i) => i.entry);
  return {
    shaping: !shaper,
    context: {
      cniVersion: chain.items.length === 0 ? s.cniVersion : chooseCniVersion(s.cniVersion, common),
      cniVersions: common,
      name: s.networkName,
      socket: s.socket,
      vethPrefix: s.vethPrefix,
      mtu: s.mtu,
      logFile: s.cniLogFile,
      capabilities: hubCapabilities(chain.capabilities, shaper),
      shaping: !shaper,
      chain: entries,
    },
  };
}

/** The distinct plugin types of the chain, in order (each is asked once). */
export function chainTypes(items: readonly ChainItem[]): readonly string[] {
  return [...new Set(items.map((i) => i.entry.type))];
}
