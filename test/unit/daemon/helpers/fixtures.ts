import type { CloudProvider, LocalFacts } from '../../../../src/cloud/types.js';
import { setFromSpecs } from '../../../../src/ipam/range.js';
import type { Cidr, IfName, IpAddr } from '../../../../src/lib/brand.js';
import type { Allocation } from '../../../../src/modes/types.js';
import type { AllocateRequest } from '../../../../src/rpc/protocol.js';
import type { Lease } from '../../../../src/store/lease.js';

export function alloc(ip: string): Allocation {
  return { mode: 'vpc', ip: ip as IpAddr, subnet: '10.0.0.0/24' as Cidr, mtu: 1500 };
}

export function lease(containerId: string, ip: string, extra: Partial<Lease> = {}): Lease {
  return {
    containerId,
    ifName: 'eth0',
    podNamespace: 'default',
    podName: `pod-${containerId}`,
    infraContainerId: containerId,
    netns: `/var/run/netns/${containerId}`,
    allocation: alloc(ip),
    createdAt: '2024-01-01T00:00:00.000Z',
    ...extra,
  };
}

export function req(containerId: string, extra: Partial<AllocateRequest> = {}): AllocateRequest {
  return { containerId, ifName: 'eth0', netns: `/var/run/netns/${containerId}`, podNamespace: 'default', podName: `pod-${containerId}`, infraContainerId: containerId, ...extra };
}

/** A provider with a fixed set; `gate` (when set) holds localFacts() until resolved, to widen the in-flight window. */
export class FakeProvider implements CloudProvider {
  readonly name = 'fake';
  readonly mode = 'veth-policy-routing' as const;
  gate: Promise<void> | undefined;
  readonly #source;
  constructor(ips: readonly string[] = ['10.0.0.10-10.0.0.12']) {
    this.#source = { subnet: '10.0.0.0/24' as Cidr, addresses: setFromSpecs(ips) };
  }
  async localFacts(): Promise<LocalFacts> {
    if (this.gate !== undefined) await this.gate;
    return { eni: { link: 'eth1' as IfName, ifindex: 3, gateway: '10.0.0.1' as IpAddr, table: 1003 } };
  }
  ipSource() {
    return this.#source;
  }
  verify(): Promise<void> {
    return Promise.resolve();
  }
}

/** A promise and the function that resolves it (to hold a fake at a chosen point). */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
