/**
 * The real daemon with `cloud.provider: aliyun` against the ECS + metadata emulator on loopback (the real SDK, its
 * signatures verified by the emulator), pods ADDed and DELed through the real plugin binary: in veth-policy-routing
 * (and ipvlan when the kernel has it) pods get secondary IPs of ENIs the pool created, and reach the vSwitch gateway
 * through those ENIs' host links. The ENIs the pool holds exist in the emulator (InUse, on this instance) and as host
 * links. Secrets: the AccessKey id, secret and STS token (a mounted credentials file) never appear in the daemon's
 * log, in /metrics, or in an error returned to the plugin — also after a forced SignatureDoesNotMatch and after the
 * file is rotated to credentials the cloud refuses.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { PLUGIN, startDaemon, type RunningDaemon } from '../../helpers/hub.js';
import { sh, shTry } from '../../helpers/exec.js';
import { ipRows } from '../../helpers/ip.js';
import { rand } from '../../helpers/names.js';
import { describePrivileged } from '../../helpers/privilege.js';
import { waitFor } from '../../helpers/wait.js';
import { addPod, delPod, metricsOf, newPod, newSecrets, pingFrom, POD_VSWITCH, startAliyunNode, type AliyunNode, type Pod } from './aliyun-node.js';

const d = describePrivileged('the daemon on the Aliyun provider', [existsSync(PLUGIN), `plugin binary missing at ${PLUGIN}: run npm run build`]);

const t = `ad${rand(3)}`;

/** Whether this kernel can make an ipvlan link (else the ipvlan case is skipped with the reason). */
function ipvlanProblem(parent: string): string | undefined {
  const r = shTry('ip', ['link', 'add', `${t}iv`, 'link', parent, 'type', 'ipvlan', 'mode', 'l2']);
  if (r.code !== 0) return r.stderr.trim() || `ip link add type ipvlan: exit ${String(r.code)}`;
  shTry('ip', ['link', 'del', `${t}iv`]);
  return undefined;
}

