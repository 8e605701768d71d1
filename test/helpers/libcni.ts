/**
 * A libcni-faithful chain driver for tests: what containerd, CRI-O and podman do with a conflist, following
 * containernetworking/cni libcni (api.go, conf.go, pkg/invoke) as of libcni 1.2/1.3:
 *
 * - version: the highest of `cniVersions` ∪ `cniVersion` not above the spec version the runtime implements
 *   (libcni ≥ 1.2; `current`, default 1.1.0), semver order; without `cniVersions`, `cniVersion` as it is;
 * - each plugin's stdin: its own entry, with `name` and `cniVersion` of the list injected (they override the
 *   entry's), `prevResult` when there is one, and `runtimeConfig` = exactly the runtime capability arguments the
 *   entry declares with `capabilities: {x: true}` (replacing any `runtimeConfig` in the entry; none when empty);
 * - ADD in list order, each plugin's result the next one's `prevResult`, stop at the first error; the final
 *   result is what a runtime caches (a result without `cniVersion` gets the config's, as `fixupResultVersion`);
 * - CHECK (config ≥ 0.4.0, not with `disableCheck`) in list order, DEL in reverse order, both with the cached final
 *   result as `prevResult` (DEL < 0.4.0: none), stop at the first error;
 * - STATUS (≥ 1.1.0, else a no-op) and GC (≥ 1.1.0: `cni.dev/valid-attachments`; first a full DEL of every cached
 *   attachment not in the list) with empty container env, as libcni's `args(cmd, &RuntimeConf{})`;
 * - environment: CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_ARGS, CNI_IFNAME, CNI_PATH always set (empty when
 *   unknown, as `Args.AsEnv`), over a clean environment holding only PATH (libcni passes the runtime's own
 *   environment; tests keep theirs out of the plugins);
 * - a plugin is found as the first `<dir>/<type>` over the bin dirs (`FindInPath`).
 *
 * Every plugin run is returned (type, stdin, exit code, stdout, stderr), so a failure names the plugin and shows
 * what it was given. Not emulated: libcni's Go struct round trip of results (unknown result fields dropped,
 * conversion of a cached result to another version) and the on-disk result cache (the caller keeps `Added`).
 */
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { join } from 'node:path';
import { shTry } from './exec.js';

export type Json = Record<string, unknown>;

/** The spec version the newest libcni implements (version.Current()). */
export const LIBCNI_CURRENT = '1.1.0';

export interface Attachment {
  readonly containerId: string;
  readonly netns: string;
  readonly ifName: string;
  /** CNI_ARGS as libcni's RuntimeConf.Args: pairs joined `K=V;K=V`. */
  readonly args?: readonly (readonly [string, string])[];
  /** RuntimeConf.CapabilityArgs: portMappings, bandwidth, mac, ips, … */
  readonly capabilityArgs?: Json;
}

export interface DriverOptions {
  /** Plugin directories, searched in order; also CNI_PATH. */
  readonly binDirs: readonly string[];
  /** The spec version the emulated libcni implements (default LIBCNI_CURRENT). */
  readonly current?: string;
  readonly timeoutMs?: number;
}

export interface PluginRun {
  readonly index: number;
  readonly type: string;
  readonly command: string;
  readonly path: string;
  readonly stdin: Json;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed (a result or a CNI error), undefined when empty or not JSON. */
  readonly json: Json | undefined;
}

export interface ChainRun {
  readonly ok: boolean;
  readonly command: string;
  readonly cniVersion: string;
  readonly runs: readonly PluginRun[];
  /** ADD: the final result (what the runtime caches). */
  readonly result?: Json;
  /** On failure: libcni's wording, `plugin type="x" failed (add): <msg>`, plus the plugin's code and stderr. */
  readonly error?: string;
  readonly failed?: PluginRun;
}

// ---------------------------------------------------------------------------------------------------------------
// Pure parts

/** A CNI version as [major, minor, patch]; throws on anything else (libcni: version.ParseVersion). */
export function parseVersion(v: string): [number, number, number] {
  const parts = v === '' ? ['0', '1', '0'] : v.split('.');
  if (parts.length > 3 || parts.some((p) => !/^\d+$/u.test(p))) throw new Error(`invalid CNI version ${JSON.stringify(v)}`);
  const [a = '0', b = '0', c = '0'] = parts;
  return [Number(a), Number(b), Number(c)];
}

