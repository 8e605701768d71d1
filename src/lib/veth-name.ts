/**
 * Host-side veth names and MACs. Calico Felix finds a pod's interface by this exact name:
 * prefix + first 11 hex chars of sha1(namespace + "." + podName), plus Terway's ifName suffix for non-eth0.
 */
import type { IfName, MacAddr } from './brand.js';
import { sha1Hex } from './sha1.js';

export const DEFAULT_VETH_PREFIX = 'cali';

export interface PodIdentity {
  /** Kubernetes namespace; "" when the runtime gives none (podman). */
  readonly namespace: string;
  /** Kubernetes pod name, or the container id when the runtime gives no K8S_POD_NAME. */
  readonly name: string;
}

/** Kubernetes identity when the runtime gave one; else namespace "" and the container id (podman). */
export function podIdentity(namespace: string, name: string, containerId: string): PodIdentity {
  return name !== '' ? { namespace, name } : { namespace: '', name: containerId };
}

export function vethName(prefix: string, pod: PodIdentity, ifName = 'eth0'): IfName {
  const suffix = ifName === 'eth0' ? '' : ifName;
  const digest = sha1Hex(`${pod.namespace}.${pod.name}${suffix}`);
  return `${prefix}${digest.slice(0, 11)}` as IfName;
}

/** A stable locally administered unicast MAC derived from a seed (first octet 0xee, like Calico's host side). */
export function stableMac(seed: string, salt: string): MacAddr {
  const hex = sha1Hex(`${salt}\0${seed}`);
  const bytes = [0xee, ...[0, 2, 4, 6, 8].map((i) => parseInt(hex.slice(i, i + 2), 16))];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':') as MacAddr;
}
