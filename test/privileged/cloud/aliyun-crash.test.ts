/**
 * Crash safety on the Aliyun provider (issue 9): the real daemon (`cloud.provider: aliyun`) against the ECS emulator
 * with faults on — a share of calls throttled, replies lost after the action took effect (create, assign, unassign),
 * slow attach — serves 100 concurrent ADD/DEL cycles through the real plugin while it is killed with SIGKILL at
 * random points (seeded; CRASH_SEED=… replays a run) and restarted. Pods retry ADD as a kubelet would and always
 * DEL. Then the faults stop, the daemon restarts cleanly (recovery, pending releases drained, GC), the pool settles,
 * and the test counts from the emulator's state, the lease store and the host: leaked IPs, phantom IPs, double
 * assignments, leaked ENIs, ENIs created twice for one ClientToken, pods that never got an IP, leases and journal
 * entries left. All must be zero.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IpAddr } from '../../../src/lib/brand.js';
import { LeaseStore } from '../../../src/store/store.js';
import { PLUGIN, startDaemon, type RunningDaemon } from '../../helpers/hub.js';
import { ipRows } from '../../helpers/ip.js';
import { rand } from '../../helpers/names.js';
import { describePrivileged } from '../../helpers/privilege.js';
import { sleep } from '../../helpers/wait.js';
import { runner } from '../../helpers/exec.js';
import { netnsPath, type TestNetns } from '../../helpers/netns.js';
import { addPod, delPod, startAliyunNode, type AliyunNode, type Pod } from './aliyun-node.js';
import { prng } from '../../helpers/prng.js';

const d = describePrivileged('Aliyun crash test', [existsSync(PLUGIN), `plugin binary missing at ${PLUGIN}: run npm run build`]);

const CYCLES = Number(process.env.CRASH_CYCLES ?? 100);
const CONCURRENCY = 10;
const MAX_IDLE = 6;

d('kill -9 of the Aliyun daemon during concurrent ADD/DEL under cloud faults', () => {
  const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 1e9));
  const random = prng(seed);
  const t = `ad${rand(3)}`;
  let node: AliyunNode;
  let daemon: RunningDaemon;
  const pods: Pod[] = [];

  beforeAll(async () => {
    console.log(`CRASH seed=${String(seed)} (replay: CRASH_SEED=${String(seed)})`);
    node = await startAliyunNode(t);
    daemon = await startDaemon({ mode: 'veth-policy-routing', startTimeoutMs: 60_000, extra: node.daemonExtra('veth-policy-routing', { minIdle: 2, maxIdle: MAX_IDLE, syncIntervalSeconds: 2 }) });
  }, 60_000);

  afterAll(async () => {
    for (const p of pods) p.ns.remove();
    await daemon.stop();
    daemon.cleanup();
    await node.cleanup();
  });

  it('CRASH RESULT: nothing leaked, nothing doubled', async () => {
    const emu = node.emu;
    const started = Date.now();
    // the faults
    emu.api.faults.reseed(seed);
    emu.api.faults.throttle('*', 0.15);
    emu.api.faults.lateReply('CreateNetworkInterface', { mode: 'drop', times: 2 });
    emu.api.faults.lateReply('AssignPrivateIpAddresses', { mode: 'drop', times: 4 });
    emu.api.faults.lateReply('UnassignPrivateIpAddresses', { mode: 'drop', times: 2 });
    emu.state.timing.attachDelayMs = 400;
    let created = 0;
    const newEni = emu.state.newEni.bind(emu.state);
    emu.state.newEni = (p) => {
      if (p.type !== 'Primary') created++;
      return newEni(p);
    };

    const holders = new Map<string, string>();
    /** Pods whose DEL has begun: the daemon may hand their IP on as soon as the release lands, before the DEL returns. */
    const deleting = new Set<string>();
    let doubles = 0;
    let handedOnDuringDel = 0;
    let neverGotIp = 0;
    let delFailures = 0;
    let kills = 0;
    let done = false;

    // one netns per worker, reused by its cycles: creating and deleting a netns per pod blocks `ip netns add` for
    // seconds under churn (the kernel's netns cleanup), which would stall the emulator living in this process
    const netns = await Promise.all(Array.from({ length: CONCURRENCY }, (_, k) => workerNetns(`${t}w${String(k)}`)));
    const backoff = (attempt: number): number => Math.min(3000, 250 * 1.5 ** attempt) * (0.75 + random() / 2);
    const cycle = async (i: number, ns: TestNetns): Promise<void> => {
      const p: Pod = { ns, name: `pod-c${String(i)}-${t}`, containerId: `ctrc${String(i)}${t}`, ip: '', result: {} };
      let got = false;
      for (let attempt = 0; attempt < 25 && !got; attempt++) {
        const r = await addPod(daemon, p);
        if (r.code === 0) got = true;
        else await sleep(backoff(attempt)); // as a kubelet: a growing pause (a retry storm would starve the restart)
      }
      if (!got) neverGotIp++;
      else {
        const other = holders.get(p.ip);
        // another pod's IP while that pod still holds it; not while its DEL runs: the release lands inside the DEL, and a
        // waiting ADD is served within ms of it (a full run counted one such DEL-in-flight as a double; the store's
        // unique index on ip makes a real double impossible, the cloud check below catches one on the ENIs)
        if (other !== undefined && other !== p.containerId) {
          if (deleting.has(other)) handedOnDuringDel++;
          else doubles++;
        }
        holders.set(p.ip, p.containerId);
        await sleep(random() * 400);
      }
      deleting.add(p.containerId);
      for (let attempt = 0; attempt < 40; attempt++) {
        const r = await delPod(daemon, p);
        if (r.code === 0) {
          if (holders.get(p.ip) === p.containerId) holders.delete(p.ip);
          // a DEL while the daemon was down leaves the pod's end: the next sandbox of this netns starts clean
          await runner.run({ file: 'ip', args: ['-n', ns.name, 'link', 'del', 'eth0'] });
          return;
        }
        await sleep(backoff(attempt));
      }
      delFailures++;
    };

    // the kills: at seeded random points of the run (after so many cycles finished), 3 to 5 of them — a restart
    // costs seconds on a loaded host (Node loads the ECS SDK), so the points are counted in cycles, not seconds
    const killAt = Array.from({ length: 3 + Math.floor(random() * 3) }, () => 5 + Math.floor(random() * (CYCLES - 15))).sort((a, b) => a - b);
    let finished = 0;
    const killer = async (): Promise<void> => {
      for (const at of killAt) {
        while (finished < at && !done) await sleep(20 + random() * 80);
        if (done) return;
        await sleep(random() * 300); // somewhere inside the calls under way
        const t0 = Date.now();
        await daemon.kill9();
        kills++;
        const t1 = Date.now();
        await sleep(random() * 500);
        try {
          await daemon.restart(); // a fresh process over the same state dir (and the cloud as the crash left it)
        } catch (e) {
          const ps = await runner.run({ file: 'ps', args: ['-eo', 'pid,ppid,stat,wchan:32,etime,args'] });
          console.log(`CRASH restart failed: ${String(e).slice(-1500)}\n${ps.stdout.split('\n').filter((l) => /cli\.js|terway-hub|PID/u.test(l)).join('\n')}`);
          throw e;
        }
        console.log(`CRASH kill ${String(kills)} after ${String(finished)} cycles: killed in ${String(t1 - t0)} ms, back after ${String(Date.now() - t1)} ms`);
      }
    };

    let next = 0;
    const worker = async (ns: TestNetns): Promise<void> => {
      while (next < CYCLES) {
        await cycle(next++, ns);
        finished++;
      }
    };
    const killing = killer();
    await Promise.all(netns.map(worker));
    pods.push(...netns.map((ns) => ({ ns, name: '', containerId: '', ip: '', result: {} })));
    done = true;
    await killing;
    const cyclesSecs = (Date.now() - started) / 1000;

    // faults off; a clean restart: recovery, the pending releases the plugin recorded while the daemon was down, GC
    emu.api.faults.clear();
    emu.state.timing.attachDelayMs = 50;
    await daemon.restart();
    const restartedAt = Date.now();
    // the pool settles between its watermarks (the excess above max_pool_size is retired and unassigned; idle here is
    // what the cloud still holds unleased, so an IP retired but not yet given back counts)
    const settle = Date.now();
    let s = snapshot(node, daemon);
    while (Date.now() - settle < 45_000 && (s.idle > MAX_IDLE || s.unknownToPool > 0 || s.journal > 0)) {
      await sleep(1000);
      s = snapshot(node, daemon);
    }
    const settleSecs = (Date.now() - restartedAt) / 1000;
    await daemon.stop(); // a consistent store to read: nothing changes it now
    s = snapshot(node, daemon);

    const okCreates = new Set(emu.api.calls.filter((c) => c.action === 'CreateNetworkInterface' && c.outcome === 'ok').map((c) => c.params.ClientToken ?? `none-${String(c.at)}`));
    const createdTwice = Math.max(0, created - okCreates.size);
    const leakedIps = s.unknownToPool + Math.max(0, s.idle - MAX_IDLE);
    const r = {
      seed,
      cycles: CYCLES,
      kills,
      leaked_ips: leakedIps,
      phantom_ips: s.phantom,
      double_assigned: doubles + s.doubleInCloud,
      leaked_enis: s.leakedEnis,
      enis_created_twice: createdTwice,
      no_ip_after_retry: neverGotIp,
      del_failures: delFailures,
      leases_left: s.leases,
      journal_left: s.journal,
      host_links_missing: s.linksMissing,
    };
    const figures = `handed_on_during_del=${String(handedOnDuringDel)} enis=${String(s.enis)} pool_ips=${String(s.poolIps)} idle=${String(s.idle)} creates=${String(created)} api_calls=${String(emu.api.calls.length)} cycles_secs=${cyclesSecs.toFixed(1)} settle_secs=${settleSecs.toFixed(1)} secs=${((Date.now() - started) / 1000).toFixed(1)}`;
    const logPath = join(tmpdir(), `aliyun-crash-${String(seed)}.log`);
    writeFileSync(logPath, daemon.logs());
    console.log(`CRASH daemon logs (every run): ${logPath}`);
    console.log(`CRASH RESULT ${Object.entries(r).map(([k, v]) => `${k}=${String(v)}`).join(' ')} ${figures}`);
    const saved = savedEnis(daemon);
    console.log(`CRASH state: cloud ${JSON.stringify([...emu.state.enis.values()].filter((e) => e.tags.creator === 'terway-hub').map((e) => ({ id: e.id, status: e.status, on: e.instanceId ?? '', ips: e.ips.map((x) => x.ip) })))} pool ${JSON.stringify(saved.map((e) => ({ id: e.id, ips: e.ips })))}`);
    expect(kills).toBeGreaterThan(0);
    expect(r).toEqual({ ...r, leaked_ips: 0, phantom_ips: 0, double_assigned: 0, leaked_enis: 0, enis_created_twice: 0, no_ip_after_retry: 0, del_failures: 0, leases_left: 0, journal_left: 0, host_links_missing: 0 });
  }, 280_000);
});

