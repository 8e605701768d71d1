/**
 * Node setup part by part (src/daemon/node-setup.ts) with the real executor over a recording ip(8) runner: a
 * sysctl that cannot be written (a container's read-only /proc/sys) no longer skips the ENI route; a sysctl that
 * already has its value is not written; failures are reported, retried and cleared. Then the daemon: the Warning
 * NodeSetupFailed node event, /readyz and status name the op, and clear once a retry succeeds.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { join } from 'node:path';
import { parseDaemonConfig } from '../../../src/config/daemon-config.js';
import { Daemon } from '../../../src/daemon/daemon.js';
import { applyNodePlan, NodeSetupKeeper, nodeSetupParts } from '../../../src/daemon/node-setup.js';
import type { IfName, IpAddr } from '../../../src/lib/brand.js';
import type { Command, CommandRunner } from '../../../src/lib/exec.js';
import { silentLogger } from '../../../src/lib/log.js';
import { nodeAdapters } from '../../../src/main/adapters.js';
import { dataplaneFor } from '../../../src/modes/registry.js';
import { createExecutor, type SysctlWriter } from '../../../src/netlink/executor.js';
import { createNodeRpcClient } from '../../../src/rpc/exchange-node.js';
import { runCli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';
import { eventually } from '../../helpers/wait.js';
import { FakeKube } from './fake-kube.js';

const ENI = { link: 'eth1' as IfName, ifindex: 7, gateway: '192.168.0.1' as IpAddr, table: 1007 };
const vethPlan = () => dataplaneFor('veth-policy-routing').planNode({ vethPrefix: 'cali' }, { eni: ENI });
const EROFS = (): Promise<never> => Promise.reject(Object.assign(new Error("EROFS: read-only file system, open '/proc/sys/net/ipv4/ip_forward'"), { code: 'EROFS' }));

/** ip(8) that records every batch it is given and answers success. */
function recordingRunner(): CommandRunner & { readonly batches: string[] } {
  const batches: string[] = [];
  return {
    batches,
    run: (c: Command) => {
      batches.push(`${c.file} ${c.args.join(' ')}\n${c.stdin ?? ''}`);
      return Promise.resolve({ stdout: '', stderr: '', exitCode: 0 });
    },
  };
}

describe('node setup parts', () => {
  it('cuts the plan into each host sysctl alone and each run of other ops together, in plan order', () => {
    const parts = nodeSetupParts(vethPlan());
    expect(parts.map((p) => p.map((op) => op.kind))).toEqual([['sysctl.set'], ['sysctl.set'], ['sysctl.set'], ['route.replace']]);
    const ipvlan = dataplaneFor('ipvlan').planNode({ vethPrefix: 'cali' }, { eni: ENI, ipvlan: { hostIp: '172.31.5.10' as IpAddr, redirectCidrs: [], mtu: 1500, eniMac: '00:16:3e:00:00:01' } as never });
    const kinds = nodeSetupParts(ipvlan).map((p) => (p.length === 1 && p[0]?.kind === 'sysctl.set' ? 'sysctl' : `ops×${String(p.length)}`));
    expect(kinds.slice(-2)).toEqual(['sysctl', 'sysctl']); // the slave's rp_filter after the slave exists
    expect(kinds[0]).toMatch(/^ops×/u);
  });

  it('a read-only /proc/sys: every sysctl fails, named, and the ENI route still runs', async () => {
    const runner = recordingRunner();
    const executor = createExecutor({ runner, log: silentLogger, writeSysctl: EROFS });
    const out = await applyNodePlan(vethPlan(), executor, () => Promise.reject(new Error('EACCES')));
    expect(out.failures.map((f) => f.op)).toEqual(['sysctl net.ipv4.ip_forward=1', 'sysctl net.ipv4.conf.all.rp_filter=0', 'sysctl net.ipv4.conf.default.rp_filter=0']);
    expect(out.failures[0]?.error).toMatch(/EROFS/u);
    expect(runner.batches).toHaveLength(1);
    expect(runner.batches[0]).toMatch(/route replace default via 192\.168\.0\.1 dev eth1 onlink table 1007/u);
    expect(out.applied).toBe(1);
  });

  it('sysctls that already have their value are not written (read-only /proc/sys with the right values is success)', async () => {
    const runner = recordingRunner();
    const written: string[] = [];
    const writeSysctl: SysctlWriter = (p) => {
      written.push(p);
      return EROFS();
    };
    const values: Record<string, string> = { '/proc/sys/net/ipv4/ip_forward': '1', '/proc/sys/net/ipv4/conf/all/rp_filter': '0', '/proc/sys/net/ipv4/conf/default/rp_filter': '0' };
    const read = (p: string): Promise<string> => (values[p] !== undefined ? Promise.resolve(values[p]) : Promise.reject(new Error('ENOENT')));
    const out = await applyNodePlan(vethPlan(), createExecutor({ runner, log: silentLogger, writeSysctl }), read);
    expect(out).toEqual({ applied: 1, alreadySet: ['net.ipv4.ip_forward', 'net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.default.rp_filter'], failures: [] });
    expect(written).toEqual([]);
    // one value wrong: only that one is written (and fails here)
    values['/proc/sys/net/ipv4/conf/all/rp_filter'] = '1';
    const again = await applyNodePlan(vethPlan(), createExecutor({ runner, log: silentLogger, writeSysctl }), read);
    expect(written).toEqual(['/proc/sys/net/ipv4/conf/all/rp_filter']);
    expect(again.failures.map((f) => f.op)).toEqual(['sysctl net.ipv4.conf.all.rp_filter=0']);
  });

  it('the keeper reports a failure once, retries it, and clears it (recovered) when a run succeeds', async () => {
    let readOnly = true;
    const runner = recordingRunner();
    const executor = createExecutor({ runner, log: silentLogger, writeSysctl: () => (readOnly ? EROFS() : Promise.resolve()) });
    const failed: string[] = [];
    let recovered = 0;
    const keeper = new NodeSetupKeeper({ executor: () => executor, readSysctl: () => Promise.resolve('unknown'), failed: (m) => failed.push(m), recovered: () => { recovered++; }, retryMs: 20 });
    try {
      const first = await keeper.run(() => Promise.resolve(vethPlan()));
      expect(first.failures).toHaveLength(3);
      expect(keeper.notReadyReason()).toMatch(/^node setup failed \(retrying\): sysctl net\.ipv4\.ip_forward=1: EROFS/u);
      await new Promise((r) => setTimeout(r, 100)); // a few retries, failing the same way
      expect(failed).toHaveLength(1);
      const routesBefore = runner.batches.length;
      expect(routesBefore).toBeGreaterThan(1); // retried (the route each time)
      readOnly = false;
      await eventually(() => { expect(keeper.notReadyReason()).toBeUndefined(); }, 2000, 10);
      expect(recovered).toBe(1);
      const settled = runner.batches.length;
      await new Promise((r) => setTimeout(r, 80));
      expect(runner.batches.length).toBe(settled); // no more retries once it succeeded
    } finally {
      keeper.stop();
      await keeper.idle();
    }
  });
});

