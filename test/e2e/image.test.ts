/**
 * The container image builds with `podman build` from a local base (no registry): the init step's source path
 * exists in it and runs (the plugin answers CNI VERSION), the init step itself (`install-cni`) installs a
 * byte-identical executable into a mounted "host" CNI bin dir, the daemon's tools run, and the native SQLite
 * addon loads. podman runs with its own storage, so the host's images are not touched.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PLUGIN } from '../helpers/hub.js';
import { hasCommand } from '../helpers/exec.js';
import { MANIFESTS, build, find } from '../helpers/manifests.js';
import { describePrivileged } from '../helpers/privilege.js';
import { IMAGE_PLUGIN, buildImage } from '../../scripts/image-build.js';

const d = describePrivileged(
  'image build test',
  [existsSync(PLUGIN), 'plugin binary missing: run npm run build'],
  [hasCommand('podman') && hasCommand('runc'), 'needs podman and runc (apt install podman runc)'],
  [hasCommand('ldd') && hasCommand('tar'), 'needs ldd and tar to make the base from this host'],
);

type Container = { name: string; image: string; command: string[] };

d('the terway-hub image (Containerfile)', () => {
  const root = mkdtempSync(join(tmpdir(), 'mf-image-'));
  const store = ['--root', join(root, 'storage'), '--runroot', join(root, 'run'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'none'];
  const podman = (args: readonly string[]): string => execFileSync('podman', [...store, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
  const run = (args: readonly string[], opts: readonly string[] = []): string =>
    podman(['--runtime', 'runc', 'run', '--rm', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', ...opts, tag, ...args]);
  const spec = (find(build(join(MANIFESTS, 'base')), 'DaemonSet', 'terway-hub') as unknown as { spec: { template: { spec: { initContainers: Container[] } } } }).spec.template.spec;
  const install = spec.initContainers.find((c) => c.name === 'install-cni');
  let tag = '';
  let seconds = 0;

  beforeAll(() => {
    const t0 = Date.now();
    tag = buildImage(podman);
    seconds = (Date.now() - t0) / 1000;
    process.stdout.write(`image: built ${tag} in ${seconds.toFixed(1)} s\n`);
  }, 240_000);
  afterAll(() => {
    try {
      podman(['rmi', '-a', '-f']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('is the image the DaemonSet names', () => {
    expect(install?.image).toBe(tag);
    console.log(`image: built in ${seconds.toFixed(1)} s`); // a figure, not a limit: timing belongs in benchmarks
  });

  it("has the init step's source binary, which runs (CNI VERSION)", () => {
    const from = install?.command[install.command.indexOf('--from') + 1];
    expect(from).toBe(IMAGE_PLUGIN);
    const out = run([from ?? ''], ['-e', 'CNI_COMMAND=VERSION']);
    expect((parse(out) as { supportedVersions: string[] }).supportedVersions).toContain('1.0.0');
  });

  it('runs the init step as the DaemonSet does: the host dir gets an identical executable, no temp file left', () => {
    const host = join(root, 'cni-bin');
    execFileSync('mkdir', ['-p', host]);
    const to = install?.command[install.command.indexOf('--to') + 1] ?? '';
    run(install?.command ?? [], ['-v', `${host}:${to}`]);
    const installed = join(host, 'terway-hub');
    expect(readFileSync(installed).equals(readFileSync(PLUGIN))).toBe(true);
    expect(statSync(installed).mode & 0o777).toBe(0o755);
    expect(execFileSync('ls', ['-A', host], { encoding: 'utf8' }).trim()).toBe('terway-hub');
  });

  it('has the tools the daemon execs and a loadable native SQLite addon', () => {
    for (const [tool, flag, expected] of [['nft', '--version', /nftables v/u], ['conntrack', '--version', /conntrack v/u], ['iptables', '--version', /iptables v/u], ['ip', '-V', /iproute2/u], ['tc', '-V', /iproute2/u], ['nsenter', '--version', /util-linux/u], ['sysctl', '--version', /procps/u]] as const) {
      expect(run([tool, flag])).toMatch(expected);
    }
    const sqlite = run(['node', '--input-type=module', '-e', "import Database from 'better-sqlite3'; process.stdout.write(new Database(':memory:').prepare('select 1 + 1 as v').get().v.toString())"]);
    expect(sqlite).toBe('2');
    expect(run(['node', '/opt/terway-hub/dist/main/cli.js', '--help'])).toMatch(/install-cni/u);
  });
});