/** A netns made without blocking the event loop. */
async function workerNetns(name: string): Promise<TestNetns> {
  await runner.run({ file: 'ip', args: ['netns', 'add', name] });
  await runner.run({ file: 'ip', args: ['-n', name, 'link', 'set', 'lo', 'up'] });
  const fail = (): never => { throw new Error('sync netns calls are not used here'); };
  return { name, path: netnsPath(name), exec: fail, tryExec: fail, ipJson: fail, remove: () => { void runner.run({ file: 'ip', args: ['netns', 'del', name] }); } };
}

interface Snapshot {
  readonly enis: number;
  readonly poolIps: number;
  readonly idle: number;
  /** IPs on our ENIs in the cloud the pool does not hold. */
  readonly unknownToPool: number;
  /** IPs the pool or a lease holds that the cloud does not assign. */
  readonly phantom: number;
  readonly doubleInCloud: number;
  /** Our ENIs in the cloud the pool does not hold, or not InUse on this instance. */
  readonly leakedEnis: number;
  readonly leases: number;
  readonly journal: number;
  /** ENIs the pool holds without a host link (by MAC). */
  readonly linksMissing: number;
}

function savedEnis(daemon: RunningDaemon) {
  const store = LeaseStore.open(join(daemon.dir, 'state'));
  try {
    return store.pool.loadEnis();
  } finally {
    store.close();
  }
}

