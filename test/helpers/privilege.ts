/**
 * Gates for the privileged suites. They need root, and they must run inside the throwaway network namespace that
 * `npm test` (scripts/test.ts) creates as their "host": the runner exports the real host's netns identity in
 * HOST_NETNS_ENV, and a suite whose own netns is that one (or that was not started by the runner) skips, so no
 * privileged test ever changes the real host's links, routes, rules or sysctls.
 */
import { readlinkSync } from 'node:fs';

/** Set by scripts/test.ts to `readlink /proc/self/ns/net` of the real host, e.g. `net:[4026531833]`. */
export const HOST_NETNS_ENV = 'TERWAY_HUB_TEST_HOST_NETNS';

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** This process's network namespace, `net:[inode]`. */
export function ownNetns(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/net');
  } catch {
    return undefined;
  }
}

/** True inside the runner's throwaway netns: the runner named the real host's netns, and this is another one. */
export function inThrowawayNetns(): boolean {
  const host = process.env[HOST_NETNS_ENV];
  const own = ownNetns();
  return host !== undefined && host !== '' && own !== undefined && own !== host;
}

/**
 * Why a privileged suite cannot run here (undefined: it can): not root, not inside the throwaway netns, or the first
 * unmet extra requirement, given as [met, reason] pairs.
 */
export function privilegedSkipReason(...needs: readonly (readonly [met: boolean, reason: string])[]): string | undefined {
  if (!isRoot()) return 'needs root (network namespaces, links, rules)';
  if (!inThrowawayNetns()) return 'not inside the throwaway network namespace of `npm test` (run it through scripts/test.ts: privileged suites never run in the real host netns)';
  return needs.find(([met]) => !met)?.[1];
}

/** Skips a whole describe block with a printed reason. */
export function describeIf(cond: boolean, reason: string): jest.Describe {
  if (!cond) console.warn(`SKIP: ${reason}`);
  return cond ? describe : describe.skip;
}

/** `describe` for a privileged suite (see privilegedSkipReason), skipped with a printed `SKIP <what>: <reason>`. */
export function describePrivileged(what: string, ...needs: readonly (readonly [met: boolean, reason: string])[]): jest.Describe {
  const reason = privilegedSkipReason(...needs);
  return describeIf(reason === undefined, `${what}: ${reason ?? ''}`);
}
