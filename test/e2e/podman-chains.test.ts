/**
 * Issue 13 through a real CNI runtime: podman 4.3 (libcni, network_backend "cni") with the hub followed by Debian's
 * portmap (/usr/lib/cni). `podman run -p` reaches the container from the host's address and 127.0.0.1; `--ip` is
 * honoured (podman sends CNI_ARGS `IP=`); a container name used in two podman stores at once works in both (podman
 * passes `K8S_POD_NAME=<container name>` and no namespace); `podman rm` leaves no residue (netfilter: the plugins'
 * shared chains aside). The conflist is the daemon's hub entry + portmap at cniVersion 1.0.0, the version podman
 * 4.3's libcni takes (it predates `cniVersions`).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, PLUGIN, startDaemon, type RunningDaemon } from '../helpers/hub.js';
import { diffHost, snapshotHost, type HostState } from '../helpers/host-state.js';
import { hasCommand, sh, shTry } from '../helpers/exec.js';
import { hostAddress } from '../helpers/ip.js';
import { pluginsOf } from '../helpers/libcni.js';
import { rand, testSubnet } from '../helpers/names.js';
import { netfilterResidue, snapshotNetfilter } from '../helpers/netfilter.js';
import { BUSYBOX_IMAGE, importBusybox, isolatedPodman, RUN, type IsolatedPodman } from '../helpers/podman.js';
import { describePrivileged } from '../helpers/privilege.js';
import { eventually } from '../helpers/wait.js';

const REF = '/usr/lib/cni';

const d = describePrivileged(
  'podman chain end-to-end test',
  [existsSync(PLUGIN), 'plugin binary missing: run npm run build'],
  [hasCommand('podman') && hasCommand('runc') && existsSync('/bin/busybox'), 'needs podman, runc and busybox-static (apt)'],
  [existsSync(join(REF, 'portmap')) && hasCommand('iptables-save'), `needs ${REF}/portmap and iptables (apt containernetworking-plugins iptables)`],
);

d('podman: hub + portmap', () => {
  const tag = rand(4);
  const subnet = testSubnet('10.234').subnet3;
  const net = `cs${tag}pm`;
  let daemon: RunningDaemon;
  let hostBefore: HostState;
  let nfBefore: string[];
  let stores: IsolatedPodman[] = [];

  const ipOf = (podman: IsolatedPodman, name: string): string => {
    const r = podman(['exec', name, '/bin/ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    return /inet (\d+\.\d+\.\d+\.\d+)\/32/u.exec(r.stdout)?.[1] ?? `(none: ${r.stderr.trim()})`;
  };
  const started = (r: { code: number; stderr: string }): Record<string, unknown> => ({ code: r.code, err: r.code === 0 ? '' : `${r.stderr}\n${daemon.logs().slice(-2000)}` });

  beforeAll(async () => {
    hostBefore = snapshotHost();
    nfBefore = snapshotNetfilter();
    daemon = await startDaemon({ mode: 'vpc', podCIDR: `${subnet}.0/24`, networkName: net });
    const bin = join(daemon.dir, 'cni-bin');
    mkdirSync(bin, { recursive: true });
    copyFileSync(PLUGIN, join(bin, 'terway-hub'));
    sh('chmod', ['0755', join(bin, 'terway-hub')]);
    const confDir = join(daemon.dir, 'chain.d');
    mkdirSync(confDir);
    const hub = pluginsOf(daemon.conflist())[0];
    const conflist = { cniVersion: '1.0.0', name: net, plugins: [hub, { type: 'portmap', capabilities: { portMappings: true }, snat: true }] };
    writeFileSync(join(confDir, '10-chain.conflist'), JSON.stringify(conflist, null, 2));
    stores = ['a', 'b'].map((s) => isolatedPodman(join(daemon.dir, `podman-${s}`), { confDir, pluginDirs: [bin, REF] }));
    for (const p of stores) expect(importBusybox(p).code).toBe(0);
  }, 180_000);

  afterAll(async () => {
    for (const p of stores) p(['rm', '-f', '-a']);
    await daemon.stop();
    daemon.cleanup();
  });

  const podmanA = (): IsolatedPodman => stores[0] ?? (() => { throw new Error('no podman store'); })();
  const podmanB = (): IsolatedPodman => stores[1] ?? (() => { throw new Error('no podman store'); })();

  it('podman run -p HOSTPORT:PORT is reachable from the host address and 127.0.0.1; podman rm leaves no residue', async () => {
    const token = `cs-${rand(8)}`;
    const name = `cs${tag}web`;
    const r = podmanA()([...RUN, '--name', name, '--network', net, '-p', '18081:8080', BUSYBOX_IMAGE, '/bin/nc', '-ll', '-p', '8080', '-e', '/bin/echo', token]);
    expect(started(r)).toEqual({ code: 0, err: '' });
    const host = hostAddress() ?? '';
    const get = (ip: string): string => shTry('busybox', ['nc', '-w', '3', ip, '18081'], { timeoutMs: 10_000 }).stdout.trim();
    await eventually(() => { expect(get(host)).toBe(token); }, 10_000, 200);
    expect(get('127.0.0.1')).toBe(token);
    expect(podmanA()(['rm', '-f', name]).code).toBe(0);
    expect(diffHost(hostBefore, snapshotHost())).toEqual({ added: [], removed: [] });
    expect(netfilterResidue(nfBefore, snapshotNetfilter())).toEqual({ added: [], removed: [] });
    const cache = '/var/lib/cni/results';
    expect(existsSync(cache) ? readdirSync(cache).filter((f) => f.startsWith(`${net}-`)) : []).toEqual([]);
    const leases = shTry(process.execPath, [CLI, 'leases', '--config', daemon.configPath, '--json']);
    expect(JSON.parse(leases.stdout)).toEqual([]);
  }, 120_000);

  it('podman run --ip gives the container that address (CNI_ARGS IP=)', () => {
    const want = `${subnet}.77`;
    const name = `cs${tag}ip`;
    const r = podmanA()([...RUN, '--name', name, '--network', net, '--ip', want, BUSYBOX_IMAGE, '/bin/sleep', '300']);
    try {
      expect(started(r)).toEqual({ code: 0, err: '' });
      expect(ipOf(podmanA(), name)).toBe(want);
    } finally {
      podmanA()(['rm', '-f', name]);
    }
    expect(diffHost(hostBefore, snapshotHost())).toEqual({ added: [], removed: [] });
  }, 120_000);

  it('one container name in two podman stores: both containers keep working; rm leaves no residue', () => {
    const name = 'web';
    const ips: string[] = [];
    try {
      for (const p of [podmanA(), podmanB()]) {
        const r = p([...RUN, '--name', name, '--network', net, BUSYBOX_IMAGE, '/bin/sleep', '300']);
        expect(started(r)).toEqual({ code: 0, err: '' });
        ips.push(ipOf(p, name));
      }
      expect(new Set(ips).size).toBe(2);
      // the first container still has its network after the second one's ADD
      for (const ip of ips) expect({ ip, ping: shTry('ping', ['-c', '1', '-W', '2', ip]).code }).toEqual({ ip, ping: 0 });
      expect(podmanA()(['exec', name, '/bin/ping', '-c', '1', '-W', '2', ips[1] ?? '']).code).toBe(0);
    } finally {
      podmanA()(['rm', '-f', name]);
      podmanB()(['rm', '-f', name]);
    }
    expect(diffHost(hostBefore, snapshotHost())).toEqual({ added: [], removed: [] });
    expect(netfilterResidue(nfBefore, snapshotNetfilter())).toEqual({ added: [], removed: [] });
    const leases = shTry(process.execPath, [CLI, 'leases', '--config', daemon.configPath, '--json']);
    expect(JSON.parse(leases.stdout)).toEqual([]);
  }, 180_000);
});
