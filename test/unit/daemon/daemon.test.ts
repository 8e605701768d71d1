import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { parseDaemonConfig } from '../../../src/config/daemon-config.js';
import { Daemon } from '../../../src/daemon/daemon.js';
import { createNodeRpcClient } from '../../../src/rpc/exchange-node.js';
import { ExhaustedError } from '../../../src/lib/errors.js';
import { recordPendingRelease, pendingDirFor } from '../../../src/lib/pending-release.js';
import { LeaseStore } from '../../../src/store/store.js';
import { lease, req } from './helpers/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';
import { eventually } from '../../helpers/wait.js';
import { nodeAdapters } from '../../../src/main/adapters.js';
import type { PolicyAdapters } from '../../../src/daemon/policy/adapters.js';
import type { BuiltinApplier } from '../../../src/policy/builtin/apply.js';
import type { CommandRunner } from '../../../src/lib/exec.js';

/** ip(8) answering every batch (the node setup's ENI route; eth1 does not exist on the test host). */
const okRunner: CommandRunner = { run: () => Promise.resolve({ stdout: '', stderr: '', exitCode: 0 }) };

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

function config(dir: string, extra: Record<string, unknown> = {}) {
  return parseDaemonConfig({
    mode: 'veth-policy-routing',
    socket: join(dir, 'run', 'daemon.sock'),
    stateDir: join(dir, 'state'),
    cniConfDir: join(dir, 'net.d'),
    httpListen: '127.0.0.1:0',
    cniLogFile: join(dir, 'log', 'terway-hub', 'cni.log'),
    local: { eni: { link: 'eth1', gateway: '192.168.0.1', ips: '192.168.0.10-192.168.0.20', subnet: '192.168.0.0/24' } },
    ...extra,
  });
}

