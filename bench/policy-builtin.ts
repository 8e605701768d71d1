/**
 * The builtin nftables backend at scale: 10,000 cluster pods (100 namespaces × 100 pods, addresses scattered over a
 * /16 so selector peers do not collapse into a few intervals), 110 of them local (host veth scope), and 100, 1,000
 * and 5,000 NetworkPolicies (ingress from a podSelector OR a 10-namespace namespaceSelector, TCP 8080 + an endPort
 * range; every third policy also egress to an ipBlock with except and a named port). Printed per size: compile
 * time, rules (not counting set elements), sets, elements, script size, and — as root — the time of one atomic
 * `nft -f` into a fresh netns (`unshare -n`, process start included). Then, as root, connection-setup latency (TCP
 * connect + first echoed byte) from an allowed pod to an isolated local pod through each ruleset vs no table, in
 * throwaway netns `bq-*` (bench/policy-latency.ts), and a denied pod's connects, which must fail only with the table.
 * Last line: `RESULT bench:policy …` (5,000 policies). Run: `npm run bench:policy` (BENCH_CONNECTS per mode,
 * default 2000; BENCH_ROUNDS, default 10).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { compileRuleset, type LocalPod } from '../src/policy/builtin/compile.js';
import { buildModel } from '../src/policy/model/build.js';
import { namespaceOf } from '../src/policy/model/parse-namespace.js';
import { parseNetworkPolicy } from '../src/policy/model/parse-policy.js';
import { podKey, type Pod } from '../src/policy/model/types.js';
import { DENIED_TRIES, measureLatency, pickPods, summary } from './policy-latency.js';

const NS = 100;
const PER_NS = 100;
const LOCAL = 110;

let seed = 42;
const rnd = (n: number): number => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
};

const slots = Array.from({ length: 65536 }, (_, i) => i);
for (let i = slots.length - 1; i > 0; i--) {
  const j = rnd(i + 1);
  [slots[i], slots[j]] = [slots[j] ?? 0, slots[i] ?? 0];
}
const pods: Pod[] = [];
for (let n = 0; n < NS; n++) {
  for (let i = 0; i < PER_NS; i++) {
    const slot = slots[n * PER_NS + i] ?? 0;
    pods.push({
      namespace: `ns-${String(n)}`,
      name: `pod-${String(i)}`,
      labels: { app: `app-${String(i % 20)}` },
      ips: [`10.100.${String(slot >> 8)}.${String(slot & 255)}`],
      namedPorts: [{ name: 'metrics', port: 9090 + (i % 3), protocol: 'TCP' }],
      nodeName: n * PER_NS + i < LOCAL * 91 && (n * PER_NS + i) % 91 === 0 ? 'node-1' : 'node-2',
      hostNetwork: false,
    });
  }
}
const namespaces = Array.from({ length: NS }, (_, n) => namespaceOf(`ns-${String(n)}`, { team: `t-${String(n % 10)}` }, false));
const locals: LocalPod[] = pods.filter((p) => p.nodeName === 'node-1').map((p, i) => ({ pod: `${p.namespace}/${p.name}`, ifname: `cali${String(i).padStart(11, '0')}` }));

function policies(count: number): ReturnType<typeof parseNetworkPolicy>[] {
  return Array.from({ length: count }, (_, k) => parseNetworkPolicy({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace: `ns-${String(k % NS)}`, name: `np-${String(k)}` },
    spec: {
      podSelector: { matchLabels: { app: `app-${String(Math.floor(k / NS) % 20)}` } },
      policyTypes: k % 3 === 0 ? ['Ingress', 'Egress'] : ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { app: `app-${String((k + 1) % 20)}` } } }, { namespaceSelector: { matchLabels: { team: `t-${String(k % 10)}` } } }], ports: [{ port: 8080 }, { port: 9000, endPort: 9100 }] }],
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: [`10.${String(k % 250)}.0.0/16`] } }], ports: [{ port: 443 }, { port: 'metrics' }] }],
    },
  }));
}

const NODE_IP = '192.168.0.1';
const CONNECTS = Number(process.env.BENCH_CONNECTS ?? '2000');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '10');
const root = process.getuid?.() === 0;

/** ms of one atomic `nft -f` into a fresh netns, or why not. */
function nftTime(text: string): number | string {
  if (!root) return 'n/a (not root)';
  const t0 = performance.now();
  const r = spawnSync('unshare', ['-n', 'nft', '-f', '-'], { input: text, encoding: 'utf8' });
  const ms = performance.now() - t0;
  return r.status === 0 && r.stderr === '' ? ms : `failed: ${r.stderr.slice(0, 200)}`;
}

