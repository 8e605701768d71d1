/**
 * Live pod bandwidth end to end (issue 4): the real daemon (RPC server, lease store, pod informer through the REAL
 * client against the API emulator, reconciler, executor running ip/tc) and the plugin's ADD/DEL in-process with the
 * plugin's own composition (real RPC client, real planner, real executor) on a real network namespace.
 * Annotation 10M → ADD shapes; 20M on the API → the tbf follows and a BandwidthUpdated event exists; `garbage` →
 * ParseFailed and the shaping stays; removed → no qdisc, no ifb. A bad annotation at ADD → CNI code 7, ParseFailed,
 * no lease, nothing on the host. Root only.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { access, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ifbName } from '../../src/bandwidth/names.js';
import { invoke, type Invocation } from '../../src/cni/commands.js';
import { readNetworkConflist } from '../../src/lib/conflist-file.js';
import type { CniDeps } from '../../src/cni/deps.js';
import { parseDaemonConfig } from '../../src/config/daemon-config.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { createProcessRunner } from '../../src/lib/exec.js';
import { silentLogger } from '../../src/lib/log.js';
import { dataplaneFor, planOrphanTeardown } from '../../src/modes/registry.js';
import { createExecutor } from '../../src/netlink/executor.js';
import { createStateProbe } from '../../src/netlink/probe.js';
import type { HubRpcClient } from '../../src/rpc/client.js';
import { createNodeRpcClient } from '../../src/rpc/exchange-node.js';
import { pluginStdin } from '../helpers/hub.js';
import { createNetns, type TestNetns } from '../helpers/netns.js';
import { hasCommand, shTry } from '../helpers/exec.js';
import { rand } from '../helpers/names.js';
import { describePrivileged } from '../helpers/privilege.js';
import { tempDir } from '../helpers/tmp.js';
import { eventually } from '../helpers/wait.js';
import { startKubeEmulator, type KubeEmulator } from '../k8s-emulator/index.js';
import { emulatedKubeApi, node, pod } from '../k8s-emulator/testing.js';
import { nodeAdapters } from '../../src/main/adapters.js';

const d = describePrivileged('live bandwidth integration test', [hasCommand('tc') && hasCommand('ip'), 'tc/ip (iproute2) not installed']);

const INGRESS = 'kubernetes.io/ingress-bandwidth';
const EGRESS = 'kubernetes.io/egress-bandwidth';
const tag = rand(4);
const NODE = `bw-node-${tag}`;
const PREFIX = 'hbl'; // host veths: hbl + 11 hex
const octet = 100 + Math.floor(Math.random() * 100);
const POD_CIDR = `10.${String(octet)}.7.0/24`;

interface Qdisc {
  kind: string;
  root?: boolean;
  options?: { rate?: number };
}

function qdiscs(dev: string): Qdisc[] {
  const r = shTry('tc', ['-j', 'qdisc', 'show', 'dev', dev]);
  return r.code === 0 && r.stdout.trim() !== '' ? (JSON.parse(r.stdout) as Qdisc[]) : [];
}

const tbfRate = (dev: string): number | undefined => qdiscs(dev).find((q) => q.kind === 'tbf' && q.root === true)?.options?.rate;
const linkExists = (name: string): boolean => shTry('ip', ['link', 'show', 'dev', name]).code === 0;

d('live pod bandwidth: daemon + API emulator + real netns', () => {
  let emu: KubeEmulator;
  let daemon: Daemon;
  let stdin: string;
  let client: HubRpcClient | undefined;
  const namespaces: TestNetns[] = [];
  const hostLinks: string[] = [];

  const makeDeps = (): CniDeps => {
    const runner = createProcessRunner();
    const netnsExists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);
    return {
      rpc: (c) => (client ??= createNodeRpcClient(c.socket, c.timeoutMs)),
      executor: createExecutor({ runner, log: silentLogger, netnsExists, writeSysctl: (path, value) => writeFile(path, value) }),
      probe: createStateProbe({ runner }),
      dataplanes: dataplaneFor,
      planOrphanTeardown,
      pending: { record: () => Promise.resolve() },
      netnsExists,
      netnsProblem: () => Promise.resolve(undefined),
      readNetworkConflist,
      log: silentLogger,
    };
  };

  function cni(command: 'ADD' | 'DEL', containerId: string, ns: TestNetns, podName: string): Promise<Invocation> {
    const env = { CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: ns.path, CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin', CNI_ARGS: `K8S_POD_NAMESPACE=default;K8S_POD_NAME=${podName}` };
    return invoke(env, stdin, makeDeps);
  }

  function events(reason: string, podName: string): { type: string; message: string }[] {
    return emu
      .list('Event')
      .filter((e) => e['reason'] === reason && (e['involvedObject'] as Record<string, unknown>)['name'] === podName)
      .map((e) => ({ type: typeof e['type'] === 'string' ? e['type'] : '', message: typeof e['message'] === 'string' ? e['message'] : '' }));
  }

  const annotate = (podName: string, annotations: Record<string, string>): void => { emu.put('Pod', pod(podName, NODE, { annotations })); };

  beforeAll(async () => {
    emu = await startKubeEmulator();
    emu.put('Node', node(NODE, { podCIDR: POD_CIDR }));
    const dir = tempDir('hub-bwl-');
    const cfg = parseDaemonConfig({
      mode: 'vpc',
      socket: join(dir, 'run', 'daemon.sock'),
      stateDir: join(dir, 'state'),
      cniConfDir: join(dir, 'net.d'),
      cniLogFile: join(dir, 'log', 'cni.log'), // not /var/log on the test host (the daemon creates the directory)
      httpListen: '',
      nodeName: NODE,
      vethPrefix: PREFIX,
      vpc: { podCIDR: POD_CIDR },
    });
    // real runner (ip/tc); host sysctls are left alone
    daemon = new Daemon(cfg, { ...nodeAdapters({ sysctl: () => Promise.resolve() }), kube: emulatedKubeApi(emu, { eventHost: NODE }), kubeSyncTimeoutMs: 5000, kubeRetry: { attempts: 5, baseDelayMs: 20 } });
    await daemon.start();
    stdin = pluginStdin(JSON.parse(readFileSync(daemon.conflistPath, 'utf8')) as Record<string, unknown>, { logFile: join(dir, 'cni.log') });
  });

  afterAll(async () => {
    await daemon.stop();
    for (const l of hostLinks) shTry('ip', ['link', 'del', l]);
    for (const n of namespaces) n.remove();
    await emu.close();
  });

  it('ADD shapes from the annotation; changes on the API follow live; garbage keeps the shaping; removal unshapes', async () => {
    const ns = createNetns(`hbl-${tag}-a`);
    namespaces.push(ns);
    const cid = `bwlive${tag}`;
    const ifb = ifbName(cid, 'eth0');
    hostLinks.push(ifb);
    annotate('web', { [INGRESS]: '10M', [EGRESS]: '5M' });
    await eventually(() => { expect(daemon.agent?.pods.get('default', 'web')?.annotations[INGRESS]).toBe('10M'); });

    const add = await cni('ADD', cid, ns, 'web');
    expect(add.exitCode).toBe(0);
    const veth = ((JSON.parse(add.stdout) as { interfaces: { name: string }[] }).interfaces[0]?.name) ?? '';
    hostLinks.push(veth);
    expect(veth).toMatch(/^hbl[0-9a-f]{11}$/u);
    expect(tbfRate(veth)).toBe(1_250_000); // 10 Mbit/s in bytes/s
    expect(tbfRate(ifb)).toBe(625_000); // egress 5 Mbit/s on the ifb

    annotate('web', { [INGRESS]: '20M', [EGRESS]: '5M' });
    await eventually(() => { expect(tbfRate(veth)).toBe(2_500_000); }, 5000, 50);
    await eventually(() => { expect(events('BandwidthUpdated', 'web')).toEqual([{ type: 'Normal', message: expect.stringMatching(/^eth0: ingress 20000000 bit\/s/u) as unknown as string }]); });
    expect(tbfRate(ifb)).toBe(625_000);

    annotate('web', { [INGRESS]: 'garbage', [EGRESS]: '5M' });
    await eventually(() => { expect(events('ParseFailed', 'web')).toEqual([{ type: 'Warning', message: expect.stringMatching(/kubernetes\.io\/ingress-bandwidth.*"garbage"/u) as unknown as string }]); }, 5000);
    expect(tbfRate(veth)).toBe(2_500_000);
    expect(tbfRate(ifb)).toBe(625_000);

    annotate('web', {});
    await eventually(() => { expect(linkExists(ifb)).toBe(false); }, 5000, 50);
    expect(qdiscs(veth).filter((q) => q.kind === 'tbf' || q.kind === 'ingress')).toEqual([]);
    await eventually(() => { expect(events('BandwidthUpdated', 'web')).toHaveLength(2); });

    const del = await cni('DEL', cid, ns, 'web');
    expect(del.exitCode).toBe(0);
    expect(linkExists(veth)).toBe(false);
  });

  it('a bad annotation at ADD: CNI error 7 through the real RPC server and client, ParseFailed, no lease, nothing on the host', async () => {
    const ns = createNetns(`hbl-${tag}-b`);
    namespaces.push(ns);
    const cid = `bwbad${tag}`;
    annotate('bad', { 'k8s.aliyun.com/egress-bandwidth': '12' });
    await eventually(() => { expect(daemon.agent?.pods.get('default', 'bad')).toBeDefined(); });
    const links = (): string[] => (JSON.parse(shTry('ip', ['-j', 'link', 'show']).stdout) as { ifname: string }[]).map((l) => l.ifname).sort();
    const before = links();

    const add = await cni('ADD', cid, ns, 'bad');
    expect(add.exitCode).not.toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ code: 7, msg: 'invalid network config', details: expect.stringMatching(/k8s\.aliyun\.com\/egress-bandwidth.*"12"/u) });
    await eventually(() => { expect(events('ParseFailed', 'bad')).toEqual([{ type: 'Warning', message: expect.stringMatching(/k8s\.aliyun\.com\/egress-bandwidth: .*"12"/u) as unknown as string }]); });
    expect(events('AllocIPFailed', 'bad')).toHaveLength(1);
    expect(daemon.service?.leases()).toBe(0);
    expect(links()).toEqual(before);
    expect(ns.ipJson<{ ifname: string }[]>(['link', 'show']).map((l) => l.ifname)).toEqual(['lo']);
  });
});
