/**
 * Issue 13: the hub as the first plugin of real CNI chains with Debian's reference plugins (/usr/lib/cni, plugins
 * 1.1.1), run through the libcni-faithful driver (test/helpers/libcni.ts) with the real plugin binary and daemon,
 * at every cniVersion the conflist offers (each run as a libcni implementing exactly that spec version would pick
 * it):
 *
 * - hub + portmap: host port reachable from the host's address and from 127.0.0.1 (portmap's `snat` sets
 *   route_localnet on the host veth and masquerades);
 * - hub + portmap + tuning: also tuning's sysctl and runtime `mac` visible in the pod, traffic after the MAC change;
 * - hub + firewall: per-pod rules present, traffic flows;
 * - hub + bandwidth with runtimeConfig.bandwidth as containerd passes it: shaping present exactly once;
 * - CHECK passes; DEL in reverse order leaves the host and the pod as before, netfilter aside from the plugins'
 *   own shared top-level chains (SHARED_NETFILTER).
 *
 * Two sources of the conflist:
 * - "daemon-rendered": the daemon renders the chain from its `chain` config key (and asks each binary in
 *   `cniBinDirs` for VERSION) — the source of truth once chain rendering exists;
 * - "hand-built": the same conflist built here from today's rendered hub entry, the way the renderer is specified
 *   to (hub entry first, user plugins after; cniVersions = the daemon's versions every plugin's VERSION lists;
 *   with another shaper in the chain the hub entry claims no `bandwidth` and carries `"shaping": false`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLUGIN, startDaemon, type RunningDaemon } from '../helpers/hub.js';
import { diffHost, snapshotHost } from '../helpers/host-state.js';
import { netfilterResidue, snapshotNetfilter } from '../helpers/netfilter.js';
import { hasCommand, sh, shTry } from '../helpers/exec.js';
import { hostAddress, ipRows } from '../helpers/ip.js';
import { compareVersions, explain, LibcniDriver, offeredVersions, pluginsOf, type Attachment, type Json } from '../helpers/libcni.js';
import { rand, testSubnet } from '../helpers/names.js';
import { createNetns, type TestNetns } from '../helpers/netns.js';
import { describePrivileged } from '../helpers/privilege.js';
import { tempDir } from '../helpers/tmp.js';
import { eventually } from '../helpers/wait.js';

const REF = '/usr/lib/cni';
const REF_PLUGINS = ['portmap', 'tuning', 'firewall', 'bandwidth'];

const d = describePrivileged(
  'CNI chains with the reference plugins',
  [existsSync(PLUGIN), `plugin binary missing at ${PLUGIN}: run npm run build`],
  [REF_PLUGINS.every((p) => existsSync(join(REF, p))), `needs ${REF_PLUGINS.join(', ')} in ${REF} (apt containernetworking-plugins)`],
  [hasCommand('iptables-save') && hasCommand('busybox'), 'needs iptables and busybox (apt iptables busybox-static)'],
);

interface Pod {
  readonly ns: TestNetns;
  readonly att: Attachment;
  readonly name: string;
}

interface Verify {
  readonly pod: Pod;
  readonly result: Json;
  readonly podIp: string;
  readonly hostVeth: string;
  readonly add: ReturnType<LibcniDriver['add']>;
}

interface Scenario {
  readonly name: string;
  readonly plugins: readonly Json[];
  readonly caps: Json;
  /** The chain holds another shaper: the hub entry must not claim `bandwidth` and carries `"shaping": false`. */
  readonly shaper: boolean;
  verify(v: Verify): Promise<void> | void;
}

const HOST_PORT = 18080;
const POD_PORT = 8080;

/** A TCP listener in the pod answering every connection with `token`; killed by the caller. */
function listen(ns: TestNetns, token: string): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns.name, 'busybox', 'nc', '-ll', '-p', String(POD_PORT), '-e', '/bin/echo', token], { stdio: 'ignore' });
}

function fetchToken(ip: string, port: number): string {
  return shTry('busybox', ['nc', '-w', '3', ip, String(port)], { timeoutMs: 10_000 }).stdout.trim();
}

function hostIp(): string {
  const a = hostAddress();
  if (a === undefined) throw new Error('no global IPv4 address on the host');
  return a;
}

