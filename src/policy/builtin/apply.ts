/**
 * Applies compiled rulesets: `nft -f -` (script on stdin, one atomic transaction) in the host or, through
 * `nsenter --net=PATH`, in a pod's netns; removes a pod-netns table (DEL); reads the programmed table back
 * (`nft -j list table`, summarised by listing.ts) for verification; and after a change cuts conntrack entries of
 * flows the model now denies (`conntrack -L`, then one `conntrack -R` batch of `-D` lines), so tightening a policy
 * ends established connections (R22).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecError } from '../../lib/errors.js';
import type { CommandRunner } from '../../lib/exec.js';
import { runChecked } from '../../lib/run-checked.js';
import type { NsRef } from '../../netlink/ops.js';
import { ipCommand } from '../../netlink/observe.js';
import { podKey, type PolicyModel } from '../model/types.js';
import type { CompiledRuleset, LocalPod } from './compile.js';
import { POD_TABLE } from './tables.js';
import { deleteLines, deniedFlows, parseConntrack, type CtFlow } from './conntrack.js';
import { summarizeListing, type ProgrammedTable } from './listing.js';

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

/**
 * One process for all deletions: `conntrack -R FILE` runs one command per line (a vanished entry is no error). It
 * fopen()s the file, so stdin from our runner (a socket) does not do; a private temp file does (nsenter changes
 * only the netns, so the path is the same inside).
 */
async function deleteFlows(runner: CommandRunner, ns: NsRef, lines: readonly string[][], signal?: AbortSignal): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'terway-hub-ct-'));
  try {
    const file = join(dir, 'delete');
    await writeFile(file, lines.map((l) => `${l.join(' ')}\n`).join(''), { mode: 0o600 });
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
      const listed = parseConntrack(listing);
      const denied = deniedFlows(model, listed, addresses);
      if (denied.length > 0) await deleteFlows(runner, ns, deleteLines(denied, listed), signal);
      return denied;
    },
  };
}
