/**
 * Mode name → dataplane: the one place a mode is registered. Adding a dataplane = its folder under src/modes, its
 * allocation variant (./types.ts, parsed in ./allocation.ts) and one entry here. Plans that concern every mode
 * (cleanup without a known mode) ask each registered dataplane.
 */
import type { IpAddr } from '../lib/brand.js';
import type { Op, Plan } from '../netlink/ops.js';
import type { Dataplane, ModeName, NodeFacts, PodNetworkSpec } from './types.js';
import { eniDataplane } from './eni/plan.js';
import { ipvlanDataplane } from './ipvlan/plan.js';
import { vethPolicyRoutingDataplane } from './veth-policy-routing/plan.js';
import { vpcDataplane } from './vpc/plan.js';

const DATAPLANES: Readonly<Record<ModeName, Dataplane>> = {
  vpc: vpcDataplane,
  'veth-policy-routing': vethPolicyRoutingDataplane,
  ipvlan: ipvlanDataplane,
  eni: eniDataplane,
};

export function dataplaneFor(mode: ModeName): Dataplane {
  return DATAPLANES[mode];
}

/** Every registered dataplane, in registration order. */
export function allDataplanes(): readonly Dataplane[] {
  return Object.values(DATAPLANES);
}

function dedupe(plan: readonly Op[]): Plan {
  const seen = new Set<string>();
  return plan.filter((op) => {
    const key = JSON.stringify(op);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Cleanup when neither the mode nor the allocation is known (daemon unreachable): the union of every mode's
 * orphan teardown (see Dataplane.planOrphanTeardown), each op once, host ops first (one host batch, one pod
 * batch). Host objects named after the pod are left alone: without the daemon nothing says whether a newer
 * sandbox of the pod owns them (HostNames `unknown`).
 */
export function planOrphanTeardown(spec: PodNetworkSpec, node: NodeFacts, ips: readonly IpAddr[]): Plan {
  const all = dedupe(allDataplanes().flatMap((dp) => dp.planOrphanTeardown(spec, node, ips)));
  return [...all.filter((op) => op.ns.kind === 'host'), ...all.filter((op) => op.ns.kind !== 'host')];
}
