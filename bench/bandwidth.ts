/**
 * Requested vs measured throughput (iperf3, ingress into the shaped pod) at 10, 100 and 1000 Mbit/s for the hub's
 * shaping (vpc dataplane through the real executor) and for the reference `/usr/lib/cni/bandwidth` chained after
 * `/usr/lib/cni/ptp`, given the same burst (src/bandwidth/burst.ts) and, as containerd passes it, a MaxUint32 burst.
 * Run as root: `./node_modules/.bin/bun bench/bandwidth.ts`. Last line: `RESULT bench:bandwidth ...` (ratios).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { defaultBurstBits } from '../src/bandwidth/burst.js';
import { parseIp, parseNetnsPath, type IfName } from '../src/lib/brand.js';
import { createProcessRunner } from '../src/lib/exec.js';
import { silentLogger } from '../src/lib/log.js';
import { dataplaneFor } from '../src/modes/registry.js';
import type { Allocation, NodeFacts, PodNetworkSpec } from '../src/modes/types.js';
import { createExecutor } from '../src/netlink/executor.js';
import { iperf } from '../test/privileged/bandwidth/iperf.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? '3');
const RATES_MBIT = [10, 100, 1000];
const MAX_U32 = 4294967295;
const tag = randomBytes(3).toString('hex');
const executor = createExecutor({ runner: createProcessRunner(), log: silentLogger, writeSysctl: (p, v) => writeFile(p, v) });
const node: NodeFacts = { vethPrefix: 'hbb' };
const cleanups: (() => unknown)[] = [];

function run(file: string, args: readonly string[], input?: string, env?: NodeJS.ProcessEnv): string {
  const r = spawnSync(file, args, { input, env: env ?? process.env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')}: ${r.stdout} ${r.stderr}`);
  return r.stdout;
}
function netns(name: string): string {
  run('ip', ['netns', 'add', name]);
  cleanups.push(() => spawnSync('ip', ['netns', 'del', name]));
  return name;
}

async function hubPod(name: string, last: number, rateBps?: number): Promise<{ ns: string; ip: string }> {
  const ns = netns(`hbb-${tag}-${name}`);
  const spec: PodNetworkSpec = { pod: { namespace: `hbb-${tag}`, name }, containerId: `hbb-${tag}-${name}`, netns: parseNetnsPath(`/var/run/netns/${ns}`), ifName: 'eth0' as IfName };
  const alloc: Allocation = {
    mode: 'vpc',
    ip: parseIp(`10.202.9.${String(last)}`),
    subnet: '10.202.9.0/24' as never,
    mtu: 1500,
    ...(rateBps !== undefined ? { bandwidth: { ingress: { rateBps, burstBits: defaultBurstBits(rateBps) } } } : {}),
  };
  const dp = dataplaneFor('vpc');
  await executor.apply(dp.planSetup(spec, alloc, node).plan);
  cleanups.push(() => executor.teardown(dp.planTeardown(spec, alloc, node)));
  return { ns, ip: alloc.ip };
}

const cniEnv = (cmd: string, id: string, ns: string): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
  CNI_PATH: '/usr/lib/cni', CNI_COMMAND: cmd, CNI_CONTAINERID: id, CNI_NETNS: `/var/run/netns/${ns}`, CNI_IFNAME: 'eth0',
});

function refPod(name: string, bw?: { rate: number; burst: number }): { ns: string; ip: string } {
  const ns = netns(`hbr-${tag}-${name}`);
  const id = `hbr-${tag}-${name}`;
  const ptpConf = { cniVersion: '1.0.0', name: 'hubbench', type: 'ptp', ipMasq: false, ipam: { type: 'host-local', subnet: '10.203.0.0/16', dataDir: `/tmp/hub-bench-ipam-${tag}` } };
  const result = JSON.parse(run('/usr/lib/cni/ptp', [], JSON.stringify(ptpConf), cniEnv('ADD', id, ns))) as { ips: { address: string }[] };
  const bwConf = bw && { cniVersion: '1.0.0', name: 'hubbench', type: 'bandwidth', ingressRate: bw.rate, ingressBurst: bw.burst, prevResult: result };
  if (bwConf) run('/usr/lib/cni/bandwidth', [], JSON.stringify(bwConf), cniEnv('ADD', id, ns));
  cleanups.push(() => {
    if (bwConf) spawnSync('/usr/lib/cni/bandwidth', [], { input: JSON.stringify(bwConf), env: cniEnv('DEL', id, ns) });
    spawnSync('/usr/lib/cni/ptp', [], { input: JSON.stringify({ ...ptpConf, prevResult: result }), env: cniEnv('DEL', id, ns) });
  });
  return { ns, ip: (result.ips[0]?.address ?? '').split('/')[0] ?? '' };
}

async function main(): Promise<void> {
  await executor.apply(dataplaneFor('vpc').planNode({ vethPrefix: 'cali' }, {}));
  const results: Record<string, number> = {};
  try {
    const hubClient = await hubPod('cli', 2);
    const refClient = refPod('cli');
    for (const mbit of RATES_MBIT) {
      const rate = mbit * 1_000_000;
      const hub = await hubPod(`s${String(mbit)}`, 10 + mbit / 10, rate);
      const ref = refPod(`s${String(mbit)}`, { rate, burst: defaultBurstBits(rate) });
      const refMax = refPod(`m${String(mbit)}`, { rate, burst: MAX_U32 });
      for (const [key, server, client] of [['hub', hub, hubClient], ['ref', ref, refClient], ['refmaxburst', refMax, refClient]] as const) {
        const bps = await iperf(server.ns, client.ns, server.ip, SECONDS);
        results[`${key}_${String(mbit)}m_ratio`] = bps / rate;
        console.log(`${key.padEnd(12)} requested ${String(mbit).padStart(5)} Mbit/s  measured ${(bps / 1e6).toFixed(2).padStart(8)} Mbit/s  ratio ${(bps / rate).toFixed(3)}`);
      }
    }
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
  const fields = Object.entries(results).map(([k, v]) => `${k}=${v.toFixed(3)}`);
  console.log(`RESULT bench:bandwidth ${fields.join(' ')}`);
}

await main();
