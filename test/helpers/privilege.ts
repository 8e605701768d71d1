/** Gates for the privileged suites: they need root (and sometimes tools or the built plugin). */

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * Why a privileged suite cannot run here (undefined: it can): not root, or the first unmet extra requirement, given
 * as [met, reason] pairs.
 */
export function privilegedSkipReason(...needs: readonly (readonly [met: boolean, reason: string])[]): string | undefined {
  if (!isRoot()) return 'needs root (network namespaces, links, rules)';
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
