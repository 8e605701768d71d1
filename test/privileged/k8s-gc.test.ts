/**
 * Garbage collection with Kubernetes, end to end: the real daemon (in process) watching the API emulator through the
 * real @kubernetes/client-node, pods wired by the real plugin binary in real namespaces. A pod deleted from the API
 * server, and a netns that vanished without DEL, are both cleaned up by GC: leases released, the host exactly as
 * before the pod.
 */
import { join } from 'node:path';
import { parseDaemonConfig } from '../../src/config/daemon-config.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { createLogger } from '../../src/lib/log.js';
import { gcComponent } from '../../src/gc/index.js';
import type { GarbageCollector } from '../../src/gc/index.js';
import type { LeaseStore } from '../../src/store/store.js';
import { startKubeEmulator, type KubeEmulator } from '../k8s-emulator/index.js';
import { emulatedKubeApi, node, pod } from '../k8s-emulator/testing.js';
import { callPluginAsync, PLUGIN } from '../helpers/hub.js';
import { diffHost, snapshotHost } from '../helpers/host-state.js';
import { createNetns, type TestNetns } from '../helpers/netns.js';
import { rand, testSubnet } from '../helpers/names.js';
import { describePrivileged } from '../helpers/privilege.js';
import { tempDir } from '../helpers/tmp.js';
import { eventually } from '../helpers/wait.js';
import { existsSync, rmSync } from 'node:fs';
import { nodeAdapters } from '../../src/main/adapters.js';

const d = describePrivileged('GC with Kubernetes tests', [existsSync(PLUGIN), `plugin binary missing at ${PLUGIN}: run npm run build`]);

d('GC with Kubernetes (real daemon, real client, API emulator, real plugin)', () => {
  const tag = rand();
  const nodeName = `gcnode-${tag}`;
  const subnet = testSubnet('10.216').subnet3;
  let emu: KubeEmulator;
  let daemon: Daemon;
  let gc: GarbageCollector | undefined;
  let store: LeaseStore | undefined;
  let dir: string;
  let socket: string;
  const namespaces: TestNetns[] = [];
  const logLines: string[] = [];
  const daemonLogs = (): string => logLines.slice(-30).join('');

  beforeAll(async () => {
    emu = await startKubeEmulator();
    emu.put('ConfigMap', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'eni-config', namespace: 'kube-system' }, data: { daemon_mode: 'VPC', eni_conf: '{"version":"1"}' } });
    emu.put('Node', node(nodeName, { podCIDR: `${subnet}.0/24` }));
    dir = tempDir('hub-gc-');
    socket = join(dir, 'run', 'daemon.sock');
    const cfg = parseDaemonConfig({
      mode: 'vpc',
      socket,
      stateDir: join(dir, 'state'),
      cniConfDir: join(dir, 'net.d'),
      cniLogFile: join(dir, 'log', 'cni.log'), // not /var/log on the test host (the daemon creates the directory)
      httpListen: '',
      nodeName,
      vpc: { podCIDR: '10.217.0.0/24' }, // the local fallback: the Node's spec.podCIDR must win
    });
    const adapters = nodeAdapters();
    daemon = new Daemon(cfg, {
      ...adapters,
      log: createLogger({ write: (l) => logLines.push(l) }, 'debug'),
      kube: emulatedKubeApi(emu, { eventHost: nodeName }),
      kubeSyncTimeoutMs: 5000,
      components: (ctx) => {
        store = ctx.store;
        // no grace periods and no timer: the test runs each pass itself
        const g = gcComponent(ctx, { runner: adapters.runner, executorFor: adapters.executorFor, intervalMs: 3_600_000, leaseGraceMs: 0, orphanGraceMs: 0 });
        ctx.service.setAttachmentGc((req) => g.gcAttachments(req.validAttachments));
        gc = g;
        return [g];
      },
    });
    await daemon.start();
  });

  afterAll(async () => {
    for (const ns of namespaces) ns.remove();
    await daemon.stop();
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const stdin = (): string => JSON.stringify({ cniVersion: '1.0.0', name: 'hubgc', type: 'terway-hub', socket, logFile: join(dir, 'cni.log') });

  async function addPod(letter: string): Promise<{ ns: TestNetns; ip: string; containerId: string; name: string }> {
    const name = `gc-${letter}-${tag}`;
    emu.put('Pod', pod(name, nodeName));
    const ns = createNetns(`hubg-${tag}-${letter}`);
    namespaces.push(ns);
    const containerId = `gc${tag}${letter}`;
    const r = await callPluginAsync({ command: 'ADD', containerId, netns: ns.path, ifName: 'eth0', args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${name}` }, stdin());
    if (r.code !== 0) console.warn(r.stdout, r.stderr, daemonLogs());
    expect(r.code).toBe(0);
    const ip = ((r.json as { ips: { address: string }[] }).ips[0]?.address ?? '').split('/')[0] ?? '';
    expect(ip.startsWith(`${subnet}.`)).toBe(true); // from the Node's podCIDR
    return { ns, ip, containerId, name };
  }

  /** Both are set by the daemon's components hook; a missing one must fail the test, not turn a pass into a no-op. */
  const theGc = (): GarbageCollector => {
    if (gc === undefined) throw new Error('the GC component was never created');
    return gc;
  };
  const leaseIps = (): string[] => {
    if (store === undefined) throw new Error('the lease store was never handed to the components hook');
    return store.list().map((l) => l.allocation.ip);
  };

  it('releases the lease and cleans the host after the pod is deleted from the API server', async () => {
    const before = snapshotHost();
    const p = await addPod('a');
    expect(leaseIps()).toContain(p.ip);
    expect(diffHost(before, snapshotHost()).added.length).toBeGreaterThan(0);

    // still in the API server: GC keeps it
    await theGc().runOnce();
    expect(leaseIps()).toContain(p.ip);

    emu.delete('Pod', 'default', `gc-a-${tag}`);
    expect(daemon.agent).toBeDefined(); // else the wait below is satisfied by `undefined` at once
    await eventually(() => {
      expect(daemon.agent?.pods.get('default', `gc-a-${tag}`)).toBeUndefined();
    });
    await theGc().runOnce();
    expect(leaseIps()).not.toContain(p.ip);
    expect(diffHost(before, snapshotHost())).toEqual({ added: [], removed: [] });
  });

  it('releases the lease and cleans the host after the netns vanished without DEL', async () => {
    const before = snapshotHost();
    const p = await addPod('b');
    expect(leaseIps()).toContain(p.ip); // else "not.toContain" below proves nothing
    p.ns.remove(); // the runtime lost the sandbox: no DEL ever comes
    await theGc().runOnce();
    expect(leaseIps()).not.toContain(p.ip);
    expect(diffHost(before, snapshotHost())).toEqual({ added: [], removed: [] });
    expect(emu.get('Pod', 'default', `gc-b-${tag}`)).toBeDefined(); // the pod object itself is not GC's business
  });
});