export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** libcni's NetworkConfFromBytes version choice. */
export function pickVersion(conflist: Json, current: string = LIBCNI_CURRENT): string {
  const raw = conflist.cniVersion;
  if (raw !== undefined && typeof raw !== 'string') throw new Error(`error parsing configuration list: invalid cniVersion type ${typeof raw}`);
  const cniVersion = raw ?? '';
  const list = conflist.cniVersions;
  if (list === undefined) return cniVersion;
  if (!Array.isArray(list)) throw new Error('error parsing configuration list: invalid type for cniVersions');
  const vs: string[] = [];
  (list as unknown[]).forEach((v, i) => {
    if (typeof v !== 'string') throw new Error(`error parsing configuration list: invalid type for cniVersions index ${String(i)}`);
    if (compareVersions(v, current) <= 0) vs.push(v);
  });
  if (cniVersion !== '' && compareVersions(cniVersion, current) <= 0) vs.push(cniVersion);
  vs.sort(compareVersions);
  return vs[vs.length - 1] ?? cniVersion;
}

/** Every version a conflist offers (`cniVersions` ∪ `cniVersion`), sorted, deduplicated. */
export function offeredVersions(conflist: Json): string[] {
  const list = Array.isArray(conflist.cniVersions) ? (conflist.cniVersions as unknown[]).filter((v): v is string => typeof v === 'string') : [];
  const all = typeof conflist.cniVersion === 'string' ? [...list, conflist.cniVersion] : list;
  return [...new Set(all)].sort(compareVersions);
}

export function pluginsOf(conflist: Json): Json[] {
  const plugins = conflist.plugins;
  if (!Array.isArray(plugins) || plugins.length === 0) throw new Error('error parsing configuration list: no plugins in list');
  return (plugins as unknown[]).map((p, i) => {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new Error(`failed to parse plugin config ${String(i)}: not an object`);
    const entry = p as Json;
    if (typeof entry.type !== 'string' || entry.type === '') throw new Error(`failed to parse plugin config ${String(i)}: missing 'type'`);
    return entry;
  });
}

/** injectRuntimeConfig: the capability arguments whose key the entry declares `true`. */
export function runtimeConfigFor(entry: Json, capabilityArgs: Json | undefined): Json | undefined {
  const caps = entry.capabilities;
  if (typeof caps !== 'object' || caps === null || capabilityArgs === undefined) return undefined;
  const rc: Json = {};
  for (const [cap, supported] of Object.entries(caps as Json)) {
    if (supported === true && Object.hasOwn(capabilityArgs, cap)) rc[cap] = capabilityArgs[cap];
  }
  return Object.keys(rc).length > 0 ? rc : undefined;
}

/** buildOneConfig: the stdin one plugin of the list gets. */
export function buildPluginConfig(listName: string, cniVersion: string, entry: Json, prevResult: Json | undefined, capabilityArgs: Json | undefined): Json {
  const out: Json = { ...(JSON.parse(JSON.stringify(entry)) as Json), name: listName, cniVersion };
  if (prevResult !== undefined) out.prevResult = prevResult;
  const rc = runtimeConfigFor(entry, capabilityArgs);
  if (rc !== undefined) out.runtimeConfig = rc;
  return out;
}

/** Args.AsEnv over a clean environment (PATH only). */
export function cniEnv(command: string, att: Attachment | undefined, binDirs: readonly string[], path = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'): Record<string, string> {
  return {
    PATH: path,
    CNI_COMMAND: command,
    CNI_CONTAINERID: att?.containerId ?? '',
    CNI_NETNS: att?.netns ?? '',
    CNI_ARGS: (att?.args ?? []).map(([k, v]) => `${k}=${v}`).join(';'),
    CNI_IFNAME: att?.ifName ?? '',
    CNI_PATH: binDirs.join(':'),
  };
}

/** pkg/invoke fixupResultVersion: a result without cniVersion is taken to be in the config's version. */
export function fixupResult(result: Json, confVersion: string): Json {
  return typeof result.cniVersion === 'string' && result.cniVersion !== '' ? result : { ...result, cniVersion: confVersion };
}

function parseJson(text: string): Json | undefined {
  try {
    const v: unknown = text.trim() === '' ? undefined : JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
  } catch {
    return undefined;
  }
}

