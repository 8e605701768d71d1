/**
 * The plans the differential test (./differential.test.ts) runs through both executors: every runnable dataplane's
 * node, setup, re-setup, teardown (each HostNames case), second teardown and orphan teardown plans, with and without
 * bandwidth shaping, and failing plans (a missing device, an ENI that is down, a move guard's refusal) whose rollback
 * must leave the same state. Each phase is one executor process; the kernel state is compared after each. Built per
 * world: only the pod netns paths differ.
 */
import type { IfName, IpAddr, MacAddr, NetnsPath } from '../../../../src/lib/brand.js';
import { dataplaneFor, planOrphanTeardown } from '../../../../src/modes/registry.js';
import type { Allocation, EniAllocation, HostNames, IpvlanAllocation, NodeFacts, PodNetworkSpec, VethPolicyRoutingAllocation, VpcAllocation } from '../../../../src/modes/types.js';
import type { Plan } from '../../../../src/netlink/ops.js';

export type Action = { readonly apply: Plan } | { readonly teardown: Plan };

export interface Phase {
  readonly name: string;
  /** Commands (ip argv, run in the world's host netns) before the phase: what a node would have done meanwhile. */
  readonly before?: readonly (readonly string[])[];
  readonly actions: readonly Action[];
}

/** The ENI stand-ins every world's host netns gets (./world.ts): a veth pair each, fixed MACs. */
export const ENI = { link: 'rteni0' as IfName, mac: '02:52:54:00:0e:01' as MacAddr, peer: 'rteni0p', peerMac: '02:52:54:00:0e:02' as MacAddr };
export const EXCLUSIVE = { link: 'rteni1' as IfName, mac: '02:52:54:00:0e:11' as MacAddr, peer: 'rteni1p', peerMac: '02:52:54:00:0e:12' as MacAddr };

const node: NodeFacts = { vethPrefix: 'rth' };
const bandwidth = { ingress: { rateBps: 8_000_000, burstBits: 800_000 }, egress: { rateBps: 4_000_000, burstBits: 400_000 } };
const eniFacts = { link: ENI.link, ifindex: 7, gateway: '10.231.0.1' as IpAddr, table: 1007 };

function spec(netns: NetnsPath, name: string): PodNetworkSpec {
  return { pod: { namespace: 'rtdiff', name }, containerId: `rtc-${name}`, netns, ifName: 'eth0' as IfName };
}

const setup = (s: PodNetworkSpec, a: Allocation): Action => ({ apply: dataplaneFor(a.mode).planSetup(s, a, node).plan });
const teardown = (s: PodNetworkSpec, a: Allocation | undefined, mode: Allocation['mode'], h: HostNames): Action => ({ teardown: dataplaneFor(mode).planTeardown(s, a, node, h) });

export function vpcPhases(pods: readonly [NetnsPath, NetnsPath]): readonly Phase[] {
  const [p1, p2] = [spec(pods[0], 'vpc1'), spec(pods[1], 'vpc2')];
  const a1: VpcAllocation = { mode: 'vpc', ip: '10.230.0.5' as IpAddr, subnet: '10.230.0.0/24' as never, mtu: 1400 };
  const a2: VpcAllocation = { ...a1, ip: '10.230.0.6' as IpAddr, bandwidth };
  return [
    { name: 'node plan, ADD of two pods (one shaped)', actions: [{ apply: dataplaneFor('vpc').planNode(node, {}) }, setup(p1, a1), setup(p2, a2)] },
    { name: 're-ADD of both (idempotent)', actions: [setup(p1, a1), setup(p2, a2)] },
    { name: 'DEL with owned host names, DEL through the netns', actions: [teardown(p1, a1, 'vpc', 'owned'), teardown(p2, a2, 'vpc', 'via-netns')] },
    { name: 'second DELs and the orphan cleanup', actions: [teardown(p1, a1, 'vpc', 'owned'), teardown(p2, a2, 'vpc', 'via-netns'), { teardown: planOrphanTeardown(p2, node, [a2.ip]) }] },
  ];
}

