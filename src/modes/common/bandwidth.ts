/**
 * Bandwidth plan fragments (issue 4). Pure.
 *
 * veth modes (shape on the host, so the pod cannot remove its own limit):
 *   ingress (into the pod)  = tbf root on the HOST veth (what the host sends to the pod);
 *   egress  (out of the pod) = host ifb + `ingress` qdisc on the host veth + u32 match-all
 *                              `mirred egress redirect dev <ifb>` + tbf root on the ifb.
 * Modes without a host veth (exclusive ENI, ipvlan):
 *   egress  = tbf root on the pod interface inside the pod netns;
 *   ingress = an ifb INSIDE the pod netns fed by an ingress qdisc + redirect on the pod interface.
 * Qdiscs on a veth die with it; teardown deletes the ifb.
 */
import { ifbName } from '../../bandwidth/names.js';
import { tbfParams, validateRateAndBurst } from '../../bandwidth/tbf.js';
import { sameLimit, type BandwidthSpec, type RateLimit } from '../../bandwidth/types.js';
import type { IfName } from '../../lib/brand.js';
import { InvalidInputError } from '../../lib/errors.js';
import { stableMac } from '../../lib/veth-name.js';
import { HOST, podNs, type NsRef, type Op, type TbfQdisc } from '../../netlink/ops.js';
import { hostVethName, removeVeth, vethAttachment } from './veth.js';
import type { Allocation, HostNames, NodeFacts, PodNetworkSpec, ResultLink, ShapingTarget } from '../types.js';

export type { ShapingTarget } from '../types.js';

export function hostVethTarget(spec: PodNetworkSpec, node: NodeFacts, mtu: number): ShapingTarget {
  return { kind: 'host-veth', hostIf: hostVethName(spec, node), ifb: ifbName(spec.containerId, spec.ifName), mtu };
}

export function podLinkTarget(spec: PodNetworkSpec, mtu: number): ShapingTarget {
  return { kind: 'pod-link', netns: spec.netns, podIf: spec.ifName, ifb: ifbName(spec.containerId, spec.ifName), mtu };
}

/** The op form of a limit (validated: throws InvalidInputError naming the direction). */
export function tbfOf(limit: RateLimit, field: string): TbfQdisc {
  validateRateAndBurst(field, limit.rateBps, limit.burstBits);
  if (limit.rateBps === 0 || limit.burstBits === 0) {
    throw new InvalidInputError(field, `a limit needs a rate and a burst (rate ${String(limit.rateBps)}, burst ${String(limit.burstBits)})`);
  }
  const p = tbfParams(limit.rateBps, limit.burstBits);
  return { type: 'tbf', rateBytes: p.rateBytes, burstBytes: p.burstBytes, limitBytes: p.limitBytes };
}

/** Checks every direction before any op is planned. */
export function validateSpec(spec: BandwidthSpec | undefined): void {
  if (spec?.ingress) tbfOf(spec.ingress, 'bandwidth.ingress');
  if (spec?.egress) tbfOf(spec.egress, 'bandwidth.egress');
}

interface Layout {
  readonly ns: NsRef;
  /** The device whose root tbf shapes what it sends directly. */
  readonly directDev: IfName;
  /** The device whose received traffic is redirected to the ifb. */
  readonly redirectDev: IfName;
  readonly ifb: IfName;
  readonly mtu: number;
  /** Which direction each mechanism shapes. */
  readonly direct: 'ingress' | 'egress';
  readonly redirected: 'ingress' | 'egress';
}

function layoutOf(t: ShapingTarget): Layout {
  return t.kind === 'host-veth'
    ? { ns: HOST, directDev: t.hostIf, redirectDev: t.hostIf, ifb: t.ifb, mtu: t.mtu, direct: 'ingress', redirected: 'egress' }
    : { ns: podNs(t.netns), directDev: t.podIf, redirectDev: t.podIf, ifb: t.ifb, mtu: t.mtu, direct: 'egress', redirected: 'ingress' };
}

/** The pieces of a setup plan: ip ops that create links, then tc ops. */
export interface ShapingOps {
  readonly links: readonly Op[];
  readonly tc: readonly Op[];
}

function createIfb(l: Layout): readonly Op[] {
  return [
    { kind: 'link.ifb', ns: l.ns, name: l.ifb, mtu: l.mtu, mac: stableMac(l.ifb, 'ifb') },
    { kind: 'link.up', ns: l.ns, name: l.ifb },
  ];
}

function redirectTc(l: Layout, q: TbfQdisc): readonly Op[] {
  return [
    { kind: 'qdisc.replace', ns: l.ns, dev: l.redirectDev, qdisc: { type: 'ingress' } },
    { kind: 'filter.redirect', ns: l.ns, dev: l.redirectDev, target: l.ifb },
    { kind: 'qdisc.replace', ns: l.ns, dev: l.ifb, qdisc: q },
  ];
}

/**
 * Setup fragments for a fresh attachment. `links` starts by deleting a stale ifb of the same name (a previous
 * sandbox killed without DEL), so the new one gets the right MTU.
 */
