/**
 * The main job on the embedded default (local provider, no cloud): starts the daemon, creates three
 * network-namespace "pods" through the standalone plugin binary, shows their addresses and connectivity,
 * runs CHECK, then deletes them and verifies the host is exactly as before.
 *
 * Usage (root): bun scripts/demo.ts [--mode veth-policy-routing|vpc]
 * In veth-policy-routing mode the "ENI" is a veth whose far end sits in a namespace that plays the vSwitch.
 */
import { spawnSync } from 'node:child_process';
import { callPlugin, PLUGIN, pluginStdin, startDaemon } from '../test/helpers/hub.js';
import { diffHost, snapshotHost } from '../test/helpers/host-state.js';
import { DEMO_PREREQS, ensurePrereqs } from './prereqs.js';

const modeArg = process.argv[process.argv.indexOf('--mode') + 1];
const mode = modeArg === 'vpc' ? 'vpc' : 'veth-policy-routing';
const ENI = 'hubdemo-eni';
const VSW = 'hubdemo-vswitch';
const PODS = ['hubdemo-pod1', 'hubdemo-pod2', 'hubdemo-pod3'];

function sh(args: string[], allowFail = false): string {
  const r = spawnSync(args[0] ?? '', args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0 && !allowFail) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** One of this machine's own global IPv4 addresses (traffic to it stays on the machine). */
function hostAddress(): string | undefined {
  const links = JSON.parse(sh(['ip', '-j', '-4', 'addr', 'show', 'scope', 'global'])) as { addr_info: { local: string }[] }[];
  return links.flatMap((l) => l.addr_info.map((a) => a.local)).find((a) => !a.startsWith('10.19'));
}

function cleanupFixtures(): void {
  for (const p of PODS) sh(['ip', 'netns', 'del', p], true);
  sh(['ip', 'link', 'del', ENI], true);
  sh(['ip', 'netns', 'del', VSW], true);
}

const BUILTIN_TABLE = 'inet terway-hub';

/** The host's nftables tables (`family name`), sorted; empty without `nft`. */
function nftTables(): string[] {
  const r = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  return r.stdout.split('\n').map((l) => l.replace(/^table /u, '').trim()).filter((l) => l !== '').sort();
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the demo needs root (network namespaces): run it as root');
  const missing = ensurePrereqs(DEMO_PREREQS, 'demo');
  if (missing.length > 0) throw new Error(`the demo needs ${missing.map((p) => p.pkg).join(', ')}`);
  cleanupFixtures();
  const before = snapshotHost();
  const tablesBefore = nftTables();
  if (mode === 'veth-policy-routing') {
    sh(['ip', 'netns', 'add', VSW]);
    sh(['ip', 'link', 'add', ENI, 'type', 'veth', 'peer', 'name', 'gw0', 'netns', VSW]);
    sh(['ip', 'link', 'set', ENI, 'up']);
    sh(['sysctl', '-qw', `net.ipv4.conf.${ENI}.proxy_arp=1`, `net.ipv4.conf.${ENI}.rp_filter=0`]);
    sh(['ip', '-n', VSW, 'addr', 'add', '10.199.0.1/24', 'dev', 'gw0']);
    sh(['ip', '-n', VSW, 'link', 'set', 'gw0', 'up']);
  }
  const daemon = await startDaemon(
    mode === 'vpc'
      ? { mode, podCIDR: '10.198.0.0/24', networkName: 'hubdemo' }
      : { mode, networkName: 'hubdemo', eni: { link: ENI, gateway: '10.199.0.1', subnet: '10.199.0.0/24', ips: '10.199.0.10-10.199.0.19' } },
  );
  console.log(`daemon up (${mode}); socket ${daemon.socket}; conflist ${daemon.conflistPath}`);
  const conf = pluginStdin(daemon.conflist());
  const results: { pod: string; ip: string; veth: string; result: unknown }[] = [];
  try {
    for (const [i, pod] of PODS.entries()) {
      sh(['ip', 'netns', 'add', pod]);
      const t0 = performance.now();
      const r = callPlugin({ command: 'ADD', containerId: `demo${i}`, netns: `/var/run/netns/${pod}`, ifName: 'eth0', args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=demo;K8S_POD_NAME=${pod}` }, conf);
      if (r.code !== 0) throw new Error(`ADD ${pod}: ${r.stdout} ${r.stderr}`);
      const res = r.json as { ips: { address: string }[]; interfaces: { name: string }[] };
      results.push({ pod, ip: res.ips[0]?.address ?? '?', veth: res.interfaces[0]?.name ?? '?', result: r.json });
      console.log(`ADD ${pod.padEnd(14)} ${String(res.ips[0]?.address).padEnd(16)} host veth ${res.interfaces[0]?.name}  (${(performance.now() - t0).toFixed(1)} ms)`);
    }
    const targets = [...results.map((r) => ({ name: r.pod, ip: r.ip.split('/')[0] ?? '' }))];
    const host = hostAddress();
    if (host !== undefined) targets.push({ name: 'host', ip: host });
    if (mode === 'veth-policy-routing') targets.push({ name: 'vswitch-gw', ip: '10.199.0.1' });
    console.log('\nping matrix (from row to column):');
    console.log(`${''.padEnd(14)}${targets.map((t) => t.name.padEnd(14)).join('')}`);
    let failures = 0;
    for (const src of results) {
      const cells = targets.map((t) => {
        if (t.name === src.pod) return '-'.padEnd(14);
        const ok = spawnSync('ip', ['netns', 'exec', src.pod, 'ping', '-c', '1', '-W', '2', t.ip]).status === 0;
        if (!ok) failures++;
        return (ok ? 'ok' : 'FAIL').padEnd(14);
      });
      console.log(`${src.pod.padEnd(14)}${cells.join('')}`);
    }
    for (const [i, r] of results.entries()) {
      const c = callPlugin({ command: 'CHECK', containerId: `demo${i}`, netns: `/var/run/netns/${r.pod}`, ifName: 'eth0', args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=demo;K8S_POD_NAME=${r.pod}` }, pluginStdin(daemon.conflist(), { prevResult: r.result }));
      console.log(`CHECK ${r.pod}: ${c.code === 0 ? 'ok' : c.stdout}`);
      if (c.code !== 0) failures++;
    }
    if (mode === 'veth-policy-routing') {
      console.log('\nhost policy routing:');
      console.log(sh(['ip', 'rule', 'show']).split('\n').filter((l) => /^(512|2048):/u.test(l)).join('\n'));
    }
    for (const [i, r] of results.entries()) {
      const d = callPlugin({ command: 'DEL', containerId: `demo${i}`, netns: `/var/run/netns/${r.pod}`, ifName: 'eth0', args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=demo;K8S_POD_NAME=${r.pod}` }, pluginStdin(daemon.conflist(), { prevResult: r.result }));
      if (d.code !== 0) throw new Error(`DEL ${r.pod}: ${d.stdout}`);
    }
    console.log(`\nDEL x${results.length}: ok`);
    if (failures > 0) throw new Error(`${failures} connectivity/CHECK failures`);
  } finally {
    await daemon.stop();
    daemon.cleanup();
    cleanupFixtures();
    // the builtin NetworkPolicy backend's host table outlives a daemon stop on purpose (a restart must not open the
    // pods); the demo is over, so it goes like the rest of the demo's state
    if (!tablesBefore.includes(BUILTIN_TABLE) && nftTables().includes(BUILTIN_TABLE)) spawnSync('nft', ['delete', 'table', ...BUILTIN_TABLE.split(' ')], { stdio: 'ignore' });
  }
  const diff = diffHost(before, snapshotHost());
  if (diff.added.length + diff.removed.length > 0) throw new Error(`host not restored: ${JSON.stringify(diff)}`);
  const tablesAfter = nftTables();
  if (tablesAfter.join('\n') !== tablesBefore.join('\n')) throw new Error(`nftables not restored: before [${tablesBefore.join(', ')}], after [${tablesAfter.join(', ')}]`);
  console.log('host state restored exactly (links, addresses, routes in all tables, rules, neighbours, qdiscs, nftables tables)');
  console.log(`demo OK (${mode}; plugin ${PLUGIN})`);
}

await main();