export function policyRoutingPhases(pods: readonly [NetnsPath, NetnsPath]): readonly Phase[] {
  const [p1, p2] = [spec(pods[0], 'vpr1'), spec(pods[1], 'vpr2')];
  const a1: VethPolicyRoutingAllocation = { mode: 'veth-policy-routing', ip: '10.231.0.10' as IpAddr, subnet: '10.231.0.0/24' as never, mtu: 1500, eni: eniFacts };
  const a2: VethPolicyRoutingAllocation = { ...a1, ip: '10.231.0.11' as IpAddr, bandwidth: { egress: bandwidth.egress } };
  const missingEni: VethPolicyRoutingAllocation = { ...a1, eni: { ...eniFacts, link: 'rtnone0' as IfName } };
  const nodePlan = dataplaneFor('veth-policy-routing').planNode(node, { eni: eniFacts });
  return [
    { name: 'node plan while the ENI is down (onlink route refused; nothing to roll back)', before: [['link', 'set', ENI.link, 'down']], actions: [{ apply: nodePlan }] },
    { name: 'node plan, ADD of two pods (one shaped)', before: [['link', 'set', ENI.link, 'up']], actions: [{ apply: nodePlan }, setup(p1, a1), setup(p2, a2)] },
    { name: 're-ADD of both (rules already there)', actions: [setup(p1, a1), setup(p2, a2)] },
    { name: 'ADD through a missing ENI: fails mid-plan, rolled back', actions: [teardown(p1, a1, 'veth-policy-routing', 'owned'), setup(p1, missingEni)] },
    { name: 'DEL owned, orphan cleanup of the other (rules in any table), second DEL', actions: [teardown(p1, a1, 'veth-policy-routing', 'owned'), { teardown: planOrphanTeardown(p2, node, [a2.ip]) }, teardown(p2, a2, 'veth-policy-routing', 'owned')] },
  ];
}

export function exclusiveEniPhases(pods: readonly [NetnsPath, NetnsPath]): readonly Phase[] {
  const p1 = spec(pods[0], 'eni1');
  const p2 = { ...spec(pods[1], 'eni2'), ifName: 'net1' as IfName }; // no side-car
  const base = { mode: 'eni' as const, subnet: '10.232.0.0/24' as never, mtu: 1500, hostIp: '10.232.9.9' as IpAddr, serviceCidrs: ['10.96.0.0/12' as never], hostStackCidrs: ['10.233.0.0/16' as never] };
  const a1: EniAllocation = { ...base, ip: '10.232.0.20' as IpAddr, eni: { id: 'eni-rt1', mac: EXCLUSIVE.mac, link: EXCLUSIVE.link, gateway: '10.232.0.1' as IpAddr }, bandwidth };
  const wrongMac: EniAllocation = { ...base, ip: '10.232.0.21' as IpAddr, eni: { id: 'eni-rt0', mac: '02:52:54:00:0e:99' as MacAddr, link: ENI.link, gateway: '10.232.0.1' as IpAddr } };
  return [
    { name: 'ADD of an exclusive ENI (moved in by MAC, side-car, shaping in the pod)', actions: [{ apply: dataplaneFor('eni').planNode(node, {}) }, setup(p1, a1)] },
    { name: 're-ADD (the ENI is gone from the host: the guard stops it)', actions: [setup(p1, a1)] },
    { name: 'ADD naming another link of another MAC: refused by the guard', actions: [setup(p2, wrongMac)] },
    { name: 'DEL (the ENI back under its neutral name), second DEL, orphan cleanup', actions: [teardown(p1, a1, 'eni', 'owned'), teardown(p1, a1, 'eni', 'owned'), { teardown: planOrphanTeardown(p1, node, [a1.ip]) }] },
  ];
}

/** Only where the kernel makes ipvlan links: the ENI stand-in as the parent; `link.ipvlan` goes to `ip -batch`. */
export function ipvlanPhases(pods: readonly [NetnsPath, NetnsPath]): readonly Phase[] {
  const p1 = spec(pods[0], 'ipv1');
  const a1: IpvlanAllocation = { mode: 'ipvlan', ip: '10.234.0.30' as IpAddr, subnet: '10.234.0.0/24' as never, mtu: 1500, eni: { ...eniFacts, gateway: '10.234.0.1' as IpAddr }, eniMac: ENI.mac, hostIp: '10.234.9.9' as IpAddr, bandwidth };
  const nodePlan = dataplaneFor('ipvlan').planNode(node, { eni: a1.eni, ipvlan: { eniMac: ENI.mac, hostIp: a1.hostIp, redirectCidrs: ['10.96.0.0/12' as never], mtu: 1500 } });
  return [
    { name: 'node plan, ADD (shaped)', actions: [{ apply: nodePlan }, setup(p1, a1)] },
    { name: 'node plan again, re-ADD', actions: [{ apply: nodePlan }, setup(p1, a1)] },
    { name: 'DEL, second DEL, orphan cleanup', actions: [teardown(p1, a1, 'ipvlan', 'owned'), teardown(p1, a1, 'ipvlan', 'owned'), { teardown: planOrphanTeardown(p1, node, [a1.ip]) }] },
  ];
}
