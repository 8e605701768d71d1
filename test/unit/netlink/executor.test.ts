import type { Cidr, IfName, IpAddr, MacAddr, NetnsPath } from '../../../src/lib/brand.js';
import { ExecError, InvalidInputError } from '../../../src/lib/errors.js';
import { silentLogger } from '../../../src/lib/log.js';
import { createExecutor, PlanError } from '../../../src/netlink/executor.js';
import { HOST, podNs, type Op } from '../../../src/netlink/ops.js';
import { FakeRunner, failLines, type Script } from './fake-runner.js';

const nm = (s: string): IfName => s as IfName;
const P = podNs('/run/netns/p1' as NetnsPath);

// host: veth, up, route, rule 512, rule 2048 | pod: lo up, addr | host: route in table
const plan: Op[] = [
  { kind: 'link.veth', ns: HOST, host: { name: nm('cali1'), mac: 'ee:00:00:00:00:01' as MacAddr }, peer: { name: nm('eth0'), mac: 'ee:00:00:00:00:02' as MacAddr }, peerNs: P, mtu: 1500 },
  { kind: 'link.up', ns: HOST, name: nm('cali1') },
  { kind: 'route.replace', ns: HOST, dst: '10.200.1.5/32' as Cidr, dev: nm('cali1'), scope: 'link' },
  { kind: 'rule.add', ns: HOST, to: '10.200.1.5/32' as Cidr, table: 'main', priority: 512 },
  { kind: 'rule.add', ns: HOST, from: '10.200.1.5/32' as Cidr, table: 1007, priority: 2048 },
  { kind: 'link.up', ns: P, name: nm('lo') },
  { kind: 'addr.replace', ns: P, dev: nm('eth0'), cidr: '10.200.1.5/32' as Cidr },
  { kind: 'route.replace', ns: HOST, dst: '10.200.9.0/24' as Cidr, via: '10.200.1.1' as IpAddr, dev: nm('cali1'), table: 1007 },
];

function setup(script?: Script, sysctlFails = false) {
  const runner = new FakeRunner(script);
  const sysctls: [string, string][] = [];
  const exec = createExecutor({
    runner,
    log: silentLogger,
    writeSysctl: (path, value) => {
      if (sysctlFails) return Promise.reject(new Error('EACCES: permission denied'));
      sysctls.push([path, value]);
      return Promise.resolve();
    },
    netnsExists: (p) => Promise.resolve(p !== '/var/run/netns/gone'),
  });
  return { runner, sysctls, exec };
}