function get(address: string, path: string): Promise<{ status: number; body: string }> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    request({ host: address.slice(0, i), port: Number(address.slice(i + 1)), path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }); });
    })
      .on('error', reject)
      .end();
  });
}

const running: Daemon[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
});

describe('daemon node setup', () => {
  it('a failing sysctl: the ENI route still runs; Warning NodeSetupFailed naming the op, /readyz 503 and status name it; cleared by a retry', async () => {
    const dir = tempDir('hub-nd-');
    const cfg = parseDaemonConfig({
      mode: 'veth-policy-routing',
      socket: join(dir, 'run', 'daemon.sock'),
      stateDir: join(dir, 'state'),
      cniConfDir: join(dir, 'net.d'),
      cniLogFile: join(dir, 'log', 'cni.log'),
      httpListen: '127.0.0.1:0',
      local: { eni: { link: 'eth1', gateway: '192.168.0.1', ips: '192.168.0.10-192.168.0.11', subnet: '192.168.0.0/24' } },
    });
    const kube = new FakeKube();
    const runner = recordingRunner();
    let readOnly = true;
    const d = new Daemon(cfg, {
      kube,
      nodeName: kube.nodeName,
      ...nodeAdapters({ runner, sysctl: () => (readOnly ? EROFS() : Promise.resolve()), readSysctl: () => Promise.resolve('unknown'), sysfs: () => Promise.resolve('7') }),
      nodeSetupRetryMs: 50,
      kubeRetry: { attempts: 3, baseDelayMs: 1 },
    });
    running.push(d);
    await d.start();
    await d.agent?.reporter.idle();
    expect(runner.batches.some((b) => /route replace default via 192\.168\.0\.1 dev eth1 onlink table 1007/u.test(b))).toBe(true);
    const events = kube.events.filter((e) => e.reason === 'NodeSetupFailed');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'Warning', message: expect.stringMatching(/veth-policy-routing incomplete \(retrying\): sysctl net\.ipv4\.ip_forward=1: EROFS/u) });
    const addr = d.httpAddress ?? '';
    const red = await get(addr, '/readyz');
    expect(red.status).toBe(503);
    expect(red.body).toMatch(/^node setup failed \(retrying\): sysctl net\.ipv4\.ip_forward=1: EROFS/u);
    expect((await get(addr, '/healthz')).status).toBe(200); // alive: no liveness restart for it
    const client = createNodeRpcClient(cfg.socket);
    const st = await client.status({});
    expect(st.ready).toBe(true); // ADDs still work (they ensure what their pods need)
    expect(st.nodeSetup).toMatch(/sysctl net\.ipv4\.ip_forward=1: EROFS/u);
    const cli = await runCli(['status', '--socket', cfg.socket]); // `terway-hub status` as an operator runs it
    expect(cli.stdout).toMatch(/^ {2}node-setup: node setup failed \(retrying\): sysctl net\.ipv4\.ip_forward=1: EROFS/mu);

    readOnly = false; // e.g. the privileged init step ran, or the admin fixed it
    await eventually(async () => { expect(await get(addr, '/readyz')).toEqual({ status: 200, body: 'ready\n' }); }, 5000, 20);
    expect((await client.status({})).nodeSetup).toBeUndefined();
    await d.agent?.reporter.idle();
    expect(kube.events.filter((e) => e.reason === 'NodeSetupFailed')).toHaveLength(1);
    expect(kube.events.some((e) => e.reason === 'NodeSetupSucceeded' && e.type === 'Normal')).toBe(true);
  });
});
