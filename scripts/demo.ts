/**
 * The whole hub on one machine, no cluster (README's first command: `npm run demo`, as root). Sections:
 * prerequisites; the node (a veth "ENI" with a vSwitch namespace behind it); the Kubernetes API emulator standing in
 * for the cluster; the daemon on the embedded local provider with simulated cloud latency; three netns pods ADDed
 * through the plugin binary (one with bandwidth annotations); live `status`/`why`; connectivity measured by bun
 * probe agents (no ping); a NetworkPolicy enforced by the builtin nftables backend, with the matrix before and
 * after; shaping measured (no iperf3); CHECK, DEL, and the host compared with its state before the run.
 * Everything is undone on success, failure and Ctrl-C; any failure exits 1 with its reason.
 *
 * Usage (root): bun scripts/demo.ts [--mode veth-policy-routing|vpc]   (default veth-policy-routing: the "ENI" is a
 * veth whose far end sits in a namespace that plays the vSwitch; vpc: pod addresses from the Node's podCIDR)
 * TERWAY_HUB_NO_INSTALL=1: install nothing (what is missing is named)
 */
import { existsSync } from 'node:fs';
import { CLI, PLUGIN } from '../test/helpers/hub.js';
import { POD_CIDR, POLICY, PODS, expectedMatrix, key, startCluster, type DemoMode } from './demo/cluster.js';
import { measure, printMatrix, startAgents } from './demo/connectivity.js';
import { ENI, GATEWAY, POD_IPS, cleanupAll, hostDiff, onCleanup, removeStale, setUpNode, snapshot } from './demo/host.js';
import { cli, showStatus, showTable, showWhy, verify } from './demo/observe.js';
import { LATENCY, addPods, checkPods, delPods, startHub } from './demo/pods.js';
import { measureShaping } from './demo/shaping.js';
import { DemoFailure, say, section } from './demo/ui.js';
import { DEMO_PREREQS, ensurePrereqs } from './prereqs.js';

/** Without these nothing runs; conntrack only cuts already-open flows a policy denies (new ones are denied anyway). */
const ESSENTIAL = new Set(['iproute2', 'procps', 'util-linux', 'nftables']);

