/**
 * The daemon renders the whole chain with the REAL reference plugins (Debian containernetworking-plugins 1.1.1 in
 * /usr/lib/cni): each is asked VERSION, and the conflist offers only what every plugin supports — no 1.1.0 once
 * portmap (up to 1.0.0) is in the chain. ip/tc are faked; the plugins' VERSION runs for real.
 */
import { afterEach, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseDaemonConfig } from '../../../src/config/daemon-config.js';
import { Daemon } from '../../../src/daemon/daemon.js';
import { nodeAdapters } from '../../../src/main/adapters.js';
import { describeIf } from '../../helpers/privilege.js';
import { tempDir } from '../../helpers/tmp.js';

const REF = '/usr/lib/cni';
const PLUGINS = ['portmap', 'tuning', 'firewall', 'bandwidth'];
const haveRef = PLUGINS.every((p) => existsSync(join(REF, p)));

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startWith(extra: Record<string, unknown>): Promise<{ daemon: Daemon; conflist: () => { cniVersion: string; cniVersions: string[]; plugins: Record<string, unknown>[] } }> {
  const dir = tempDir('hub-chain-');
  cleanups.push(() => { rmSync(dir, { recursive: true, force: true }); });
  const cfg = parseDaemonConfig({
    mode: 'vpc',
    vpc: { podCIDR: '10.77.0.0/24' },
    socket: join(dir, 'run', 'daemon.sock'),
    stateDir: join(dir, 'state'),
    cniConfDir: join(dir, 'net.d'),
    cniLogFile: join(dir, 'log', 'cni.log'), // not /var/log on the test host (the daemon creates the directory)
    httpListen: '',
    ...extra,
  });
  const daemon = new Daemon(cfg, nodeAdapters({ sysctl: () => Promise.resolve(), runner: { run: () => Promise.resolve({ stdout: '', stderr: '', exitCode: 0 }) } }));
  await daemon.start();
  cleanups.push(() => daemon.stop());
  return { daemon, conflist: () => JSON.parse(readFileSync(daemon.conflistPath, 'utf8')) as never };
}

function supported(plugin: string): string[] {
  // a plugin may answer VERSION and exit before reading stdin: EPIPE on our write is not a failure when it answered
  const r = spawnSync(join(REF, plugin), [], { input: '{"cniVersion":"1.0.0"}', env: { CNI_COMMAND: 'VERSION', CNI_PATH: REF } });
  if (r.status !== 0) throw new Error(`${plugin} VERSION: exit ${String(r.status)} ${r.stderr.toString()} ${r.error?.message ?? ''}`);
  return (JSON.parse(r.stdout.toString()) as { supportedVersions: string[] }).supportedVersions;
}

describeIf(haveRef, `the reference plugins are not in ${REF} (apt-get install containernetworking-plugins)`)('daemon conflist with a chain of the reference plugins', () => {
  it('offers only the versions every plugin answers to VERSION: no 1.1.0 with portmap; hub first, the chain in order', async () => {
    const chain = [
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      { type: 'tuning', sysctl: { 'net.ipv4.conf.IFNAME.log_martians': '1' } },
      { type: 'firewall', backend: 'iptables' },
      { type: 'bandwidth', capabilities: { bandwidth: true } },
    ];
    const empty = tempDir('hub-nobin-');
    cleanups.push(() => { rmSync(empty, { recursive: true, force: true }); });
    const { conflist } = await startWith({ chain, cniBinDirs: [empty, REF] });
    const c = conflist();
    expect(c.cniVersions).toEqual(['0.4.0', '1.0.0']);
    expect(c.cniVersion).toBe('1.0.0');
    expect(c.cniVersions).not.toContain('1.1.0');
    for (const p of PLUGINS) for (const v of [...c.cniVersions, c.cniVersion]) expect({ p, v, ok: supported(p).includes(v) }).toEqual({ p, v, ok: true });
    expect(c.plugins.map((p) => p.type)).toEqual(['terway-hub', ...PLUGINS]);
    expect(c.plugins.slice(1)).toEqual(chain);
    // the chained bandwidth plugin shapes: the hub neither claims the capability nor shapes
    expect(c.plugins[0]).toMatchObject({ shaping: false, capabilities: {} });
  });

  it('portmap alone: 1.1.0 dropped, the hub keeps shaping and its bandwidth capability', async () => {
    const { conflist } = await startWith({ chain: [{ type: 'portmap', capabilities: { portMappings: true } }], cniBinDirs: [REF] });
    const c = conflist();
    expect(c.cniVersions).toEqual(['0.4.0', '1.0.0']);
    expect(c.plugins[0]).toEqual(expect.objectContaining({ capabilities: { bandwidth: true } }));
    expect(c.plugins[0]).not.toHaveProperty('shaping');
  });

  it('without a chain the conflist is as before (the hub versions, 1.1.0 included)', async () => {
    const { conflist } = await startWith({});
    expect(conflist()).toMatchObject({ cniVersion: '1.0.0', cniVersions: ['0.4.0', '1.0.0', '1.1.0'] });
    expect(conflist().plugins).toHaveLength(1);
  });

  it('refuses to start with a chain plugin it cannot find, naming the entry, the plugin and the dirs searched', async () => {
    await expect(startWith({ chain: [{ type: 'portmap' }, { type: 'no-such-plugin' }], cniBinDirs: ['/opt/cni/bin', REF] })).rejects.toThrow(
      'chain[1].type: plugin "no-such-plugin": no executable "no-such-plugin" found (searched /opt/cni/bin, /usr/lib/cni)',
    );
  });
});