describe('executor.apply', () => {
  it('runs one batch per run of same-namespace ops, in order, and passes the signal', async () => {
    const { runner, exec } = setup();
    const ac = new AbortController();
    await expect(exec.apply(plan, ac.signal)).resolves.toEqual({ applied: 8, tolerated: 0, steps: 3 });
    expect(runner.calls.map((c) => [c.cmd.file, ...c.cmd.args])).toEqual([
      ['ip', '-force', '-batch', '-'],
      ['nsenter', '--net=/run/netns/p1', 'ip', '-force', '-batch', '-'],
      ['ip', '-force', '-batch', '-'],
    ]);
    expect(runner.lines(0)).toHaveLength(5);
    expect(runner.calls.every((c) => c.signal === ac.signal)).toBe(true);
  });

  it('validates the whole plan before running anything', async () => {
    const { runner, exec } = setup();
    await expect(exec.apply([plan[0] as Op, { kind: 'link.up', ns: HOST, name: nm('bad name') }])).rejects.toThrow(InvalidInputError);
    expect(runner.calls).toHaveLength(0);
  });

  it('writes sysctls through the injected writer', async () => {
    const { sysctls, exec } = setup();
    await exec.apply([{ kind: 'sysctl.set', ns: HOST, key: 'net.ipv4.ip_forward', value: '1' }]);
    expect(sysctls).toEqual([['/proc/sys/net/ipv4/ip_forward', '1']]);
  });

  it('fails at op k (4th line) and rolls back the applied ops in reverse, one batch per namespace', async () => {
    const { runner, exec } = setup((_cmd, call) => (call === 0 ? failLines({ 4: 'RTNETLINK answers: Invalid argument' }) : {}));
    const err: unknown = await exec.apply(plan).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanError);
    const pe = err as PlanError;
    expect(pe.code).toBe('exec');
    expect(pe.failedIndex).toBe(3);
    expect(pe.failedOp).toBe(plan[3]);
    expect(pe.stderr).toBe('RTNETLINK answers: Invalid argument');
    // -force kept going: ops 1,2,3 and 5 took effect
    expect(pe.applied).toBe(4);
    expect(pe.rollbackErrors).toEqual([]);
    expect(runner.calls).toHaveLength(2); // the batch, then the rollback; the pod step never ran
    expect(runner.lines(1)).toEqual([
      'rule del from 10.200.1.5/32 lookup 1007 priority 2048',
      'route del 10.200.1.5/32 dev cali1',
      'link del dev cali1',
    ]);
  });

  it('a failure in a later step rolls back earlier steps', async () => {
    const { runner, exec } = setup((cmd) => (cmd.file === 'nsenter' ? failLines({ 2: 'Cannot find device "eth0"' }) : {}));
    const pe = (await exec.apply(plan).catch((e: unknown) => e)) as PlanError;
    expect(pe.failedIndex).toBe(6);
    expect(pe.applied).toBe(6);
    expect(runner.calls).toHaveLength(3);
    expect(runner.lines(2)).toEqual([
      'rule del from 10.200.1.5/32 lookup 1007 priority 2048',
      'rule del to 10.200.1.5/32 lookup main priority 512',
      'route del 10.200.1.5/32 dev cali1',
      'link del dev cali1',
    ]);
  });

  it('tolerates File exists on rule.add (and does not roll such a rule back)', async () => {
    const { runner, exec } = setup((_c, call) => (call === 0 ? failLines({ 4: 'RTNETLINK answers: File exists' }) : call === 1 ? failLines({ 2: 'RTNETLINK answers: File exists' }) : {}));
    // File exists on addr.replace is not tolerated
    const pe = (await exec.apply(plan).catch((e: unknown) => e)) as PlanError;
    expect(pe.failedIndex).toBe(6);
    // host batch, pod batch, then one host rollback batch: the tolerated rule 512 is not in it
    expect(runner.calls).toHaveLength(3);
    expect(runner.lines(2)).toEqual([
      'rule del from 10.200.1.5/32 lookup 1007 priority 2048',
      'route del 10.200.1.5/32 dev cali1',
      'link del dev cali1',
    ]);
    expect(runner.lines(2)).not.toContain('rule del to 10.200.1.5/32 lookup main priority 512');
    const ok = setup((_c, call) => (call === 0 ? failLines({ 4: 'RTNETLINK answers: File exists' }) : {}));
    await expect(ok.exec.apply(plan)).resolves.toEqual({ applied: 7, tolerated: 1, steps: 3 });
  });

  it('tolerates missing objects on *.del ops', async () => {
    const del: Op[] = [
      { kind: 'link.del', ns: HOST, name: nm('cali1') },
      { kind: 'route.del', ns: HOST, dst: '10.200.1.5/32' as Cidr },
      { kind: 'rule.del', ns: HOST, to: '10.200.1.5/32' as Cidr, priority: 512 },
      { kind: 'rule.del', ns: HOST, from: '10.200.1.5/32' as Cidr, priority: 2048 },
    ];
    const { exec } = setup(() =>
      failLines({ 1: 'Cannot find device "cali1"', 2: 'RTNETLINK answers: No such process', 3: 'RTNETLINK answers: No such file or directory', 4: 'Error: the rule does not exist' }),
    );
    await expect(exec.apply(del)).resolves.toEqual({ applied: 0, tolerated: 4, steps: 1 });
  });

  it('treats a batch that never ran (nsenter failed) as failing its first op', async () => {
    const { runner, exec } = setup((cmd) => (cmd.file === 'nsenter' ? { exitCode: 1, stderr: 'nsenter: cannot open /run/netns/p1: No such file or directory' } : {}));
    const pe = (await exec.apply(plan).catch((e: unknown) => e)) as PlanError;
    expect(pe.failedIndex).toBe(5);
    expect(pe.applied).toBe(5);
    expect(pe.stderr).toContain('nsenter: cannot open');
    expect(runner.lines(2)).toHaveLength(4);
  });

  it('a batch iproute2 cut short (exit 255, e.g. an unopenable netns) rolls back every op that may have run', async () => {
    // ip -force still exits at once on an argument error, with no `Command failed` marker: line 1 (the veth) took
    // effect, the line that stopped it and those after did not, and which line that was is unknown.
    const stderr = 'Error: argument "/run/netns/p1" is wrong: Invalid "netns" value\n';
    const { runner, exec } = setup((_c, call) => (call === 0 ? { exitCode: 255, stderr } : {}));
    const pe = (await exec.apply(plan).catch((e: unknown) => e)) as PlanError;
    expect(pe).toBeInstanceOf(PlanError);
    expect(pe.failedIndex).toBe(0);
    expect(pe.stderr).toContain('stopped (exit 255) at line 1 or later: Error: argument');
    expect(runner.calls).toHaveLength(2);
    expect(runner.lines(1)).toEqual([
      'rule del from 10.200.1.5/32 lookup 1007 priority 2048',
      'rule del to 10.200.1.5/32 lookup main priority 512',
      'route del 10.200.1.5/32 dev cali1',
      'link del dev cali1',
    ]);
  });

  it('lines before the last marker of a cut-short batch are known; only the later ones are uncertain', async () => {
    const stderr = 'RTNETLINK answers: Invalid argument\nCommand failed -:2\nError: either "to" is duplicate, or "x" is a garbage.\n';
    const { runner, exec } = setup((_c, call) => (call === 0 ? { exitCode: 255, stderr } : {}));
    const pe = (await exec.apply(plan).catch((e: unknown) => e)) as PlanError;
    expect(pe.failedIndex).toBe(1);
    expect(pe.stderr).toBe('RTNETLINK answers: Invalid argument');
    // line 1 ran; line 2 failed (not undone); lines 3-5 may have run
    expect(runner.lines(1)).toEqual([
      'rule del from 10.200.1.5/32 lookup 1007 priority 2048',
      'rule del to 10.200.1.5/32 lookup main priority 512',
      'route del 10.200.1.5/32 dev cali1',
      'link del dev cali1',
    ]);
  });

  it('a batch killed by the deadline mid-run is rolled back', async () => {
    const ac = new AbortController();
    const { runner, exec } = setup((_c, call) => {
      if (call !== 0) return {};
      ac.abort();
      return new ExecError(['ip'], null, 'The operation was aborted');
    });
    const pe = (await exec.apply(plan, ac.signal).catch((e: unknown) => e)) as PlanError;
    expect(pe.failedIndex).toBe(0);
    expect(runner.calls).toHaveLength(2);
    expect(runner.lines(1)).toEqual([
      'rule del from 10.200.1.5/32 lookup 1007 priority 2048',
      'rule del to 10.200.1.5/32 lookup main priority 512',
      'route del 10.200.1.5/32 dev cali1',
      'link del dev cali1',
    ]);
  });

  it('a cut-short teardown batch reports the lines that may not have run', async () => {
    const { exec } = setup(() => ({ exitCode: 255, stderr: 'Error: argument "x" is wrong\n' }));
    const res = await exec.teardown([{ kind: 'link.del', ns: HOST, name: nm('cali1') }]);
    expect(res.errors).toEqual(['ip link del dev cali1: ip batch stopped (exit 255) at line 1 or later: Error: argument "x" is wrong']);
  });

  it('a runner that cannot start counts as failure; the cause is kept', async () => {
    const boom = new ExecError(['ip'], null, 'spawn ip ENOENT');
    const { exec } = setup(() => boom);
    const pe = (await exec.apply(plan).catch((e: unknown) => e)) as PlanError;
    expect(pe.failedIndex).toBe(0);
    expect(pe.applied).toBe(0);
    expect(pe.stderr).toContain('ENOENT');
    expect(pe.cause).toBe(boom);
  });

  it('a sysctl write failure rolls back and reports the sysctl', async () => {
    const { runner, exec } = setup(undefined, true);
    const withSysctl: Op[] = [plan[0] as Op, { kind: 'sysctl.set', ns: HOST, key: 'net.ipv4.conf.cali1.rp_filter', value: '0' }];
    const pe = (await exec.apply(withSysctl).catch((e: unknown) => e)) as PlanError;
    expect(pe.failedIndex).toBe(1);
    expect(pe.stderr).toContain('EACCES');
    expect(runner.lines(1)).toEqual(['link del dev cali1']);
  });

  it('collects rollback errors that are not "missing"', async () => {
    const { exec } = setup((_c, call) => (call === 0 ? failLines({ 3: 'RTNETLINK answers: Invalid argument' }) : failLines({ 1: 'RTNETLINK answers: Operation not permitted', 2: 'Cannot find device "cali1"' })));
    const pe = (await exec.apply(plan.slice(0, 4)).catch((e: unknown) => e)) as PlanError;
    expect(pe.failedIndex).toBe(2);
    expect(pe.rollbackErrors).toEqual(['rollback ip rule del to 10.200.1.5/32 lookup main priority 512: RTNETLINK answers: Operation not permitted']);
  });

  it('stops before the next step when aborted, and rolls back', async () => {
    const ac = new AbortController();
    const { runner, exec } = setup(() => {
      ac.abort();
      return {};
    });
    const pe = (await exec.apply(plan, ac.signal).catch((e: unknown) => e)) as PlanError;
    expect(pe.failedIndex).toBe(5);
    expect(pe.stderr).toBe('aborted');
    expect(runner.calls).toHaveLength(2);
    // the rollback is not aborted by the apply's signal: it runs under its own deadline
    expect(runner.calls[1]?.signal).toBeDefined();
    expect(runner.calls[1]?.signal).not.toBe(ac.signal);
    expect(runner.calls[1]?.signal?.aborted).toBe(false);
  });

  it('bounds the rollback by its own deadline: a hung rollback is reported, not waited for', async () => {
    const runner = new FakeRunner((_c, call) => (call === 0 ? failLines({ 3: 'RTNETLINK answers: Invalid argument' }) : {}));
    const hanging = {
      run: (cmd: Parameters<FakeRunner['run']>[0], signal?: AbortSignal) =>
        runner.calls.length === 0
          ? runner.run(cmd, signal)
          : new Promise<never>((_resolve, reject) => signal?.addEventListener('abort', () => { reject(new Error('killed at the deadline')); })),
    };
    const exec = createExecutor({ runner: hanging, log: silentLogger, rollbackDeadlineMs: 50 });
    const started = Date.now();
    const pe = (await exec.apply(plan.slice(0, 4)).catch((e: unknown) => e)) as PlanError;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(pe.rollbackErrors).toEqual([expect.stringContaining('killed at the deadline')]);
  });
});