function snapshot(node: AliyunNode, daemon: RunningDaemon): Snapshot {
  const store = LeaseStore.open(join(daemon.dir, 'state'));
  try {
    const saved = store.pool.loadEnis();
    const leases = store.list();
    const journal = store.pool.pending().length;
    const ours = [...node.emu.state.enis.values()].filter((e) => e.tags.creator === 'terway-hub');
    const cloudIps = ours.flatMap((e) => e.ips.map((x) => x.ip));
    const cloudSet = new Set(cloudIps);
    const poolIps = new Set(saved.flatMap((e) => e.ips));
    const leased = new Set<string>(leases.map((l) => l.allocation.ip));
    const savedIds = new Set(saved.map((e) => e.id));
    const macs = new Set((ipRows(['link', 'show']) as { address: string }[]).map((l) => l.address.toLowerCase()));
    return {
      enis: saved.length,
      poolIps: poolIps.size,
      idle: [...poolIps].filter((ip) => !leased.has(ip)).length,
      unknownToPool: cloudIps.filter((ip) => !poolIps.has(ip as IpAddr)).length,
      phantom: [...poolIps, ...leased].filter((ip) => !cloudSet.has(ip)).length,
      doubleInCloud: cloudIps.length - cloudSet.size,
      leakedEnis: ours.filter((e) => !savedIds.has(e.id) || e.status !== 'InUse' || e.instanceId !== node.emu.node.id).length,
      leases: leases.length,
      journal,
      linksMissing: saved.filter((e) => !macs.has(e.mac.toLowerCase())).length,
    };
  } finally {
    store.close();
  }
}
