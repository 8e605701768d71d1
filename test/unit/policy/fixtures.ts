/** PolicyContexts for the policy renderer tests. */
import { DEFAULT_POLICY_CONFIG, type CiliumSettings, type FelixSettings } from '../../../src/config/policy-config.js';
import type { PolicyContext, PolicyMode } from '../../../src/policy/types.js';

export const FELIX: FelixSettings = { ...DEFAULT_POLICY_CONFIG.felix, binary: '/opt/calico/bin/calico-felix', version: 'v3.28.2' };
export const CILIUM: CiliumSettings = { ...DEFAULT_POLICY_CONFIG.cilium, agentBinary: '/opt/cilium/bin/cilium-agent', version: '1.18.10' };
export const TERWAY_IPVLAN: CiliumSettings = { ...CILIUM, version: '1.12.7', build: 'terway-chainer', buildVersion: 'v1.12.7-terway.1', chainingMode: 'terway-chainer' };

export interface CtxOverrides {
  readonly mode?: PolicyMode;
  readonly felix?: Partial<FelixSettings>;
  readonly cilium?: Partial<CiliumSettings>;
  readonly iptables?: 'legacy' | 'nft';
  readonly ipStack?: 'ipv4' | 'dual';
  readonly networkName?: string;
  readonly kubeconfig?: string;
  readonly hostStackCidrs?: readonly string[];
  readonly serviceCidrs?: readonly string[];
}

export function ctx(o: CtxOverrides = {}): PolicyContext {
  return {
    mode: o.mode ?? 'veth-policy-routing',
    nodeName: 'node-1.example',
    vethPrefix: 'cali',
    networkName: o.networkName ?? 'terway-hub',
    serviceCidrs: o.serviceCidrs ?? ['172.21.0.0/20'],
    hostStackCidrs: o.hostStackCidrs ?? ['169.254.20.10/32'],
    ipStack: o.ipStack ?? 'ipv4',
    runDir: '/var/lib/terway-hub/policy',
    kube: o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig, namespace: 'kube-system' } : { serviceHost: '10.96.0.1', servicePort: '443', namespace: 'kube-system' },
    node: { iptablesBackend: o.iptables ?? 'nft' },
    settings: { felix: { ...FELIX, ...o.felix }, cilium: { ...CILIUM, ...o.cilium } },
  };
}