describe('Daemon', () => {
  it('writes sysctls, drains pending releases, serves, then installs the conflist; removes it on stop when keepConflistOnExit is false', async () => {
    const dir = tempDir('hub-daemon-');
    const cfg = config(dir, { keepConflistOnExit: false });
    const conflist = join(dir, 'net.d', '05-terway-hub.conflist');
    // a lease from a previous run, and a release the plugin recorded while the daemon was down
    const pre = LeaseStore.open(cfg.stateDir);
    pre.put(lease('gone', '192.168.0.10'));
    pre.close();
    await recordPendingRelease(pendingDirFor(cfg.socket), { containerId: 'gone', ifName: 'eth0', podNamespace: '', podName: '', ips: [], reason: 'x', at: new Date().toISOString() });

    const sysctls: string[] = [];
    let seenAtServing: { conflist: boolean; socket: boolean; health: number } | undefined;
    const daemon: Daemon = new Daemon(cfg, {
      ...nodeAdapters({
        runner: okRunner,
        sysctl: (p, v) => {
          sysctls.push(`${p}=${v}`);
          return Promise.resolve();
        },
        sysfs: (p) => (p === '/sys/class/net/eth1/ifindex' ? Promise.resolve('7\n') : Promise.reject(new Error('no'))),
      }),
      onServing: async () => {
        const health = await get(daemon.httpAddress ?? '', '/healthz');
        seenAtServing = { conflist: existsSync(conflist), socket: existsSync(cfg.socket), health: health.status };
      },
    });
    expect(existsSync(conflist)).toBe(false);
    const starting = daemon.start();
    expect(existsSync(conflist)).toBe(false);
    await starting;
    expect(seenAtServing).toEqual({ conflist: false, socket: true, health: 200 });
    expect(statSync(join(dir, 'log', 'terway-hub')).mode & 0o777).toBe(0o750); // the plugin's log dir, created at start
    expect(sysctls).toEqual(['/proc/sys/net/ipv4/ip_forward=1', '/proc/sys/net/ipv4/conf/all/rp_filter=0', '/proc/sys/net/ipv4/conf/default/rp_filter=0']);

    expect(JSON.parse(readFileSync(conflist, 'utf8'))).toMatchObject({ name: 'terway-hub', plugins: [{ type: 'terway-hub', socket: cfg.socket }] });
    expect(readdirSync(join(dir, 'net.d'))).toEqual(['05-terway-hub.conflist']); // no temp file left
    expect(statSync(cfg.socket).mode & 0o777).toBe(0o600);

    const client = createNodeRpcClient(cfg.socket);
    // the warm pool's levels: the pending release's IP came back idle
    expect(await client.status({})).toEqual({
      ready: true,
      mode: 'veth-policy-routing',
      reason: '',
      pools: [{ key: 'local:eth1:192.168.0.0/24:192.168.0.10-192.168.0.20', kind: 'ip', enis: 1, ips: 1, idle: 1, leased: 0, waiting: 0, inFlight: 0, releasing: 0, heldForScheduled: 0 }],
    });
    const { allocation } = await client.allocate(req('c1'));
    // the pending release gave 192.168.0.10 back to the warm pool, where it is the only idle IP (min_pool_size 0):
    // handed out again (idle IPs go longest-idle first; a cold pool has no other)
    expect(allocation).toMatchObject({ ip: '192.168.0.10', subnet: '192.168.0.0/24', eni: { link: 'eth1', ifindex: 7, table: 1007, gateway: '192.168.0.1' } });

    const addr = daemon.httpAddress ?? '';
    const metrics = await get(addr, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/terway_hub_leases 1/u);
    // the warm pool: what it holds and what is idle, as the service counts them (once its refill after the
    // allocation has settled: scraped until both agree)
    const service = daemon.service;
    await eventually(async () => {
      const body = (await get(addr, '/metrics')).body;
      expect(body).toMatch(new RegExp(`terway_hub_pool_size ${String(service?.poolSize())}\\n`, 'u'));
      expect(body).toMatch(new RegExp(`terway_hub_pool_free ${String(service?.poolFree())}\\n`, 'u'));
    }, 5000, 50);
    expect(service?.poolSize()).toBeGreaterThanOrEqual(1);
    expect((await get(addr, '/readyz')).status).toBe(200);
    expect((await get(addr, '/nope')).status).toBe(404);

    await daemon.stop();
    expect(existsSync(conflist)).toBe(false);
    expect(existsSync(cfg.socket)).toBe(false);
    const after = LeaseStore.open(cfg.stateDir);
    expect(after.list().map((l) => l.containerId)).toEqual(['c1']);
    after.close();
  });

  it('keeps the conflist on exit by default (a rollout or liveness kill leaves the node its CNI config), and treats sysctl failures as non-fatal (vpc mode end to end)', async () => {
    const dir = tempDir('hub-daemon2-');
    const cfg = config(dir, { httpListen: '' });
    expect(cfg.keepConflistOnExit).toBe(true);
    const d = new Daemon(cfg, nodeAdapters({ sysctl: () => Promise.resolve(), sysfs: () => Promise.resolve('3') }));
    await d.start();
    await d.stop();
    expect(existsSync(join(dir, 'net.d', '05-terway-hub.conflist'))).toBe(true);

    const dir2 = tempDir('hub-daemon3-');
    const cfg2 = parseDaemonConfig({ socket: join(dir2, 'd.sock'), stateDir: join(dir2, 's'), cniConfDir: join(dir2, 'n'), cniLogFile: join(dir2, 'log', 'cni.log'), httpListen: '', mode: 'vpc', vpc: { podCIDR: '10.1.0.0/30' } });
    const d2 = new Daemon(cfg2, nodeAdapters({ sysctl: () => Promise.reject(new Error('read-only /proc')) }));
    await d2.start(); // sysctl failures are logged, not fatal
    const c = createNodeRpcClient(cfg2.socket);
    expect((await c.allocate(req('x'))).allocation).toEqual({ mode: 'vpc', ip: '10.1.0.2', subnet: '10.1.0.0/30', mtu: 1500 });
    await expect(c.allocate(req('y'))).rejects.toBeInstanceOf(ExhaustedError);
    await d2.stop();
  });

  it('/readyz is 503 with the reason while the builtin backend\'s rules are not programmed, 200 once a retry succeeds', async () => {
    const dir = tempDir('hub-daemon-ready-');
    const cfg = config(dir, { policy: { backend: 'auto' } }); // neither Felix nor Cilium: builtin
    let failing: string | undefined;
    const applier: BuiltinApplier = {
      apply: () => (failing === undefined ? Promise.resolve() : Promise.reject(new Error(failing))),
      removePodTable: () => Promise.resolve(),
      removeTable: () => Promise.resolve(),
      readBack: () => Promise.resolve(undefined),
      cutDenied: () => Promise.resolve([]),
    };
    const adapters = nodeAdapters({ runner: okRunner, sysctl: () => Promise.resolve(), sysfs: (p) => (p === '/sys/class/net/eth1/ifindex' ? Promise.resolve('7\n') : Promise.reject(new Error('no'))) });
    // the policy side without the host: no residue cleanup, files or responder of the real node
    const policy: PolicyAdapters = {
      ...adapters.policyFor(cfg, {}),
      cleanResidue: () => Promise.resolve({ removed: [], failures: [] }),
      writeFile: () => Promise.resolve(),
      nodeFacts: () => Promise.resolve({ iptablesBackend: 'nft' }),
      builtinApplier: applier,
    };
    const first = new Daemon(cfg, { ...adapters, policy });
    await first.start();
    const client = createNodeRpcClient(cfg.socket);
    await client.allocate(req('c1')); // a pod whose rules the next daemon must program again
    await first.stop();
    failing = 'nft: Operation not permitted'; // e.g. the daemon restarted where nft is refused
    const daemon = new Daemon(cfg, { ...adapters, policy });
    await daemon.start();
    const addr = daemon.httpAddress ?? '';
    try {
      const red = await get(addr, '/readyz');
      expect(red.status).toBe(503);
      expect(red.body).toMatch(/^builtin NetworkPolicy rules not programmed: host: nft: Operation not permitted\n/u);
      failing = undefined; // the retry (1 s backoff) programs them without another event
      await eventually(async () => {
        expect(await get(addr, '/readyz')).toEqual({ status: 200, body: expect.stringMatching(/^ready\npolicy: builtin enforcing/u) as unknown });
      }, 5000, 100);
    } finally {
      await daemon.stop();
    }
  });
});
