/**
 * `terway-hub why` end to end on a daemon with the Kubernetes emulator and the local provider: each wait reason is
 * produced by the real components (a slow local cloud, a bad annotation, the builtin NetworkPolicy backend failing
 * to program, a refused cluster config), asked over the daemon's socket, and checked against the pod's
 * `AllocIPWaiting` event. The cloud's own reasons (throttled, vSwitch exhausted) are in why-ecs-daemon.test.ts.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { HubService } from '../../../src/daemon/service.js';
import type { PolicyAdapters } from '../../../src/daemon/policy/adapters.js';
import type { BuiltinApplier } from '../../../src/policy/builtin/apply.js';
import { whyExitCode, formatWhy } from '../../../src/main/why-cli.js';
import { FakeKube } from './fake-kube.js';
import { req } from './helpers/fixtures.js';
import { startWhyDaemon, type WhyDaemon } from './helpers/why-daemon.js';
import { eventually } from '../../helpers/wait.js';
import { runCli } from '../../helpers/cli.js';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp.js';

const running: WhyDaemon[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.daemon.stop();
});

async function start(kube: FakeKube, ...rest: Parameters<typeof startWhyDaemon> extends [unknown, ...infer R] ? R : never): Promise<WhyDaemon> {
  const d = await startWhyDaemon(kube, ...rest);
  running.push(d);
  return d;
}

function svc(d: WhyDaemon): HubService {
  const s = d.daemon.service;
  if (s === undefined) throw new Error('no service');
  return s;
}

describe('why: the pool', () => {
  it('a cold pool with a slow cloud: ENI being attached, then IPs being assigned; the event names each; then not waiting', async () => {
    const kube = new FakeKube();
    const d = await start(kube, { pool: { warmEnis: 0, maxIdle: 1, localLatencyMs: { create: 700, assign: 700, unassign: 0 } } });
    kube.addPod('a');
    const first = svc(d).allocate(req('ca', { podName: 'a' }));
    await eventually(async () => {
      const r = await d.why('default/a');
      expect(r).toMatchObject({ known: true, waiting: true, reason: { kind: 'eni-attaching', detail: { cloud: 'local', vSwitch: 'local' } } });
      expect(r.reason?.text).toMatch(/^waiting for a new ENI from local \(1 being created and attached on vSwitch local, \d+ IPs\)$/u);
      expect(whyExitCode(r)).toBe(3);
    }, 600);
    // the first event when the pool made it wait (before its plan ran), the next once the reason changed
    await eventually(async () => {
      expect(await d.waitEvents('default/a')).toEqual(['waiting (pool-empty): no idle IP on this node: asking local for more', expect.stringMatching(/^waiting \(eni-attaching\): waiting for a new ENI from local/u)]);
    }, 600);
    const { allocation } = await first;
    const done = await d.why('default/a');
    expect(done).toMatchObject({ known: true, waiting: false, ip: allocation.ip });
    expect(Date.parse(done.since ?? '')).toBeGreaterThan(Date.now() - 5000);
    expect(whyExitCode(done)).toBe(0);
    expect(formatWhy(done)).toBe(`default/a: not waiting: has IP ${allocation.ip} since ${done.since ?? ''}\n`);

    // everything idle taken: the next pod waits for an Assign (max_pool_size 1 keeps the idle low)
    const idle = d.daemon.pools?.levels()[0]?.idle ?? 0;
    const pods = Array.from({ length: idle + 1 }, (_, i) => `p${String(i)}`);
    for (const p of pods) kube.addPod(p);
    const last = pods[pods.length - 1] ?? '';
    const all = pods.map((p) => svc(d).allocate(req(`c-${p}`, { podName: p })));
    await eventually(async () => {
      const r = await d.why(`default/${last}`);
      expect(r.reason).toMatchObject({ kind: 'pool-refilling', detail: { cloud: 'local', calls: '1' } });
      expect(r.reason?.text).toMatch(/^waiting for \d+ IPs being assigned by local \(1 calls in flight\)$/u);
    }, 600);
    expect((await d.why('default/a')).waiting).toBe(false);
    // status shows the pool's levels while the Assign is in flight
    const levels = (await svc(d).status()).pools?.[0];
    expect(levels).toMatchObject({ kind: 'ip', waiting: 1, inFlight: 1 });
    await eventually(async () => {
      expect(await d.waitEvents(`default/${last}`)).toContainEqual(expect.stringMatching(/^waiting \(pool-refilling\): waiting for \d+ IPs being assigned by local/u));
    }, 600);
    await Promise.all(all);
    expect((await d.why(`default/${last}`)).waiting).toBe(false);
  });
});

describe('why: pods', () => {
  it('an unknown pod exits 4; a host-network pod and a pod bound without an ADD yet', async () => {
    const kube = new FakeKube();
    const d = await start(kube);
    const unknown = await d.why('default/nobody');
    expect(unknown).toEqual({ pod: 'default/nobody', known: false, waiting: false, notes: [] });
    expect(whyExitCode(unknown)).toBe(4);
    kube.addPod('host', { hostNetwork: true });
    kube.addPod('soon');
    await eventually(async () => {
      expect(await d.why('default/host')).toMatchObject({ known: true, waiting: false, notes: ['the pod uses the host network: it gets no pod IP'] });
      expect((await d.why('default/soon')).reason).toMatchObject({ kind: 'no-add-yet' });
    });
  });

  it('a bad bandwidth annotation: the pod waits for it to be fixed; one event for repeated failures, none once served', async () => {
    const kube = new FakeKube();
    const d = await start(kube);
    kube.addPod('bad', { annotations: { 'kubernetes.io/ingress-bandwidth': 'lots' } });
    await eventually(() => { expect(d.daemon.agent?.pods.get('default', 'bad')).toBeDefined(); });
    await expect(svc(d).allocate(req('c1', { podName: 'bad' }))).rejects.toThrow(/ingress-bandwidth/u);
    await expect(svc(d).allocate(req('c2', { podName: 'bad' }))).rejects.toThrow(/ingress-bandwidth/u); // the kubelet's retry
    const r = await d.why('default/bad');
    expect(r).toMatchObject({ known: true, waiting: true, reason: { kind: 'bad-annotation', detail: { annotation: 'kubernetes.io/ingress-bandwidth' } } });
    expect(r.reason?.text).toMatch(/^bad annotation kubernetes\.io\/ingress-bandwidth: .*lots/u);
    expect(whyExitCode(r)).toBe(3);
    expect(await d.waitEvents('default/bad')).toEqual([`waiting (bad-annotation): ${r.reason?.text ?? ''}`]);
    kube.addPod('bad', { annotations: { 'kubernetes.io/ingress-bandwidth': '10M' } });
    await eventually(() => { expect(d.daemon.agent?.pods.get('default', 'bad')?.annotations['kubernetes.io/ingress-bandwidth']).toBe('10M'); });
    const { allocation } = await svc(d).allocate(req('c3', { podName: 'bad' }));
    expect(await d.why('default/bad')).toMatchObject({ waiting: false, ip: allocation.ip });
    expect(await d.waitEvents('default/bad')).toHaveLength(1);
  });
});

describe('why: policy and config', () => {
  it('the builtin NetworkPolicy backend not ready: the ADD is refused, why and the event say so; served once it programs', async () => {
    const kube = new FakeKube();
    let failing: string | undefined = 'nft: Operation not permitted';
    const applier: BuiltinApplier = {
      apply: () => (failing === undefined ? Promise.resolve() : Promise.reject(new Error(failing))),
      removePodTable: () => Promise.resolve(),
      removeTable: () => Promise.resolve(),
      readBack: () => Promise.resolve(undefined),
      cutDenied: () => Promise.resolve([]),
    };
    const d = await start(kube, { policy: { backend: 'builtin' } }, (cfg, base) => {
      const policy: PolicyAdapters = {
        ...base.policyFor(cfg, {}),
        cleanResidue: () => Promise.resolve({ removed: [], failures: [] }),
        writeFile: () => Promise.resolve(),
        nodeFacts: () => Promise.resolve({ iptablesBackend: 'nft' }),
        builtinApplier: applier,
      };
      return { policy };
    });
    kube.addPod('guarded');
    await expect(svc(d).allocate(req('c1', { podName: 'guarded' }))).rejects.toThrow(/Operation not permitted/u);
    const r = await d.why('default/guarded');
    expect(r).toMatchObject({ known: true, waiting: true, reason: { kind: 'backend-not-ready' } });
    expect(r.reason?.text).toMatch(/^NetworkPolicy backend not ready: .*NetworkPolicy rules not programmed.*Operation not permitted; the ADD is refused until its rules are programmed$/u);
    // the failed pod left the model again: the host scope has nothing to program, so the backend itself is not failing
    expect(r.notes).toEqual([]);
    expect(await d.waitEvents('default/guarded')).toEqual([`waiting (backend-not-ready): ${r.reason?.text ?? ''}`]);
    failing = undefined;
    const { allocation } = await svc(d).allocate(req('c2', { podName: 'guarded' }));
    expect(await d.why('default/guarded')).toMatchObject({ waiting: false, ip: allocation.ip });
  });

  it('a refused mode/backend combination: the config is kept, the pod without an IP is told, a served pod gets the note', async () => {
    const kube = new FakeKube();
    const veth = JSON.stringify({ cniVersion: '0.4.0', name: 'terway', type: 'terway', eniip_virtual_type: 'veth' });
    kube.setConfigMap('eni-config', { eni_conf: JSON.stringify({ version: '1' }), daemon_mode: 'ENIMultiIP', '10-terway.conf': veth, disable_network_policy: 'true' });
    const d = await start(kube, { policy: { backend: 'cilium' }, ipvlan: { hostIp: '192.168.0.5' } }, (cfg, base) => ({
      policy: { ...base.policyFor(cfg, {}), cleanResidue: () => Promise.resolve({ removed: [], failures: [] }), writeFile: () => Promise.resolve(), nodeFacts: () => Promise.resolve({ iptablesBackend: 'nft' }) },
    }));
    kube.addPod('served');
    const { allocation } = await svc(d).allocate(req('c1', { podName: 'served' }));
    // policy back on: cilium in ipvlan is refused (the ConfigMap asks ipvlan)
    kube.setConfigMap('eni-config', { eni_conf: JSON.stringify({ version: '1', service_cidr: '172.21.0.0/20' }), daemon_mode: 'ENIMultiIP', '10-terway.conf': JSON.stringify({ cniVersion: '0.4.0', name: 'terway', type: 'terway', eniip_virtual_type: 'IPVlan' }) });
    await d.settle();
    kube.addPod('blocked');
    await eventually(async () => {
      const r = await d.why('default/blocked');
      expect(r).toMatchObject({ known: true, waiting: true, reason: { kind: 'config-refused' } });
      expect(r.reason?.text).toMatch(/no CNI ADD has come for this pod yet, and the node's cluster config is refused: kube-system\/eni-config: policy\.backend: cilium refused in ipvlan mode/u);
      expect(whyExitCode(r)).toBe(3);
    });
    const served = await d.why('default/served');
    expect(served).toMatchObject({ waiting: false, ip: allocation.ip });
    expect(served.notes).toEqual([expect.stringMatching(/^the node's cluster config is refused \(the last good config, mode veth-policy-routing, serves\): kube-system\/eni-config: policy\.backend: cilium refused in ipvlan mode/u)]);
    expect(kube.events.some((e) => e.reason === 'ConfigError' && /cilium refused in ipvlan mode/u.test(e.message))).toBe(true);
  });
});

describe('why: the CLI', () => {
  it('exit codes: 0 not waiting, 3 waiting, 4 unknown pod, 1 daemon unreachable, 2 bad arguments; --json; status prints the pool levels', async () => {
    const kube = new FakeKube();
    const d = await start(kube);
    const socket = d.cfg.socket;
    kube.addPod('ok');
    kube.addPod('bad', { annotations: { 'kubernetes.io/egress-bandwidth': 'x' } });
    await eventually(() => { expect(d.daemon.agent?.pods.get('default', 'bad')).toBeDefined(); });
    const { allocation } = await svc(d).allocate(req('c1', { podName: 'ok' }));
    await expect(svc(d).allocate(req('c2', { podName: 'bad' }))).rejects.toThrow(/egress-bandwidth/u);
    const [ok, bad, json, unknown, down, usage, status] = await Promise.all([
      runCli(['why', 'default/ok', '--socket', socket]),
      runCli(['why', 'default/bad', '--socket', socket]),
      runCli(['why', 'default/bad', '--socket', socket, '--json']),
      runCli(['why', 'default/ghost', '--socket', socket]),
      runCli(['why', 'default/ok', '--socket', join(tempDir('hub-why-none-'), 'no.sock')]),
      runCli(['why', 'no-slash', '--socket', socket]),
      runCli(['status', '--socket', socket]),
    ]);
    expect(ok).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^default/ok: not waiting: has IP ${allocation.ip.replace(/\./gu, '\\.')} since \\S+\n$`, 'u')) });
    expect(bad.code).toBe(3);
    expect(bad.stdout).toMatch(/^default\/bad: waiting \(bad-annotation\) since \S+\n {2}bad annotation kubernetes\.io\/egress-bandwidth: .*\n {2}detail: annotation=kubernetes\.io\/egress-bandwidth\n$/u);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({ pod: 'default/bad', known: true, waiting: true, reason: { kind: 'bad-annotation' } });
    expect(unknown).toMatchObject({ code: 4, stdout: "default/ghost: unknown to this node's daemon (not bound to this node, no allocation, no lease)\n" });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/daemon unreachable/u);
    expect(usage.code).toBe(2);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/\n {2}pool local:eth1:\S+ \(ip\): ips=\d+ idle=\d+ leased=1 waiting=0 in-flight=\d+ releasing=\d+ enis=1 held-for-scheduled=\d+\n/u);
  });
});
