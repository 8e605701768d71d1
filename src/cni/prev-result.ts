/**
 * What later plugins of a chain changed on purpose, read from the runtime's prevResult: the pod interface's MAC
 * (tuning's `mac`, podman's `--mac-address`) and MTU (tuning's `mtu`). CHECK compares with these rather than with
 * the hub's own plan, so a deliberate change is not reported as drift — and a change nobody reported still is. Pure.
 */
import type { NetnsPath } from '../lib/brand.js';
import type { LinkOverride } from '../netlink/diff.js';
import { podNs, type Plan } from '../netlink/ops.js';
import { isJsonObject, type JsonObject } from './config.js';

/** prevResult.interfaces[] entry of the pod interface: `name` = CNI_IFNAME with a `sandbox` (any path form). */
function podInterface(prev: JsonObject | undefined, ifName: string): JsonObject | undefined {
  const list = prev?.interfaces;
  if (!Array.isArray(list)) return undefined;
  return (list as unknown[]).find((i): i is JsonObject => isJsonObject(i) && i.name === ifName && typeof i.sandbox === 'string' && i.sandbox !== '');
}

export function podLinkOverrides(prev: JsonObject | undefined, ifName: string, netns: NetnsPath, plan: Plan): readonly LinkOverride[] {
  const iface = podInterface(prev, ifName);
  if (iface === undefined) return [];
  const planned = plannedPodLink(plan, ifName);
  if (planned === undefined) return [];
  const mac = typeof iface.mac === 'string' ? iface.mac.toLowerCase() : undefined;
  const mtu = typeof iface.mtu === 'number' && Number.isInteger(iface.mtu) && iface.mtu > 0 ? iface.mtu : undefined;
  const changed = {
    // an ipvlan slave always has its parent's MAC (it cannot be changed): a different one reported is not taken
    ...(mac !== undefined && planned.macSettable && mac !== planned.mac ? { mac } : {}),
    ...(mtu !== undefined && mtu !== planned.mtu ? { mtu } : {}),
  };
  return Object.keys(changed).length === 0 ? [] : [{ ns: podNs(netns), name: ifName, ...changed }];
}

/** The plan's pod interface: the pod end of a veth, an ipvlan slave created in the pod netns, or a link moved into it. */
function plannedPodLink(plan: Plan, ifName: string): { readonly mac: string | undefined; readonly mtu: number; readonly macSettable: boolean } | undefined {
  for (const op of plan) {
    if (op.kind === 'link.veth' && op.peer.name === ifName) return { mac: op.peer.mac, mtu: op.mtu, macSettable: true };
    if (op.kind === 'link.ipvlan' && op.name === ifName && op.peerNs.kind !== 'host') return { mac: op.mac, mtu: op.mtu, macSettable: false };
    // an exclusive ENI moved into the pod: a later plugin may change its MTU; its MAC is the VPC's (a frame from
    // another one is dropped), so a changed MAC stays drift
    if (op.kind === 'link.move' && op.newName === ifName && op.to.kind !== 'host' && op.mtu !== undefined) return { mac: op.mac, mtu: op.mtu, macSettable: false };
  }
  return undefined;
}
