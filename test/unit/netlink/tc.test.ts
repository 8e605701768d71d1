import type { IfName, NetnsPath } from '../../../src/lib/brand.js';
import { diffPlan, qdiscNamespacesOf } from '../../../src/netlink/diff.js';
import { HOST, inverseOf, podNs, type Op } from '../../../src/netlink/ops.js';
import { describeOp, nsKey, parseBatchFailures, planSteps, renderOp } from '../../../src/netlink/render.js';
import { parseQdiscs, type ObservedState } from '../../../src/netlink/state.js';
import { isTolerated } from '../../../src/netlink/tolerate.js';
import { createExecutor } from '../../../src/netlink/executor.js';
import { silentLogger } from '../../../src/lib/log.js';
import { FakeRunner, failLines } from './fake-runner.js';

const nm = (s: string): IfName => s as IfName;
const P = podNs('/run/netns/p1' as NetnsPath);
const tbf: Op = { kind: 'qdisc.replace', ns: HOST, dev: nm('cali1'), qdisc: { type: 'tbf', rateBytes: 1250000, burstBytes: 65536, limitBytes: 96786 } };

describe('tc ops', () => {
  it.each<[Op, string]>([
    [tbf, 'tc qdisc replace dev cali1 root handle 1: tbf rate 1250000bps burst 65536 limit 96786'],
    [{ kind: 'qdisc.replace', ns: HOST, dev: nm('cali1'), qdisc: { type: 'ingress' } }, 'tc qdisc replace dev cali1 handle ffff: ingress'],
    [{ kind: 'qdisc.del', ns: HOST, dev: nm('cali1'), slot: 'root' }, 'tc qdisc del dev cali1 root'],
    [{ kind: 'qdisc.del', ns: HOST, dev: nm('cali1'), slot: 'ingress' }, 'tc qdisc del dev cali1 handle ffff: ingress'],
    [
      { kind: 'filter.redirect', ns: HOST, dev: nm('cali1'), target: nm('hubb0123456789a') },
      'tc filter replace dev cali1 parent ffff: protocol all prio 1 handle 800::800 u32 match u32 0 0 action mirred egress redirect dev hubb0123456789a',
    ],
    [{ kind: 'link.ifb', ns: HOST, name: nm('hubb0123456789a'), mtu: 1500 }, 'ip link add hubb0123456789a mtu 1500 txqueuelen 0 type ifb'],
  ])('%j renders', (op, line) => {
    expect(describeOp(op)).toBe(line);
  });
  it('rejects bad tbf numbers', () => {
    expect(() => renderOp({ ...tbf, qdisc: { type: 'tbf', rateBytes: 0, burstBytes: 1, limitBytes: 1 } })).toThrow();
    expect(() => renderOp({ ...tbf, qdisc: { type: 'tbf', rateBytes: 1, burstBytes: 1.5, limitBytes: 1 } })).toThrow();
  });
  it('batches ip and tc separately, per namespace, in plan order', () => {
    const plan: Op[] = [
      { kind: 'link.ifb', ns: HOST, name: nm('hubb0123456789a'), mtu: 1500 },
      { kind: 'link.up', ns: HOST, name: nm('hubb0123456789a') },
      tbf,
      { kind: 'qdisc.replace', ns: HOST, dev: nm('cali1'), qdisc: { type: 'ingress' } },
      { kind: 'qdisc.replace', ns: P, dev: nm('eth0'), qdisc: { type: 'ingress' } },
    ];
    expect(planSteps(plan).map((s) => (s.kind === 'sysctl' ? s.kind : [s.kind, s.command.file, ...s.command.args, s.ops.length]))).toEqual([
      ['ip', 'ip', '-force', '-batch', '-', 2],
      ['tc', 'tc', '-force', '-batch', '-', 2],
      ['tc', 'nsenter', '--net=/run/netns/p1', 'tc', '-force', '-batch', '-', 1],
    ]);
  });
  it('parses tc -force batch failures (multi-line errors joined)', () => {
    const stderr = 'Error: Parent Qdisc doesn\'t exists.\nWe have an error talking to the kernel\nCommand failed -:6\nError: Invalid handle.\nCommand failed -:7\n';
    expect([...parseBatchFailures(stderr)]).toEqual([
      [6, "Error: Parent Qdisc doesn't exists.\nWe have an error talking to the kernel"],
      [7, 'Error: Invalid handle.'],
    ]);
  });
  it('tolerates deleting absent qdiscs and an existing ifb, nothing else', () => {
    const del = (slot: 'root' | 'ingress'): Op => ({ kind: 'qdisc.del', ns: HOST, dev: nm('x'), slot });
    expect(isTolerated(del('root'), 'Error: Cannot delete qdisc with handle of zero.')).toBe(true);
    expect(isTolerated(del('ingress'), 'Error: Invalid handle.')).toBe(true);
    expect(isTolerated(del('root'), 'Cannot find device "x"')).toBe(true);
    expect(isTolerated({ kind: 'link.ifb', ns: HOST, name: nm('x'), mtu: 1500 }, 'RTNETLINK answers: File exists')).toBe(true);
    expect(isTolerated(tbf, 'Cannot find device "cali1"')).toBe(false);
  });
  it('inverses: ifb → link del, qdisc → qdisc del, filter/del → none', () => {
    expect(inverseOf({ kind: 'link.ifb', ns: HOST, name: nm('i'), mtu: 1500 })).toEqual({ kind: 'link.del', ns: HOST, name: 'i' });
    expect(inverseOf(tbf)).toEqual({ kind: 'qdisc.del', ns: HOST, dev: 'cali1', slot: 'root' });
    expect(inverseOf({ kind: 'qdisc.replace', ns: HOST, dev: nm('c'), qdisc: { type: 'ingress' } })).toEqual({ kind: 'qdisc.del', ns: HOST, dev: 'c', slot: 'ingress' });
    expect(inverseOf({ kind: 'filter.redirect', ns: HOST, dev: nm('c'), target: nm('i') })).toBeUndefined();
  });
  it('rolls back a failed tc step with tc (qdisc del) and ip (ifb del) batches', async () => {
    const runner = new FakeRunner((_cmd, call) => (call === 1 ? failLines({ 2: 'Error: Parent Qdisc doesn\'t exists.' }) : {}));
    const ex = createExecutor({ runner, log: silentLogger, writeSysctl: () => Promise.resolve() });
    const plan: Op[] = [
      { kind: 'link.ifb', ns: HOST, name: nm('hubb0123456789a'), mtu: 1500 },
      tbf,
      { kind: 'filter.redirect', ns: HOST, dev: nm('cali1'), target: nm('hubb0123456789a') },
    ];
    await expect(ex.apply(plan)).rejects.toThrow(/filter.redirect/u);
    expect(runner.calls.map((c) => c.cmd.file)).toEqual(['ip', 'tc', 'tc', 'ip']);
    expect(runner.lines(2)).toEqual(['qdisc del dev cali1 root']);
    expect(runner.lines(3)).toEqual(['link del dev hubb0123456789a']);
  });
});

