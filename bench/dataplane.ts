/**
 * bench:dataplane: what each of the hub's dataplanes costs a pod's traffic, against the reference chain (Debian's
 * containernetworking-plugins `ptp` + `host-local`), same run, interleaved round by round: pod↔pod TCP throughput
 * (iperf3) and request/response latency (bench/rr.ts ping-pong, p50/p99). The ratios are paired: this mode over the
 * reference within each round, then the median over the rounds (bench/dataplane/measure.ts pairedRatios).
 *
 * Host part (this kernel): reference, vpc, veth-policy-routing, exclusive ENI — every hub pod ADDed through the real
 * plugin and daemon (bench/dataplane/pods.ts). VM part: this kernel has no ipvlan, so ipvlan, veth-policy-routing and
 * the reference are measured again in ONE boot of the test VM (test/helpers/vm.ts; qemu TCG: absolute numbers are
 * meaningless there, the ratio between modes is what counts), by this same program run with `--in-vm`.
 *
 * Usage: bun bench/dataplane.ts [--rounds 5] [--seconds 2] [--rr 2000] [--size 64] [--no-vm]   (root; npm run build
 * first). Last line: `RESULT bench:dataplane …` (ratios hub/reference: above 1 is better for tput, worse for RR; ipvlan_vs_vpr_* are ipvlan/veth-policy-routing).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLUGIN } from '../test/helpers/hub.js';
import { hasCommand } from '../test/helpers/exec.js';
import { rand } from '../test/helpers/names.js';
import { ipvlanKernel } from '../test/helpers/vm.js';
import { measure, pairedRatios, summarize, table, type MeasureOptions, type Summary } from './dataplane/measure.js';
import { Cleanups, eniPair, ipvlanPair, refPair, vpcPair, vprPair, type PodPair } from './dataplane/pods.js';

const argOf = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : Number(process.argv[i + 1] ?? '') || dflt;
};
const inVm = process.argv.includes('--in-vm');
const opts: MeasureOptions = {
  rounds: argOf('--rounds', 5),
  seconds: argOf('--seconds', 2),
  rrCount: argOf('--rr', inVm ? 300 : 2000),
  rrSize: argOf('--size', 64),
  log: (line) => { console.log(`  ${line}`); },
};
const VM_TIMEOUT_MS = 15 * 60_000;

/** Sets up the pairs (cleaning up whatever was made, even on failure), measures them, summarizes. */
async function run(setup: (c: Cleanups) => Promise<PodPair[]>): Promise<Summary[]> {
  const c = new Cleanups();
  const stop = (): void => void c.run().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const t0 = performance.now();
    const pairs = await setup(c);
    opts.log(`${String(pairs.length)} pod pairs ADDed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return (await measure(c, pairs, opts)).map(summarize);
  } finally {
    await c.run();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** Host modes: the pairs set up one after the other (daemon start-ups would otherwise compete for the CPU). */
async function hostPairs(c: Cleanups): Promise<PodPair[]> {
  const tag = rand(4);
  const third = 1 + Math.floor(Math.random() * 250);
  return [
    refPair(c, tag, `10.234.${String(third)}.0/24`),
    await vpcPair(c, tag, `10.231.${String(third)}.0/24`),
    await vprPair(c, tag, `10.232.${String(third)}`),
    await eniPair(c, tag, `10.233.${String(third)}`, `10.235.${String(third)}`),
  ];
}

async function vmPairs(c: Cleanups): Promise<PodPair[]> {
  const tag = rand(4);
  return [refPair(c, tag, '10.234.1.0/24'), await ipvlanPair(c, tag, '10.236.1', '10.237.1'), await vprPair(c, tag, '10.232.1')];
}

/** The VM part: this program with --in-vm in one boot; its summaries come back as $VM_IO/out/dataplane.json. */
async function vmPart(): Promise<{ rows?: Summary[]; why?: string }> {
  const kernel = ipvlanKernel();
  if (!kernel.ok) return { why: kernel.reason };
  const args = ['--in-vm', '--rounds', String(opts.rounds), '--seconds', String(opts.seconds), '--size', String(opts.rrSize)];
  console.log(`\nipvlan vs veth-policy-routing on ${kernel.detail} (one boot) ...`);
  const r = await kernel.run(`exec "$BUN" bench/dataplane.ts ${args.join(' ')}\n`, { timeoutMs: VM_TIMEOUT_MS, memoryMiB: 2048, env: { BUN: process.execPath } });
  console.log(r.output.trimEnd().split('\n').map((l) => `  [${r.where}] ${l}`).join('\n'));
  const json = r.files['dataplane.json'];
  if (r.code !== 0 || json === undefined) return { why: `the ${r.where} run failed (exit ${String(r.code)}, ${r.verdict})` };
  return { rows: JSON.parse(json.toString()) as Summary[] };
}

const fmt = (x: number): string => x.toFixed(2);
function ratios(rows: readonly Summary[], key: string, ref: string, prefix: string): string[] {
  const a = rows.find((r) => r.key === key);
  const b = rows.find((r) => r.key === ref);
  if (a === undefined || b === undefined) return [];
  const q = pairedRatios(a, b);
  return [`${prefix}_tput_ratio=${fmt(q.tput)}`, `${prefix}_rr_p50_ratio=${fmt(q.p50)}`, `${prefix}_rr_p99_ratio=${fmt(q.p99)}`];
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:dataplane needs root (network namespaces)');
  if (!existsSync(PLUGIN)) throw new Error(`missing ${PLUGIN}: run npm run build`);
  if (!existsSync('/usr/lib/cni/ptp')) throw new Error('missing /usr/lib/cni/ptp: apt-get install containernetworking-plugins');
  if (!hasCommand('iperf3')) throw new Error('missing iperf3: apt-get install iperf3');

  if (inVm) {
    const rows = await run(vmPairs);
    console.log(table(`\nin the VM (TCG: compare ratios only), ${String(opts.rounds)} rounds`, rows, 'ref'));
    writeFileSync(join(process.env.VM_IO ?? '.', 'out', 'dataplane.json'), JSON.stringify(rows));
    return;
  }
  console.log(`host: ${String(opts.rounds)} rounds × (iperf3 -t ${String(opts.seconds)}, ${String(opts.rrCount)} round trips of ${String(opts.rrSize)} B) per dataplane, interleaved`);
  const host = await run(hostPairs);
  console.log(table('\nthis kernel', host, 'ref'));
  const vm = process.argv.includes('--no-vm') ? { why: '--no-vm' } : await vmPart();
  if (vm.rows) {
    console.log(table('\nin the VM (TCG: compare ratios only)', vm.rows, 'ref'));
    const [ipv, vpr] = [vm.rows.find((r) => r.key === 'ipvlan'), vm.rows.find((r) => r.key === 'vpr')];
    const q = ipv && vpr ? pairedRatios(ipv, vpr) : undefined;
    if (q) console.log(`ipvlan / veth-policy-routing, paired: tput ${fmt(q.tput)}, RR p50 ${fmt(q.p50)}, RR p99 ${fmt(q.p99)}`);
  }
  else console.log(`\nVM part not measured: ${vm.why ?? ''}`);

  const keys = [
    ...ratios(host, 'vpc', 'ref', 'vpc'),
    ...ratios(host, 'vpr', 'ref', 'vpr'),
    ...ratios(host, 'eni', 'ref', 'eni'),
    ...(vm.rows ? ratios(vm.rows, 'ipvlan', 'vpr', 'ipvlan_vs_vpr') : ['ipvlan_vs_vpr=unmeasured']),
    ...(vm.rows ? [...ratios(vm.rows, 'ipvlan', 'ref', 'vm_ipvlan'), ...ratios(vm.rows, 'vpr', 'ref', 'vm_vpr')] : []),
    ...host.map((r) => `${r.key}_gbps=${fmt(r.gbps)} ${r.key}_rr_p50_us=${r.p50.toFixed(0)}`),
  ];
  console.log(`RESULT bench:dataplane ${keys.join(' ')}`);
}

await main();
