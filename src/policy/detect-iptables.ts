/**
 * Which iptables flavour (legacy or nft) the node's kubelet and kube-proxy program, so Felix writes its rules into
 * the same one (rules split across both flavours are Calico's most reported breakage: calico#2322, #3709, #5760).
 * An adapter over an injected CommandRunner (src/main passes the real one); the decision itself is `decideIptables`,
 * pure.
 *
 * The decision is the one Calico's IptablesBackend=auto and Kubernetes' iptables-wrapper make:
 *  1. kubelet (1.17+) creates the chains KUBE-IPTABLES-HINT / KUBE-KUBELET-CANARY in the mangle table of the
 *     flavour it uses: found in nft → nft; else found in legacy → legacy. (`iptables-legacy-save` is run without
 *     `-t mangle`: asking legacy for a table makes the kernel create it.)
 *  2. else the flavour holding more rules (lines starting with `-`), v4 and v6 together; a tie → nft.
 * Terway's older scripts chose by OS release (el7 → legacy, el8 → nft); rules on the node are the better evidence.
 */
import type { CommandRunner } from '../lib/exec.js';
import type { IptablesBackend } from './types.js';

export interface IptablesDetection {
  readonly backend: IptablesBackend;
  /** How it was decided, for the log and `terway-hub status`. */
  readonly evidence: string;
  /** E.g. Felix chains (`cali-`) found in both flavours: rules from an earlier, mismatched run. */
  readonly warnings: readonly string[];
}

/** The save outputs the decision reads; an absent tool or a failed run counts as empty output. */
export interface IptablesDumps {
  readonly nftMangle: string;
  readonly nftAll: string;
  readonly legacyAll: string;
}

const HINT_CHAIN = /^:(KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY)\s/mu;
const FELIX_CHAIN = /^:cali-/mu;

export async function detectIptablesBackend(runner: CommandRunner, signal?: AbortSignal): Promise<IptablesDetection> {
  const both = async (v4: string, v6: string, args: readonly string[]): Promise<string> =>
    (await Promise.all([save(runner, v4, args, signal), save(runner, v6, args, signal)])).join('\n');
  const [nftMangle, nftAll, legacyAll] = await Promise.all([
    both('iptables-nft-save', 'ip6tables-nft-save', ['-t', 'mangle']),
    both('iptables-nft-save', 'ip6tables-nft-save', []),
    both('iptables-legacy-save', 'ip6tables-legacy-save', []),
  ]);
  return decideIptables({ nftMangle, nftAll, legacyAll });
}

export function decideIptables(d: IptablesDumps): IptablesDetection {
  const warnings = FELIX_CHAIN.test(d.nftAll) && FELIX_CHAIN.test(d.legacyAll)
    ? ['Felix chains (cali-*) exist in both iptables-legacy and iptables-nft: rules of an earlier run in the other flavour; they are cleaned as felix residue']
    : [];
  if (HINT_CHAIN.test(d.nftMangle)) return { backend: 'nft', evidence: 'kubelet\'s hint chain is in iptables-nft (mangle)', warnings };
  if (HINT_CHAIN.test(d.legacyAll)) return { backend: 'legacy', evidence: 'kubelet\'s hint chain is in iptables-legacy', warnings };
  const legacy = ruleCount(d.legacyAll);
  const nft = ruleCount(d.nftAll);
  const counts = `${String(legacy)} legacy vs ${String(nft)} nft rules`;
  return legacy > nft
    ? { backend: 'legacy', evidence: `no kubelet hint chain; ${counts}`, warnings }
    : { backend: 'nft', evidence: `no kubelet hint chain; ${counts}${legacy === nft ? ' (a tie picks nft)' : ''}`, warnings };
}

function ruleCount(dump: string): number {
  return dump.split('\n').filter((l) => l.startsWith('-')).length;
}

async function save(runner: CommandRunner, file: string, args: readonly string[], signal?: AbortSignal): Promise<string> {
  try {
    const out = await runner.run({ file, args }, signal);
    return out.exitCode === 0 ? out.stdout : '';
  } catch {
    return ''; // the tool is not installed: that flavour holds nothing we can see
  }
}