async function waitFor(what: string, ms: number, ok: () => Promise<boolean> | boolean): Promise<void> {
  const until = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > until) throw new DemoFailure(`timed out after ${String(ms / 1000)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const modeArg = process.argv.includes('--mode') ? process.argv[process.argv.indexOf('--mode') + 1] : undefined;
if (modeArg !== undefined && modeArg !== 'vpc' && modeArg !== 'veth-policy-routing') {
  console.error(`usage: bun scripts/demo.ts [--mode veth-policy-routing|vpc] (got --mode ${modeArg})`);
  process.exit(2);
}
const mode: DemoMode = modeArg === 'vpc' ? 'vpc' : 'veth-policy-routing';

async function main(): Promise<void> {
  const t0 = performance.now();
  section('Prerequisites', 'root, the built binaries, and the Debian packages the demo drives (ping, iperf3 and podman are NOT needed)');
  if (process.getuid?.() !== 0) throw new DemoFailure('the demo needs root (it creates network namespaces): run it as root');
  for (const f of [PLUGIN, CLI]) if (!existsSync(f)) throw new DemoFailure(`${f} is missing: run npm run build (npm run demo does)`);
  const missing = ensurePrereqs(DEMO_PREREQS, 'demo');
  const fatal = missing.filter((p) => ESSENTIAL.has(p.pkg));
  if (fatal.length > 0) throw new DemoFailure(`missing ${fatal.map((p) => `${p.pkg} (${p.why})`).join(', ')}: apt-get install -y ${fatal.map((p) => p.pkg).join(' ')}`);
  for (const p of missing) say(`without ${p.pkg}: ${p.why} is off (new connections are still checked)`);
  say(`ok: ${DEMO_PREREQS.filter((p) => !missing.includes(p)).map((p) => p.pkg).join(', ')}`);

  removeStale(PODS.map((p) => p.netns));
  const before = snapshot();

  section('The node', mode === 'vpc'
    ? `vpc mode: pod addresses from the Node's podCIDR ${POD_CIDR}, routed by the host (no ENI)`
    : `veth-policy-routing: a veth "${ENI}" plays the ENI; namespace dm-vswitch behind it plays the vSwitch (gateway ${GATEWAY}); pod IPs ${POD_IPS}`);
  setUpNode(before, mode === 'veth-policy-routing');
  say('done');

  section('The cluster (emulated)', 'no Kubernetes here: the repo\'s API emulator (test/k8s-emulator) serves the Node, Namespaces, Pods and, later, the NetworkPolicy');
  const emu = await startCluster(mode);
  onCleanup('API emulator', () => emu.close());
  say(`API at ${emu.kubeconfigFile()}; pods: ${PODS.map(key).join(', ')} (shop/web annotated ingress 20M, egress 10M)`);

  section('The daemon', mode === 'vpc'
    ? 'terway-hub daemon in vpc mode (IPAM over the podCIDR: no cloud calls), policy backend auto'
    : `terway-hub daemon, local provider with simulated cloud latency (ENI create ${String(LATENCY.create)} ms, IP assign ${String(LATENCY.assign)} ms, release ${String(LATENCY.unassign)} ms), policy backend auto`);
  const daemon = await startHub(emu, mode);
  say(`socket ${daemon.socket}; conflist ${daemon.conflistPath}`);
  await waitFor('the builtin policy backend to enforce', 20_000, () => {
    const st = cli(daemon, ['status', '--json']);
    return /"backend":"builtin","state":"enforcing"/u.test(st.stdout);
  });

  section('Pods', 'three network namespaces ADDed through the plugin binary exactly as a CNI runtime calls it');
  const pods = await addPods(daemon, emu);
  for (const p of pods) say(`ADD ${key(p).padEnd(18)} ${p.ip.padEnd(14)} host veth ${p.hostVeth.padEnd(16)} ${p.ms.toFixed(0).padStart(5)} ms`);
  if (mode === 'veth-policy-routing') say('(an ADD that waited on the warm pool pays the simulated cloud latency; the pool refills behind it)');
  const badCheck = await checkPods(daemon, pods);
  say(badCheck.length === 0 ? 'CHECK: all three ok (the plugin re-read the kernel state and found what ADD made)' : `CHECK failed: ${badCheck.join('; ')}`);
  if (badCheck.length > 0) throw new DemoFailure(`CNI CHECK failed: ${badCheck.join('; ')}`);

  section('Live status', 'what an operator asks the running daemon');
  showStatus(daemon);
  showWhy(daemon, 'shop/web');

  section('Connectivity (no policy)', 'TCP connections to port 80 made by bun probe agents inside the pods and on the node; row → column');
  const agents = await startAgents(pods);
  const ips = new Map(pods.map((p) => [key(p), p.ip]));
  const open = expectedMatrix(ips, []);
  let m = await measure(pods, agents);
  const badOpen = printMatrix(pods, m, open);
  if (badOpen.length > 0) throw new DemoFailure(`connectivity without policy: ${badOpen.join('; ')}`);

  section('Bandwidth shaping', 'TCP streams of 2 s between the pods\' bun agents (before the policy, which would deny the stream port); the receiver measures (no iperf3)');
  const badShape = await measureShaping(pods, agents);
  if (badShape.length > 0) throw new DemoFailure(`shaping: ${badShape.join('; ')}`);

  section('NetworkPolicy, enforced', 'shop/web-from-client: shop/web accepts TCP 80 only from app=client pods in shop; the builtin nftables backend enforces it');
  emu.put('NetworkPolicy', POLICY);
  const closed = expectedMatrix(ips, [POLICY]);
  await waitFor('the policy to be enforced', 20_000, async () => {
    m = await measure(pods, agents);
    return Object.entries(closed).every(([k, v]) => m.pods[k] === v);
  });
  const badClosed = printMatrix(pods, m, closed);
  if (badClosed.length > 0) throw new DemoFailure(`connectivity with the policy: ${badClosed.join('; ')}`);
  say('(expected cells come from the project\'s policy evaluator over the same objects; the node stays allowed for kubelet probes)');

  section('Policy backend config', 'what the builtin backend rendered into the kernel, and the CLI checking it against the daemon\'s live model');
  showTable();
  const v = verify(daemon);
  say(`$ terway-hub policy verify   → ${v.text.split('\n')[0] ?? ''}`);
  if (!v.ok) throw new DemoFailure(`policy verify: ${v.text}`);

  section('Teardown', 'DEL for every pod through the plugin, then the daemon, the emulator and the node fixtures go');
  const dels = await delPods(daemon, pods);
  say(`DEL x${String(dels.length)}: ok (${dels.map((t) => `${t.toFixed(0)} ms`).join(', ')})`);
  await cleanupAll();
  const diff = hostDiff(before);
  if (diff.length > 0) throw new DemoFailure(`host not restored: ${diff.join('; ')}`);
  say('host state restored exactly (links, addresses, routes in all tables, rules, neighbours, qdiscs, nftables tables, ip_forward)');
  console.log(`\ndemo OK in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

let stopping: Promise<never> | undefined;
/** Cleans up once and exits; a second caller (main failing because the clean-up pulled things away) waits for it. */
function stop(code: number, why: string): Promise<never> {
  stopping ??= (async () => {
    console.error(`\ndemo FAILED: ${why}\ncleaning up…`);
    await cleanupAll();
    process.exit(code);
  })();
  return stopping;
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { void stop(130, `interrupted (${sig})`); });

try {
  await main();
  process.exit(0);
} catch (e) {
  await stop(1, e instanceof DemoFailure ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e));
}
