/**
 * The MAC guard of `link.move` (./ops.ts): a move whose op names the link's MAC runs only when the link of that name
 * has that MAC. Moving a link out of a namespace is the one op whose target is chosen by name alone among links the
 * hub did not create (an exclusive ENI, found by MAC by whoever named it): a stale name must never move the node's
 * primary interface, or another pod's, into a pod. The executor asks before the step that holds the move runs
 * (`ip -j link show dev NAME`, one process, or one RTM_GETLINK through an ip driver; not atomic with the move, which
 * follows within milliseconds).
 */
import { errorMessage } from '../lib/errors.js';
import type { CommandRunner } from '../lib/exec.js';
import type { IpDriver } from './ip-driver.js';
import { ipCommand } from './observe.js';
import type { Op } from './ops.js';
import { describeNs } from './render.js';
import { parseLinks } from './state.js';

export type GuardedMove = Extract<Op, { kind: 'link.move' }> & { readonly mac: string };

export type MoveVerdict =
  | { readonly kind: 'ok' }
  /** No link of that name in the source namespace (a teardown that already ran: success there). */
  | { readonly kind: 'missing'; readonly error: string }
  /** Another MAC, or the link could not be read: never moved. */
  | { readonly kind: 'refused'; readonly error: string };

const MISSING = /does not exist|Cannot find device|No such device/iu;

export function isGuardedMove(op: Op): op is GuardedMove {
  return op.kind === 'link.move' && op.mac !== undefined;
}

export async function checkMove(runner: CommandRunner, op: GuardedMove, signal?: AbortSignal): Promise<MoveVerdict> {
  const where = describeNs(op.ns);
  let res;
  try {
    res = await runner.run(ipCommand(op.ns, ['-j', 'link', 'show', 'dev', op.name]), signal);
  } catch (err) {
    return { kind: 'refused', error: `cannot read link ${op.name} (${where}) to verify its MAC before moving it: ${errorMessage(err)}` };
  }
  if (res.exitCode !== 0) {
    const text = res.stderr.trim() || `exit ${String(res.exitCode)}`;
    return MISSING.test(text)
      ? { kind: 'missing', error: `link ${op.name} not found (${where}): ${text}` }
      : { kind: 'refused', error: `cannot read link ${op.name} (${where}) to verify its MAC before moving it: ${text}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.stdout) as unknown;
  } catch (err) {
    return { kind: 'refused', error: `cannot parse ip -j link show dev ${op.name} (${where}): ${errorMessage(err)}` };
  }
  return verdictOf(op, parseLinks(parsed).find((l) => l.name === op.name)?.mac);
}

/** The same check through an ip driver (./ip-driver.ts): one RTM_GETLINK, no process; iproute2's text when missing. */
export async function checkMoveWith(driver: IpDriver, op: GuardedMove): Promise<MoveVerdict> {
  try {
    const mac = await driver.linkMac(op.ns, op.name);
    return mac === undefined ? { kind: 'missing', error: `link ${op.name} not found (${describeNs(op.ns)}): Device "${op.name}" does not exist.` } : verdictOf(op, mac);
  } catch (err) {
    return { kind: 'refused', error: `cannot read link ${op.name} (${describeNs(op.ns)}) to verify its MAC before moving it: ${errorMessage(err)}` };
  }
}

/** The verdict for the MAC the link has (undefined: no such link). */
function verdictOf(op: GuardedMove, mac: string | undefined): MoveVerdict {
  const where = describeNs(op.ns);
  if (mac === undefined) return { kind: 'missing', error: `link ${op.name} not found (${where})` };
  const want = op.mac.toLowerCase();
  return mac === want ? { kind: 'ok' } : { kind: 'refused', error: `link ${op.name} (${where}) has MAC ${mac}, not ${want}: not moved (wrong link)` };
}
