/**
 * The builtin NetworkPolicy backend on ipvlan pods, with real packets, on a kernel with ipvlan (run with bun by
 * test/vm/ipvlan-kernel.test.ts, in the VM booted from Debian's kernel on this machine). ipvlan traffic between pods
 * of one ENI never passes the node's netfilter hooks, so the backend must program a table inside each pod's netns;
 * only a kernel with ipvlan can show that it does and that the rules hold.
 *
 * The REAL daemon (node dist/main/cli.js daemon, `mode: ipvlan`, `policy.backend: auto`, which must pick builtin now
 * that nftables works there) and the REAL plugin binary ADD three pods x/a, x/b, x/c as ipvlan L2 slaves of an ENI
 * stand-in (test/vm/ipvlan-hub.sh's topology); the Kubernetes API emulator (test/k8s-emulator, in this process) holds
 * the Node, Namespace, Pods and NetworkPolicies; each pod runs the probe agent (TCP servers on 80 and 81). Two policy
 * states: a default-deny of ingress alone, then with allow policies. For each state the measured reachability is
 * written to $VM_IO/out/measured-N.json and the objects to objects-N.json; the jest test compares them with
 * `terway-hub policy matrix -f objects-N.json` run on the host. No CLI runs in the VM: loading the daemon (with
 * @kubernetes/client-node) is most of this run's time under emulation, and each CLI start would add seconds more;
 * `policy verify` on pod tables is the eni suite's (test/privileged/policy/builtin-eni-daemon.test.ts).
 *
 * Prints `CHECK ok|FAIL NAME` lines (test/vm/checks.sh's format). Exit: 0 all passed, 1 a check failed, 3 setting
 * up failed, 4 (after a `SKIP REASON` line) nftables cannot work in this kernel or userland, so there is nothing to
 * test (scripts/vm-image.sh puts the modules in when Debian's kernel has them).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PortProto } from '../../src/policy/model/matrix.js';
import { errorMessage } from '../../src/lib/errors.js';
import { shTry } from '../helpers/exec.js';
import { callPluginAsync, pluginStdin, startDaemon, type RunningDaemon } from '../helpers/hub.js';
import { netnsPath } from '../helpers/netns.js';
import { eventually, waitFor } from '../helpers/wait.js';
import { startKubeEmulator } from '../k8s-emulator/emulator.js';
import { expectedMatrix, listOf, measureMatrix, namespaceObject, nodeObject, np, podObject, type Obj } from '../privileged/policy/pod-matrix.js';
import { startAgent, type Agent } from '../privileged/policy/pods.js';

const need = (k: string): string => {
  const v = process.env[k];
  if (v === undefined || v === '') throw new Error(`${k} is not set`);
  return v;
};
const P = need('P');
const OUT = join(need('VM_IO'), 'out');
const GW = '192.168.77.253';
const HOSTIP = '172.31.5.10';
const ENI = `${P}eni`;
const VSW = `${P}vsw`;
const NAMES = ['a', 'b', 'c'] as const;
const PORTS: readonly PortProto[] = [{ port: 80, protocol: 'TCP' }, { port: 81, protocol: 'TCP' }];
const PROBE_TIMEOUT_MS = 500;
const nodeName = `${P}-node`;

const deny = np('x', 'deny-all-in', { podSelector: {}, policyTypes: ['Ingress'] });
/** State 1: the default deny alone. State 2: b admits a on 80; c admits anyone on 81 and may send nothing. */
const STATES: readonly (readonly Obj[])[] = [
  [deny],
  [
    deny,
    np('x', 'b-from-a', { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a' } } }], ports: [{ port: 80 }] }] }),
    np('x', 'c-81', { podSelector: { matchLabels: { app: 'c' } }, ingress: [{ ports: [{ port: 81 }] }] }),
    np('x', 'c-no-egress', { podSelector: { matchLabels: { app: 'c' } }, policyTypes: ['Egress'] }),
  ],
];

const t0 = Date.now() - process.uptime() * 1000;
const since = (): string => ((Date.now() - t0) / 1000).toFixed(1);
let fails = 0;

async function check(name: string, fn: () => unknown): Promise<boolean> {
  try {
    await fn();
    console.log(`CHECK ok ${name}`);
    return true;
  } catch (e) {
    console.log(`CHECK FAIL ${name}\n${errorMessage(e).replace(/^/gmu, '    ')}`);
    fails++;
    return false;
  }
}

function same(actual: unknown, expected: unknown): void {
  const a = JSON.stringify(actual, null, 1);
  const e = JSON.stringify(expected, null, 1);
  if (a !== e) throw new Error(`got ${a}\nexpected ${e}`);
}

/** A command that must succeed; its stdout. */
function run(file: string, args: readonly string[], input?: string): string {
  const r = shTry(file, args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`${[file, ...args].join(' ')}: exit ${String(r.code)}: ${r.stderr.trim()}`);
  return r.stdout;
}

interface Pod {
  readonly name: string;
  readonly netns: string;
  readonly containerId: string;
  ip: string;
  add: unknown;
}

const cniArgs = (p: Pod): string => `IgnoreUnknown=1;K8S_POD_NAMESPACE=x;K8S_POD_NAME=${p.name}`;

const SKIP_STATUS = 4;

async function main(): Promise<void> {
  const nft = shTry('nft', ['list', 'tables']);
  if (nft.code !== 0) {
    console.log(`SKIP nftables is not usable on this kernel: nft list tables: exit ${String(nft.code)}: ${nft.stderr.trim().split('\n')[0] ?? ''}`);
    process.exit(SKIP_STATUS);
  }
  // --- node: the ENI stand-in (a veth whose peer is the vSwitch gateway), the pods' netns, and the node's address
  // HOSTIP (= ipvlan.hostIp, the Node's InternalIP) as a global address, on lo: a real node has it on its primary NIC,
  // and it is the source the node picks towards its pods (the host slave's copy is scope host, never picked): what
  // the pod tables admit as "from the node". Two ip processes.
  console.log(`driver started: ${since()} s`);
  const pods: Pod[] = NAMES.map((name) => ({ name, netns: `${P}${name}`, containerId: `${P}ctr${name}`, ip: '', add: undefined }));
  run('ip', ['-batch', '-'], [...[VSW, ...pods.map((p) => p.netns)].map((ns) => `netns add ${ns}`), `link add ${ENI} type veth peer name ${P}gw netns ${VSW}`, `link set ${ENI} up`, `addr add ${HOSTIP}/32 dev lo`].join('\n'));
  run('ip', ['-n', VSW, '-batch', '-'], [`addr add ${GW}/24 dev ${P}gw`, `link set ${P}gw up`].join('\n'));

  const emu = await startKubeEmulator();
  emu.put('Node', nodeObject(nodeName, HOSTIP));
  emu.put('Namespace', namespaceObject('x'));
  const podOf = (p: Pod): Obj => podObject({ namespace: 'x', name: p.name, nodeName, hostIp: HOSTIP, ...(p.ip !== '' ? { ip: p.ip } : {}) });
  let policies: readonly Obj[] = [];
  const setPolicies = (next: readonly Obj[]): void => {
    for (const o of emu.list('NetworkPolicy')) {
      const md = o['metadata'] as { namespace: string; name: string };
      emu.delete('NetworkPolicy', md.namespace, md.name);
    }
    for (const o of next) emu.put('NetworkPolicy', o);
    policies = next;
  };
  setPolicies(STATES[0] ?? []);

  // --- the daemon ------------------------------------------------------------------------------------------------
  let t = Date.now();
  const daemon: RunningDaemon = await startDaemon({
    mode: 'ipvlan',
    networkName: `${P}net`,
    startTimeoutMs: 200_000, // loading the daemon (client-node) in the VM took 35–120 s on this machine under other load
    eni: { link: ENI, gateway: GW, subnet: '192.168.77.0/24', ips: '192.168.77.11-192.168.77.20' },
    extra: { kubeconfig: emu.kubeconfigFile(), nodeName, ipvlan: { hostIp: HOSTIP, serviceCidr: '10.96.0.0/16' }, policy: { backend: 'auto' } },
  });
  console.log(`daemon ready: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  const started = (): string => daemon.logs().split('\n').find((l) => l.includes('"policy backend started"')) ?? '(no "policy backend started" line yet)';
  await check('policy.backend auto picked the builtin backend (nftables works in this kernel)', () =>
    waitFor(() => started().includes('"backend":"builtin"'), { timeoutMs: 20_000, stepMs: 200, what: started }));

  // --- three pods through the plugin: each isolated (default deny) and with its table when its ADD returns ---------
  t = Date.now();
  for (const p of pods) {
    emu.put('Pod', podOf(p));
    const ok = await check(`plugin ADD x/${p.name}`, async () => {
      const r = await callPluginAsync({ command: 'ADD', containerId: p.containerId, netns: netnsPath(p.netns), ifName: 'eth0', args: cniArgs(p) }, pluginStdin(daemon.conflist()));
      if (r.code !== 0) throw new Error(`exit ${String(r.code)}: ${r.stdout} ${r.stderr}`);
      p.add = r.json;
      p.ip = (r.json as { ips: { address: string }[] }).ips[0]?.address.split('/')[0] ?? '';
    });
    if (!ok) throw new Error(`ADD x/${p.name} failed; daemon log:\n${daemon.logs().slice(-4000)}`);
  }
  console.log(`3 ADDs: ${((Date.now() - t) / 1000).toFixed(1)} s; pods ${pods.map((p) => `x/${p.name} ${p.ip}`).join(', ')}`);
  await check('pods are ipvlan L2 slaves of the ENI in their netns', () => {
    for (const p of pods) if (!/ipvlan {2}mode l2/u.test(run('ip', ['-n', p.netns, '-d', 'link', 'show', 'eth0']))) throw new Error(`x/${p.name} eth0 is not an ipvlan L2 slave`);
  });
  await check('`nft list tables` in each pod netns shows inet terway-hub-pod once the ADDs returned (no wait)', () => {
    for (const p of pods) {
      const tables = run('ip', ['netns', 'exec', p.netns, 'nft', 'list', 'tables']);
      if (!tables.split('\n').includes('table inet terway-hub-pod')) throw new Error(`x/${p.name}: ${JSON.stringify(tables)}`);
    }
  });
  await check('the pod table hooks eth0 (ingress isolated by the default deny)', () => {
    for (const p of pods) {
      const table = run('ip', ['netns', 'exec', p.netns, 'nft', 'list', 'table', 'inet', 'terway-hub-pod']);
      if (!/"eth0" : jump pod0_in/u.test(table)) throw new Error(`x/${p.name}:\n${table}`);
    }
  });
  for (const p of pods) emu.put('Pod', podOf(p));

  // --- probe agents: one per pod (TCP servers on 80 and 81) and one in the node's netns ---------------------------
  t = Date.now();
  const agents = new Map<string, Agent>(pods.map((p) => [p.name, startAgent(p.netns, PORTS.map((x) => x.port))]));
  const nodeAgent = startAgent(undefined, []);
  await Promise.all([...agents.values(), nodeAgent].map((a) => a.ready));
  console.log(`probe agents ready: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  const probed = pods.map((p) => ({ key: `x/${p.name}`, ip: p.ip, agent: agents.get(p.name) as Agent }));
  const nodeReaches = async (): Promise<void> => {
    same(await nodeAgent.probe(pods.map((p) => ({ ip: p.ip, port: 80, proto: 'TCP' })), 2000), pods.map(() => true));
  };

  for (const [i, state] of STATES.entries()) {
    const n = i + 1;
    setPolicies(state);
    const items = [...pods.map(podOf), nodeObject(nodeName, HOSTIP), namespaceObject('x'), ...policies];
    writeFileSync(join(OUT, `objects-${String(n)}.json`), listOf(items));
    const want = expectedMatrix(items, PORTS);
    let measured: Record<string, boolean> = {};
    t = Date.now();
    await check(`state ${String(n)} (${policies.map((o) => (o['metadata'] as { name: string }).name).join(', ')}): measured TCP reachability = matrix(objects)`, () =>
      eventually(async () => {
        measured = await measureMatrix(probed, PORTS, PROBE_TIMEOUT_MS);
        same(measured, want);
      }, 40_000, 200));
    console.log(`state ${String(n)}: ${String(Object.keys(measured).length)} pairs measured, ${String(Object.values(measured).filter(Boolean).length)} allowed, converged in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    writeFileSync(join(OUT, `measured-${String(n)}.json`), JSON.stringify(measured));
    await check(`state ${String(n)}: the node reaches every pod on 80/TCP (x/a is allowed nothing)`, nodeReaches);
  }

  // --- DEL takes the pod's table away; the daemon stops cleanly ---------------------------------------------------
  for (const a of [...agents.values(), nodeAgent]) a.stop();
  const c = pods[2] as Pod;
  await check('plugin DEL x/c removes the table from its netns', async () => {
    const r = await callPluginAsync({ command: 'DEL', containerId: c.containerId, netns: netnsPath(c.netns), ifName: 'eth0', args: cniArgs(c) }, pluginStdin(daemon.conflist(), { prevResult: c.add }));
    if (r.code !== 0) throw new Error(`exit ${String(r.code)}: ${r.stdout} ${r.stderr}`);
    const tables = run('ip', ['netns', 'exec', c.netns, 'nft', 'list', 'tables']);
    if (tables.trim() !== '') throw new Error(`still: ${tables}`);
  });
  await daemon.stop();
  await check('daemon stopped cleanly and removed its conflist', () => { same(existsSync(daemon.conflistPath), false); });
  await emu.close();
  if (fails > 0) console.log(`--- daemon log (tail) ---\n${daemon.logs().slice(-4000)}`);
}

main().then(
  () => {
    console.log(`checks done in ${since()} s: ${String(fails)} failed`);
    process.exit(fails === 0 ? 0 : 1);
  },
  (e: unknown) => {
    console.log(`SETUP FAIL ${errorMessage(e)}`);
    process.exit(3);
  },
);