export function planShapingSetup(target: ShapingTarget, spec: BandwidthSpec | undefined): ShapingOps {
  const l = layoutOf(target);
  const direct = spec?.[l.direct];
  const redirected = spec?.[l.redirected];
  const directQ = direct ? tbfOf(direct, `bandwidth.${l.direct}`) : undefined;
  const redirectQ = redirected ? tbfOf(redirected, `bandwidth.${l.redirected}`) : undefined;
  return {
    links: redirectQ ? [{ kind: 'link.del', ns: l.ns, name: l.ifb }, ...createIfb(l)] : [],
    tc: [
      ...(directQ ? [{ kind: 'qdisc.replace', ns: l.ns, dev: l.directDev, qdisc: directQ } satisfies Op] : []),
      ...(redirectQ ? redirectTc(l, redirectQ) : []),
    ],
  };
}

/** Teardown: the ifb (qdiscs on the veth / pod link die with it or with the netns). Always planned: cheap, idempotent. */
export function planShapingTeardown(target: ShapingTarget): readonly Op[] {
  const l = layoutOf(target);
  return [{ kind: 'link.del', ns: l.ns, name: l.ifb }];
}

/**
 * A live change from `old` to `next` (either may be undefined = unshaped): qdiscs replaced in place; a direction
 * that loses its limit loses its qdisc; losing the redirected direction also deletes the ifb. Empty when nothing
 * changes. Validates `next` before planning anything. Order: link creation (ip), tc, link deletion (ip).
 */
export function planBandwidthUpdate(target: ShapingTarget, old: BandwidthSpec | undefined, next: BandwidthSpec | undefined): readonly Op[] {
  validateSpec(next);
  const l = layoutOf(target);
  const links: Op[] = [];
  const tc: Op[] = [];
  const cleanup: Op[] = [];
  const oldDirect = old?.[l.direct];
  const newDirect = next?.[l.direct];
  if (newDirect !== undefined) {
    const q = tbfOf(newDirect, `bandwidth.${l.direct}`);
    if (!sameLimit(oldDirect, newDirect)) {
      tc.push({ kind: 'qdisc.replace', ns: l.ns, dev: l.directDev, qdisc: q });
    }
  } else if (oldDirect !== undefined) {
    tc.push({ kind: 'qdisc.del', ns: l.ns, dev: l.directDev, slot: 'root' });
  }
  const oldRedir = old?.[l.redirected];
  const newRedir = next?.[l.redirected];
  if (newRedir !== undefined) {
    const q = tbfOf(newRedir, `bandwidth.${l.redirected}`);
    if (oldRedir === undefined) {
      links.push(...createIfb(l));
      tc.push(...redirectTc(l, q));
    } else if (!sameLimit(oldRedir, newRedir)) {
      tc.push({ kind: 'qdisc.replace', ns: l.ns, dev: l.ifb, qdisc: q });
    }
  } else if (oldRedir !== undefined) {
    tc.push({ kind: 'qdisc.del', ns: l.ns, dev: l.redirectDev, slot: 'ingress' });
    cleanup.push({ kind: 'link.del', ns: l.ns, name: l.ifb });
  }
  return [...links, ...tc, ...cleanup];
}

/**
 * The links a setup fragment creates with a planner-chosen MAC (the ifbs of shaping), as CNI result interfaces:
 * the spec lists every interface an ADD created.
 */
export function createdLinks(ops: readonly Op[]): readonly ResultLink[] {
  return ops.flatMap((op): ResultLink[] =>
    op.kind === 'link.ifb' && op.mac !== undefined
      ? [{ name: op.name, mac: op.mac, ...(op.ns.kind === 'pod' ? { sandbox: op.ns.path } : {}) }]
      : [],
  );
}

/**
 * A veth mode's setup: the veth attachment with the allocation's shaping (host ifb in the host ip batch, tc ops in
 * one host tc batch), and the links the shaping creates (for the CNI result). Validates the bandwidth before
 * returning any op.
 */
export function shapedVethAttachment(
  spec: PodNetworkSpec,
  node: NodeFacts,
  alloc: Allocation,
  hostExtras: readonly Op[] = [],
): { readonly plan: readonly Op[]; readonly created: readonly ResultLink[] } {
  const shaping = planShapingSetup(hostVethTarget(spec, node, alloc.mtu), alloc.bandwidth);
  return { plan: vethAttachment(spec, node, alloc.ip, alloc.mtu, [...hostExtras, ...shaping.links], shaping.tc), created: createdLinks(shaping.links) };
}

/** A veth mode's teardown: the ifb (the attachment's own), then the veth (whose qdiscs die with it; see removeVeth). */
export function shapedVethTeardown(spec: PodNetworkSpec, node: NodeFacts, alloc: Allocation | undefined, hostNames?: HostNames): readonly Op[] {
  return [...planShapingTeardown(hostVethTarget(spec, node, alloc?.mtu ?? 1500)), ...removeVeth(spec, node, alloc?.ip, hostNames)];
}