const pingFromHost = (ip: string): number => shTry('ping', ['-c', '1', '-W', '2', ip], { timeoutMs: 10_000 }).code;
const pingFromPod = (ns: TestNetns, ip: string): number => ns.tryExec(['ping', '-c', '1', '-W', '2', ip]).code;

async function expectPorts(v: Verify): Promise<void> {
  const token = `cs-${rand(8)}`;
  const server = listen(v.pod.ns, token);
  try {
    // the pod's own address first: the listener is up; then the host port, from the host's address and loopback
    await eventually(() => { expect(fetchToken(v.podIp, POD_PORT)).toBe(token); }, 10_000, 200);
    expect({ via: 'host address', got: fetchToken(hostIp(), HOST_PORT) }).toEqual({ via: 'host address', got: token });
    expect({ via: '127.0.0.1', got: fetchToken('127.0.0.1', HOST_PORT) }).toEqual({ via: '127.0.0.1', got: token });
    // what makes 127.0.0.1 work: portmap's snat sets route_localnet on the interface that routes to the pod
    expect(readFileSync(`/proc/sys/net/ipv4/conf/${v.hostVeth}/route_localnet`, 'utf8').trim()).toBe('1');
  } finally {
    server.kill('SIGKILL');
  }
}

function expectTraffic(v: Verify): void {
  const got = { hostToPod: pingFromHost(v.podIp), podToHost: pingFromPod(v.pod.ns, hostIp()) };
  // on failure, the pod's routes and neighbours say why (a MAC change drops routes and neighbours with the link)
  const why = got.hostToPod === 0 && got.podToHost === 0 ? '' : `pod routes: ${v.pod.ns.exec(['ip', 'route'])}pod neighbours: ${v.pod.ns.exec(['ip', 'neigh'])}`;
  expect({ ...got, why }).toEqual({ hostToPod: 0, podToHost: 0, why: '' });
}

/**
 * Debian's portmap 1.1.1 fails CHECK of every IPv4-only attachment: it also checks an IPv6 DNAT chain it never
 * created (containernetworking/plugins#819, fixed upstream after 1.1.1). Not the hub's fault: when that exact error
 * is portmap's, the plugins after it are checked on (each CHECK gets the same cached result) and portmap's own IPv4
 * chain is checked here instead.
 */
const PORTMAP_819 = /^could not check ipv6 dnat: chain (CNI-DN-[0-9a-f]+) not found in iptables table nat$/u;

function checkChain(driver: LibcniDriver, added: NonNullable<ReturnType<LibcniDriver['add']>['added']>): string {
  const check = driver.check(added);
  if (check.ok) return 'ok';
  const m = check.failed?.type === 'portmap' ? PORTMAP_819.exec(typeof check.failed.json?.msg === 'string' ? check.failed.json.msg : '') : null;
  if (m === null) return explain(check);
  const dnat = sh('iptables', ['-t', 'nat', '-S', m[1] ?? '']);
  if (!dnat.includes(`--to-destination`)) return `portmap's IPv4 DNAT chain ${m[1] ?? ''} has no DNAT rule:\n${dnat}`;
  const rest = pluginsOf(added.conflist).slice((check.failed?.index ?? 0) + 1);
  if (rest.length === 0) return 'ok';
  const after = driver.check({ ...added, conflist: { ...added.conflist, plugins: rest } });
  return after.ok ? 'ok' : explain(after);
}

