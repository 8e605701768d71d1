/**
 * /healthz and /readyz reflect the daemon and its NetworkPolicy backend: the REAL daemon (no Kubernetes) supervises
 * a REAL backend process — the stand-in backend (test/fixtures/stand-in-backend.ts, a test fixture, never shipped)
 * playing Felix with real HTTP health endpoints — whose first start crashes and whose second becomes ready late.
 * /readyz is 503 naming the backend's state until it is ready, then 200; /healthz is 200 throughout (the daemon
 * serves) and names the backend's state; /metrics counts the crash restart and shows the state.
 */
import { describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { join, resolve } from 'node:path';
import { parseDaemonConfig } from '../../src/config/daemon-config.js';
import { Daemon } from '../../src/daemon/daemon.js';
import type { PolicyAdapters } from '../../src/daemon/policy/adapters.js';
import { nodeAdapters } from '../../src/main/adapters.js';
import { tempDir } from '../helpers/tmp.js';
import { eventually } from '../helpers/wait.js';

const ROOT = resolve(process.cwd());
const BUN = join(ROOT, 'node_modules', '.bin', 'bun');
const STAND_IN = join(ROOT, 'test', 'fixtures', 'stand-in-backend.ts');

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => { res(port); });
    });
  });
}

function get(address: string, path: string): Promise<{ status: number; body: string }> {
  const i = address.lastIndexOf(':');
  return new Promise((res, rej) => {
    request({ host: address.slice(0, i), port: Number(address.slice(i + 1)), path }, (r) => {
      let body = '';
      r.on('data', (c: Buffer) => (body += c.toString()));
      r.on('end', () => { res({ status: r.statusCode ?? 0, body }); });
    })
      .on('error', rej)
      .end();
  });
}

const d = existsSync(BUN) ? describe : describe.skip;
if (!existsSync(BUN)) console.log(`daemon health: skipped, ${BUN} (bun, runs the stand-in backend) is missing`);

d('/healthz and /readyz with a supervised NetworkPolicy backend', () => {
  it('readyz 503 naming the backend until it is ready (after a crash and a restart), healthz 200 throughout; metrics count the restart', async () => {
    const dir = tempDir('hub-health-');
    const port = await freePort();
    const state = join(dir, 'felix-state');
    mkdirSync(state);
    const felix = join(dir, 'calico-felix');
    const vars = { STANDIN_FLAVOR: 'felix', STANDIN_PORT: String(port), STANDIN_STATE_DIR: state, STANDIN_CRASH_AFTER_MS: '300', STANDIN_FAULTY_STARTS: '1', STANDIN_READY_AFTER_MS: '1500' };
    writeFileSync(felix, `#!/bin/sh\n${Object.entries(vars).map(([k, v]) => `export ${k}='${v}'`).join('\n')}\nexec '${BUN}' '${STAND_IN}' "$@"\n`);
    chmodSync(felix, 0o755);
    const cfg = parseDaemonConfig({
      // vpc: its node setup is sysctls only (faked below), so /readyz has the backend alone to wait for
      mode: 'vpc',
      vpc: { podCIDR: '10.244.7.0/24' },
      socket: join(dir, 'run', 'daemon.sock'),
      stateDir: join(dir, 'state'),
      cniConfDir: join(dir, 'net.d'),
      httpListen: '127.0.0.1:0',
      policy: { backend: 'felix', felix: { binary: felix, version: 'v3.28.2', healthPort: port } },
    });
    const adapters = nodeAdapters({ sysctl: () => Promise.resolve(), sysfs: (p) => (p === '/sys/class/net/eth1/ifindex' ? Promise.resolve('7\n') : Promise.reject(new Error('no'))) });
    // the backend process is real; the node's files, residue and iptables stay untouched
    const policy: PolicyAdapters = { ...adapters.policyFor(cfg, {}), cleanResidue: () => Promise.resolve({ removed: [], failures: [] }), writeFile: () => Promise.resolve(), nodeFacts: () => Promise.resolve({ iptablesBackend: 'nft' }) };
    const daemon = new Daemon(cfg, { ...adapters, policy });
    await daemon.start();
    const addr = daemon.httpAddress ?? '';
    try {
      const early = await get(addr, '/readyz');
      expect(early.status).toBe(503);
      expect(early.body).toMatch(/^policy backend felix is (starting|running|not-ready|restarting|stopped)/mu);
      const health = await get(addr, '/healthz');
      expect(health.status).toBe(200);
      expect(health.body).toMatch(/^ok\npolicy: felix /u);
      await eventually(async () => {
        expect((await get(addr, '/readyz')).status).toBe(200);
      }, 20_000, 100);
      expect((await get(addr, '/healthz')).body).toMatch(/^ok\npolicy: felix ready \(restarts 1\)/u);
      const metrics = (await get(addr, '/metrics')).body;
      expect(metrics).toMatch(/^terway_hub_policy_backend_restarts_total\{backend="felix",reason="crash"\} 1$/mu);
      expect(metrics).toMatch(/^terway_hub_policy_backend_state\{backend="felix",state="ready"\} 1$/mu);
    } finally {
      await daemon.stop();
    }
    expect((await get(addr, '/healthz').catch((e: unknown) => ({ status: -1, body: String(e) }))).status).toBe(-1); // stopped: nothing listens
  }, 40_000);
});
