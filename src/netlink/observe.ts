/** Reads a namespace's network state with `ip -j` (host, or a pod netns through nsenter). */
import { runChecked, type Command, type CommandRunner } from '../lib/exec.js';
import type { NsRef } from './ops.js';
import { parseAddrs, parseLinks, parseNeighs, parseRoutes, parseRules, type ObservedState } from './state.js';

export const OBSERVE_QUERIES = {
  links: ['-j', 'link', 'show'],
  addrs: ['-j', '-4', 'addr', 'show'],
  routes: ['-j', '-4', 'route', 'show', 'table', 'all'],
  rules: ['-j', '-4', 'rule', 'show'],
  neighs: ['-j', '-4', 'neigh', 'show'],
} as const;

export function ipCommand(ns: NsRef, args: readonly string[]): Command {
  return ns.kind === 'host' ? { file: 'ip', args } : { file: 'nsenter', args: [`--net=${ns.path}`, 'ip', ...args] };
}

async function query(runner: CommandRunner, ns: NsRef, args: readonly string[], signal?: AbortSignal): Promise<unknown> {
  const out = await runChecked(runner, ipCommand(ns, args), signal);
  return out.trim() === '' ? [] : (JSON.parse(out) as unknown);
}

export async function observeState(runner: CommandRunner, ns: NsRef, signal?: AbortSignal): Promise<ObservedState> {
  const [links, addrs, routes, rules, neighs] = await Promise.all([
    query(runner, ns, OBSERVE_QUERIES.links, signal),
    query(runner, ns, OBSERVE_QUERIES.addrs, signal),
    query(runner, ns, OBSERVE_QUERIES.routes, signal),
    query(runner, ns, OBSERVE_QUERIES.rules, signal),
    query(runner, ns, OBSERVE_QUERIES.neighs, signal),
  ]);
  return {
    links: parseLinks(links),
    addrs: parseAddrs(addrs),
    routes: parseRoutes(routes),
    rules: parseRules(rules),
    neighs: parseNeighs(neighs),
  };
}