const portmap = { type: 'portmap', capabilities: { portMappings: true }, snat: true };
const portMappings = [{ hostPort: HOST_PORT, containerPort: POD_PORT, protocol: 'tcp' }];
const MAC = 'c2:5e:13:00:00:2a';
/** containerd's CRI: rates in bit/s from the pod's annotations, burst hard-coded to MaxUint32 bits. */
const BANDWIDTH = { ingressRate: 10_000_000, ingressBurst: 4294967295, egressRate: 20_000_000, egressBurst: 4294967295 };

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'hub + portmap',
    plugins: [portmap],
    caps: { portMappings },
    shaper: false,
    verify: async (v) => {
      expectTraffic(v);
      await expectPorts(v);
    },
  },
  {
    name: 'hub + portmap + tuning (sysctl, runtime mac)',
    plugins: [portmap, { type: 'tuning', capabilities: { mac: true }, sysctl: { 'net.core.somaxconn': '1234' } }],
    caps: { portMappings, mac: MAC },
    shaper: false,
    verify: async (v) => {
      expect(v.pod.ns.exec(['cat', '/proc/sys/net/core/somaxconn']).trim()).toBe('1234');
      const eth0 = v.pod.ns.ipJson<{ address: string }[]>(['link', 'show', 'dev', 'eth0']);
      expect(eth0[0]?.address).toBe(MAC);
      const ifaces = (v.result.interfaces ?? []) as Json[];
      expect(ifaces.find((i) => i.name === 'eth0' && typeof i.sandbox === 'string')?.mac).toBe(MAC);
      expectTraffic(v); // after the MAC change
      await expectPorts(v);
    },
  },
  {
    name: 'hub + firewall',
    plugins: [{ type: 'firewall' }],
    caps: {},
    shaper: false,
    verify: (v) => {
      const rules = sh('iptables', ['-S', 'CNI-FORWARD']);
      expect(rules).toContain(`${v.podIp}/32`);
      expectTraffic(v);
    },
  },
  {
    name: 'hub + bandwidth (runtimeConfig.bandwidth as containerd passes it)',
    plugins: [{ type: 'bandwidth', capabilities: { bandwidth: true } }],
    caps: { bandwidth: BANDWIDTH },
    shaper: true,
    verify: (v) => {
      // the hub got no runtimeConfig.bandwidth (its entry does not claim it), the reference plugin did
      expect(v.add.runs[0]?.stdin.runtimeConfig).toBeUndefined();
      expect(v.add.runs[1]?.stdin.runtimeConfig).toEqual({ bandwidth: BANDWIDTH });
      const qdiscs = JSON.parse(sh('tc', ['-j', 'qdisc', 'show'])) as { kind: string; dev: string }[];
      const tbfs = qdiscs.filter((q) => q.kind === 'tbf');
      const ifbs = ipRows(['link', 'show', 'type', 'ifb']).map((l) => String(l.ifname));
      // shaping exactly once: one tbf on the host veth (ingress), one ifb with one tbf (egress), one redirect
      expect({ tbfs: tbfs.map((q) => q.dev).sort(), ifbs }).toEqual({ tbfs: [v.hostVeth, ...ifbs].sort(), ifbs: [expect.stringMatching(/^bwp/u)] });
      expect(qdiscs.filter((q) => q.kind === 'ingress').map((q) => q.dev)).toEqual([v.hostVeth]);
      expectTraffic(v);
    },
  },
];

/** The hub entry and versions the renderer is specified to produce, built from today's single-entry conflist. */
function handBuilt(hubOnly: Json, s: Scenario, versionsOf: (type: string) => string[]): Json {
  const hub = JSON.parse(JSON.stringify(pluginsOf(hubOnly)[0])) as Json;
  if (s.shaper) {
    const caps = { ...(hub.capabilities as Json | undefined) };
    delete caps.bandwidth;
    if (Object.keys(caps).length === 0) delete hub.capabilities;
    else hub.capabilities = caps;
    hub.shaping = false;
  }
  const plugins = [hub, ...s.plugins];
  const supported = plugins.map((p) => new Set(versionsOf(String(p.type))));
  const versions = offeredVersions(hubOnly).filter((v) => supported.every((set) => set.has(v)));
  return { cniVersion: versions[versions.length - 1], cniVersions: versions, name: hubOnly.name, plugins };
}

type Source = 'hand-built' | 'daemon-rendered';

