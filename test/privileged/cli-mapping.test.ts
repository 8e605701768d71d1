/**
 * `terway-hub mapping` and `pool` against the real daemon and plugin in real network namespaces (local provider,
 * veth-policy-routing with an ENI stand-in): clean → exit 0 with each pod's IP on the pool's ENI; a pod's host
 * route deleted on purpose → exit 1 naming that pod; a stray /32 route on a hub veth → exit 1 naming the route.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { callPlugin, CLI, NODE, PLUGIN, pluginStdin, startDaemon, type RunningDaemon } from '../helpers/hub.js';
import { createEniStandIn, type EniStandIn } from '../helpers/eni.js';
import { createNetns, type TestNetns } from '../helpers/netns.js';
import { sh } from '../helpers/exec.js';
import { rand, testSubnet } from '../helpers/names.js';
import { describePrivileged } from '../helpers/privilege.js';

const d = describePrivileged('terway-hub mapping / pool against the live daemon', [existsSync(PLUGIN) && existsSync(CLI), `build missing (${PLUGIN}, ${CLI}): run npm run build`]);

interface Pod {
  readonly ns: TestNetns;
  readonly name: string;
  readonly containerId: string;
  ip: string;
  veth: string;
  result: Record<string, unknown>;
}

function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(NODE, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

interface Mapping {
  entries: { pod: string; ip: string; eni?: string; kernel: boolean }[];
  mismatches: { kind: string; detail: string }[];
  notes: string[];
}

d('mapping and pool', () => {
  const tag = rand();
  const subnet = testSubnet('10.247').subnet3;
  let daemon: RunningDaemon;
  let eni: EniStandIn;
  const pods: Pod[] = [];
  const args = (p: Pod): string => `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${p.name};K8S_POD_INFRA_CONTAINER_ID=${p.containerId}`;

  beforeAll(async () => {
    eni = createEniStandIn(`cle${tag}`, `clvs-${tag}`, subnet);
    daemon = await startDaemon({ mode: 'veth-policy-routing', eni: eni.eniConfig() });
    for (const n of ['a', 'b']) {
      const pod: Pod = { ns: createNetns(`clp-${tag}-${n}`), name: `cl-${n}-${tag}`, containerId: `clctr${n}${tag}`, ip: '', veth: '', result: {} };
      const r = callPlugin({ command: 'ADD', containerId: pod.containerId, netns: pod.ns.path, ifName: 'eth0', args: args(pod) }, pluginStdin(daemon.conflist()));
      expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
      pod.result = r.json as Record<string, unknown>;
      pod.ip = ((pod.result.ips as { address: string }[])[0]?.address ?? '').split('/')[0] ?? '';
      pod.veth = (pod.result.interfaces as { name: string }[])[0]?.name ?? '';
      pods.push(pod);
    }
  });

  afterAll(async () => {
    for (const p of pods) {
      callPlugin({ command: 'DEL', containerId: p.containerId, netns: p.ns.path, ifName: 'eth0', args: args(p) }, pluginStdin(daemon.conflist(), { prevResult: p.result }));
      p.ns.remove();
    }
    await daemon.stop();
    daemon.cleanup();
    eni.remove();
  });

  it('clean: exit 0, each pod on the pool ENI with its kernel state', async () => {
    const r = await cli(['mapping', '--socket', daemon.socket, '--json']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const m = JSON.parse(r.stdout) as Mapping;
    expect(m.mismatches).toEqual([]);
    expect(m.notes).toEqual([]);
    for (const p of pods) expect(m.entries).toContainEqual(expect.objectContaining({ pod: `default/${p.name}`, ip: p.ip, kernel: true, eni: expect.any(String) as unknown }));
    const text = await cli(['mapping', '--socket', daemon.socket]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('OK: store, kernel and cloud agree');
  });

  it('pool: the ENI lists both pods\' IPs as leased', async () => {
    const r = await cli(['pool', '--socket', daemon.socket, '--json']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const reply = JSON.parse(r.stdout) as { mode: string; pools: { enis: { leased: string[]; ips: string[] }[]; stats: Record<string, number> }[] };
    expect(reply.mode).toBe('veth-policy-routing');
    const leased = reply.pools.flatMap((p) => p.enis.flatMap((e) => e.leased));
    expect(leased.sort()).toEqual(pods.map((p) => p.ip).sort());
    expect(reply.pools[0]?.stats.leased).toBe(2);
    const text = await cli(['pool', '--socket', daemon.socket]);
    expect(text.stdout).toContain(pods[0]?.ip ?? 'missing');
  });

  it('a pod\'s host route deleted: exit 1 naming the pod; a stray route on a hub veth: named too', async () => {
    const [a, b] = pods as [Pod, Pod];
    sh('ip', ['route', 'del', `${a.ip}/32`, 'dev', a.veth]);
    const stray = `${subnet}.250`;
    sh('ip', ['route', 'add', `${stray}/32`, 'dev', b.veth]);
    try {
      const r = await cli(['mapping', '--socket', daemon.socket, '--json']);
      expect(r.code).toBe(1);
      const m = JSON.parse(r.stdout) as Mapping;
      expect(m.mismatches).toHaveLength(2);
      expect(m.mismatches).toContainEqual({ kind: 'lease-without-kernel', detail: expect.stringContaining(`pod default/${a.name}`) as unknown });
      expect(m.mismatches.find((x) => x.kind === 'lease-without-kernel')?.detail).toContain(`route ${a.ip}/32 dev ${a.veth}`);
      expect(m.mismatches).toContainEqual({ kind: 'kernel-without-lease', detail: `route ${stray}/32 dev ${b.veth} (a hub veth) has no lease` });
      expect(m.entries.find((e) => e.ip === a.ip)?.kernel).toBe(false);
      const text = await cli(['mapping', '--socket', daemon.socket]);
      expect(text.code).toBe(1);
      expect(text.stdout).toContain('MISMATCH: 2');
    } finally {
      sh('ip', ['route', 'del', `${stray}/32`, 'dev', b.veth]);
      sh('ip', ['route', 'add', `${a.ip}/32`, 'dev', a.veth, 'scope', 'link']);
    }
    const again = await cli(['mapping', '--socket', daemon.socket]);
    expect(again.code).toBe(0);
  });

  it('the daemon unreachable: exit 3', async () => {
    const r = await cli(['mapping', '--socket', `${daemon.dir}/nope.sock`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('could not ask the daemon');
  });
});
