/**
 * Applies compiled rulesets: `nft -f -` (script on stdin, one atomic transaction) in the host or, through
 * `nsenter --net=PATH`, in a pod's netns; removes a pod-netns table (DEL); reads the programmed table back
 * (`nft -j list table`) for verification; and after a change cuts conntrack entries of flows the model now denies
 * (`conntrack -L`, then one `conntrack -R` batch of `-D` lines), so tightening a policy ends established connections (R22).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isObj } from '../../config/fields.js';
import { ExecError } from '../../lib/errors.js';
import { runChecked, type CommandRunner } from '../../lib/exec.js';
import type { NsRef } from '../../netlink/ops.js';
import { ipCommand } from '../../netlink/observe.js';
import { podKey, type PolicyModel } from '../model/types.js';
import { POD_TABLE, type CompiledRuleset, type LocalPod } from './compile.js';
import { deleteArgs, deniedFlows, parseConntrack, type CtFlow } from './conntrack.js';

export interface ProgrammedTable {
  readonly table: string;
  readonly chains: readonly string[];
  readonly rules: number;
  /** Rule comments in listing order (`ns/name ingress[0]`, …). */
  readonly comments: readonly string[];
  /** Set or map name → number of elements. */
  readonly sets: Readonly<Record<string, number>>;
}

export interface BuiltinApplier {
  apply(ns: NsRef, ruleset: CompiledRuleset, signal?: AbortSignal): Promise<void>;
  /** Removes the pod-netns table; idempotent (absent table is fine). */
  removePodTable(ns: NsRef, signal?: AbortSignal): Promise<void>;
  /** Removes `table` (`inet terway-hub`, …) in `ns`; idempotent. */
  removeTable(ns: NsRef, table: string, signal?: AbortSignal): Promise<void>;
  readBack(ns: NsRef, table: string, signal?: AbortSignal): Promise<ProgrammedTable | undefined>;
  /** Deletes conntrack entries, in `ns`, of flows to or from `pods` that `model` denies; returns them. */
  cutDenied(ns: NsRef, model: PolicyModel, pods: readonly LocalPod[], signal?: AbortSignal): Promise<readonly CtFlow[]>;
}

/** `table T` + `delete table T`: removes the table if present, in one transaction, without an error when absent. */
export function removeTableScript(table: string): string {
  return `table ${table}\ndelete table ${table}\n`;
}

/** The summary of `nft -j list table` output; undefined when the JSON has no such table. */
export function summarizeListing(json: unknown, table: string): ProgrammedTable | undefined {
  const items = isObj(json) && Array.isArray(json['nftables']) ? (json['nftables'] as unknown[]) : [];
  const chains: string[] = [];
  const comments: string[] = [];
  const sets: Record<string, number> = {};
  let rules = 0;
  let found = false;
  for (const item of items) {
    if (!isObj(item)) continue;
    if (isObj(item['table'])) found = true;
    const chain = item['chain'];
    if (isObj(chain) && typeof chain['name'] === 'string') chains.push(chain['name']);
    const set = isObj(item['set']) ? item['set'] : isObj(item['map']) ? item['map'] : undefined;
    if (set !== undefined && typeof set['name'] === 'string') sets[set['name']] = Array.isArray(set['elem']) ? set['elem'].length : 0;
    const rule = item['rule'];
    if (isObj(rule)) {
      rules++;
      if (typeof rule['comment'] === 'string') comments.push(rule['comment']);
    }
  }
  return found ? { table, chains, rules, comments, sets } : undefined;
}

/**
 * One process for all deletions: `conntrack -R FILE` runs one command per line (a vanished entry is no error). It
 * fopen()s the file, so stdin from our runner (a socket) does not do; a private temp file does (nsenter changes
 * only the netns, so the path is the same inside).
 */
async function deleteFlows(runner: CommandRunner, ns: NsRef, flows: readonly CtFlow[], signal?: AbortSignal): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'terway-hub-ct-'));
  try {
    const file = join(dir, 'delete');
    await writeFile(file, flows.map((f) => `${deleteArgs(f).join(' ')}\n`).join(''), { mode: 0o600 });
    await runChecked(runner, ipCommand(ns, ['-R', file], 'conntrack'), signal);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function createBuiltinApplier(runner: CommandRunner): BuiltinApplier {
  return {
    async apply(ns, ruleset, signal) {
      await runChecked(runner, { ...ipCommand(ns, ['-f', '-'], 'nft'), stdin: ruleset.text }, signal);
    },
    async removePodTable(ns, signal) {
      await runChecked(runner, { ...ipCommand(ns, ['-f', '-'], 'nft'), stdin: removeTableScript(`inet ${POD_TABLE}`) }, signal);
    },
    async removeTable(ns, table, signal) {
      await runChecked(runner, { ...ipCommand(ns, ['-f', '-'], 'nft'), stdin: removeTableScript(table) }, signal);
    },
    async readBack(ns, table, signal) {
      const cmd = ipCommand(ns, ['-j', 'list', 'table', ...table.split(' ')], 'nft');
      const res = await runner.run(cmd, signal);
      if (res.exitCode !== 0) {
        if (/No such file or directory/u.test(res.stderr)) return undefined;
        throw new ExecError([cmd.file, ...cmd.args], res.exitCode, res.stderr);
      }
      return summarizeListing(JSON.parse(res.stdout) as unknown, table);
    },
    async cutDenied(ns, model, pods, signal) {
      const keys = new Set(pods.map((p) => p.pod));
      const addresses = new Set(model.pods.filter((p) => keys.has(podKey(p))).flatMap((p) => p.ips));
      if (addresses.size === 0) return [];
      const listing = await runChecked(runner, ipCommand(ns, ['-L'], 'conntrack'), signal);
      const denied = deniedFlows(model, parseConntrack(listing), addresses);
      if (denied.length > 0) await deleteFlows(runner, ns, denied, signal);
      return denied;
    },
  };
}
