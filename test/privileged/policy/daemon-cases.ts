/**
 * The objects and policy cases of builtin-daemon.test.ts (the builtin backend through the real daemon and plugin):
 * the 3×3 pods' Namespaces, Pods and Node as the API emulator holds them, and the NetworkPolicy cases, some of
 * which depend on the addresses the daemon allocated (ipBlock). Every case runs in both veth modes.
 */
import type { PortProto } from '../../../src/policy/model/matrix.js';
import { np, type Obj } from './pod-matrix.js';
import { NODE_IP } from './pods.js';

export { np, type Obj };

export const PORTS: readonly PortProto[] = [
  { port: 80, protocol: 'TCP' },
  { port: 81, protocol: 'TCP' },
  { port: 80, protocol: 'UDP' },
  { port: 81, protocol: 'UDP' },
];
export const NAMESPACES = ['x', 'y', 'z'] as const;
export const NAMES = ['a', 'b', 'c'] as const;

export const denyAll = (ns: string): Obj => np(ns, 'deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
export const denyIngress = (ns: string): Obj => np(ns, 'deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] });

/** Named ports differ per pod (`web` is 81/TCP on the b pods, 80/TCP elsewhere) so a name resolves per destination. */
export function podObject(nodeName: string, ns: string, name: string, ip?: string): Obj {
  const b = name === 'b';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: { nodeName, containers: [{ name: 'app', image: 'busybox', ports: [{ name: 'web', containerPort: b ? 81 : 80 }, { name: 'dns', containerPort: b ? 80 : 81, protocol: 'UDP' }] }] },
    status: { phase: 'Running', hostIP: NODE_IP, ...(ip !== undefined ? { podIP: ip, podIPs: [{ ip }] } : {}) },
  };
}

export const namespaceObject = (ns: string): Obj => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns, team: `${ns}-team`, ...(ns === 'y' ? { trusted: 'yes' } : {}) } },
});

/** The Node: its InternalIP is what the rules admit as "the node"; `podCIDR` is what vpc mode allocates from. */
export const nodeObject = (nodeName: string, podCIDR: string | undefined): Obj => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: nodeName, labels: {} },
  spec: podCIDR === undefined ? {} : { podCIDR, podCIDRs: [podCIDR] },
  status: {
    addresses: [{ type: 'InternalIP', address: NODE_IP }, { type: 'Hostname', address: nodeName }],
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready', lastHeartbeatTime: '2024-01-01T00:00:00Z', lastTransitionTime: '2024-01-01T00:00:00Z' }],
  },
});

/** What a case may depend on: the pods' allocated addresses and the range they come from. */
export interface CaseContext {
  readonly ip: (pod: string) => string;
  readonly cidr: string;
}

export interface PolicyCase {
  readonly name: string;
  readonly policies: (c: CaseContext) => readonly Obj[];
}

export const CASES: readonly PolicyCase[] = [
  { name: 'no policies', policies: () => [] },
  { name: 'default-deny ingress in x', policies: () => [denyIngress('x')] },
  {
    name: 'namespace selector OR peers, namespace AND pod selector peer',
   
    policies: () => [
      denyIngress('x'),
      np('x', 'allow-trusted', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { trusted: 'yes' } } }] }] }),
      np('z', 'and-peer', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'y-team' } }, podSelector: { matchLabels: { app: 'b' } } }] }] }),
    ],
  },
  {
    name: 'ports and protocols: ingress 80/TCP + 81/UDP only; egress deny with a UDP allowance',
   
    policies: () => [
      np('y', 'ports-in', { podSelector: {}, ingress: [{ ports: [{ port: 80 }, { protocol: 'UDP', port: 81 }] }] }),
      np('z', 'deny-egress', { podSelector: {}, policyTypes: ['Egress'] }),
      np('z', 'udp-out', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Egress'], egress: [{ ports: [{ protocol: 'UDP' }] }] }),
    ],
  },
  {
    name: 'named ports (ingress and egress)',
   
    policies: () => [
      np('z', 'web-in', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 'web' }] }] }),
      np('x', 'web-out', { podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {} }], ports: [{ port: 'web' }, { port: 'dns', protocol: 'UDP' }] }] }),
    ],
  },
  {
    name: 'ipBlock with except (ingress and egress)',
   
    policies: ({ ip, cidr }) => [
      np('y', 'ipblock-in', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr, except: [`${ip('x/b')}/32`, `${ip('z/a')}/32`] } }], ports: [{ port: 80 }, { protocol: 'UDP', port: 81 }] }] }),
      np('z', 'ipblock-out', { podSelector: { matchLabels: { app: 'c' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr, except: [`${ip('y/b')}/32`] } }] }] }),
    ],
  },
  { name: 'everything denied both ways', policies: () => NAMESPACES.map(denyAll) },
];
