/**
 * A real CNI runtime drives the hub: podman (libcni, network_backend "cni") with a network defined by the
 * conflist the daemon rendered. Containers get addresses, reach each other, and `podman rm` leaves no residue.
 * podman runs with its own storage, run root and containers.conf, so the host's podman setup is not touched.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, PLUGIN, startDaemon, type RunningDaemon } from '../helpers/hub.js';
import { diffHost, snapshotHost, type HostState } from '../helpers/host-state.js';
import { hasCommand, sh, shTry } from '../helpers/exec.js';
import { rand, testSubnet } from '../helpers/names.js';
import { BUSYBOX_IMAGE, importBusybox, isolatedPodman, RUN, type IsolatedPodman } from '../helpers/podman.js';
import { describePrivileged } from '../helpers/privilege.js';

const d = describePrivileged(
  'podman end-to-end test',
  [existsSync(PLUGIN), 'plugin binary missing: run npm run build'],
  [hasCommand('podman') && hasCommand('runc') && existsSync('/bin/busybox'), 'needs podman, runc and busybox-static (apt)'],
);

d('podman as the CNI runtime', () => {
  const tag = rand();
  let daemon: RunningDaemon;
  let before: HostState;
  let podman: IsolatedPodman;
  const subnet = testSubnet('10.214').subnet3;

  beforeAll(async () => {
    before = snapshotHost();
    daemon = await startDaemon({ mode: 'vpc', podCIDR: `${subnet}.0/24`, networkName: `hubpm${tag}` });
    const root = join(daemon.dir, 'podman');
    const bin = join(root, 'cni-bin');
    mkdirSync(bin, { recursive: true });
    copyFileSync(PLUGIN, join(bin, 'terway-hub'));
    sh('chmod', ['0755', join(bin, 'terway-hub')]);
    podman = isolatedPodman(root, { confDir: daemon.confDir, pluginDirs: [bin] });
    const imp = importBusybox(podman);
    expect(imp.code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    podman(['rm', '-f', '-a']);
    await daemon.stop();
    daemon.cleanup();
  });

  it('containers get addresses from the hub, reach each other, and podman rm leaves no residue', () => {
    const names = [`hubc1${tag}`, `hubc2${tag}`];
    const ips: string[] = [];
    for (const n of names) {
      const r = podman([...RUN, '--name', n, '--network', daemon.networkName, BUSYBOX_IMAGE, '/bin/sleep', '300']);
      expect({ code: r.code, err: r.stderr, logs: r.code === 0 ? '' : daemon.logs().slice(-3000) }).toMatchObject({ code: 0 });
      const addr = podman(['exec', n, '/bin/ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
      expect(addr.code).toBe(0);
      const m = /inet (\d+\.\d+\.\d+\.\d+)\/32/u.exec(addr.stdout);
      expect(m?.[1]).toMatch(new RegExp(`^${subnet.replace(/\./gu, '\\.')}\\.`, 'u'));
      ips.push(m?.[1] ?? '');
    }
    expect(new Set(ips).size).toBe(2);
    const p = podman(['exec', names[0] ?? '', '/bin/ping', '-c', '1', '-W', '2', ips[1] ?? '']);
    expect({ code: p.code, out: p.stdout, err: p.stderr }).toMatchObject({ code: 0 });

    for (const n of names) expect(podman(['rm', '-f', n]).code).toBe(0);
    expect(diffHost(before, snapshotHost())).toEqual({ added: [], removed: [] });
    const cache = '/var/lib/cni/results';
    const leftovers = existsSync(cache) ? readdirSync(cache).filter((f) => f.startsWith(`${daemon.networkName}-`)) : [];
    expect(leftovers).toEqual([]);
    const leases = shTry(process.execPath, [CLI, 'leases', '--config', daemon.configPath, '--json']);
    expect({ code: leases.code, err: leases.stderr }).toMatchObject({ code: 0 });
    expect(JSON.parse(leases.stdout)).toEqual([]);
  }, 180_000);
});
