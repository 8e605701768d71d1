/**
 * Issue 13, defect 3 (two shapers) through the REAL plugin binary and daemon. The daemon, given a chain with the
 * reference `bandwidth` plugin, renders the hub entry with `"shaping": false` and without the bandwidth capability;
 * with that entry the hub shapes nothing even when runtimeConfig.bandwidth reaches it (CHECK expects nothing).
 * A hand-built chain that still has two shapers (the hub entry claiming bandwidth, plus `bandwidth`) is refused at
 * ADD with code 7 naming both entries and the fix, before allocating: the host and the lease store stay unchanged.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { callPlugin, PLUGIN, startDaemon, type RunningDaemon } from '../helpers/hub.js';
import { diffHost, snapshotHost } from '../helpers/host-state.js';
import { createNetns, type TestNetns } from '../helpers/netns.js';
import { sh } from '../helpers/exec.js';
import { rand, testSubnet } from '../helpers/names.js';
import { describePrivileged } from '../helpers/privilege.js';

const REF = '/usr/lib/cni';
const d = describePrivileged(
  'two shapers (plugin binary + daemon)',
  [existsSync(PLUGIN), `plugin binary missing at ${PLUGIN}: run npm run build`],
  [existsSync(join(REF, 'bandwidth')) && existsSync(join(REF, 'portmap')), `the reference plugins are not in ${REF}`],
);

d('two shapers in one chain', () => {
  const tag = rand();
  const subnet = testSubnet('10.219').subnet3;
  let daemon: RunningDaemon;
  let ns: TestNetns;
  let confs: string;
  const limits = { runtimeConfig: { bandwidth: { ingressRate: 8_000_000, ingressBurst: 1_000_000, egressRate: 8_000_000, egressBurst: 1_000_000 } } };

  beforeAll(async () => {
    daemon = await startDaemon({
      mode: 'vpc',
      podCIDR: `${subnet}.0/24`,
      chain: [{ type: 'portmap', capabilities: { portMappings: true } }, { type: 'bandwidth', capabilities: { bandwidth: true } }],
      cniBinDirs: ['/opt/cni/bin', REF],
    });
    ns = createNetns(`cr-${tag}`);
    confs = join(daemon.dir, 'hand-built.d');
    mkdirSync(confs);
  });
  afterAll(async () => {
    ns.remove();
    await daemon.stop();
    daemon.cleanup();
  });

  const plugins = (): Record<string, unknown>[] => daemon.conflist().plugins as Record<string, unknown>[];
  const stdinOf = (entry: Record<string, unknown>, extra: Record<string, unknown> = {}): string =>
    JSON.stringify({ cniVersion: daemon.conflist().cniVersion, name: daemon.networkName, ...entry, ...extra });
  const call = (command: string, id: string) => ({ command, containerId: id, netns: ns.path, ifName: 'eth0', args: 'IgnoreUnknown=1' });

  it('the rendered chain: the hub entry says "shaping": false and claims no bandwidth; versions capped at 1.0.0', () => {
    expect(daemon.conflist()).toMatchObject({ cniVersion: '1.0.0', cniVersions: ['0.4.0', '1.0.0'] });
    expect(plugins().map((p) => p.type)).toEqual(['terway-hub', 'portmap', 'bandwidth']);
    expect(plugins()[0]).toMatchObject({ shaping: false, capabilities: {} });
  });

  it('with the rendered entry the hub shapes nothing, even handed runtimeConfig.bandwidth; CHECK passes; DEL cleans', () => {
    const before = snapshotHost();
    const id = `ok${tag}`;
    const hub = plugins()[0] ?? {};
    const add = callPlugin(call('ADD', id), stdinOf(hub, limits));
    expect({ code: add.code, err: add.stderr }).toMatchObject({ code: 0 });
    const result = add.json as { interfaces: { name: string; sandbox?: string }[] };
    expect(result.interfaces).toHaveLength(2); // host veth, pod interface: no ifb
    const hostVeth = result.interfaces[0]?.name ?? '';
    expect(sh('tc', ['qdisc', 'show', 'dev', hostVeth])).not.toMatch(/tbf|ingress/u);
    const check = callPlugin(call('CHECK', id), stdinOf(hub, { ...limits, prevResult: add.json }));
    expect({ code: check.code, out: check.stdout }).toEqual({ code: 0, out: '' });
    const del = callPlugin(call('DEL', id), stdinOf(hub, { prevResult: add.json }));
    expect(del.code).toBe(0);
    expect(diffHost(before, snapshotHost())).toEqual({ added: [], removed: [] });
  });

  it('a hand-built chain with two shapers is refused at ADD: code 7 naming both entries and the fix; nothing allocated or changed', () => {
    const hub: Record<string, unknown> = { ...plugins()[0], capabilities: { bandwidth: true, portMappings: true }, cniConfDir: confs };
    delete hub.shaping;
    const file = join(confs, '10-mine.conflist');
    writeFileSync(file, JSON.stringify({ cniVersion: '1.0.0', name: daemon.networkName, plugins: [hub, { type: 'portmap', capabilities: { portMappings: true } }, { type: 'bandwidth', capabilities: { bandwidth: true } }] }));
    const before = snapshotHost();
    const r = callPlugin(call('ADD', `two${tag}`), stdinOf(hub, limits));
    expect(r.code).not.toBe(0);
    expect(r.json).toMatchObject({ code: 7, msg: 'two bandwidth shapers in one chain' });
    const details = (r.json as { details: string }).details;
    expect(details).toContain(`network "${daemon.networkName}" in ${file}: plugins[0] ("terway-hub") and plugins[2] ("bandwidth") both shape pod bandwidth`);
    expect(details).toContain('set "shaping": false on the terway-hub entry');
    expect(diffHost(before, snapshotHost())).toEqual({ added: [], removed: [] });
    expect(ns.ipJson<{ ifname: string }[]>(['link', 'show']).map((l) => l.ifname)).toEqual(['lo']);
    // nothing was allocated: CHECK does not know the attachment
    const check = callPlugin(call('CHECK', `two${tag}`), stdinOf(hub));
    expect((check.json as { code: number }).code).toBe(3);

    // the same hand-built chain without the second shaper shapes as before (the check found the conflist, no conflict)
    writeFileSync(file, JSON.stringify({ cniVersion: '1.0.0', name: daemon.networkName, plugins: [hub, { type: 'portmap', capabilities: { portMappings: true } }] }));
    const ok = callPlugin(call('ADD', `one${tag}`), stdinOf(hub, limits));
    expect({ code: ok.code, err: ok.stderr }).toMatchObject({ code: 0 });
    const hostVeth = (ok.json as { interfaces: { name: string }[] }).interfaces[0]?.name ?? '';
    expect(sh('tc', ['qdisc', 'show', 'dev', hostVeth])).toMatch(/tbf/u);
    expect(callPlugin(call('DEL', `one${tag}`), stdinOf(hub, { prevResult: ok.json })).code).toBe(0);
    expect(diffHost(before, snapshotHost())).toEqual({ added: [], removed: [] });
    rmSync(file);
  });
});
