/**
 * The executor with an ip driver (src/netlink/ip-driver.ts): the ops the driver supports go through it, op by op in
 * plan order, the others to `ip -batch` exactly where they sit; driver errors are judged by the same tolerances;
 * rollback and the move guard go through the driver too; a driver that fails to load leaves everything to iproute2.
 * The driver here is a scripted IpDriver (the seam's contract); the real rtnetlink driver against the kernel is
 * test/privileged/netlink/rtnl's differential test.
 */
import type { Cidr, IfName, MacAddr, NetnsPath } from '../../../src/lib/brand.js';
import { silentLogger } from '../../../src/lib/log.js';
import { createExecutor, PlanError } from '../../../src/netlink/executor.js';
import type { IpDriver } from '../../../src/netlink/ip-driver.js';
import { HOST, podNs, type NsRef, type Op } from '../../../src/netlink/ops.js';
import { FakeRunner, failLines } from './fake-runner.js';

const nm = (s: string): IfName => s as IfName;
const P = podNs('/run/netns/p1' as NetnsPath);

class ScriptedDriver implements IpDriver {
  readonly name = 'scripted';
  readonly calls: { ns: string; ops: string[] }[] = [];
  constructor(
    private readonly answers: Readonly<Record<string, string>> = {},
    private readonly macs: Readonly<Record<string, string>> = {},
  ) {}
  supports(op: Op): boolean {
    return op.kind !== 'link.ipvlan' && op.kind !== 'sysctl.set' && !op.kind.startsWith('qdisc') && !op.kind.startsWith('filter');
  }
  run(ns: NsRef, ops: readonly Op[]): Promise<readonly string[]> {
    this.calls.push({ ns: ns.kind, ops: ops.map((o) => o.kind) });
    return Promise.resolve(ops.map((o) => this.answers[o.kind] ?? ''));
  }
  linkMac(_ns: NsRef, name: string): Promise<string | undefined> {
    return Promise.resolve(this.macs[name]);
  }
}

const ipvlan: Op = { kind: 'link.ipvlan', ns: HOST, parent: nm('eth1'), name: nm('eth0'), peerNs: P, mode: 'l2', mtu: 1500 };
const plan: Op[] = [
  { kind: 'link.del', ns: HOST, name: nm('x0') },
  ipvlan,
  { kind: 'route.replace', ns: HOST, dst: '10.0.0.5/32' as Cidr, dev: nm('ipvl_3'), scope: 'link' },
  { kind: 'rule.add', ns: HOST, to: '10.0.0.5/32' as Cidr, table: 'main', priority: 512 },
  { kind: 'link.up', ns: P, name: nm('lo') },
  { kind: 'qdisc.replace', ns: P, dev: nm('eth0'), qdisc: { type: 'tbf', rateBytes: 1000, burstBytes: 1000, limitBytes: 1000 } },
];

function setup(driver: IpDriver | Error, script?: ConstructorParameters<typeof FakeRunner>[0]) {
  const runner = new FakeRunner(script);
  const exec = createExecutor({ runner, log: silentLogger, ip: () => (driver instanceof Error ? Promise.reject(driver) : Promise.resolve(driver)) });
  return { runner, exec };
}

describe('executor with an ip driver', () => {
  it('sends supported ops to the driver and the rest to ip -batch / tc -batch, in plan order', async () => {
    const driver = new ScriptedDriver({ 'link.del': 'Cannot find device "x0"', 'rule.add': 'RTNETLINK answers: File exists' });
    const { runner, exec } = setup(driver);
    await expect(exec.apply(plan)).resolves.toEqual({ applied: 4, tolerated: 2, steps: 3 });
    expect(driver.calls).toEqual([
      { ns: 'host', ops: ['link.del'] },
      { ns: 'host', ops: ['route.replace', 'rule.add'] },
      { ns: 'pod', ops: ['link.up'] },
    ]);
    expect(runner.calls.map((c) => c.cmd.file)).toEqual(['ip', 'nsenter']);
    expect(runner.lines(0)).toEqual(['link add link eth1 name eth0 mtu 1500 netns /run/netns/p1 type ipvlan mode l2']);
    expect(runner.calls[1]?.cmd.args).toContain('tc');
  });

  it('a driver error that no tolerance covers fails the plan and rolls back through the driver', async () => {
    const driver = new ScriptedDriver({ 'link.del': 'Cannot find device "x0"', 'link.up': 'RTNETLINK answers: No such device' });
    const { exec } = setup(driver);
    const err = (await exec.apply(plan).catch((e: unknown) => e)) as PlanError;
    expect(err).toBeInstanceOf(PlanError);
    expect([err.failedIndex, err.stderr, err.applied, err.rollbackErrors]).toEqual([4, 'RTNETLINK answers: No such device', 3, []]);
    // rollback: the rule and the route (host, through the driver), the ipvlan slave (a pod-netns link.del)
    expect(driver.calls.slice(3)).toEqual([
      { ns: 'host', ops: ['rule.del', 'route.del'] },
      { ns: 'pod', ops: ['link.del'] },
    ]);
  });

  it('the move guard reads the MAC through the driver (no ip process), and refuses another MAC', async () => {
    const move: Op = { kind: 'link.move', ns: HOST, name: nm('eth1'), to: P, newName: nm('eth0'), returnName: nm('eth1'), mac: '02:00:00:00:00:01' as MacAddr };
    const ok = setup(new ScriptedDriver({}, { eth1: '02:00:00:00:00:01' }));
    await expect(ok.exec.apply([move])).resolves.toMatchObject({ applied: 1 });
    expect(ok.runner.calls).toHaveLength(0);
    const wrong = setup(new ScriptedDriver({}, { eth1: '02:00:00:00:00:09' }));
    await expect(wrong.exec.apply([move])).rejects.toThrow(/has MAC 02:00:00:00:00:09, not 02:00:00:00:00:01/u);
    const gone = setup(new ScriptedDriver());
    await expect(gone.exec.teardown([move])).resolves.toEqual({ errors: [] });
  });

  it('a driver that fails to load leaves every op to iproute2', async () => {
    const { runner, exec } = setup(new Error('no bun:ffi'), () => failLines({}));
    await expect(exec.apply(plan)).resolves.toMatchObject({ applied: 6 });
    expect(runner.calls.map((c) => c.cmd.file)).toEqual(['ip', 'nsenter', 'nsenter']);
  });
});