/** pkg/invoke pluginErr: the plugin's JSON error on stdout, else its stderr, else the exit status. */
export function pluginError(run: Pick<PluginRun, 'code' | 'stdout' | 'stderr' | 'json'>): string {
  const j = run.json;
  if (j !== undefined && typeof j.msg === 'string') {
    const details = typeof j.details === 'string' && j.details !== '' ? `; ${j.details}` : '';
    return `${j.msg}${details} (code ${String(j.code)})`;
  }
  if (run.stdout.trim() !== '') return `netplugin failed with no error message: ${run.stdout.trim()} (exit ${String(run.code)})`;
  return `netplugin failed: ${JSON.stringify(run.stderr.trim())}: exit status ${String(run.code)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Execution

export function findInPath(type: string, dirs: readonly string[]): string {
  for (const dir of dirs) {
    const p = join(dir, type);
    try {
      if (statSync(p).isFile()) {
        accessSync(p, fsConstants.X_OK);
        return p;
      }
    } catch {
      // not here
    }
  }
  throw new Error(`failed to find plugin ${JSON.stringify(type)} in path [${dirs.join(' ')}]`);
}

export interface Added {
  readonly conflist: Json;
  readonly cniVersion: string;
  readonly attachment: Attachment;
  readonly result: Json;
}

export class LibcniDriver {
  readonly #binDirs: readonly string[];
  readonly #current: string;
  readonly #timeoutMs: number;

  constructor(opts: DriverOptions) {
    this.#binDirs = opts.binDirs;
    this.#current = opts.current ?? LIBCNI_CURRENT;
    this.#timeoutMs = opts.timeoutMs ?? 60_000;
  }

  version(conflist: Json): string {
    return pickVersion(conflist, this.#current);
  }

  /** GetVersionInfo: VERSION with libcni's fake env and `{"cniVersion": current}` on stdin. */
  supportedVersions(type: string): string[] {
    const path = findInPath(type, this.#binDirs);
    const env = { PATH: process.env.PATH ?? '', CNI_COMMAND: 'VERSION', CNI_CONTAINERID: '', CNI_NETNS: 'dummy', CNI_ARGS: '', CNI_IFNAME: 'dummy', CNI_PATH: 'dummy' };
    const r = shTry(path, [], { input: JSON.stringify({ cniVersion: this.#current }), env, timeoutMs: this.#timeoutMs });
    const j = parseJson(r.stdout);
    if (r.code !== 0 || j === undefined || !Array.isArray(j.supportedVersions)) throw new Error(`VERSION of ${type} failed: ${pluginError({ ...r, json: j })}`);
    return (j.supportedVersions as unknown[]).filter((v): v is string => typeof v === 'string');
  }

  #exec(index: number, entry: Json, command: string, stdin: Json, att: Attachment | undefined): PluginRun {
    const type = String(entry.type);
    const path = findInPath(type, this.#binDirs);
    const r = shTry(path, [], { input: JSON.stringify(stdin), env: cniEnv(command, att, this.#binDirs), timeoutMs: this.#timeoutMs });
    return { index, type, command, path, stdin, code: r.code, stdout: r.stdout, stderr: r.stderr, json: parseJson(r.stdout) };
  }

  #fail(command: string, cniVersion: string, runs: PluginRun[], failed: PluginRun): ChainRun {
    const stderr = failed.stderr.trim() === '' ? '' : `\n  stderr of ${failed.type}: ${failed.stderr.trim().slice(-2000)}`;
    const error = `plugin type=${JSON.stringify(failed.type)} failed (${command.toLowerCase()}): ${pluginError(failed)}${stderr}`;
    return { ok: false, command, cniVersion, runs, error, failed };
  }

  /** AddNetworkList. */
  add(conflist: Json, att: Attachment): ChainRun & { added?: Added } {
    const cniVersion = this.version(conflist);
    const name = String(conflist.name);
    const runs: PluginRun[] = [];
    let result: Json | undefined;
    for (const [i, entry] of pluginsOf(conflist).entries()) {
      const run = this.#exec(i, entry, 'ADD', buildPluginConfig(name, cniVersion, entry, result, att.capabilityArgs), att);
      runs.push(run);
      if (run.code !== 0 || run.json === undefined) return this.#fail('ADD', cniVersion, runs, run);
      result = fixupResult(run.json, cniVersion);
    }
    if (result === undefined) throw new Error('unreachable: a list has at least one plugin');
    return { ok: true, command: 'ADD', cniVersion, runs, result, added: { conflist, cniVersion, attachment: att, result } };
  }

  /** CheckNetworkList with the cached ADD. */
  check(added: Added): ChainRun {
    const { conflist, cniVersion, attachment, result } = added;
    if (compareVersions(cniVersion, '0.4.0') < 0) {
      return { ok: false, command: 'CHECK', cniVersion, runs: [], error: `configuration version ${JSON.stringify(cniVersion)} does not support the CHECK command` };
    }
    if (conflist.disableCheck === true || conflist.disableCheck === 'true') return { ok: true, command: 'CHECK', cniVersion, runs: [] };
    const runs: PluginRun[] = [];
    for (const [i, entry] of pluginsOf(conflist).entries()) {
      const run = this.#exec(i, entry, 'CHECK', buildPluginConfig(String(conflist.name), cniVersion, entry, result, attachment.capabilityArgs), attachment);
      runs.push(run);
      if (run.code !== 0) return this.#fail('CHECK', cniVersion, runs, run);
    }
    return { ok: true, command: 'CHECK', cniVersion, runs };
  }

  /**
   * DelNetworkList: reverse order, prevResult = the cached result (≥ 0.4.0). `cached` undefined is libcni with no
   * cache file (DEL after a failed ADD, a second DEL).
   */
  del(conflist: Json, att: Attachment, cached?: Json): ChainRun {
    const cniVersion = this.version(conflist);
    const prev = compareVersions(cniVersion, '0.4.0') >= 0 ? cached : undefined;
    const plugins = pluginsOf(conflist);
    const runs: PluginRun[] = [];
    for (let i = plugins.length - 1; i >= 0; i--) {
      const entry = plugins[i] ?? {};
      const run = this.#exec(i, entry, 'DEL', buildPluginConfig(String(conflist.name), cniVersion, entry, prev, att.capabilityArgs), att);
      runs.push(run);
      if (run.code !== 0) return this.#fail('DEL', cniVersion, runs, run);
    }
    return { ok: true, command: 'DEL', cniVersion, runs };
  }

  /** GetStatusNetworkList: a no-op below 1.1.0; else STATUS on each plugin, the first error returned. */
  status(conflist: Json): ChainRun {
    const cniVersion = this.version(conflist);
    if (compareVersions(cniVersion, '1.1.0') < 0) return { ok: true, command: 'STATUS', cniVersion, runs: [] };
    const runs: PluginRun[] = [];
    for (const [i, entry] of pluginsOf(conflist).entries()) {
      const run = this.#exec(i, entry, 'STATUS', { ...entry, name: conflist.name, cniVersion }, undefined);
      runs.push(run);
      if (run.code !== 0) return this.#fail('STATUS', cniVersion, runs, run);
    }
    return { ok: true, command: 'STATUS', cniVersion, runs };
  }

  /**
   * GCNetworkList: a full DEL of each cached attachment not in `valid`, then (≥ 1.1.0) GC on every plugin with
   * `cni.dev/valid-attachments`, continuing past errors (all of them reported).
   */
  gc(conflist: Json, valid: readonly { containerID: string; ifname: string }[], cached: readonly Added[] = []): ChainRun {
    const cniVersion = this.version(conflist);
    const runs: PluginRun[] = [];
    const errors: string[] = [];
    for (const a of cached) {
      if (valid.some((v) => v.containerID === a.attachment.containerId && v.ifname === a.attachment.ifName)) continue;
      const d = this.del(conflist, a.attachment, a.result);
      runs.push(...d.runs);
      if (!d.ok) errors.push(`failed to delete stale attachment ${a.attachment.containerId} ${a.attachment.ifName}: ${d.error ?? ''}`);
    }
    if (compareVersions(cniVersion, '1.1.0') >= 0) {
      for (const [i, entry] of pluginsOf(conflist).entries()) {
        const run = this.#exec(i, entry, 'GC', { ...entry, name: conflist.name, cniVersion, 'cni.dev/valid-attachments': valid }, undefined);
        runs.push(run);
        if (run.code !== 0) errors.push(`failed to GC plugin ${run.type}: ${pluginError(run)}`);
      }
    }
    return errors.length === 0 ? { ok: true, command: 'GC', cniVersion, runs } : { ok: false, command: 'GC', cniVersion, runs, error: errors.join('\n') };
  }
}

/** A one-line account of a chain run for assertion messages: each plugin, its exit code and the error. */
export function explain(run: ChainRun): string {
  const steps = run.runs.map((r) => `${r.type}:${r.command}=${String(r.code)}`).join(' ');
  return `${run.command} at ${run.cniVersion} [${steps}]${run.error === undefined ? '' : ` ${run.error}`}`;
}