d.each<Source>(['hand-built', 'daemon-rendered'])('%s conflist', (source) => {
  const tag = rand(4);
  const subnet = testSubnet(source === 'hand-built' ? '10.231' : '10.232').subnet3;

  describe.each(SCENARIOS.map((s, i) => ({ ...s, i })))('$name', (s) => {
    let daemon: RunningDaemon | undefined;
    let conflist: Json = {};
    const bin = tempDir('cs-bin-');
    const binDirs = [bin, REF];

    beforeAll(async () => {
      // the hub's binary, where a runtime (and the daemon, asking VERSION) finds it, next to the reference plugins
      symlinkSync(PLUGIN, join(bin, 'terway-hub'));
      daemon = await startDaemon({
        mode: 'vpc',
        podCIDR: `${subnet}.${String(s.i * 32)}/27`,
        networkName: `cs${tag}${String(s.i)}`,
        ...(source === 'daemon-rendered' ? { extra: { chain: s.plugins, cniBinDirs: binDirs } } : {}),
      });
      const probe = new LibcniDriver({ binDirs });
      conflist = source === 'hand-built' ? handBuilt(daemon.conflist(), s, (t) => probe.supportedVersions(t)) : daemon.conflist();
    }, 60_000);

    afterAll(async () => {
      await daemon?.stop();
      daemon?.cleanup();
      rmSync(bin, { recursive: true, force: true });
    });

    it('the conflist: hub first, the user plugins after in order, only versions every plugin supports, the hub not claiming a shaper it leaves to another', () => {
      const plugins = pluginsOf(conflist);
      expect(plugins[0]?.type).toBe('terway-hub');
      expect(plugins.slice(1)).toEqual(s.plugins);
      const probe = new LibcniDriver({ binDirs });
      const offered = offeredVersions(conflist);
      expect(offered.length).toBeGreaterThan(0);
      for (const p of plugins) {
        const supported = probe.supportedVersions(String(p.type));
        expect({ plugin: p.type, unsupported: offered.filter((v) => !supported.includes(v)) }).toEqual({ plugin: p.type, unsupported: [] });
      }
      expect(conflist.cniVersion).toBe(offered[offered.length - 1]);
      const hub = plugins[0] ?? {};
      const claims = (hub.capabilities as Json | undefined)?.bandwidth === true;
      expect({ claimsBandwidth: claims, shaping: hub.shaping }).toEqual(s.shaper ? { claimsBandwidth: false, shaping: false } : { claimsBandwidth: true, shaping: undefined });
    });

    /** One attachment through the whole chain as a libcni implementing exactly `version` picks it. */
    async function runAt(version: string): Promise<void> {
      const driver = new LibcniDriver({ binDirs, current: version });
      expect(driver.version(conflist)).toBe(version);
      const name = `cs${tag}${String(s.i)}${version.replace(/\./gu, '')}`;
      const hostBefore = snapshotHost();
      const nfBefore = snapshotNetfilter();
      const ns = createNetns(name);
      const att: Attachment = {
        containerId: `cs-${tag}-${String(s.i)}-${version}`,
        netns: ns.path,
        ifName: 'eth0',
        args: [['IgnoreUnknown', '1'], ['K8S_POD_NAMESPACE', 'chains'], ['K8S_POD_NAME', name], ['K8S_POD_INFRA_CONTAINER_ID', `cs-${tag}-${String(s.i)}-${version}`]],
        capabilityArgs: s.caps,
      };
      const podBefore = snapshotHost(ns.name);
      let cached: Json | undefined;
      try {
        const add = driver.add(conflist, att);
        expect(add.ok ? 'ok' : explain(add)).toBe('ok');
        cached = add.result ?? {};
        expect(cached.cniVersion).toBe(version);
        const ips = (cached.ips ?? []) as Json[];
        const address = ips[0]?.address;
        const podIp = (typeof address === 'string' ? address : '').split('/')[0] ?? '';
        const ifaces = (cached.interfaces ?? []) as Json[];
        const hostName = ifaces.find((i) => i.sandbox === undefined || i.sandbox === '')?.name;
        const hostVeth = typeof hostName === 'string' ? hostName : '';
        expect(hostVeth).toMatch(/^cali/u);
        await s.verify({ pod: { ns, att, name }, result: cached, podIp, hostVeth, add });

        if (compareVersions(version, '0.4.0') >= 0 && add.added) {
          expect(checkChain(driver, add.added)).toBe('ok');
        }
        const del = driver.del(conflist, att, cached);
        cached = undefined;
        expect(del.ok ? 'ok' : explain(del)).toBe('ok');
        expect(del.runs.map((r) => r.type)).toEqual(pluginsOf(conflist).map((p) => String(p.type)).reverse());
        expect({ pod: diffHost(podBefore, snapshotHost(ns.name)) }).toEqual({ pod: { added: [], removed: [] } });
        expect({ host: diffHost(hostBefore, snapshotHost()) }).toEqual({ host: { added: [], removed: [] } });
        const nfAfter = snapshotNetfilter();
        expect({ netfilter: netfilterResidue(nfBefore, nfAfter) }).toEqual({ netfilter: { added: [], removed: [] } });
        const shared = nfAfter.filter((l) => !nfBefore.includes(l));
        if (shared.length > 0) console.log(`${s.name} at ${version}: shared netfilter state the plugins keep after DEL:\n${shared.join('\n')}`);
        // a second DEL (no cache left) succeeds too
        const again = driver.del(conflist, att);
        expect(again.ok ? 'ok' : explain(again)).toBe('ok');
      } finally {
        if (cached !== undefined) driver.del(conflist, att, cached);
        ns.remove();
      }
    }

    it('at every cniVersion the conflist offers: ADD, the chain works, CHECK, DEL in reverse leaves nothing', async () => {
      const failures: string[] = [];
      for (const version of offeredVersions(conflist)) {
        try {
          await runAt(version);
        } catch (e) {
          failures.push(`cniVersion ${version}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      expect(failures).toEqual([]);
    }, 90_000);
  });
});

/**
 * Issue 13 defect 3, a hand-built chain whose hub entry still claims `bandwidth` in front of the reference
 * bandwidth plugin: the pod must not end up shaped twice or stuck; ADD is refused by the hub with an error naming
 * the conflict, and DEL through the chain leaves nothing.
 */
d('two shapers in a hand-built chain', () => {
  const tag = rand(4);
  let daemon: RunningDaemon;

  const bin = tempDir('cs-bin-');
  const binDirs = [bin, REF];

  beforeAll(async () => {
    symlinkSync(PLUGIN, join(bin, 'terway-hub'));
    daemon = await startDaemon({ mode: 'vpc', podCIDR: `${testSubnet('10.233').subnet3}.0/28`, networkName: `cs${tag}bw` });
  }, 60_000);
  afterAll(async () => {
    await daemon.stop();
    daemon.cleanup();
    rmSync(bin, { recursive: true, force: true });
  });

  it('ADD fails at the hub naming the bandwidth conflict; DEL leaves nothing', () => {
    const hubOnly = daemon.conflist();
    const hub = pluginsOf(hubOnly)[0] ?? {};
    expect((hub.capabilities as Json | undefined)?.bandwidth).toBe(true);
    // a hand-built chain in a conf dir, as a user writes one (the hub finds it by the network name, as libcni did)
    const confDir = tempDir('cs-conf-');
    const conflist = { ...hubOnly, cniVersion: '1.0.0', cniVersions: ['0.4.0', '1.0.0'], plugins: [{ ...hub, cniConfDir: confDir }, { type: 'bandwidth', capabilities: { bandwidth: true } }] };
    writeFileSync(join(confDir, '50-hand-built.conflist'), JSON.stringify(conflist));
    const driver = new LibcniDriver({ binDirs });
    const name = `cs${tag}bw`;
    const hostBefore = snapshotHost();
    const ns = createNetns(name);
    const att: Attachment = {
      containerId: `cs-${tag}-bw`,
      netns: ns.path,
      ifName: 'eth0',
      args: [['IgnoreUnknown', '1'], ['K8S_POD_NAMESPACE', 'chains'], ['K8S_POD_NAME', name]],
      capabilityArgs: { bandwidth: BANDWIDTH },
    };
    try {
      const add = driver.add(conflist, att);
      expect({ ok: add.ok, failedAt: add.failed?.type, run: explain(add) }).toMatchObject({ ok: false, failedAt: 'terway-hub', run: expect.stringMatching(/bandwidth/u) });
    } finally {
      // libcni: DEL after a failed ADD, no cached result
      const del = driver.del(conflist, att);
      expect(del.ok ? 'ok' : explain(del)).toBe('ok');
      ns.remove();
    }
    expect(diffHost(hostBefore, snapshotHost())).toEqual({ added: [], removed: [] });
  });
});
