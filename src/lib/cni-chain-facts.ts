/**
 * Facts about the entries of a CNI chain shared by the daemon (which renders the chain) and the plugin (which
 * refuses a hand-built chain with two shapers): what a plain plugin type is, the hub's own types, and which entry
 * shapes pod bandwidth. Pure, no imports: the plugin loads it.
 */

/** The hub's conflist type and Terway's (whose eni-config entry stands for the hub). */
export const HUB_TYPE = 'terway-hub';
export const TERWAY_TYPE = 'terway';

/** A plugin type libcni looks up as a file name in CNI_PATH: no slash, not "." or "..". */
export const PLUGIN_TYPE_RE = /^[A-Za-z0-9_.-]{1,64}$/u;

export function pluginTypeProblem(type: string): string | undefined {
  if (!PLUGIN_TYPE_RE.test(type)) return 'must be a plain plugin name of 1-64 of [A-Za-z0-9_.-]';
  if (type === '.' || type === '..') return 'must be a plain plugin name, not "." or ".."';
  return undefined;
}

/**
 * Whether a chain entry shapes pod bandwidth: the reference `bandwidth` plugin, or any entry declaring the
 * `bandwidth` capability (kubelet/containerd then hand it `runtimeConfig.bandwidth`). The hub's own entry shapes
 * unless it says `"shaping": false`.
 */
export function entryShapes(entry: unknown): boolean {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return false;
  const e = entry as Readonly<Record<string, unknown>>;
  if (e.type === HUB_TYPE) return e.shaping !== false;
  if (e.type === 'bandwidth') return true;
  const caps = e.capabilities;
  return typeof caps === 'object' && caps !== null && (caps as Readonly<Record<string, unknown>>).bandwidth === true;
}
