/**
 * Asks the chain's plugin binaries which CNI versions they support (`CNI_COMMAND=VERSION`), the I/O half of the
 * chain renderer (src/templates/chain-plan.ts). A type is looked up as a file in each of `cniBinDirs` in order
 * (first executable hit, as libcni's FindInPath), and run argv-only through the injected process runner with
 * `CNI_COMMAND=VERSION`, `CNI_PATH` = the dirs, stdin `{"cniVersion": <the hub's highest>}` and a timeout.
 * Answers are cached per binary path + mtime + size, so a re-render costs a stat per plugin until a binary changes.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../lib/errors.js';
import type { CommandRunner } from '../lib/exec.js';
import { chainTypes, type PluginVersions } from '../templates/chain-plan.js';
import type { ChainItem } from '../config/cni-chain.js';

export const VERSION_TIMEOUT_MS = 5000;
const VERSION_RE = /^\d+\.\d+\.\d+$/u;

export interface PluginVersionSource {
  /** The answer of every distinct type of the chain, never rejecting: a failure is a `{ ok: false, problem }`. */
  versionsOf(items: readonly ChainItem[], dirs: readonly string[], stdinVersion: string): Promise<ReadonlyMap<string, PluginVersions>>;
}

export interface PluginVersionProbeDeps {
  readonly runner: CommandRunner;
  readonly timeoutMs?: number;
}

interface Found {
  readonly path: string;
  readonly key: string;
}

/** Pure: a VERSION answer's `supportedVersions` (spec: required; legacy 0.1.0/0.2.0 plugins omitted it). */
export function parseVersionAnswer(stdout: string): readonly string[] | string {
  let o: unknown;
  try {
    o = JSON.parse(stdout);
  } catch {
    return `VERSION answered no JSON: ${JSON.stringify(stdout.slice(0, 200))}`;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return 'VERSION answered no JSON object';
  const r = o as Readonly<Record<string, unknown>>;
  const sv = r.supportedVersions;
  if (sv === undefined) {
    // libcni's PluginDecoder: without supportedVersions a 0.2.0 plugin supports 0.1.0 and 0.2.0
    if (r.cniVersion === '0.2.0') return ['0.1.0', '0.2.0'];
    return 'VERSION answer has no supportedVersions';
  }
  if (!Array.isArray(sv) || !sv.every((v): v is string => typeof v === 'string' && VERSION_RE.test(v))) return 'VERSION answer: supportedVersions is not a list of versions';
  return sv;
}

export class PluginVersionProbe implements PluginVersionSource {
  readonly #deps: PluginVersionProbeDeps;
  readonly #cache = new Map<string, readonly string[]>();

  constructor(deps: PluginVersionProbeDeps) {
    this.#deps = deps;
  }

  async versionsOf(items: readonly ChainItem[], dirs: readonly string[], stdinVersion: string): Promise<ReadonlyMap<string, PluginVersions>> {
    const out = new Map<string, PluginVersions>();
    for (const type of chainTypes(items)) out.set(type, await this.#one(type, dirs, stdinVersion));
    return out;
  }

  async #one(type: string, dirs: readonly string[], stdinVersion: string): Promise<PluginVersions> {
    const found = await find(type, dirs);
    if (found === undefined) return { ok: false, problem: `no executable ${JSON.stringify(type)} found` };
    const cached = this.#cache.get(found.key);
    if (cached !== undefined) return { ok: true, binary: found.path, supported: cached };
    const cmd = { file: found.path, args: [], stdin: JSON.stringify({ cniVersion: stdinVersion }), env: { CNI_COMMAND: 'VERSION', CNI_PATH: dirs.join(':') } };
    let res;
    try {
      res = await this.#deps.runner.run(cmd, AbortSignal.timeout(this.#deps.timeoutMs ?? VERSION_TIMEOUT_MS));
    } catch (e) {
      return { ok: false, problem: `${found.path} VERSION failed: ${errorMessage(e)}` };
    }
    if (res.exitCode !== 0) return { ok: false, problem: `${found.path} VERSION exited ${String(res.exitCode)}: ${(res.stdout.trim() || res.stderr.trim()).slice(0, 300)}` };
    const supported = parseVersionAnswer(res.stdout);
    if (typeof supported === 'string') return { ok: false, problem: `${found.path}: ${supported}` };
    this.#cache.set(found.key, supported);
    return { ok: true, binary: found.path, supported };
  }
}

/** The first executable regular file `dir/type`, with its cache key (path, mtime, size). */
async function find(type: string, dirs: readonly string[]): Promise<Found | undefined> {
  for (const dir of dirs) {
    const path = join(dir, type);
    try {
      const st = await stat(path);
      if (!st.isFile()) continue;
      await access(path, constants.X_OK);
      return { path, key: `${path}\0${String(st.mtimeMs)}\0${String(st.size)}` };
    } catch {
      // not here: the next dir
    }
  }
  return undefined;
}
