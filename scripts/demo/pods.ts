/**
 * The daemon on the embedded local provider (simulated cloud latency) and the netns "pods" it wires through the
 * standalone plugin binary, called exactly as a CNI runtime calls it (ADD, CHECK, DEL).
 */
import { callPluginAsync, pluginStdin, startDaemon, type RunningDaemon } from '../../test/helpers/hub.js';
import type { KubeEmulator } from '../../test/k8s-emulator/index.js';
import { CONFIGMAP, NODE_NAME, PODS, POD_CIDR, key, podObject, type DemoMode, type DemoPod } from './cluster.js';
import { ENI, GATEWAY, POD_IPS, SUBNET, onCleanup } from './host.js';
import { DemoFailure, run, sh } from './ui.js';

/** The local provider's simulated cloud latency (ms): what a real ENI/IP API call costs, roughly. */
export const LATENCY = { create: 400, assign: 250, unassign: 100 };

export async function startHub(emu: KubeEmulator, mode: DemoMode): Promise<RunningDaemon> {
  const daemon = await startDaemon({
    mode,
    networkName: 'dm-net',
    detached: true,
    ...(mode === 'vpc' ? { podCIDR: POD_CIDR } : { eni: { link: ENI, gateway: GATEWAY, subnet: SUBNET, ips: POD_IPS } }),
    extra: {
      kubeconfig: emu.kubeconfigFile(),
      nodeName: NODE_NAME,
      eniConfigName: CONFIGMAP,
      vethPrefix: 'dmv',
      policy: { backend: 'auto' },
      pool: { localLatencyMs: LATENCY },
    },
  });
  onCleanup('daemon', async () => {
    await daemon.stop();
    daemon.cleanup();
  });
  return daemon;
}

export interface WiredPod extends DemoPod {
  readonly containerId: string;
  readonly ip: string;
  readonly hostVeth: string;
  readonly result: unknown;
  readonly ms: number;
}

/** Pods already DELeted by the demo itself (their clean-up only removes the netns). */
const deleted = new Set<string>();

const cniArgs = (p: DemoPod): string => `IgnoreUnknown=1;K8S_POD_NAMESPACE=${p.namespace};K8S_POD_NAME=${p.name}`;
const call = (daemon: RunningDaemon, command: string, p: DemoPod & { containerId: string }, prevResult?: unknown): ReturnType<typeof callPluginAsync> =>
  callPluginAsync({ command, containerId: p.containerId, netns: `/var/run/netns/${p.netns}`, ifName: 'eth0', args: cniArgs(p) }, pluginStdin(daemon.conflist(), prevResult === undefined ? {} : { prevResult }));

/** Creates each pod's netns and ADDs it; the pod's IP goes into its status in the API, as the kubelet would put it. */
export async function addPods(daemon: RunningDaemon, emu: KubeEmulator): Promise<WiredPod[]> {
  const out: WiredPod[] = [];
  for (const [i, p] of PODS.entries()) {
    sh(['ip', 'netns', 'add', p.netns]);
    const containerId = `dm${String(i)}`;
    // a pod whose ADD failed half-way is DELed too, as a runtime does
    onCleanup(`pod ${key(p)}`, async () => {
      if (!deleted.has(containerId)) {
        const d = await call(daemon, 'DEL', { ...p, containerId });
        if (d.code !== 0) console.error(`   DEL ${key(p)} at clean-up: ${d.stdout}`);
      }
      run(['ip', 'netns', 'del', p.netns]);
    });
    const t0 = performance.now();
    const r = await call(daemon, 'ADD', { ...p, containerId });
    if (r.code !== 0) throw new DemoFailure(`CNI ADD of ${key(p)} failed: ${r.stdout} ${r.stderr}\n${daemon.logs().slice(-3000)}`);
    const res = r.json as { ips: { address: string }[]; interfaces: { name: string }[] };
    const wired: WiredPod = { ...p, containerId, ip: res.ips[0]?.address.split('/')[0] ?? '?', hostVeth: res.interfaces[0]?.name ?? '?', result: r.json, ms: performance.now() - t0 };
    out.push(wired);
    emu.put('Pod', podObject(p, wired.ip));
  }
  return out;
}

/** CHECK for every pod; returns the failures as text. */
export async function checkPods(daemon: RunningDaemon, pods: readonly WiredPod[]): Promise<string[]> {
  const bad: string[] = [];
  for (const p of pods) {
    const c = await call(daemon, 'CHECK', p, p.result);
    if (c.code !== 0) bad.push(`${key(p)}: ${c.stdout.trim()}`);
  }
  return bad;
}

/** DEL for every pod, then its netns goes (the clean-up registered at ADD then has nothing left to do). */
export async function delPods(daemon: RunningDaemon, pods: WiredPod[]): Promise<number[]> {
  const times: number[] = [];
  for (const p of pods) {
    const t0 = performance.now();
    const d = await call(daemon, 'DEL', p, p.result);
    if (d.code !== 0) throw new DemoFailure(`CNI DEL of ${key(p)} failed: ${d.stdout} ${d.stderr}`);
    deleted.add(p.containerId);
    times.push(performance.now() - t0);
  }
  return times;
}