const cleanups: (() => void)[] = [];
const cleanUp = (): void => {
  for (const f of cleanups.splice(0).reverse()) f();
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    cleanUp();
    process.exit(130);
  });
}

async function main(): Promise<void> {
  const tag = randomBytes(3).toString('hex');
  const us = (x: number): string => x.toFixed(0);
  const result: Record<string, string> = {};
  let sane = true;
  console.log(`bench:policy  ${String(pods.length)} cluster pods, ${String(locals.length)} local (host veth scope)`);
  for (const count of [100, 1000, 5000]) {
    const model = buildModel({ pods, namespaces, policies: policies(count), nodes: [{ name: 'node-1', ips: [NODE_IP] }] });
    const t0 = performance.now();
    const out = compileRuleset({ model, nodeName: 'node-1', scope: { kind: 'host', pods: locals } });
    const compileMs = performance.now() - t0;
    const apply = nftTime(out.text);
    console.log(`policies=${String(count)} isolated_local_pods=${String(out.isolated.length)} compile=${compileMs.toFixed(0)} ms rules=${String(out.rules)} sets=${String(out.sets)} elements=${String(out.elements)} script=${(out.text.length / 1024).toFixed(0)} KiB nft_apply=${typeof apply === 'number' ? `${apply.toFixed(0)} ms` : apply}`);
    if (count === 5000) Object.assign(result, { compile_ms_5000: compileMs.toFixed(0), apply_ms_5000: typeof apply === 'number' ? apply.toFixed(0) : 'n/a', rules_5000: String(out.rules) });
    if (!root) {
      console.log(`latency policies=${String(count)}: skipped (not root: needs network namespaces)`);
      continue;
    }
    const chosen = pickPods(model, out, locals);
    if (chosen === undefined) {
      console.log(`latency policies=${String(count)}: skipped (no isolated local server with an allowed and a denied client)`);
      continue;
    }
    const where = (p: Pod): string => `${podKey(p)} ${locals.some((l) => l.pod === podKey(p)) ? 'local' : 'remote'}`;
    const m = await measureLatency({ tag, nodeIp: NODE_IP, ruleset: out, locals, pods: chosen, connects: CONNECTS, rounds: ROUNDS, cleanups });
    const r = summary(m.rules);
    const n = summary(m.none);
    console.log(`latency policies=${String(count)} server=${where(chosen.server)} client=${where(chosen.client)} connects=${String(m.rules.length)}+${String(m.none.length)} rounds=${String(ROUNDS)} rules p50=${us(r.p50)} p99=${us(r.p99)} µs  none p50=${us(n.p50)} p99=${us(n.p99)} µs  p50_ratio=${(r.p50 / n.p50).toFixed(2)} failed=${String(m.failed.rules)}/${String(m.failed.none)}`);
    const verdict = chosen.deniedBy.ingress.allowed ? `egress ${chosen.deniedBy.egress.reason}` : `ingress ${chosen.deniedBy.ingress.reason}`;
    const ok = m.deniedConnected.rules === 0 && m.deniedConnected.none === DENIED_TRIES && m.failed.rules === 0 && m.failed.none === 0;
    sane &&= ok;
    console.log(`denied check policies=${String(count)} client=${where(chosen.denied)} evaluator=deny (${verdict}): connected ${String(m.deniedConnected.rules)}/${String(DENIED_TRIES)} with rules, ${String(m.deniedConnected.none)}/${String(DENIED_TRIES)} without; allowed client failures ${String(m.failed.rules)} with rules, ${String(m.failed.none)} without -> ${ok ? 'OK' : 'FAILED'}`);
    if (count === 5000) {
      Object.assign(result, {
        connect_p50_us_rules: us(r.p50), connect_p50_us_none: us(n.p50), connect_p50_ratio: (r.p50 / n.p50).toFixed(2),
        connect_p99_us_rules: us(r.p99), connect_p99_us_none: us(n.p99),
      });
    }
  }
  const keys = ['compile_ms_5000', 'apply_ms_5000', 'rules_5000', 'connect_p50_us_rules', 'connect_p50_us_none', 'connect_p50_ratio', 'connect_p99_us_rules', 'connect_p99_us_none'];
  console.log(`RESULT bench:policy ${keys.map((k) => `${k}=${result[k] ?? 'n/a'}`).join(' ')}`);
  if (!sane) process.exitCode = 1;
}

try {
  await main();
} finally {
  cleanUp();
}
