/**
 * Which backend runs: the config's `policy.backend`, Terway's `disable_network_policy` (which wins: it turns policy
 * off), and for `auto` the mode: Felix or Cilium when configured for it, else the builtin nftables backend — unless
 * nftables is unusable on this node (`nftablesProblem`), where `auto` falls back to none with a loud warning rather
 * than failing every ADD. Pure. Whether an explicitly chosen backend can run here is its own `check`.
 */
import type { PolicyBackendChoice } from '../config/policy-config.js';
import { isVethMode, type PolicyBackendName, type PolicyMode, type PolicySettings } from './types.js';

export interface BackendChoice {
  readonly name: PolicyBackendName;
  /** Why this one, for the log and `terway-hub status`. */
  readonly why: string;
  /** E.g. that nothing enforces NetworkPolicy on this node. */
  readonly warnings: readonly string[];
}

const UNENFORCED = 'NetworkPolicy is NOT enforced on this node';

export function chooseBackend(choice: PolicyBackendChoice, mode: PolicyMode, settings: PolicySettings, disableNetworkPolicy: boolean, nftablesProblem?: string): BackendChoice {
  const auto = autoChoice(mode, settings);
  if (choice !== 'auto' || disableNetworkPolicy || auto.name !== 'builtin' || nftablesProblem === undefined) return explicitOr(choice, disableNetworkPolicy, auto);
  return { name: 'none', why: `auto: the builtin nftables backend cannot run here (${nftablesProblem})`, warnings: [`${UNENFORCED}: nftables is not usable (${nftablesProblem}); install nftables or configure policy.felix / policy.cilium`] };
}

function explicitOr(choice: PolicyBackendChoice, disableNetworkPolicy: boolean, auto: BackendChoice): BackendChoice {
  if (disableNetworkPolicy) {
    const overridden = choice === 'auto' || choice === 'none' ? [] : [`policy.backend ${choice} is overridden by disable_network_policy`];
    return { name: 'none', why: 'disable_network_policy is set in the eni-config ConfigMap', warnings: [`${UNENFORCED} (disable_network_policy)`, ...overridden] };
  }
  if (choice !== 'auto') return { name: choice, why: `policy.backend is ${choice}`, warnings: choice === 'none' ? [`${UNENFORCED} (policy.backend none)`] : [] };
  return auto;
}

function autoChoice(mode: PolicyMode, settings: PolicySettings): BackendChoice {
  const felix = settings.felix.binary !== undefined;
  const cilium = settings.cilium.agentBinary !== undefined;
  if (isVethMode(mode)) {
    if (felix) return { name: 'felix', why: `auto: Felix for the veth mode ${mode}`, warnings: [] };
    if (cilium) return { name: 'cilium', why: `auto: Cilium (generic-veth) for the veth mode ${mode}; policy.felix.binary is not set`, warnings: [] };
    return { name: 'builtin', why: `auto: the builtin nftables backend (host table on the pods' veths); neither policy.felix.binary nor policy.cilium.agentBinary is set`, warnings: [] };
  }
  if (mode === 'ipvlan') {
    if (cilium) return { name: 'cilium', why: 'auto: Cilium chaining for ipvlan', warnings: [] };
    return { name: 'builtin', why: 'auto: the builtin nftables backend (a table in each pod netns); policy.cilium.agentBinary is not set', warnings: [] };
  }
  return { name: 'builtin', why: 'auto: the builtin nftables backend (a table in each pod netns: exclusive-ENI pods have no host-side device)', warnings: [] };
}
