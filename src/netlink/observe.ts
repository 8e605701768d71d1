/** Reads a namespace's network state with `ip -j` (host, or a pod netns through nsenter); ipCommand also runs nft/conntrack there. */
import type { Command, CommandRunner } from '../lib/exec.js';
import { runChecked } from '../lib/run-checked.js';
import type { NsRef } from './ops.js';
import { parseAddrs, parseFilters, parseLinks, parseNeighs, parseQdiscs, parseRoutes, parseRules, type ObservedState } from './state.js';

/** `tc -j -raw qdisc show`: every qdisc of the namespace, with tbf buffers in raw ticks. */
export const QDISC_QUERY = ['-j', '-raw', 'qdisc', 'show'] as const;

export interface ObserveOptions {
  /** Also list qdiscs (one more process); for plans with tc ops in the namespace. */
  readonly qdiscs?: boolean;
  /** Also list the filters of these (dev, hook) pairs (one `tc -j filter show` each). */
  readonly filters?: readonly { readonly dev: string; readonly hook: 'ingress' | 'egress' }[];
}

/** `tc -j filter show dev DEV <hook>` (tc lists filters per device). */
export function filterQuery(dev: string, hook: 'ingress' | 'egress'): readonly string[] {
  return ['-j', 'filter', 'show', 'dev', dev, hook];
}

export const OBSERVE_QUERIES = {
  links: ['-j', 'link', 'show'],
  addrs: ['-j', '-4', 'addr', 'show'],
  routes: ['-j', '-4', 'route', 'show', 'table', 'all'],
  rules: ['-j', '-4', 'rule', 'show'],
  neighs: ['-j', '-4', 'neigh', 'show'],
} as const;

export function ipCommand(ns: NsRef, args: readonly string[], tool: 'ip' | 'tc' | 'nft' | 'conntrack' = 'ip'): Command {
  return ns.kind === 'host' ? { file: tool, args } : { file: 'nsenter', args: [`--net=${ns.path}`, tool, ...args] };
}

async function query(runner: CommandRunner, ns: NsRef, args: readonly string[], signal?: AbortSignal, tool: 'ip' | 'tc' = 'ip'): Promise<unknown> {
  const out = await runChecked(runner, ipCommand(ns, args, tool), signal);
  return out.trim() === '' ? [] : (JSON.parse(out) as unknown);
}

export async function observeState(runner: CommandRunner, ns: NsRef, signal?: AbortSignal, options: ObserveOptions = {}): Promise<ObservedState> {
  const filterLists = Promise.all(
    (options.filters ?? []).map(async (f) => parseFilters(await query(runner, ns, filterQuery(f.dev, f.hook), signal, 'tc'), f.dev, f.hook)),
  );
  const [links, addrs, routes, rules, neighs, qdiscs, filters] = await Promise.all([
    query(runner, ns, OBSERVE_QUERIES.links, signal),
    query(runner, ns, OBSERVE_QUERIES.addrs, signal),
    query(runner, ns, OBSERVE_QUERIES.routes, signal),
    query(runner, ns, OBSERVE_QUERIES.rules, signal),
    query(runner, ns, OBSERVE_QUERIES.neighs, signal),
    options.qdiscs === true ? query(runner, ns, QDISC_QUERY, signal, 'tc') : Promise.resolve(undefined),
    filterLists,
  ]);
  return {
    links: parseLinks(links),
    addrs: parseAddrs(addrs),
    routes: parseRoutes(routes),
    rules: parseRules(rules),
    neighs: parseNeighs(neighs),
    ...(qdiscs !== undefined ? { qdiscs: parseQdiscs(qdiscs) } : {}),
    ...(options.filters !== undefined && options.filters.length > 0 ? { filters: filters.flat() } : {}),
  };
}
