/**
 * ipvlan's node state (Terway §2.3, host side), re-ensured by the daemon at start and on a mode switch:
 *  - the ENI up;
 *  - the host slave `ipvl_<ifindex>`: an ipvlan L2 slave of the ENI, up, THEN NOARP (ipvlan_open() clears NOARP at
 *    every up in L2 mode), the node's host IP /32 scope host;
 *  - clsact on the ENI, and on its egress hook one u32 filter per redirect CIDR (service CIDR, then
 *    `host_stack_cidrs`): `skbedit ptype host | mirred ingress redirect dev ipvl_<ifindex>`. Pod traffic to those
 *    destinations leaves the pod's slave towards the gateway, reaches the ENI's egress, and is received again on the
 *    host slave, where the host stack (kube-proxy) takes it. Every pref of the hub's range is deleted first, so a
 *    CIDR that left the config loses its filter (Terway's 4000/40000 mismatch left them forever);
 *  - forwarding on (service traffic DNATed to another node), no reverse-path filter on the host slave.
 */
import { InvalidInputError } from '../../lib/errors.js';
import { HOST, sysctlKey, type Op, type Plan } from '../../netlink/ops.js';
import type { Cidr } from '../../lib/brand.js';
import type { NodeLocalFacts } from '../types.js';
import { MAX_REDIRECTS, REDIRECT_PREF_BASE, hostSlaveName } from './layout.js';

export function planIpvlanNode(local: NodeLocalFacts): Plan {
  const { eni, ipvlan } = local;
  if (eni === undefined) throw new InvalidInputError('eni', 'ipvlan needs the ENI of the node');
  if (ipvlan === undefined) throw new InvalidInputError('ipvlan', 'ipvlan needs the host IP and the redirect CIDRs of the node');
  if (ipvlan.redirectCidrs.length > MAX_REDIRECTS) {
    throw new InvalidInputError('ipvlan.redirectCidrs', `at most ${String(MAX_REDIRECTS)} CIDRs (service CIDR + host_stack_cidrs); got ${String(ipvlan.redirectCidrs.length)}`);
  }
  const slave = hostSlaveName(eni);
  const stale: Op[] = Array.from({ length: MAX_REDIRECTS }, (_, i) => ({ kind: 'filter.del', ns: HOST, dev: eni.link, hook: 'egress', pref: REDIRECT_PREF_BASE + i }));
  const redirects: Op[] = ipvlan.redirectCidrs.map((dst: Cidr, i) => ({
    kind: 'filter.u32-dst', ns: HOST, dev: eni.link, hook: 'egress', pref: REDIRECT_PREF_BASE + i, dst, target: slave, redirect: 'ingress',
  }));
  return [
    { kind: 'link.up', ns: HOST, name: eni.link },
    { kind: 'link.ipvlan', ns: HOST, parent: eni.link, name: slave, peerNs: HOST, mode: 'l2', mtu: ipvlan.mtu, ensure: true, mac: ipvlan.eniMac },
    { kind: 'link.up', ns: HOST, name: slave },
    { kind: 'link.arp-off', ns: HOST, name: slave },
    { kind: 'addr.replace', ns: HOST, dev: slave, cidr: `${ipvlan.hostIp}/32` as Cidr, scope: 'host' },
    { kind: 'qdisc.replace', ns: HOST, dev: eni.link, qdisc: { type: 'clsact' } },
    ...stale,
    ...redirects,
    { kind: 'sysctl.set', ns: HOST, key: 'net.ipv4.ip_forward', value: '1' },
    { kind: 'sysctl.set', ns: HOST, key: sysctlKey('net', 'ipv4', 'conf', slave, 'rp_filter'), value: '0' },
  ];
}