describe('qdisc observation and diff', () => {
  const raw = [
    { kind: 'tbf', handle: '1:', dev: 'cali1', root: true, options: { rate: 1250000, burst: 65536, burst_raw: 'c8000', lat: 25001, limit: 96786 } },
    { kind: 'ingress', handle: 'ffff:', dev: 'cali1', parent: 'ffff:fff1', options: {} },
    { kind: 'noqueue', handle: '0:', dev: 'lo', root: true, options: {} },
  ];
  const base: ObservedState = { links: [], addrs: [], routes: [], rules: [], neighs: [], qdiscs: parseQdiscs(raw) };
  const observed = (s: ObservedState): ReadonlyMap<string, ObservedState> => new Map([[nsKey(HOST), s]]);
  it('parses tc -j -raw qdisc show', () => {
    expect(parseQdiscs(raw)[0]).toEqual({ dev: 'cali1', kind: 'tbf', handle: '1:', root: true, rateBytes: 1250000, bufferTicks: 0xc8000, limitBytes: 96786 });
    expect(parseQdiscs(raw)[1]).toEqual({ dev: 'cali1', kind: 'ingress', handle: 'ffff:', root: false });
  });
  it('reports nothing when the tbf matches (kernel buffer within tolerance of the formula)', () => {
    expect(diffPlan([tbf, { kind: 'qdisc.replace', ns: HOST, dev: nm('cali1'), qdisc: { type: 'ingress' } }], observed(base))).toEqual([]);
    expect([...qdiscNamespacesOf([tbf])]).toEqual(['host']);
  });
  it('reports a missing or changed qdisc', () => {
    const none: ObservedState = { ...base, qdiscs: [] };
    expect(diffPlan([tbf], observed(none))).toEqual(['root qdisc tbf on cali1 is missing']);
    const changed = { ...base, qdiscs: parseQdiscs([{ ...raw[0], options: { rate: 125000, burst_raw: '1', limit: 5 } }]) };
    expect(diffPlan([tbf], observed(changed))).toEqual([
      'root qdisc tbf on cali1 has rate 125000 bytes/s, want 1250000',
      'root qdisc tbf on cali1 has limit 5 bytes, want 96786',
      'root qdisc tbf on cali1 has buffer 1 ticks, want 819187',
    ]);
    expect(diffPlan([{ kind: 'qdisc.replace', ns: HOST, dev: nm('lo'), qdisc: { type: 'ingress' } }], observed(base))).toEqual(['ingress qdisc ingress on lo is missing']);
  });
});