describe('executor.teardown', () => {
  const td: Op[] = [
    { kind: 'rule.del', ns: HOST, to: '10.200.1.5/32' as Cidr, priority: 512 },
    { kind: 'link.del', ns: podNs('/var/run/netns/gone' as NetnsPath), name: nm('eth0') },
    { kind: 'route.del', ns: HOST, dst: '10.200.1.5/32' as Cidr, dev: nm('cali1') },
    { kind: 'link.del', ns: HOST, name: nm('cali1') },
  ];
  it('missing is success; vanished pod netns is skipped silently', async () => {
    const { runner, exec } = setup(() => failLines({ 1: 'RTNETLINK answers: No such process', 2: 'Cannot find device "cali1"' }));
    await expect(exec.teardown(td)).resolves.toEqual({ errors: [] });
    expect(runner.calls.map((c) => c.cmd.file)).toEqual(['ip', 'ip']);
  });
  it('continues after errors and returns them', async () => {
    const { runner, exec } = setup((_c, call) => (call === 0 ? failLines({ 1: 'RTNETLINK answers: Operation not permitted' }) : {}));
    const res = await exec.teardown(td);
    expect(res.errors).toEqual(['ip rule del to 10.200.1.5/32 priority 512: RTNETLINK answers: Operation not permitted']);
    expect(runner.calls).toHaveLength(2);
  });
  it('enters a pod netns that still exists', async () => {
    const { runner, exec } = setup();
    await exec.teardown([{ kind: 'link.del', ns: P, name: nm('eth0') }]);
    expect(runner.calls[0]?.cmd.args[0]).toBe('--net=/run/netns/p1');
  });
});

