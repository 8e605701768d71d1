/**
 * The builtin nftables backend at scale: 10,000 cluster pods (100 namespaces × 100 pods, addresses scattered over a
 * /16 so selector peers do not collapse into a few intervals), 110 of them local (host veth scope), and 100, 1,000
 * and 5,000 NetworkPolicies (ingress from a podSelector OR a 10-namespace namespaceSelector, TCP 8080 + an endPort
 * range; every third policy also egress to an ipBlock with except and a named port). Printed per size: compile
 * time, rules (not counting set elements), sets, elements, script size, and — as root — the time of one atomic
 * `nft -f` into a fresh netns (`unshare -n`, process start included). Connection latency through the rules is not
 * measured here. Run: `npm run bench:policy`.
 */
import { spawnSync } from 'node:child_process';
import { compileRuleset, type LocalPod } from '../src/policy/builtin/compile.js';
import { buildModel } from '../src/policy/model/build.js';
import { namespaceOf } from '../src/policy/model/parse-namespace.js';
import { parseNetworkPolicy } from '../src/policy/model/parse-policy.js';
import type { Pod } from '../src/policy/model/types.js';

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

const root = process.getuid?.() === 0;
function nftTime(text: string): string {
  if (!root) return 'n/a (not root)';
  const t0 = performance.now();
  const r = spawnSync('unshare', ['-n', 'nft', '-f', '-'], { input: text, encoding: 'utf8' });
  const ms = performance.now() - t0;
  return r.status === 0 && r.stderr === '' ? `${ms.toFixed(0)} ms` : `failed: ${r.stderr.slice(0, 200)}`;
}

console.log(`bench:policy  ${String(pods.length)} cluster pods, ${String(locals.length)} local (host veth scope)`);
for (const count of [100, 1000, 5000]) {
  const model = buildModel({ pods, namespaces, policies: policies(count), nodes: [{ name: 'node-1', ips: ['192.168.0.1'] }] });
  const t0 = performance.now();
  const out = compileRuleset({ model, nodeName: 'node-1', scope: { kind: 'host', pods: locals } });
  const compileMs = performance.now() - t0;
  const isolated = out.isolated.length;
  console.log(`policies=${String(count)} isolated_local_pods=${String(isolated)} compile=${compileMs.toFixed(0)} ms rules=${String(out.rules)} sets=${String(out.sets)} elements=${String(out.elements)} script=${(out.text.length / 1024).toFixed(0)} KiB nft_apply=${nftTime(out.text)}`);
}
