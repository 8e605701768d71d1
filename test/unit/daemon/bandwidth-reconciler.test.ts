import { defaultBurstBits } from '../../../src/bandwidth/burst.js';
import { ifbName } from '../../../src/bandwidth/names.js';
import { BandwidthReconciler, type BandwidthLease } from '../../../src/daemon/k8s/bandwidth-reconciler.js';
import type { IpAddr, Cidr } from '../../../src/lib/brand.js';
import { BusyError } from '../../../src/lib/errors.js';
import { silentLogger } from '../../../src/lib/log.js';
import type { Plan } from '../../../src/netlink/ops.js';

const lim = (bits: number): { rateBps: number; burstBits: number } => ({ rateBps: bits, burstBits: defaultBurstBits(bits) });
const lease = (extra: Partial<BandwidthLease> = {}): BandwidthLease => ({
  podNamespace: 'default',
  podName: 'nginx',
  containerId: 'c0ffee',
  ifName: 'eth0',
  netns: '/var/run/netns/p',
  createdAt: '2026-01-01T00:00:00.000Z',
  allocation: { mode: 'vpc', ip: '10.0.0.5' as IpAddr, subnet: '10.0.0.0/24' as Cidr, mtu: 1500, bandwidth: { ingress: lim(10e6) } },
  ...extra,
});

function setup(fail = false): { rec: BandwidthReconciler; plans: Plan[]; events: string[] } {
  const plans: Plan[] = [];
  const events: string[] = [];
  const rec = new BandwidthReconciler({
    executor: { apply: (p) => (plans.push(p), fail ? Promise.reject(new Error('boom')) : Promise.resolve({})) },
    emit: (pod, reason, message, type) => events.push(`${pod} ${type} ${reason}: ${message}`),
    node: { vethPrefix: 'cali' },
    log: silentLogger,
  });
  return { rec, plans, events };
}

