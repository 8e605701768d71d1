/**
 * The cilium-agent configuration for CNI chaining behind the hub (reference backends.md §B.3, "Cilium backend"): one
 * file per key in the agent's `--config-dir` (the ConfigMap layout the chart mounts), so a key an older agent does
 * not know is ignored instead of failing flag parsing. Each key carries its Helm value (for the schema tests) and the
 * releases that know it; `versionGateProblems` holds the reference's gates over a rendered config. Pure.
 */
import { ConfigError } from '../../lib/errors.js';
import type { PolicyContext } from '../types.js';
import { atLeast, type Release } from '../version.js';

export type AgentValue = string | number | boolean;

export interface AgentKey {
  readonly key: string;
  /** The Helm value that maps to this key in the chart's cilium-configmap template, when there is one. */
  readonly helm?: string;
  readonly value: AgentValue;
}

/** Where cilium-cni writes its own log (the chart's default). */
export const CILIUM_CNI_LOG = '/var/run/cilium/cilium-cni.log';
/** cilium_host's address when another plugin owns IPAM (Terway's values; delegated-plugin requires one). */
export const LOCAL_ROUTER_IPV4 = '169.254.10.1';
export const LOCAL_ROUTER_IPV6 = 'fe80:2400:3200:baba::1';

export function ciliumConfigDir(ctx: PolicyContext): string {
  return `${ctx.runDir}/cilium/config`;
}

/** The agent keys for this context and release, in rendering order. */
export function agentConfig(ctx: PolicyContext, release: Release): readonly AgentKey[] {
  const s = ctx.settings.cilium;
  const dual = ctx.ipStack === 'dual';
  const v114 = atLeast(release, 1, 14);
  const keys: (AgentKey | false)[] = [
    // The hub renders and owns the conflist: the agent neither writes one (it would sort before the hub's and win)
    // nor renames other CNI configs to *.cilium_bak (cni-exclusive, default true).
    { key: 'cni-chaining-mode', helm: 'cni.chainingMode', value: s.chainingMode },
    { key: 'custom-cni-conf', helm: 'cni.customConf', value: true },
    { key: 'cni-exclusive', helm: 'cni.exclusive', value: false },
    { key: 'cni-log-file', helm: 'cni.logFile', value: CILIUM_CNI_LOG },
    // Routing is the hub's: native routing (1.14 renamed tunnel=disabled to routing-mode=native; 1.15 removed tunnel).
    v114 ? { key: 'routing-mode', helm: 'routingMode', value: 'native' } : { key: 'tunnel', helm: 'tunnel', value: 'disabled' },
    { key: 'enable-ipv4-masquerade', helm: 'enableIPv4Masquerade', value: false },
    { key: 'enable-ipv6-masquerade', helm: 'enableIPv6Masquerade', value: false },
    // Without endpoint routes Cilium deleted the chained plugin's /32 routes (cilium#16007).
    { key: 'enable-endpoint-routes', helm: 'endpointRoutes.enabled', value: true },
    { key: 'enable-local-node-route', value: false },
    // eBPF host routing blackholes host→pod traffic with generic-veth (cilium#20135).
    { key: 'enable-host-legacy-routing', helm: 'bpf.hostLegacyRouting', value: true },
    { key: 'enable-identity-mark', value: false },
    { key: 'enable-endpoint-health-checking', helm: 'endpointHealthChecking.enabled', value: false },
    { key: 'enable-health-checking', helm: 'healthChecking', value: false },
    { key: 'ipam', helm: 'ipam.mode', value: 'delegated-plugin' },
    { key: 'local-router-ipv4', value: LOCAL_ROUTER_IPV4 },
    dual && { key: 'local-router-ipv6', value: LOCAL_ROUTER_IPV6 },
    // Services stay with kube-proxy: ≤1.13 spells it "disabled", 1.14+ "false" (1.16+ accepts only true|false).
    { key: 'kube-proxy-replacement', helm: 'kubeProxyReplacement', value: v114 ? 'false' : 'disabled' },
    { key: 'install-iptables-rules', value: true },
    // L7 policy does not work in chaining (cni-chaining-limitations); the hub shapes bandwidth itself (tc).
    { key: 'enable-l7-proxy', helm: 'l7Proxy', value: false },
    { key: 'disable-envoy-version-check', value: true },
    { key: 'enable-bandwidth-manager', helm: 'bandwidthManager.enabled', value: false },
    { key: 'enable-policy', helm: 'policyEnforcementMode', value: 'default' },
    { key: 'agent-health-port', helm: 'healthPort', value: s.healthPort },
    ctx.mode !== 'ipvlan' && { key: 'datapath-mode', helm: 'bpf.datapathMode', value: 'veth' },
    { key: 'enable-ipv4', helm: 'ipv4.enabled', value: true },
    { key: 'enable-ipv6', helm: 'ipv6.enabled', value: dual },
    // TCX attachment came with 1.15; classic tc keeps the hub's own tc filters running after Cilium's (Terway too).
    atLeast(release, 1, 15) && { key: 'enable-tcx', helm: 'bpf.enableTCX', value: false },
    ctx.kube.kubeconfig !== undefined && { key: 'k8s-kubeconfig-path', value: ctx.kube.kubeconfig },
    // Terway's fork only (patch 0005): traffic to these CIDRs goes to the host stack (node-local DNS and friends).
    s.build === 'terway-chainer' && ctx.hostStackCidrs.length > 0 && { key: 'terway-host-stack-cidr', value: ctx.hostStackCidrs.join(',') },
  ];
  const out = keys.filter((k): k is AgentKey => k !== false);
  const problems = versionGateProblems(out, release);
  if (problems.length > 0) throw new ConfigError('policy.cilium.version', problems.join('; '));
  return out;
}

/**
 * The reference's version gates over a rendered agent config: keys or values a release removed. A renderer bug (or
 * a key added without its gate) fails here instead of crash-looping the agent.
 */
export function versionGateProblems(keys: readonly AgentKey[], release: Release): readonly string[] {
  const v = new Map(keys.map((k) => [k.key, k.value]));
  const out: string[] = [];
  if (atLeast(release, 1, 15) && v.has('tunnel')) out.push('the tunnel key was removed in Cilium 1.15 (use routing-mode)');
  if (!atLeast(release, 1, 14) && v.has('routing-mode')) out.push('routing-mode needs Cilium 1.14 or later (use tunnel=disabled)');
  const kpr = v.get('kube-proxy-replacement');
  if (atLeast(release, 1, 16) && kpr !== undefined && !['true', 'false'].includes(String(kpr))) {
    out.push(`kube-proxy-replacement accepts only true|false from Cilium 1.16; got ${String(kpr)}`);
  }
  if (!atLeast(release, 1, 14) && kpr !== undefined && !['disabled', 'partial', 'strict', 'probe'].includes(String(kpr))) {
    out.push(`kube-proxy-replacement before Cilium 1.14 takes disabled|partial|strict|probe; got ${String(kpr)}`);
  }
  if (atLeast(release, 1, 12) && (v.get('datapath-mode') === 'ipvlan' || v.has('ipvlan-master-device'))) {
    out.push('the ipvlan datapath (datapath-mode=ipvlan, ipvlan-master-device) was removed in Cilium 1.12');
  }
  if (!atLeast(release, 1, 15) && v.has('enable-tcx')) out.push('enable-tcx needs Cilium 1.15 or later');
  return out;
}

/** `--config-dir` content: a file per key whose content is the value, as the agent's ConfigMap mount has it. */
export function agentConfigValue(value: AgentValue): string {
  return String(value);
}