d('aliyun provider: real daemon + real plugin + emulated ECS', () => {
  let node: AliyunNode;
  let daemon: RunningDaemon;
  const pods: Pod[] = [];
  const pluginErrors: string[] = [];

  const ours = () => [...node.emu.state.enis.values()].filter((e) => e.tags.creator === 'terway-hub');
  const hostMacs = (): Set<string> => new Set((ipRows(['link', 'show']) as { address: string }[]).map((l) => l.address));

  beforeAll(async () => {
    node = await startAliyunNode(t);
    daemon = await startDaemon({ mode: 'veth-policy-routing', extra: node.daemonExtra('veth-policy-routing', { minIdle: 0, maxIdle: 4, syncIntervalSeconds: 1 }) });
    for (const n of ['a', 'b', 'c']) pods.push(newPod(t, n));
  }, 60_000);

  afterAll(async () => {
    for (const p of pods) {
      await delPod(daemon, p).catch(() => undefined);
      p.ns.remove();
    }
    await daemon.stop();
    daemon.cleanup();
    await node.cleanup();
  });

  it('veth-policy-routing: pods get secondary IPs of ENIs the pool created, reach the vSwitch gateway through them', async () => {
    const vsw = node.emu.state.vswitches.get(POD_VSWITCH);
    for (const p of pods) {
      const r = await addPod(daemon, p);
      if (r.code !== 0) pluginErrors.push(r.stdout + r.stderr);
      expect({ code: r.code, stderr: r.stderr, out: r.json }).toMatchObject({ code: 0 });
      expect(p.ip.startsWith(vsw?.cidr.split('.').slice(0, 3).join('.') ?? 'x')).toBe(true);
    }
    expect(new Set(pods.map((p) => p.ip)).size).toBe(pods.length);
    const enis = ours();
    expect(enis.length).toBeGreaterThanOrEqual(1);
    const macs = hostMacs();
    for (const e of enis) {
      expect(e).toMatchObject({ status: 'InUse', instanceId: node.emu.node.id, vSwitchId: POD_VSWITCH });
      expect(macs.has(e.mac)).toBe(true); // its host link, found by MAC
    }
    // every pod IP is a secondary IP of one of them, in the cloud
    const cloudIps = new Set(enis.flatMap((e) => e.ips.map((x) => x.ip)));
    for (const p of pods) expect(cloudIps.has(p.ip)).toBe(true);
    expect(node.emu.state.hookErrors).toEqual([]); // every ENI's emulated host link was made whole
    for (const p of pods) expect(await pingFrom(p, vsw?.gateway ?? '')).toBe(0);
    // the per-ENI host setup ran once per ENI (link up, its table's default route via the vSwitch gateway)
    await waitFor(() => (daemon.logs().match(/ENI set up on the host/gu)?.length ?? 0) === enis.length, { timeoutMs: 3000, what: () => `one host setup per ENI (${String(enis.length)}); logs:\n${daemon.logs().slice(-3000)}` });
    const link = node.links.linkName(enis[0]?.id ?? '') ?? '';
    expect(sh('ip', ['link', 'show', link])).toMatch(/state UP|,UP/u);
    // Terway's cloud metrics: the ECS client's and the metadata client's timings reach /metrics (src/main wires them)
    const metrics = await metricsOf(daemon);
    const count = (re: RegExp): number => [...metrics.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
    expect(count(/^aliyun_openapi_latency_count\{api="CreateNetworkInterface",error="false"\} (\d+)$/gmu)).toBe(node.emu.api.count('CreateNetworkInterface').ok);
    expect(count(/^aliyun_metadata_latency_count\{url="[^"]*",error="false"\} (\d+)$/gmu)).toBeGreaterThan(0);
    expect(count(/^terway_eniip_factory_eni_count\{name="[^"]*",max_eni="\d+"\} (\d+)$/gmu)).toBe(enis.length);
  }, 60_000);

  it('the periodic sync adopts an IP assigned behind the pool\'s back and counts it in /metrics', async () => {
    const eni = ours()[0];
    if (eni === undefined) throw new Error('no ENI');
    const [extra] = node.emu.state.assign(eni.id, 1, []);
    await waitFor(async () => /terway_hub_pool_sync_ips_total\{kind="adopted"\} [1-9]/u.test(await metricsOf(daemon)), { timeoutMs: 8000, what: () => `adopted ${extra ?? ''} in /metrics; logs:\n${daemon.logs().slice(-2000)}` });
    expect(daemon.logs()).toContain(extra ?? 'none');
  }, 20_000);

  it('secrets never appear: log, /metrics, plugin errors — also after SignatureDoesNotMatch and refused credentials', async () => {
    const [a] = pods;
    if (a === undefined) throw new Error('no pod');
    // the pool must call the cloud for the next ADDs: use up every idle IP first
    const more = ['d', 'e', 'f', 'g', 'h', 'i'].map((n) => newPod(t, n));
    pods.push(...more);
    // the right key id and token with a wrong secret: the emulator's signature check answers SignatureDoesNotMatch
    const good = firstSecretsOf(node);
    node.writeCredentials({ ...good, accessKeySecret: newSecrets().accessKeySecret });
    let failed = 0;
    for (const p of more) {
      const r = await addPod(daemon, p);
      if (r.code !== 0) {
        failed++;
        pluginErrors.push(r.stdout + r.stderr);
      }
    }
    expect(failed).toBeGreaterThan(0); // the refusal reached the plugin, at once (no hang until the plugin's deadline)
    expect(pluginErrors.join('\n')).toContain('SignatureDoesNotMatch'); // the emulator's message quotes its string to sign: redacted
    // then credentials the cloud does not know at all
    node.writeCredentials(newSecrets());
    await daemon.restart(); // a fresh pool: no pause after the last refusal
    const errorsBefore = pluginErrors.length;
    for (const p of more) {
      if (p.ip !== '') continue;
      const r = await addPod(daemon, p);
      if (r.code !== 0) pluginErrors.push(r.stdout + r.stderr);
    }
    expect(pluginErrors.length).toBeGreaterThan(errorsBefore); // the unknown credentials were refused too
    const texts = { log: daemon.logs(), metrics: await metricsOf(daemon), plugin: pluginErrors.join('\n'), cniLog: readCniLog(daemon) };
    for (const [where, text] of Object.entries(texts)) {
      for (const s of node.secrets) expect({ where, leaked: text.includes(s) ? s.slice(0, 6) : '' }).toEqual({ where, leaked: '' });
    }
    expect(texts.plugin).toMatch(/SignatureDoesNotMatch|InvalidAccessKeyId|signature|access key/iu); // the errors do say what went wrong
  }, 60_000);

  it('DEL gives every IP back; the ENIs stay pooled (idle within max_pool_size)', async () => {
    node.writeCredentials(firstSecretsOf(node)); // valid again
    await daemon.restart();
    for (const p of pods) {
      const r = await delPod(daemon, p);
      expect({ code: r.code, err: r.stderr }).toMatchObject({ code: 0 });
    }
    expect(await metricsOf(daemon)).toMatch(/^terway_hub_leases 0$/mu);
    expect(ours().length).toBeGreaterThan(0);
    expect(ours().every((e) => e.status === 'InUse')).toBe(true);
  }, 30_000);

  it('ipvlan: the same pool after a restart in ipvlan mode; pods reach the vSwitch gateway on ipvlan slaves', async () => {
    const problem = ipvlanProblem(node.primaryLink);
    if (problem !== undefined) {
      console.log(`SKIP ipvlan case: this kernel cannot make ipvlan links (${problem})`);
      return;
    }
    const before = ours().map((e) => e.id).sort();
    const cfg = JSON.parse(readFileSync(daemon.configPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(daemon.configPath, JSON.stringify({ ...cfg, mode: 'ipvlan' }));
    await daemon.restart();
    const p = newPod(t, 'v');
    pods.push(p);
    const r = await addPod(daemon, p);
    expect({ code: r.code, stderr: r.stderr, out: r.json }).toMatchObject({ code: 0 });
    expect(before).toContain([...node.emu.state.enis.values()].find((e) => e.ips.some((x) => x.ip === p.ip))?.id);
    const vsw = node.emu.state.vswitches.get(POD_VSWITCH);
    expect(await pingFrom(p, vsw?.gateway ?? '')).toBe(0);
    expect(p.ns.exec(['ip', '-d', 'link', 'show', 'eth0'])).toContain('ipvlan');
  }, 60_000);
});

function readCniLog(daemon: RunningDaemon): string {
  const entry = (daemon.conflist().plugins as { logFile?: string }[] | undefined)?.[0];
  const path = entry?.logFile;
  return path !== undefined && existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** The first credentials the node was given (still known to the emulator). */
function firstSecretsOf(node: AliyunNode) {
  const [accessKeyId = '', accessKeySecret = '', securityToken = ''] = node.secrets;
  return { accessKeyId, accessKeySecret, securityToken };
}
