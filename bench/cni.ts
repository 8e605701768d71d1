/**
 * bench:cni: ADD and DEL latency of the hub (standalone plugin binary + daemon, VPC dataplane) against the
 * reference Go chain from Debian's containernetworking-plugins (ptp + host-local + bandwidth), measured in the
 * same run, interleaved pod by pod so both see the same machine load.
 *
 * Then a burst, what kubelet does after a node restart: N pods ADDed at once (default 110), then DELed at once, for
 * the hub and for the reference, wall time of each; and the daemon's RSS idle and holding N pods.
 *
 * Usage: bun bench/cni.ts [--pods N] [--burst N] [--mode vpc|veth-policy-routing] [--compare-netlink]   (root; run
 * `npm run build` first). veth-policy-routing runs over an ENI stand-in (test/helpers/eni.ts). `--compare-netlink`
 * adds, interleaved pod by pod (alternating which goes first), a second hub pod whose plugin runs with
 * `TERWAY_HUB_NETLINK=iproute2` (`ip -batch` processes instead of rtnetlink, src/netlink/rtnl): one more row pair and
 * a `RESULT bench:cni-netlink` line with both p50s and mins.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEniStandIn } from '../test/helpers/eni.js';
import { formatPhases, phaseMeans, type PhaseMeans } from './phases.js';
import { callPlugin, callPluginAsync, PLUGIN, pluginStdin, startDaemon, type RunningDaemon } from '../test/helpers/hub.js';
import { REF, refExec, refExecAsync } from './ref-cni.js';
import { pct } from './stats.js';

const argOf = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} takes a whole number (0 turns the burst off); got ${String(process.argv[i + 1])}`);
  return v;
};
const pods = argOf('--pods', 60);
const burst = argOf('--burst', 110);
const modeArg = process.argv.includes('--mode') ? process.argv[process.argv.indexOf('--mode') + 1] : 'vpc';
if (modeArg !== 'vpc' && modeArg !== 'veth-policy-routing') throw new Error(`--mode: vpc or veth-policy-routing, not ${String(modeArg)}`);
const mode = modeArg;
const compareNetlink = process.argv.includes('--compare-netlink');

function sh(file: string, args: string[]): void {
  const r = spawnSync(file, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')}: ${r.stderr}`);
}

function timed<T>(fn: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const v = fn();
  return [v, Number(process.hrtime.bigint() - t0) / 1e6];
}

/** Resident set of a process, MiB (/proc/PID/status VmRSS). */
function rssMib(pid: number | undefined): number {
  const m = /^VmRSS:\s+(\d+) kB/mu.exec(pid === undefined ? '' : readFileSync(`/proc/${String(pid)}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for pid ${String(pid)}`);
  return Number(m[1]) / 1024;
}

async function wall(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

interface BurstResult {
  readonly hubAddMs: number;
  readonly hubDelMs: number;
  readonly refAddMs: number;
  readonly refDelMs: number;
  readonly rssIdleMib: number;
  readonly rssPodsMib: number;
}

/** N pods at once through each, ADD then DEL; the hub's daemon RSS before and while holding them. */
async function burstRound(daemon: RunningDaemon, tag: string, n: number, refConf: Record<string, unknown>, bwConf: Record<string, unknown>, names: string[]): Promise<BurstResult> {
  const ids = Array.from({ length: n }, (_, i) => i);
  for (const i of ids) {
    sh('ip', ['netns', 'add', `bbh${tag}${String(i)}`]);
    sh('ip', ['netns', 'add', `bbr${tag}${String(i)}`]);
    names.push(`bbh${tag}${String(i)}`, `bbr${tag}${String(i)}`);
  }
  const hubCall = (i: number) => ({ containerId: `bh${tag}${String(i)}`, netns: `/var/run/netns/bbh${tag}${String(i)}`, ifName: 'eth0', args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=b${tag}${String(i)}` });
  const refEnv = (i: number) => ({ CNI_CONTAINERID: `br${tag}${String(i)}`, CNI_NETNS: `/var/run/netns/bbr${tag}${String(i)}`, CNI_IFNAME: 'eth0' });
  const hubConf = pluginStdin(daemon.conflist());
  const results: unknown[] = [];
  const rssIdleMib = rssMib(daemon.pid());
  const hubAddMs = await wall(() => Promise.all(ids.map(async (i) => {
    const r = await callPluginAsync({ command: 'ADD', ...hubCall(i) }, hubConf);
    if (r.code !== 0) throw new Error(`hub burst ADD ${String(i)} failed: ${r.stdout} ${r.stderr}`);
    results[i] = r.json;
  })));
  const rssPodsMib = rssMib(daemon.pid());
  const refAddMs = await wall(() => Promise.all(ids.map(async (i) => {
    const prev = await refExecAsync('ptp', 'ADD', refEnv(i), refConf);
    await refExecAsync('bandwidth', 'ADD', refEnv(i), { ...bwConf, prevResult: prev });
  })));
  const hubDelMs = await wall(() => Promise.all(ids.map(async (i) => {
    const r = await callPluginAsync({ command: 'DEL', ...hubCall(i) }, pluginStdin(daemon.conflist(), { prevResult: results[i] }));
    if (r.code !== 0) throw new Error(`hub burst DEL ${String(i)} failed: ${r.stdout} ${r.stderr}`);
  })));
  const refDelMs = await wall(() => Promise.all(ids.map(async (i) => {
    await refExecAsync('bandwidth', 'DEL', refEnv(i), bwConf);
    await refExecAsync('ptp', 'DEL', refEnv(i), refConf);
  })));
  return { hubAddMs, hubDelMs, refAddMs, refDelMs, rssIdleMib, rssPodsMib };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:cni needs root (network namespaces)');
  if (!existsSync(PLUGIN)) throw new Error(`missing ${PLUGIN}: run npm run build`);
  if (!existsSync(join(REF, 'ptp'))) throw new Error('missing /usr/lib/cni/ptp: apt-get install containernetworking-plugins');

  const tag = Math.random().toString(36).slice(2, 7);
  const eni = mode === 'veth-policy-routing' ? createEniStandIn(`hbe${tag}`, `hbv${tag}`, '10.224.0') : undefined;
  const metricsDir = mkdtempSync(join(tmpdir(), 'hub-bench-metrics-'));
  const metricsSocket = join(metricsDir, 'metrics.sock');
  // as a node runs it: info logging (the test helper's default is debug), metrics on a unix socket for the phase breakdown
  const extra = { logLevel: 'info', httpListen: metricsSocket };
  const daemon = await startDaemon(eni === undefined ? { mode, podCIDR: '10.220.0.0/23', extra } : { mode, eni: eni.eniConfig(250), extra });
  const hubConf = pluginStdin(daemon.conflist());
  const ipamDir = mkdtempSync(join(tmpdir(), 'refipam-'));
  const refConf = { cniVersion: '1.0.0', name: `refnet${tag}`, type: 'ptp', ipMasq: false, mtu: 1500, ipam: { type: 'host-local', subnet: '10.222.0.0/23', dataDir: ipamDir } };
  const bwConf = { cniVersion: '1.0.0', name: `refnet${tag}`, type: 'bandwidth' };

  const hubAdd: number[] = [];
  const hubDel: number[] = [];
  const refAdd: number[] = [];
  const refDel: number[] = [];
  const ipAdd: number[] = [];
  const ipDel: number[] = [];
  const names: string[] = [];
  /** ADD then DEL of one hub pod; `extraEnv` reaches the plugin. */
  const hubPod = (id: string, extraEnv: Record<string, string> = {}): [number, number] => {
    const ns = `hb${id}`;
    sh('ip', ['netns', 'add', ns]);
    names.push(ns);
    const call = { containerId: id, netns: `/var/run/netns/${ns}`, ifName: 'eth0', args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=p${id}`, extraEnv };
    const [added, tAdd] = timed(() => callPlugin({ command: 'ADD', ...call }, hubConf));
    if (added.code !== 0) throw new Error(`hub ADD failed: ${added.stdout} ${added.stderr}`);
    const [deleted, tDel] = timed(() => callPlugin({ command: 'DEL', ...call }, pluginStdin(daemon.conflist(), { prevResult: added.json })));
    if (deleted.code !== 0) throw new Error(`hub DEL failed: ${deleted.stdout} ${deleted.stderr}`);
    return [tAdd, tDel];
  };
  let b: BurstResult | undefined;
  let phases: PhaseMeans | undefined;
  try {
    // warm-up of both (page cache, daemon JIT), not counted
    for (let i = -3; i < pods; i++) {
      const refNs = `hbr${tag}${i + 3}`;
      sh('ip', ['netns', 'add', refNs]);
      names.push(refNs);
      const refEnv = { CNI_CONTAINERID: `r${tag}${i + 3}`, CNI_NETNS: `/var/run/netns/${refNs}`, CNI_IFNAME: 'eth0' };
      const ipFirst = compareNetlink && i % 2 === 1;
      const ipTimes = ipFirst ? hubPod(`i${tag}${i + 3}`, { TERWAY_HUB_NETLINK: 'iproute2' }) : undefined;
      const [tHubAdd, tHubDel] = hubPod(`h${tag}${i + 3}`);
      const [tIpAdd, tIpDel] = ipTimes ?? (compareNetlink ? hubPod(`i${tag}${i + 3}`, { TERWAY_HUB_NETLINK: 'iproute2' }) : [0, 0]);
      const [, tRefAdd] = timed(() => {
        const prev = refExec('ptp', 'ADD', refEnv, refConf);
        return refExec('bandwidth', 'ADD', refEnv, { ...bwConf, prevResult: prev });
      });
      const [, tRefDel] = timed(() => {
        refExec('bandwidth', 'DEL', refEnv, bwConf);
        refExec('ptp', 'DEL', refEnv, refConf);
      });
      if (i >= 0) {
        hubAdd.push(tHubAdd);
        refAdd.push(tRefAdd);
        hubDel.push(tHubDel);
        refDel.push(tRefDel);
        if (compareNetlink) {
          ipAdd.push(tIpAdd);
          ipDel.push(tIpDel);
        }
      }
    }
    phases = await phaseMeans(metricsSocket); // the sequential pods only (before the burst)
    if (burst > 0) b = await burstRound(daemon, tag, burst, refConf, bwConf, names);
  } finally {
    for (const n of names) spawnSync('ip', ['netns', 'del', n]);
    await daemon.stop();
    daemon.cleanup();
    eni?.remove();
    rmSync(ipamDir, { recursive: true, force: true });
    rmSync(metricsDir, { recursive: true, force: true });
  }
  const f = (x: number): string => x.toFixed(2);
  const row = (what: string, xs: number[]): void => { console.log(`${what.padEnd(24)} p50 ${f(pct(xs, 50)).padStart(7)} ms   p99 ${f(pct(xs, 99)).padStart(7)} ms   (n=${xs.length})`); };
  row('hub ADD', hubAdd);
  row('reference ADD (ptp+bw)', refAdd);
  row('hub DEL', hubDel);
  row('reference DEL (bw+ptp)', refDel);
  console.log(formatPhases(phases));
  if (compareNetlink) {
    row('hub ADD (iproute2)', ipAdd);
    row('hub DEL (iproute2)', ipDel);
    // min beside p50: on a loaded machine the fastest run is the least disturbed one
    const min = (xs: number[]): string => f(Math.min(...xs));
    console.log(
      `RESULT bench:cni-netlink mode=${mode} pods=${String(ipAdd.length)} rtnl_add_p50_ms=${f(pct(hubAdd, 50))} iproute2_add_p50_ms=${f(pct(ipAdd, 50))} rtnl_del_p50_ms=${f(pct(hubDel, 50))} iproute2_del_p50_ms=${f(pct(ipDel, 50))} rtnl_add_min_ms=${min(hubAdd)} iproute2_add_min_ms=${min(ipAdd)} rtnl_del_min_ms=${min(hubDel)} iproute2_del_min_ms=${min(ipDel)}`,
    );
  }
  const r = (x: number[], y: number[], p: number): string => (pct(x, p) / pct(y, p)).toFixed(2);
  let burstKeys = '';
  if (b !== undefined) {
    const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
    console.log(`burst of ${String(burst)}: ADD hub ${s(b.hubAddMs)} vs reference ${s(b.refAddMs)}; DEL hub ${s(b.hubDelMs)} vs reference ${s(b.refDelMs)}`);
    console.log(`daemon RSS: ${b.rssIdleMib.toFixed(1)} MiB idle, ${b.rssPodsMib.toFixed(1)} MiB holding ${String(burst)} pods`);
    burstKeys = ` burst=${String(burst)} burst_add_wall_ratio=${(b.hubAddMs / b.refAddMs).toFixed(2)} burst_del_wall_ratio=${(b.hubDelMs / b.refDelMs).toFixed(2)} hub_burst_add_s=${(b.hubAddMs / 1000).toFixed(2)} ref_burst_add_s=${(b.refAddMs / 1000).toFixed(2)} hub_burst_del_s=${(b.hubDelMs / 1000).toFixed(2)} ref_burst_del_s=${(b.refDelMs / 1000).toFixed(2)} daemon_rss_mib=${b.rssPodsMib.toFixed(1)} daemon_rss_idle_mib=${b.rssIdleMib.toFixed(1)}`;
  }
  console.log(
    `RESULT bench:cni mode=${mode} pods=${String(hubAdd.length)} add_p50_ratio=${r(hubAdd, refAdd, 50)} add_p99_ratio=${r(hubAdd, refAdd, 99)} del_p50_ratio=${r(hubDel, refDel, 50)} del_p99_ratio=${r(hubDel, refDel, 99)}${burstKeys} hub_add_p50_ms=${f(pct(hubAdd, 50))} ref_add_p50_ms=${f(pct(refAdd, 50))} hub_del_p50_ms=${f(pct(hubDel, 50))} ref_del_p50_ms=${f(pct(refDel, 50))}`,
  );
}

await main();
