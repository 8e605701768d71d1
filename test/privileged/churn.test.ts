/**
 * Churn: 200 ADD/DEL cycles per veth dataplane through the real plugin binary and the real daemon, in waves of
 * random concurrency (1–6), with sandbox re-creations (ADD old, ADD new for the same pod, DEL old: the new one
 * must keep working), clean daemon restarts between waves and one SIGKILL of the daemon at a random moment inside
 * a wave. The driver behaves like kubelet: every attachment it ever ADDed (successfully or not) gets a DEL, retried
 * until it succeeds. At the end: zero leaked links, addresses, routes, rules, neighbours, qdiscs, leases and pending
 * records, and no IP was ever assigned to two live attachments. The counts are printed.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, NODE, callPluginAsync, PLUGIN, pluginStdin, startDaemon, type RunningDaemon } from '../helpers/hub.js';
import { diffHost, snapshotHost, type HostState } from '../helpers/host-state.js';
import { createEniStandIn, type EniStandIn } from '../helpers/eni.js';
import { createNetns, type TestNetns } from '../helpers/netns.js';
import { sh } from '../helpers/exec.js';
import { rand } from '../helpers/names.js';
import { describePrivileged } from '../helpers/privilege.js';
import { sleep } from '../helpers/wait.js';

const d = describePrivileged('churn', [existsSync(PLUGIN), `plugin binary missing at ${PLUGIN}: run npm run build`]);

const CYCLES = 200;

interface Attachment {
  readonly ns: TestNetns;
  readonly pod: string;
  readonly containerId: string;
  result?: Record<string, unknown>;
  ip?: string;
}

interface Counts {
  cycles: number;
  adds: number;
  addFailures: number;
  dels: number;
  delRetries: number;
  recreations: number;
  recreationBroken: number;
  restarts: number;
  kills: number;
  doubleAssigned: number;
}

d.each([{ mode: 'vpc' as const }, { mode: 'veth-policy-routing' as const }])('churn on $mode', ({ mode }) => {
  const tag = rand(4);
  const subnet = `10.${mode === 'vpc' ? 216 : 217}.${String(Math.floor(Math.random() * 200) + 20)}`;
  const eniLink = `hchu${tag}`;
  let eni: EniStandIn | undefined;
  let daemon: RunningDaemon;
  let before: HostState;
  const live = new Map<string, string>(); // ip → containerId of the live attachment holding it
  const counts: Counts = { cycles: 0, adds: 0, addFailures: 0, dels: 0, delRetries: 0, recreations: 0, recreationBroken: 0, restarts: 0, kills: 0, doubleAssigned: 0 };
  let seq = 0;
  let inFlight = 0; // plugin processes running now
  let inFlightAtKill = 0;
  const plugin = async (...a: Parameters<typeof callPluginAsync>): ReturnType<typeof callPluginAsync> => {
    inFlight += 1;
    try {
      return await callPluginAsync(...a);
    } finally {
      inFlight -= 1;
    }
  };

  beforeAll(async () => {
    if (mode === 'veth-policy-routing') eni = createEniStandIn(eniLink, `hchvs-${tag}`, subnet);
    daemon = await startDaemon(eni === undefined ? { mode, podCIDR: `${subnet}.0/24` } : { mode, eni: eni.eniConfig(250) });
    before = snapshotHost();
  });

  afterAll(async () => {
    await daemon.stop();
    daemon.cleanup();
    eni?.remove();
  });

  const args = (a: Attachment): string => `IgnoreUnknown=1;K8S_POD_NAMESPACE=churn;K8S_POD_NAME=${a.pod};K8S_POD_INFRA_CONTAINER_ID=${a.containerId}`;
  const attachment = (pod: string): Attachment => {
    seq += 1;
    return { ns: createNetns(`hch-${tag}-${String(seq)}`), pod, containerId: `churn${tag}${String(seq)}` };
  };

  async function add(a: Attachment): Promise<boolean> {
    counts.adds += 1;
    const r = await plugin({ command: 'ADD', containerId: a.containerId, netns: a.ns.path, ifName: 'eth0', args: args(a) }, pluginStdin(daemon.conflist()));
    if (r.code !== 0) {
      counts.addFailures += 1;
      return false;
    }
    a.result = r.json as Record<string, unknown>;
    const ip = ((a.result.ips as { address: string }[])[0]?.address ?? '').split('/')[0] ?? '';
    a.ip = ip;
    if (live.has(ip) && live.get(ip) !== a.containerId) counts.doubleAssigned += 1;
    live.set(ip, a.containerId);
    return true;
  }

  /** Like kubelet: DEL until it succeeds (the daemon may be restarting). Then the sandbox goes away. */
  async function del(a: Attachment): Promise<void> {
    if (a.ip !== undefined && live.get(a.ip) === a.containerId) live.delete(a.ip);
    for (let attempt = 0; ; attempt++) {
      const stdin = pluginStdin(daemon.conflist(), a.result !== undefined ? { prevResult: a.result } : {});
      const r = await plugin({ command: 'DEL', containerId: a.containerId, netns: a.ns.path, ifName: 'eth0', args: args(a) }, stdin);
      if (r.code === 0) break;
      if (attempt >= 50) throw new Error(`DEL of ${a.containerId} keeps failing: ${r.stdout} ${r.stderr}`);
      counts.delRetries += 1;
      await sleep(100);
    }
    counts.dels += 1;
    a.ns.remove();
  }

  async function plainCycle(): Promise<void> {
    const a = attachment(`p${String(seq)}`);
    await add(a);
    await del(a);
  }

  /** Kubelet re-creating a sandbox: the old DEL comes after the new ADD; the new sandbox must survive it. */
  async function recreation(): Promise<void> {
    counts.recreations += 1;
    const pod = `r${String(seq)}`;
    const old = attachment(pod);
    await add(old);
    const fresh = attachment(pod);
    const freshOk = await add(fresh);
    await del(old);
    if (freshOk && fresh.ns.tryExec(['ip', 'link', 'show', 'dev', 'eth0']).code !== 0) counts.recreationBroken += 1;
    await del(fresh);
  }

  it(`${String(CYCLES)} cycles leave nothing behind and never assign an IP twice`, async () => {
    const killWave = 3 + Math.floor(Math.random() * 10);
    let wave = 0;
    while (counts.cycles < CYCLES) {
      const size = Math.min(CYCLES - counts.cycles, 1 + Math.floor(Math.random() * 6));
      const jobs = Array.from({ length: size }, () => (Math.random() < 0.2 ? recreation() : plainCycle()));
      counts.cycles += size;
      if (wave === killWave) {
        while (inFlight === 0) await sleep(1); // the kill lands while plugins talk to the daemon
        await sleep(Math.floor(Math.random() * 20));
        inFlightAtKill = inFlight;
        await daemon.kill9();
        counts.kills += 1;
        await sleep(Math.floor(Math.random() * 100));
        await daemon.restart();
      }
      await Promise.all(jobs);
      if (wave !== killWave && Math.random() < 0.08) {
        await daemon.restart();
        counts.restarts += 1;
      }
      wave += 1;
    }
    await daemon.restart(); // drains any pending release recorded while the daemon was down
    counts.restarts += 1;

    const leases = (JSON.parse(sh(NODE, [CLI, 'leases', '--state-dir', join(daemon.dir, 'state'), '--json'])) as unknown[]).length;
    const pendingDir = join(daemon.dir, 'run', 'pending-release');
    const pending = existsSync(pendingDir) ? readdirSync(pendingDir).length : 0;
    const diff = diffHost(before, snapshotHost());
    const leaked = (kind: string): number => diff.added.filter((l) => l.startsWith(kind)).length;
    console.log(
      `CHURN mode=${mode} cycles=${String(counts.cycles)} adds=${String(counts.adds)} add_failures=${String(counts.addFailures)} dels=${String(counts.dels)} ` +
        `del_retries=${String(counts.delRetries)} recreations=${String(counts.recreations)} restarts=${String(counts.restarts)} kills=${String(counts.kills)} in_flight_at_kill=${String(inFlightAtKill)} ` +
        `leaked_links=${String(leaked('link'))} leaked_addrs=${String(leaked('addr'))} leaked_routes=${String(leaked('route'))} leaked_rules=${String(leaked('rule'))} ` +
        `leaked_neighs=${String(leaked('neigh'))} leaked_qdiscs=${String(leaked('qdisc'))} removed=${String(diff.removed.length)} leases=${String(leases)} ` +
        `pending=${String(pending)} double_assigned=${String(counts.doubleAssigned)} recreation_broken=${String(counts.recreationBroken)}`,
    );
    expect(diff).toEqual({ added: [], removed: [] });
    expect({ leases, pending, doubleAssigned: counts.doubleAssigned, recreationBroken: counts.recreationBroken, kills: counts.kills }).toEqual({ leases: 0, pending: 0, doubleAssigned: 0, recreationBroken: 0, kills: 1 });
    expect(inFlightAtKill).toBeGreaterThan(0);
  }, 300_000);
});