describe('the MAC guard of link.move', () => {
  const ENI_MAC = '00:16:3e:0a:1b:2c' as MacAddr;
  const moveIn: Op = { kind: 'link.move', ns: HOST, name: nm('eth1'), to: P, newName: nm('eth0'), returnName: nm('eth1'), mac: ENI_MAC, mtu: 1500 };
  const moveOut: Op = { kind: 'link.move', ns: P, name: nm('eth0'), to: HOST, newName: nm('eni00163e0a1b2c'), returnName: nm('eth0'), mac: ENI_MAC };
  const linkJson = (name: string, mac: string): string => JSON.stringify([{ ifindex: 7, ifname: name, mtu: 1500, address: mac, flags: ['BROADCAST'] }]);
  const isShow = (c: { args: readonly string[] }): boolean => c.args.includes('show');

  it('apply: reads the link first, moves it when it has the MAC', async () => {
    const { runner, exec } = setup((c) => (isShow(c) ? { stdout: linkJson('eth1', '00:16:3E:0A:1B:2C') } : {}));
    await expect(exec.apply([{ kind: 'link.up', ns: HOST, name: nm('cali1') }, moveIn])).resolves.toMatchObject({ applied: 2 });
    expect(runner.calls.map((c) => [c.cmd.file, ...c.cmd.args])).toEqual([
      ['ip', '-j', 'link', 'show', 'dev', 'eth1'],
      ['ip', '-force', '-batch', '-'],
    ]);
    expect(runner.lines(1)).toEqual(['link set dev cali1 up', 'link set dev eth1 netns /run/netns/p1 name eth0 mtu 1500']);
  });

  it('apply: another MAC refuses the move, runs nothing of its step and rolls back earlier steps', async () => {
    const first: Op = { kind: 'route.replace', ns: P, dst: '10.200.1.9/32' as Cidr, dev: nm('lo') };
    const { runner, exec } = setup((c) => (isShow(c) ? { stdout: linkJson('eth1', 'fa:16:3e:00:00:01') } : {}));
    const err = (await exec.apply([first, moveIn]).catch((e: unknown) => e)) as PlanError;
    expect(err).toBeInstanceOf(PlanError);
    expect(err.message).toContain('link eth1 (host) has MAC fa:16:3e:00:00:01, not 00:16:3e:0a:1b:2c: not moved (wrong link)');
    expect(err.failedIndex).toBe(1);
    // first step, the guard's read, the rollback of the first step; never a batch with the move
    expect(runner.calls.map((c) => c.cmd.stdin ?? c.cmd.args.join(' '))).toEqual([
      'route replace 10.200.1.9/32 dev lo\n',
      '-j link show dev eth1',
      'route del 10.200.1.9/32 dev lo\n',
    ]);
  });

  it('apply: a missing link fails the plan (nothing moved)', async () => {
    const { runner, exec } = setup((c) => (isShow(c) ? { stderr: 'Device "eth1" does not exist.\n', exitCode: 1 } : {}));
    await expect(exec.apply([moveIn])).rejects.toThrow('link eth1 not found (host)');
    expect(runner.calls).toHaveLength(1);
  });

  it('teardown: a link already gone counts as moved; the rest of its batch runs', async () => {
    const { runner, exec } = setup((c) => (isShow(c) ? { stderr: 'Device "eth0" does not exist.\n', exitCode: 1 } : {}));
    const res = await exec.teardown([moveOut, { kind: 'link.del', ns: P, name: nm('veth1') }]);
    expect(res.errors).toEqual([]);
    expect(runner.calls[0]?.cmd.args).toEqual(['--net=/run/netns/p1', 'ip', '-j', 'link', 'show', 'dev', 'eth0']);
    expect(runner.lines(1)).toEqual(['link del dev veth1']);
  });

  it('teardown: another MAC is refused and reported; nothing else is skipped', async () => {
    const { runner, exec } = setup((c) => (isShow(c) ? { stdout: linkJson('eth0', 'ee:00:00:00:00:02') } : {}));
    const res = await exec.teardown([moveOut, { kind: 'link.del', ns: P, name: nm('veth1') }]);
    expect(res.errors).toEqual([expect.stringContaining('link eth0 (netns /run/netns/p1) has MAC ee:00:00:00:00:02, not 00:16:3e:0a:1b:2c: not moved')]);
    expect(runner.lines(1)).toEqual(['link del dev veth1']);
  });

  it('a move without a MAC is not guarded (rollback moves)', async () => {
    const { runner, exec } = setup();
    await exec.apply([{ kind: 'link.move', ns: P, name: nm('eth0'), to: HOST, newName: nm('eni00163e0a1b2c'), returnName: nm('eth0') }]);
    expect(runner.calls).toHaveLength(1);
    expect(runner.lines(0)).toEqual([`link set dev eth0 netns /proc/${String(process.pid)}/ns/net name eni00163e0a1b2c`]);
  });
});
