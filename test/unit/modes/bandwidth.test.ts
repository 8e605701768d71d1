import { defaultBurstBits } from '../../../src/bandwidth/burst.js';
import { ifbName } from '../../../src/bandwidth/names.js';
import { InvalidInputError } from '../../../src/lib/errors.js';
import { stableMac } from '../../../src/lib/veth-name.js';
import { hostVethTarget, planBandwidthUpdate, planShapingSetup, podLinkTarget } from '../../../src/modes/common/bandwidth.js';
import { dataplaneFor } from '../../../src/modes/registry.js';
import { HOST, podNs, type Op } from '../../../src/netlink/ops.js';
import { planSteps } from '../../../src/netlink/render.js';
import { node, spec, vpcAlloc, vprAlloc } from './fixtures.js';

const H = 'calic440f455693';
const IFB = ifbName('c0ffee', 'eth0');
const lim = (mbit: number): { rateBps: number; burstBits: number } => ({ rateBps: mbit * 1e6, burstBits: defaultBurstBits(mbit * 1e6) });
const tbf10 = { type: 'tbf', rateBytes: 1250000, burstBytes: 65536, limitBytes: 31250 + 65536 } as const;
const tbf20 = { type: 'tbf', rateBytes: 2500000, burstBytes: 65536, limitBytes: 62500 + 65536 } as const;

describe('veth shaping', () => {
  const target = hostVethTarget(spec, node, 1500);
  it('ingress = host veth tbf; egress = host ifb + ingress qdisc + redirect + ifb tbf', () => {
    const s = planShapingSetup(target, { ingress: lim(20), egress: lim(10) });
    expect(s.links).toEqual([
      { kind: 'link.del', ns: HOST, name: IFB },
      { kind: 'link.ifb', ns: HOST, name: IFB, mtu: 1500, mac: stableMac(IFB, 'ifb') },
      { kind: 'link.up', ns: HOST, name: IFB },
    ]);
    expect(s.tc).toEqual([
      { kind: 'qdisc.replace', ns: HOST, dev: H, qdisc: tbf20 },
      { kind: 'qdisc.replace', ns: HOST, dev: H, qdisc: { type: 'ingress' } },
      { kind: 'filter.redirect', ns: HOST, dev: H, target: IFB },
      { kind: 'qdisc.replace', ns: HOST, dev: IFB, qdisc: tbf10 },
    ]);
  });
  it('vpc setup with bandwidth: host ip batch (with the ifb), pod ip batch, host tc batch, sysctls', () => {
    const plan = dataplaneFor('vpc').planSetup(spec, { ...vpcAlloc, bandwidth: { ingress: lim(20), egress: lim(10) } }, node).plan;
    expect(planSteps(plan).map((s) => (s.kind === 'sysctl' ? 'sysctl' : `${s.kind}:${s.ns.kind}`))).toEqual(['ip:host', 'ip:pod', 'tc:host', 'sysctl', 'sysctl', 'sysctl', 'sysctl']);
    expect(plan.filter((o) => o.kind === 'link.ifb')).toHaveLength(1);
  });
  it('vpc/vpr setups without bandwidth plan no tc op', () => {
    expect(dataplaneFor('vpc').planSetup(spec, vpcAlloc, node).plan.some((o) => o.kind.startsWith('qdisc') || o.kind === 'link.ifb')).toBe(false);
    expect(dataplaneFor('veth-policy-routing').planSetup(spec, vprAlloc, node).plan.some((o) => o.kind.startsWith('qdisc'))).toBe(false);
  });
  it('vpr setup shapes too (ingress only: no ifb)', () => {
    const plan = dataplaneFor('veth-policy-routing').planSetup(spec, { ...vprAlloc, bandwidth: { ingress: lim(10) } }, node).plan;
    expect(plan.filter((o) => o.kind === 'qdisc.replace')).toEqual([{ kind: 'qdisc.replace', ns: HOST, dev: H, qdisc: { ...tbf10, limitBytes: 96786 } }]);
    expect(plan.some((o) => o.kind === 'link.ifb')).toBe(false);
  });
  it('validates before planning any op (burst below a byte, rate below a byte/s)', () => {
    expect(() => dataplaneFor('vpc').planSetup(spec, { ...vpcAlloc, bandwidth: { egress: { rateBps: 7, burstBits: 8 } } }, node).plan).toThrow(InvalidInputError);
    expect(() => dataplaneFor('vpc').planSetup(spec, { ...vpcAlloc, bandwidth: { egress: { rateBps: 8000, burstBits: 0 } } }, node).plan).toThrow(/bandwidth.egress/u);
  });
});

describe('pod-link shaping (exclusive ENI / ipvlan)', () => {
  const target = podLinkTarget(spec, 1500);
  const P = podNs(spec.netns);
  it('egress = tbf on the pod link; ingress = an ifb inside the pod netns', () => {
    const s = planShapingSetup(target, { ingress: lim(20), egress: lim(10) });
    expect([...s.links, ...s.tc]).toEqual([
      { kind: 'link.del', ns: P, name: IFB },
      { kind: 'link.ifb', ns: P, name: IFB, mtu: 1500, mac: stableMac(IFB, 'ifb') },
      { kind: 'link.up', ns: P, name: IFB },
      { kind: 'qdisc.replace', ns: P, dev: 'eth0', qdisc: tbf10 },
      { kind: 'qdisc.replace', ns: P, dev: 'eth0', qdisc: { type: 'ingress' } },
      { kind: 'filter.redirect', ns: P, dev: 'eth0', target: IFB },
      { kind: 'qdisc.replace', ns: P, dev: IFB, qdisc: tbf20 },
    ]);
  });
});

describe('planBandwidthUpdate', () => {
  const target = hostVethTarget(spec, node, 1500);
  it('is empty when nothing changes', () => {
    expect(planBandwidthUpdate(target, { ingress: lim(10) }, { ingress: lim(10) })).toEqual([]);
    expect(planBandwidthUpdate(target, undefined, undefined)).toEqual([]);
  });
  it('replaces qdiscs in place', () => {
    expect(planBandwidthUpdate(target, { ingress: lim(10), egress: lim(10) }, { ingress: lim(20), egress: lim(20) })).toEqual([
      { kind: 'qdisc.replace', ns: HOST, dev: H, qdisc: tbf20 },
      { kind: 'qdisc.replace', ns: HOST, dev: IFB, qdisc: tbf20 },
    ]);
  });
  it('adding egress creates the ifb first; removing it deletes qdisc then ifb', () => {
    const add = planBandwidthUpdate(target, undefined, { egress: lim(10) });
    expect(add.map((o: Op) => o.kind)).toEqual(['link.ifb', 'link.up', 'qdisc.replace', 'filter.redirect', 'qdisc.replace']);
    expect(planBandwidthUpdate(target, { ingress: lim(10), egress: lim(10) }, undefined)).toEqual([
      { kind: 'qdisc.del', ns: HOST, dev: H, slot: 'root' },
      { kind: 'qdisc.del', ns: HOST, dev: H, slot: 'ingress' },
      { kind: 'link.del', ns: HOST, name: IFB },
    ]);
  });
  it('validates the new spec', () => {
    expect(() => planBandwidthUpdate(target, undefined, { ingress: { rateBps: 0, burstBits: 5 } })).toThrow(InvalidInputError);
  });
});
