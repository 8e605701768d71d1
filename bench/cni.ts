/**
 * bench:cni: ADD and DEL latency of the hub (standalone plugin binary + daemon, VPC dataplane) against the
 * reference Go chain from Debian's containernetworking-plugins (ptp + host-local + bandwidth), measured in the
 * same run, interleaved pod by pod so both see the same machine load.
 *
 * Usage: bun bench/cni.ts [--pods N] [--mode vpc|veth-policy-routing]   (root; run `npm run build` first).
 * veth-policy-routing runs over an ENI stand-in (test/helpers/eni.ts). `--compare-netlink` adds, interleaved pod
 * by pod (alternating which goes first), a second hub pod whose plugin runs with `TERWAY_HUB_NETLINK=iproute2`
 * (`ip -batch` processes instead of rtnetlink, src/netlink/rtnl): one more row pair and a `RESULT bench:cni-netlink`
 * line with both p50s.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEniStandIn } from '../test/helpers/eni.js';
import { callPlugin, PLUGIN, pluginStdin, startDaemon } from '../test/helpers/hub.js';
import { pct } from './stats.js';

const REF = '/usr/lib/cni';
const pods = Number(process.argv[process.argv.indexOf('--pods') + 1] ?? '') || 60;
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

function refExec(plugin: string, command: string, env: Record<string, string>, conf: unknown): Record<string, unknown> | undefined {
  const r = spawnSync(join(REF, plugin), [], {
    input: JSON.stringify(conf),
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', CNI_COMMAND: command, CNI_PATH: REF, ...env },
  });
  if (r.status !== 0) throw new Error(`${plugin} ${command} failed: ${r.stdout} ${r.stderr}`);
  return r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:cni needs root (network namespaces)');
  if (!existsSync(PLUGIN)) throw new Error(`missing ${PLUGIN}: run npm run build`);
  if (!existsSync(join(REF, 'ptp'))) throw new Error('missing /usr/lib/cni/ptp: apt-get install containernetworking-plugins');

  const tag = Math.random().toString(36).slice(2, 7);
  const eni = mode === 'veth-policy-routing' ? createEniStandIn(`hbe${tag}`, `hbv${tag}`, '10.222.0') : undefined;
  const daemon = await startDaemon(eni === undefined ? { mode, podCIDR: '10.220.0.0/24' } : { mode, eni: eni.eniConfig(250) });
  const hubConf = pluginStdin(daemon.conflist());
  const ipamDir = mkdtempSync(join(tmpdir(), 'refipam-'));
  const refConf = { cniVersion: '1.0.0', name: `refnet${tag}`, type: 'ptp', ipMasq: false, mtu: 1500, ipam: { type: 'host-local', subnet: '10.221.0.0/24', dataDir: ipamDir } };
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
  } finally {
    for (const n of names) spawnSync('ip', ['netns', 'del', n]);
    await daemon.stop();
    daemon.cleanup();
    eni?.remove();
    rmSync(ipamDir, { recursive: true, force: true });
  }
  const f = (x: number): string => x.toFixed(2);
  const row = (what: string, xs: number[]): void => { console.log(`${what.padEnd(24)} p50 ${f(pct(xs, 50)).padStart(7)} ms   p99 ${f(pct(xs, 99)).padStart(7)} ms   (n=${xs.length})`); };
  row('hub ADD', hubAdd);
  row('reference ADD (ptp+bw)', refAdd);
  row('hub DEL', hubDel);
  row('reference DEL (bw+ptp)', refDel);
  if (compareNetlink) {
    row('hub ADD (iproute2)', ipAdd);
    row('hub DEL (iproute2)', ipDel);
    // min beside p50: on a loaded machine the fastest run is the least disturbed one
    const min = (xs: number[]): string => f(Math.min(...xs));
    console.log(
      `RESULT bench:cni-netlink mode=${mode} pods=${String(ipAdd.length)} rtnl_add_p50_ms=${f(pct(hubAdd, 50))} iproute2_add_p50_ms=${f(pct(ipAdd, 50))} rtnl_del_p50_ms=${f(pct(hubDel, 50))} iproute2_del_p50_ms=${f(pct(ipDel, 50))} rtnl_add_min_ms=${min(hubAdd)} iproute2_add_min_ms=${min(ipAdd)} rtnl_del_min_ms=${min(hubDel)} iproute2_del_min_ms=${min(ipDel)}`,
    );
  }
  const r = (a: number[], b: number[], p: number): string => (pct(a, p) / pct(b, p)).toFixed(2);
  console.log(
    `RESULT bench:cni mode=${mode} pods=${hubAdd.length} add_p50_ratio=${r(hubAdd, refAdd, 50)} add_p99_ratio=${r(hubAdd, refAdd, 99)} del_p50_ratio=${r(hubDel, refDel, 50)} del_p99_ratio=${r(hubDel, refDel, 99)} hub_add_p50_ms=${f(pct(hubAdd, 50))} ref_add_p50_ms=${f(pct(refAdd, 50))} hub_del_p50_ms=${f(pct(hubDel, 50))} ref_del_p50_ms=${f(pct(refDel, 50))}`,
  );
}

await main();
