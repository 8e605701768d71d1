/** Live pod bandwidth in the daemon: the informer driver (per-pod serialisation, coalescing) and the daemon wiring. */
import { afterEach, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import type { BandwidthLease, ReconcileOutcome } from '../../../src/daemon/k8s/bandwidth-reconciler.js';
import { parseDaemonConfig } from '../../../src/config/daemon-config.js';
import { Daemon } from '../../../src/daemon/daemon.js';
import { PodBandwidthSync, bandwidthAnnotationsChanged, type PodBandwidthReconciler } from '../../../src/daemon/k8s/pod-bandwidth.js';
import type { IfName } from '../../../src/lib/brand.js';
import { ConfigError } from '../../../src/lib/errors.js';
import type { Command } from '../../../src/lib/exec.js';
import { silentLogger } from '../../../src/lib/log.js';
import type { PodInfo } from '../../../src/k8s/types.js';
import { FakeInformer, FakeKube } from './fake-kube.js';
import { deferred, lease, req } from './helpers/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';
import { eventually, sleep } from '../../helpers/wait.js';
import { nodeAdapters } from '../../../src/main/adapters.js';

const INGRESS = 'kubernetes.io/ingress-bandwidth';

function podInfo(name: string, annotations: Record<string, string> = {}, rv = '1'): PodInfo {
  return { namespace: 'default', name, uid: `uid-${name}`, nodeName: 'node-1', hostNetwork: false, annotations, labels: {}, owners: [], resourceVersion: rv };
}

/** A reconciler that records calls and holds each one until released. */
class GatedReconciler implements PodBandwidthReconciler {
  readonly calls: { pod: string; annotations: Readonly<Record<string, string>>; leases: number }[] = [];
  readonly forgotten: string[] = [];
  readonly gates: (() => void)[] = [];
  running = new Map<string, number>();
  maxPerPod = 0;
  maxTotal = 0;
  failNext = false;
  retryNext = false;
  async onPodAnnotations(pod: string, annotations: Readonly<Record<string, string>>, leases: readonly BandwidthLease[]): Promise<ReconcileOutcome> {
    this.calls.push({ pod, annotations, leases: leases.length });
    this.running.set(pod, (this.running.get(pod) ?? 0) + 1);
    this.maxPerPod = Math.max(this.maxPerPod, ...this.running.values());
    this.maxTotal = Math.max(this.maxTotal, [...this.running.values()].reduce((a, b) => a + b, 0));
    const d = deferred();
    this.gates.push(d.resolve);
    try {
      await d.promise;
      if (this.failNext) {
        this.failNext = false;
        throw new Error('boom');
      }
    } finally {
      this.running.set(pod, (this.running.get(pod) ?? 1) - 1);
    }
    const retry = this.retryNext;
    this.retryNext = false;
    return { retry };
  }
  forget(containerId: string, ifName: string): void {
    this.forgotten.push(`${containerId}/${ifName}`);
  }
  releaseAll(): void {
    for (const g of this.gates.splice(0)) g();
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function harness(leasesFor: (name: string) => number = () => 1) {
  const pods = new FakeInformer<PodInfo>((p) => p.namespace);
  const rec = new GatedReconciler();
  const sync = new PodBandwidthSync({
    pods,
    reconciler: rec,
    leasesOf: (_ns, name) => Array.from({ length: leasesFor(name) }, (_, i) => lease(`${name}-${String(i)}`, `10.0.0.${String(10 + i)}`)),
    log: silentLogger,
    busyUntil: () => undefined,
  });
  return { pods, rec, sync };
}

async function drain(rec: GatedReconciler, sync: PodBandwidthSync): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await tick();
    rec.releaseAll();
  }
  await sync.idle();
}

describe('PodBandwidthSync', () => {
  it('reconciles the pods already known at start, then follows adds and bandwidth annotation changes only', async () => {
    const { pods, rec, sync } = harness();
    pods.set(podInfo('a', { [INGRESS]: '10M' }));
    sync.start();
    await drain(rec, sync);
    expect(rec.calls.map((c) => c.pod)).toEqual(['default/a']);
    pods.set(podInfo('a', { [INGRESS]: '10M', other: 'x' }, '2')); // not a bandwidth change
    pods.set(podInfo('b'));
    await drain(rec, sync);
    expect(rec.calls.map((c) => c.pod)).toEqual(['default/a', 'default/b']);
    pods.set(podInfo('a', { [INGRESS]: '20M' }, '3'));
    pods.remove('default', 'b');
    await drain(rec, sync);
    expect(rec.calls.map((c) => `${c.pod} ${c.annotations[INGRESS] ?? '-'}`)).toEqual(['default/a 10M', 'default/b -', 'default/a 20M']);
    await sync.stop();
  });

  it('leaves a pod whose ADD is still building alone (no timer guess), and reconciles it once, with the latest annotations, when the ADD confirms', async () => {
    const pods = new FakeInformer<PodInfo>((p) => p.namespace);
    const rec = new GatedReconciler();
    const building = lease('y-0', '10.0.0.10');
    let until: number | undefined = Date.now() + 60_000;
    const sync = new PodBandwidthSync({ pods, reconciler: rec, leasesOf: () => [building], log: silentLogger, busyUntil: () => until });
    sync.start();
    pods.set(podInfo('y', { [INGRESS]: '10M' }));
    pods.set(podInfo('y', { [INGRESS]: '20M' }, '2'));
    await drain(rec, sync);
    await sleep(200);
    expect(rec.calls).toEqual([]); // nothing while its ADD builds, however long that takes
    until = undefined;
    sync.settled({ podNamespace: 'default', podName: 'y' });
    await drain(rec, sync);
    expect(rec.calls.map((c) => `${c.pod} ${c.annotations[INGRESS] ?? '-'}`)).toEqual(['default/y 20M']); // once, latest
    await sync.stop();
  });

  it('a pod whose ADD never confirms is reconciled at the build deadline; a busy attachment is retried', async () => {
    const pods = new FakeInformer<PodInfo>((p) => p.namespace);
    const rec = new GatedReconciler();
    const deadline = Date.now() + 300;
    const sync = new PodBandwidthSync({ pods, reconciler: rec, leasesOf: () => [lease('z-0', '10.0.0.10')], log: silentLogger, busyUntil: () => (Date.now() < deadline ? deadline : undefined) });
    sync.start();
    rec.retryNext = true; // the first run finds the attachment busy
    pods.set(podInfo('z', { [INGRESS]: '10M' }));
    await drain(rec, sync);
    expect(rec.calls).toEqual([]);
    await sleep(450);
    await drain(rec, sync);
    expect(rec.calls).toHaveLength(1);
    await sleep(1100); // BUSY_RETRY_MS
    await drain(rec, sync);
    expect(rec.calls).toHaveLength(2);
    await sync.stop();
  });

  it('one reconcile per pod at a time; a burst coalesces into one run with the latest annotations; pods run in parallel', async () => {
    const { pods, rec, sync } = harness();
    sync.start();
    pods.set(podInfo('a', { [INGRESS]: '1M' }));
    pods.set(podInfo('b', { [INGRESS]: '1M' }));
    await tick();
    expect(rec.calls).toHaveLength(2); // a and b both running
    for (const v of ['2M', '3M', '4M']) pods.set(podInfo('a', { [INGRESS]: v }));
    await tick();
    expect(rec.calls).toHaveLength(2); // a's second run waits for the first
    await drain(rec, sync);
    expect(rec.calls.map((c) => `${c.pod} ${c.annotations[INGRESS] ?? '-'}`)).toEqual(['default/a 1M', 'default/b 1M', 'default/a 4M']);
    expect(rec.maxPerPod).toBe(1);
    expect(rec.maxTotal).toBe(2);
    await sync.stop();
  });

  it('skips pods without leases; a failing reconcile is logged and the next change still runs', async () => {
    const { pods, rec, sync } = harness((name) => (name === 'bare' ? 0 : 2));
    sync.start();
    pods.set(podInfo('bare', { [INGRESS]: 'garbage' }));
    pods.set(podInfo('a', { [INGRESS]: '1M' }));
    rec.failNext = true;
    await drain(rec, sync);
    expect(rec.calls.map((c) => `${c.pod} ${String(c.leases)}`)).toEqual(['default/a 2']);
    pods.set(podInfo('a', { [INGRESS]: '2M' }));
    await drain(rec, sync);
    expect(rec.calls).toHaveLength(2);
    await sync.stop();
  });

  it('after stop nothing runs; released leases are forgotten', async () => {
    const { pods, rec, sync } = harness();
    sync.start();
    sync.released({ containerId: 'c1', ifName: 'eth0' });
    expect(rec.forgotten).toEqual(['c1/eth0']);
    await sync.stop();
    pods.set(podInfo('a', { [INGRESS]: '1M' }));
    await drain(rec, sync);
    expect(rec.calls).toEqual([]);
  });

  it('bandwidthAnnotationsChanged looks at the four bandwidth annotations only', () => {
    expect(bandwidthAnnotationsChanged(undefined, podInfo('a'))).toBe(true);
    expect(bandwidthAnnotationsChanged(podInfo('a', { x: '1' }), podInfo('a', { x: '2' }))).toBe(false);
    expect(bandwidthAnnotationsChanged(podInfo('a', { 'k8s.aliyun.com/egress-bandwidth': '1M' }), podInfo('a'))).toBe(true);
  });
});

describe('Daemon: live pod bandwidth through the informer, the executor and the reporter', () => {
  const running: Daemon[] = [];
  afterEach(async () => {
    for (const d of running.splice(0)) await d.stop();
  });

  async function start(kube: FakeKube) {
    const dir = tempDir('hub-bw-');
    const commands: Command[] = [];
    const d = new Daemon(
      parseDaemonConfig({
        mode: 'veth-policy-routing',
        socket: join(dir, 'run', 'daemon.sock'),
        stateDir: join(dir, 'state'),
        cniConfDir: join(dir, 'net.d'),
        cniLogFile: join(dir, 'log', 'cni.log'), // not /var/log on the test host (the daemon creates the directory)
        httpListen: '',
        vethPrefix: 'cali',
        local: { eni: { link: 'eth1', gateway: '192.168.0.1', ips: '192.168.0.10-192.168.0.11', subnet: '192.168.0.0/24' } },
      }),
      {
        kube,
        nodeName: kube.nodeName,
        ...nodeAdapters({
          sysctl: () => Promise.resolve(),
          runner: { run: (cmd) => (commands.push(cmd), Promise.resolve({ stdout: '', stderr: '', exitCode: 0 })) },
          sysfs: () => Promise.resolve('7'),
        }),
        kubeRetry: { attempts: 3, baseDelayMs: 1 },
      },
    );
    running.push(d);
    await d.start();
    const service = d.service;
    if (service === undefined) throw new Error('no service');
    return { d, service, commands };
  }

  const tcLines = (commands: readonly Command[]): string[] => commands.filter((c) => c.file === 'tc').flatMap((c) => (c.stdin ?? '').trim().split('\n'));

  it('an annotation change reshapes the attachment, posts BandwidthUpdated on the pod and records the limits on the lease', async () => {
    const kube = new FakeKube();
    const { d, service, commands } = await start(kube);
    kube.addPod('web', { annotations: { [INGRESS]: '10M' } });
    const reply = await service.allocate(req('c1', { podName: 'web', runtimeBandwidth: { egress: { rateBps: 1_000_000, burstBits: 524_288 } } }));
    await service.confirm({ containerId: 'c1', ifName: 'eth0' }); // the plugin's ADD built the dataplane
    expect(reply.allocation.bandwidth).toEqual({ ingress: { rateBps: 10_000_000, burstBits: 524_288 } });
    commands.length = 0;
    kube.addPod('web', { annotations: { [INGRESS]: '20M', 'kubernetes.io/egress-bandwidth': '50M' } });
    await eventually(() => {
      expect(kube.events.filter((e) => e.reason === 'BandwidthUpdated')).toEqual([
        { target: { kind: 'Pod', namespace: 'default', name: 'web', uid: 'uid-web' }, type: 'Normal', reason: 'BandwidthUpdated', message: expect.stringMatching(/^eth0: ingress 20000000 bit\/s .*egress 1000000 bit\/s/u) as unknown },
      ]);
    });
    // the egress set by runtimeConfig stays; only the ingress tbf on the host veth is replaced
    expect(tcLines(commands)).toEqual([expect.stringMatching(/^qdisc replace dev cali[0-9a-f]{11} root handle 1: tbf rate 2500000bps /u)]);
    const stored = (await service.lookup({ containerId: 'c1', ifName: 'eth0' })).allocation;
    expect(stored?.bandwidth).toEqual({ ingress: { rateBps: 20_000_000, burstBits: 524_288 }, egress: { rateBps: 50_000_000, burstBits: 524_288 } });

    // a bad value: ParseFailed naming the annotation and the value, the shaping is left alone
    commands.length = 0;
    kube.addPod('web', { annotations: { [INGRESS]: 'garbage' } });
    await eventually(() => {
      expect(kube.events.filter((e) => e.reason === 'ParseFailed').map((e) => `${e.type} ${e.message}`)).toEqual([expect.stringMatching(/^Warning bandwidth not changed: kubernetes\.io\/ingress-bandwidth: .*"garbage"/u)]);
    });
    expect(tcLines(commands)).toEqual([]);
    await d.stop();
  });

  it('a bad annotation at ADD: ConfigError, AllocIPFailed and ParseFailed Warnings naming annotation and value, no lease', async () => {
    const kube = new FakeKube();
    const { service } = await start(kube);
    kube.addPod('bad', { annotations: { 'k8s.aliyun.com/egress-bandwidth': '12' } });
    await expect(service.allocate(req('c1', { podName: 'bad' }))).rejects.toBeInstanceOf(ConfigError);
    expect(service.leases()).toBe(0);
    await eventually(() => {
      // the wait registry's event names the reason the pod waits for (src/daemon/waits.ts)
      expect(kube.events.map((e) => `${e.target.name}/${e.target.uid} ${e.type} ${e.reason}`)).toEqual(['bad/uid-bad Normal AllocIPWaiting', 'bad/uid-bad Warning AllocIPFailed', 'bad/uid-bad Warning ParseFailed']);
    });
    expect(kube.events[0]?.message).toMatch(/^waiting \(bad-annotation\): bad annotation k8s\.aliyun\.com\/egress-bandwidth: .*"12"/u);
    expect(kube.events[2]?.message).toMatch(/k8s\.aliyun\.com\/egress-bandwidth: .*"12"/u);
  });

  it('a released lease is forgotten and later changes leave it alone', async () => {
    const kube = new FakeKube();
    const { service, commands } = await start(kube);
    kube.addPod('web', { annotations: { [INGRESS]: '10M' } });
    await service.allocate(req('c1', { podName: 'web' }));
    await service.confirm({ containerId: 'c1', ifName: 'eth0' });
    await service.release({ containerId: 'c1', ifName: 'eth0', reason: 'CNI DEL' });
    commands.length = 0;
    kube.addPod('web', { annotations: { [INGRESS]: '30M' } });
    await sleep(50);
    expect(tcLines(commands)).toEqual([]);
    expect(kube.events.filter((e) => e.reason.startsWith('Bandwidth'))).toEqual([]);
  });
});

describe('BandwidthReconciler as the daemon drives it: a failure never escapes', () => {
  it('a lease whose shaping target cannot be computed: the pod\'s other leases are still shaped, no unhandled rejection, the next change runs', async () => {
    const { BandwidthReconciler } = await import('../../../src/daemon/k8s/bandwidth-reconciler.js');
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => { unhandled.push(e); };
    process.on('unhandledRejection', onUnhandled);
    try {
      const applied: string[] = [];
      const events: string[] = [];
      const rec = new BandwidthReconciler({
        executor: { apply: (plan) => (applied.push(plan.map((o) => ('dev' in o ? o.dev : o.kind)).join(',')), Promise.resolve({})) },
        emit: (_pod, reason, message) => events.push(`${reason}: ${message}`),
        node: { vethPrefix: 'cali' },
        log: silentLogger,
        targetFor: (l) => {
          if (l.containerId === 'bad') throw new Error('no target for this lease');
          return { kind: 'host-veth', hostIf: `cali-${l.containerId}` as IfName, ifb: `hubb-${l.containerId}` as IfName, mtu: 1500 };
        },
      });
      const bad = { ...lease('bad', '10.0.0.5'), ifName: 'eth1' };
      const good = lease('good', '10.0.0.6');
      await expect(rec.onPodAnnotations('default/p', { [INGRESS]: '20M' }, [bad, good])).resolves.toEqual({ retry: false });
      await rec.onPodAnnotations('default/p', { [INGRESS]: '30M' }, [good]);
      await tick();
      await tick();
      expect(unhandled).toEqual([]);
      expect(applied).toEqual(['cali-good', 'cali-good']);
      expect(events).toEqual([
        expect.stringMatching(/^BandwidthUpdateFailed: eth1: no target for this lease/u),
        expect.stringMatching(/^BandwidthUpdated: eth0: ingress 20000000/u),
        expect.stringMatching(/^BandwidthUpdated: eth0: ingress 30000000/u),
      ]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a reconcile that rejects (the event sink threw) rejects only its caller: no unhandled rejection, the next update still runs', async () => {
    const { BandwidthReconciler } = await import('../../../src/daemon/k8s/bandwidth-reconciler.js');
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => { unhandled.push(e); };
    process.on('unhandledRejection', onUnhandled);
    try {
      const applied: number[] = [];
      const rec = new BandwidthReconciler({
        executor: { apply: (plan) => (applied.push(plan.length), Promise.resolve({})) },
        emit: (_pod, reason) => {
          if (reason === 'ParseFailed') throw new Error('event sink down');
        },
        node: { vethPrefix: 'cali' },
        log: silentLogger,
      });
      const first = rec.onPodAnnotations('default/p', { [INGRESS]: 'garbage' }, [lease('c1', '10.0.0.5')]);
      const second = rec.onPodAnnotations('default/p', { [INGRESS]: '20M' }, [lease('c1', '10.0.0.5')]);
      await expect(first).rejects.toThrow('event sink down');
      await expect(second).resolves.toEqual({ retry: false });
      await tick();
      await tick();
      expect(unhandled).toEqual([]);
      expect(applied).toEqual([1]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
