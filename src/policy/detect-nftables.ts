/**
 * Whether nftables works on this node (the builtin backend's one dependency): `nft list tables` through the injected
 * CommandRunner. A missing `nft`, or a kernel without nf_tables (`Unable to initialize Netlink socket: Protocol not
 * supported`), is a problem the backend choice must know before any ADD depends on it.
 */
import { errorMessage } from '../lib/errors.js';
import type { CommandRunner } from '../lib/exec.js';

/** Undefined when nftables is usable; else why not, in one line. */
export async function detectNftablesProblem(runner: CommandRunner, signal?: AbortSignal): Promise<string | undefined> {
  try {
    const out = await runner.run({ file: 'nft', args: ['list', 'tables'] }, signal);
    if (out.exitCode === 0) return undefined;
    const why = out.stderr.trim().split('\n')[0] ?? '';
    return `nft list tables failed (exit ${String(out.exitCode)})${why === '' ? '' : `: ${why}`}`;
  } catch (e) {
    return `nft cannot run: ${errorMessage(e)}`;
  }
}
