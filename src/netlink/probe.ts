/** Compares a setup plan with the live state (CHECK, GC ruleSync): which effects are absent or different. */
import { errorMessage } from '../lib/errors.js';
import type { CommandRunner } from '../lib/exec.js';
import { diffPlan, filterHooksOf, namespacesOf, qdiscNamespacesOf, type LinkOverride } from './diff.js';
import { observeState } from './observe.js';
import type { Plan } from './ops.js';
import { nsKey } from './render.js';
import type { ObservedState } from './state.js';

export interface StateProbe {
  /**
   * A readable description of each planned effect that is absent or different; empty when all is in place.
   * `overrides`: link attributes a later chained plugin changed on purpose (see LinkOverride).
   */
  missing(plan: Plan, signal?: AbortSignal, overrides?: readonly LinkOverride[]): Promise<readonly string[]>;
}

export function createStateProbe(deps: { readonly runner: CommandRunner }): StateProbe {
  return {
    async missing(plan, signal, overrides = []) {
      const withQdiscs = qdiscNamespacesOf(plan);
      const filters = filterHooksOf(plan);
      const entries = await Promise.all(
        namespacesOf(plan).map(async (ns): Promise<readonly [string, ObservedState | string]> => {
          try {
            const hooks = filters.get(nsKey(ns));
            return [nsKey(ns), await observeState(deps.runner, ns, signal, { qdiscs: withQdiscs.has(nsKey(ns)), ...(hooks !== undefined ? { filters: hooks } : {}) })];
          } catch (err) {
            return [nsKey(ns), errorMessage(err)];
          }
        }),
      );
      return diffPlan(plan, new Map(entries), overrides);
    },
  };
}