describe('BandwidthReconciler', () => {
  it('applies an annotation change in place and emits BandwidthUpdated', async () => {
    const { rec, plans, events } = setup();
    await rec.onPodAnnotations('default/nginx', { 'kubernetes.io/ingress-bandwidth': '20M' }, [lease()]);
    expect(plans).toEqual([[{ kind: 'qdisc.replace', ns: { kind: 'host' }, dev: 'calic440f455693', qdisc: { type: 'tbf', rateBytes: 2500000, burstBytes: 65536, limitBytes: 128036 } }]]);
    expect(events).toEqual([expect.stringMatching(/^default\/nginx Normal BandwidthUpdated: eth0: ingress 20000000 bit\/s/u)]);
    // the same annotations again: nothing to do
    await rec.onPodAnnotations('default/nginx', { 'kubernetes.io/ingress-bandwidth': '20M' }, [lease()]);
    expect(plans).toHaveLength(1);
  });
  it('no change against the lease: nothing applied', async () => {
    const { rec, plans, events } = setup();
    await rec.onPodAnnotations('default/nginx', { 'kubernetes.io/ingress-bandwidth': '10M' }, [lease()]);
    expect(plans).toEqual([]);
    expect(events).toEqual([]);
  });
  it('bad values: ParseFailed warning, old shaping left alone', async () => {
    const { rec, plans, events } = setup();
    await rec.onPodAnnotations('default/nginx', { 'k8s.aliyun.com/egress-bandwidth': '12' }, [lease()]);
    expect(plans).toEqual([]);
    expect(events).toEqual([expect.stringMatching(/Warning ParseFailed: .*k8s\.aliyun\.com\/egress-bandwidth.*"12"/u)]);
  });
  it('runtimeConfig limits recorded on the lease win and are left alone', async () => {
    const { rec, plans } = setup();
    const l = lease({ runtimeBandwidth: { ingress: lim(5e6) } });
    await rec.onPodAnnotations('default/nginx', { 'kubernetes.io/ingress-bandwidth': '50M' }, [l]);
    expect(plans).toEqual([]);
    await rec.onPodAnnotations('default/nginx', { 'kubernetes.io/ingress-bandwidth': '50M', 'kubernetes.io/egress-bandwidth': '1M' }, [l]);
    expect(plans[0]?.map((o) => o.kind)).toEqual(['link.ifb', 'link.up', 'qdisc.replace', 'filter.redirect', 'qdisc.replace']);
  });
  it('removing the annotations removes the shaping', async () => {
    const { rec, plans } = setup();
    await rec.onPodAnnotations('default/nginx', {}, [lease({ allocation: { ...lease().allocation, bandwidth: { egress: lim(1e6) } } })]);
    expect(plans[0]).toEqual([
      { kind: 'qdisc.del', ns: { kind: 'host' }, dev: 'calic440f455693', slot: 'ingress' },
      { kind: 'link.del', ns: { kind: 'host' }, name: ifbName('c0ffee', 'eth0') },
    ]);
  });
  it('onApplied is told the annotation limits after an update took effect (not after a no-op or a failure)', async () => {
    const applied: string[] = [];
    const mk = (fail: boolean): BandwidthReconciler => new BandwidthReconciler({
      executor: { apply: () => (fail ? Promise.reject(new Error('boom')) : Promise.resolve({})) },
      emit: () => undefined,
      node: { vethPrefix: 'cali' },
      log: silentLogger,
      onApplied: (l, spec) => applied.push(`${l.containerId} ${JSON.stringify(spec)}`),
    });
    const ok = mk(false);
    await ok.onPodAnnotations('default/nginx', { 'kubernetes.io/ingress-bandwidth': '10M' }, [lease()]);
    expect(applied).toEqual([]);
    await ok.onPodAnnotations('default/nginx', {}, [lease()]);
    expect(applied).toEqual(['c0ffee undefined']);
    await mk(true).onPodAnnotations('default/nginx', { 'kubernetes.io/ingress-bandwidth': '20M' }, [lease()]);
    expect(applied).toHaveLength(1);
  });
  it('an executor failure emits a warning', async () => {
    const { rec, events } = setup(true);
    await rec.onPodAnnotations('default/nginx', { 'kubernetes.io/ingress-bandwidth': '20M' }, [lease()]);
    expect(events).toEqual([expect.stringContaining('Warning BandwidthUpdateFailed: eth0: boom')]);
  });
});

describe('BandwidthReconciler.exclusive (coordination with ADD/DEL)', () => {
  it('a busy attachment is retried, not reported; a released one is skipped; otherwise the update runs inside the claim', async () => {
    const events: string[] = [];
    const plans: Plan[] = [];
    let mode: 'busy' | 'gone' | 'run' = 'busy';
    const rec = new BandwidthReconciler({
      executor: { apply: (p: Plan) => Promise.resolve(void plans.push(p)) },
      node: { vethPrefix: 'cali' },
      log: silentLogger,
      emit: (_pod, reason) => events.push(reason),
      exclusive: async <T>(_l: BandwidthLease, fn: () => Promise<T>): Promise<T | undefined> => {
        if (mode === 'busy') throw new BusyError('live update: attachment is still being built by its ADD');
        if (mode === 'gone') return undefined;
        return fn();
      },
    });
    const ann = { 'kubernetes.io/ingress-bandwidth': '20M' };
    expect(await rec.onPodAnnotations('default/nginx', ann, [lease()])).toEqual({ retry: true });
    mode = 'gone';
    expect(await rec.onPodAnnotations('default/nginx', ann, [lease()])).toEqual({ retry: false });
    expect({ events, plans: plans.length }).toEqual({ events: [], plans: 0 });
    mode = 'run';
    expect(await rec.onPodAnnotations('default/nginx', ann, [lease()])).toEqual({ retry: false });
    expect({ events, plans: plans.length }).toEqual({ events: ['BandwidthUpdated'], plans: 1 });
  });
});
