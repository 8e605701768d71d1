/**
 * The seam between the executor (./executor.ts) and a way of programming ip ops other than `ip -batch`: the
 * rtnetlink driver of the plugin binary (./rtnl/driver.ts). The executor keeps everything else — grouping into
 * steps, the move guard's verdicts, tolerances (./tolerate.ts: the driver answers with iproute2's texts), rollback,
 * teardown — and sends each op the driver does not support to `ip -batch` instead (explicitly, op by op, in order).
 */
import type { NsRef, Op } from './ops.js';

export interface IpDriver {
  /** For logs: which driver runs the ip ops. */
  readonly name: string;
  /** Whether the driver programs this op itself (otherwise `ip -batch` does). */
  supports(op: Op): boolean;
  /**
   * Runs supported ops of one namespace in order, each on its own, going on after a failure as `ip -force -batch`
   * does; one error text per op, '' for success (iproute2's text for the same failure, so tolerances apply alike).
   * Ops after an abort of `signal` are not run (their text says so).
   */
  run(ns: NsRef, ops: readonly Op[], signal?: AbortSignal): Promise<readonly string[]>;
  /** The MAC of link `name` in `ns` (lower case), undefined when there is none; throws when it cannot be read. */
  linkMac(ns: NsRef, name: string): Promise<string | undefined>;
}

/** Loads a driver when this runtime has one (undefined: iproute2 does everything). */
export type IpDriverSource = () => Promise<IpDriver | undefined>;

/** Splits ops, in order, into maximal runs the driver supports and runs it does not. */
export function driverRuns<T extends { readonly op: Op }>(entries: readonly T[], driver: IpDriver): readonly { readonly driver: boolean; readonly entries: readonly T[] }[] {
  const runs: { driver: boolean; entries: T[] }[] = [];
  for (const e of entries) {
    const supported = driver.supports(e.op);
    const last = runs[runs.length - 1];
    if (last?.driver === supported) last.entries.push(e);
    else runs.push({ driver: supported, entries: [e] });
  }
  return runs;
}
