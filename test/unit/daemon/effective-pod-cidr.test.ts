/**
 * VPC mode in a cluster: the pod CIDR is the Node's `spec.podCIDR`, never the daemon config's `vpc.podCIDR` (one
 * config for every node gave every node the same pool); a Node without one is a typed refusal (NoPodCIDR).
 */
import { describe, expect, it } from '@jest/globals';
import { parseDaemonConfig } from '../../../src/config/daemon-config.js';
import { effectiveConfig, type EffectiveResult } from '../../../src/daemon/k8s/effective-config.js';
import { setFromCidr, setIps } from '../../../src/ipam/range.js';
import type { ConfigMapInfo, NodeInfo } from '../../../src/k8s/types.js';

/** One daemon config for every node, as a DaemonSet ships it (its vpc.podCIDR the old shared fallback). */
const local = parseDaemonConfig({ socket: '/tmp/x.sock', stateDir: '/tmp/s', cniConfDir: '/tmp/n', httpListen: '', mode: 'vpc', vpc: { podCIDR: '10.88.0.0/24' } });
const vpcConfigMap: ConfigMapInfo = { namespace: 'kube-system', name: 'eni-config', data: { eni_conf: JSON.stringify({ version: '1' }), daemon_mode: 'VPC' }, resourceVersion: '1' };

const node = (name: string, podCIDR?: string): NodeInfo => ({ name, uid: `uid-${name}`, labels: {}, annotations: {}, resourceVersion: '1', ...(podCIDR !== undefined ? { podCIDR } : {}) });

function resolve(n: NodeInfo | undefined, cm: ConfigMapInfo | undefined): EffectiveResult {
  return effectiveConfig({ local, node: n, configMap: (ns, name) => (cm !== undefined && ns === cm.namespace && name === cm.name ? cm : undefined) });
}

function poolOf(r: EffectiveResult): readonly string[] {
  if (!r.ok) throw new Error('refusal' in r ? r.refusal.message : r.error.message);
  const cidr = r.config.daemon.vpc?.podCIDR;
  if (cidr === undefined) throw new Error('no vpc.podCIDR');
  return setIps(setFromCidr(cidr));
}

describe('effectiveConfig: VPC pod CIDR from the Node', () => {
  for (const [what, cm] of [['eni-config daemon_mode VPC', vpcConfigMap], ['no eni-config, local mode vpc', undefined]] as const) {
    it(`${what}: two nodes with different podCIDRs get disjoint pools, neither the configured 10.88.0.0/24`, () => {
      const a = poolOf(resolve(node('node-a', '10.244.1.0/24'), cm));
      const b = poolOf(resolve(node('node-b', '10.244.2.0/24'), cm));
      expect(a).toHaveLength(253);
      expect(b).toHaveLength(253);
      const inA = new Set(a);
      expect(b.filter((ip) => inA.has(ip))).toEqual([]);
      expect(a[0]).toBe('10.244.1.2');
      expect(b[0]).toBe('10.244.2.2');
      expect([...a, ...b].some((ip) => ip.startsWith('10.88.'))).toBe(false);
    });

    it(`${what}: a Node without spec.podCIDR is a NoPodCIDR refusal naming the Node, not the configured fallback`, () => {
      const r = resolve(node('node-c'), cm);
      expect(r.ok).toBe(false);
      expect('refusal' in r ? r.refusal : undefined).toEqual({ reason: 'NoPodCIDR', message: expect.stringMatching(/Node node-c has no spec\.podCIDR/u) as unknown });
      const unknown = resolve(undefined, cm);
      expect('refusal' in unknown ? unknown.refusal.reason : undefined).toBe('NoPodCIDR');
    });
  }

  it('a malformed Node podCIDR is a ConfigError on Node.spec.podCIDR (not a refusal)', () => {
    const r = resolve(node('node-d', '10.244.3.0/31'), vpcConfigMap);
    expect(!r.ok && 'error' in r ? r.error.path : undefined).toBe('Node.spec.podCIDR');
  });

  it('other modes need no podCIDR', () => {
    const veth = parseDaemonConfig({ socket: '/tmp/x.sock', stateDir: '/tmp/s', cniConfDir: '/tmp/n', httpListen: '', mode: 'veth-policy-routing', local: { eni: { link: 'eth1', gateway: '192.168.0.1', ips: '192.168.0.10-192.168.0.11', subnet: '192.168.0.0/24' } } });
    const r = effectiveConfig({ local: veth, node: node('node-e'), configMap: () => undefined });
    expect(r.ok).toBe(true);
  });
});
