/**
 * Which Cilium releases and builds the hub can chain behind, and which of them can chain on ipvlan pods (reference
 * backends.md §B.1, §B.4). Pure data and sentences: the refusals name the setting and say why.
 */
import type { CiliumSettings } from '../../config/policy-config.js';
import type { PolicyMode } from '../types.js';
import { atLeast, compareMinor, inRange, parseRelease, rangeText, type MinorRange, type Release } from '../version.js';

/**
 * 1.12 is the base of the only builds known to chain on ipvlan pods (Spiderpool's cilium-chaining 1.12.7 carries
 * Terway's ipvlan datapath patch); 1.19 is the newest release whose Helm values schema the hub's agent keys are
 * checked against (shared/schemas/cilium). Before 1.14 cilium-cni chooses its chainer only by the network name.
 */
export const CILIUM_SUPPORTED: MinorRange = { from: [1, 12], to: [1, 19] };

/** The newest base Cilium minor on which a terway-chainer build still carries the ipvlan datapath patch. */
export const IPVLAN_CHAINER_LAST_BASE = [1, 12] as const;

const SUPPORTED_TEXT = `supported: Cilium ${rangeText(CILIUM_SUPPORTED)} (1.12 is the base of the only builds that chain on ipvlan pods; 1.19 is the newest release whose agent keys the hub checks)`;

/** The Cilium release, or a refusal. */
export function ciliumRelease(s: CiliumSettings): Release | string {
  if (s.version === undefined) return `policy.cilium.version is not set; ${SUPPORTED_TEXT}`;
  const r = parseRelease(s.version);
  if (r === undefined || !inRange(r, CILIUM_SUPPORTED)) return `policy.cilium.version ${JSON.stringify(s.version)} is not supported; ${SUPPORTED_TEXT}`;
  return r;
}

/** Whether this build, at this release, attaches to an ipvlan slave made by another plugin. */
export function chainsOnIpvlan(s: CiliumSettings, r: Release): boolean {
  return s.build === 'terway-chainer' && s.chainingMode === 'terway-chainer' && compareMinor(r, ...IPVLAN_CHAINER_LAST_BASE) <= 0;
}

/** Refusals of this build/chainer in this mode (the release already accepted). */
export function buildProblems(mode: PolicyMode, s: CiliumSettings, r: Release, networkName: string): readonly string[] {
  const out: string[] = [];
  const build = s.build === 'upstream' ? `upstream Cilium ${String(s.version)}` : `terway-chainer build ${String(s.buildVersion)} (Cilium ${String(s.version)})`;
  if (s.build === 'terway-chainer' && s.buildVersion === undefined) {
    out.push('policy.cilium.buildVersion is not set: a terway-chainer build must be named with its own version (the fork\'s image tag)');
  }
  if (mode === 'eni') {
    out.push('policy.backend cilium cannot enforce NetworkPolicy in eni mode: the pod owns the whole ENI and no chainer attaches to it (upstream generic-device was never merged, cilium#21256); use policy.backend none');
  } else if (mode === 'ipvlan') {
    if (s.build === 'upstream') {
      out.push(`policy.cilium.build upstream cannot chain on ipvlan pods: generic-veth attaches only to a veth ("no link found inside container") and the ipvlan datapath was removed in Cilium 1.12 (cilium#20453); configure a terway-chainer build based on Cilium ${IPVLAN_CHAINER_LAST_BASE.join('.')} or earlier`);
    } else if (s.chainingMode !== 'terway-chainer') {
      out.push(`policy.cilium.chainingMode ${s.chainingMode} cannot chain on ipvlan pods (it attaches only to a veth); use terway-chainer`);
    } else if (!chainsOnIpvlan(s, r)) {
      out.push(`policy.cilium ${build} cannot chain on ipvlan pods: Terway's chainer on Cilium 1.13 and later is generic-veth plus an ENI lookup (Terway retired ipvlan, PR #726); configure a terway-chainer build based on Cilium ${IPVLAN_CHAINER_LAST_BASE.join('.')} or earlier`);
    }
  } else if (s.chainingMode === 'terway-chainer') {
    if (!atLeast(r, 1, 13)) {
      out.push(`policy.cilium ${build}: its terway-chainer looks for an ipvlan link in the pod and fails on ${mode}'s veth pods; use chainingMode generic-veth`);
    } else if (mode === 'vpc') {
      out.push('policy.cilium.chainingMode terway-chainer needs the pod\'s ENI (it reads the `from <pod IP> lookup <table>` rule, "unable to determine eni index" otherwise), which vpc mode does not have; use generic-veth');
    }
  }
  if (!atLeast(r, 1, 14) && networkName !== s.chainingMode) {
    out.push(`networkName is ${JSON.stringify(networkName)} but cilium-cni before 1.14 picks its chainer by the network name only: with any other name it acts as the primary plugin and replaces the pod's eth0 (cilium#22286); set networkName to ${JSON.stringify(s.chainingMode)} or use Cilium 1.14 or later`);
  }
  return out;
}
