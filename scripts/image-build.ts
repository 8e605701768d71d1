/**
 * The container image without a registry (`bun scripts/image.ts [--tag T] [--base IMAGE]`, after `npm run build`).
 *
 * 1. Base: unless `--base` names one (any glibc image with node 20 and the tools below on PATH), a base is made
 *    from this host: its node binary, the tools the daemon execs (ip, tc, nft, conntrack, iptables/ip6tables nft and
 *    legacy, nsenter, sysctl, modprobe, sh) and the shared libraries they load, imported as BASE_TAG.
 * 2. App: the production dependencies (`npm ls --omit=dev`: better-sqlite3 with its native addon built for this
 *    node) staged under tmp/image/app, then `podman build -f Containerfile` with BASE as its base.
 *
 * The podman command is the caller's (tests pass an isolated store). argv only; every failure throws.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const IMAGE_TAG = 'localhost/terway-hub:0.1.0';
export const BASE_TAG = 'localhost/terway-hub-base:host';
export const STAGE = join(ROOT, 'tmp', 'image');
/** Where the image has the plugin binary: the Containerfile copies dist/ to /opt/terway-hub/dist. */
export const IMAGE_PLUGIN = '/opt/terway-hub/dist/bin/terway-hub';

/** Host files of the base (symlinks kept as links, their targets added too). ipset is not among them: see the README. */
export const HOST_TOOLS = [
  '/usr/bin/node', '/usr/sbin/ip', '/usr/sbin/tc', '/usr/sbin/nft', '/usr/sbin/conntrack', '/usr/bin/nsenter', '/usr/sbin/sysctl',
  '/usr/sbin/modprobe', '/usr/bin/dash', '/usr/sbin/iptables', '/usr/sbin/ip6tables', '/usr/sbin/iptables-save', '/usr/sbin/iptables-restore',
  '/usr/sbin/iptables-nft-save', '/usr/sbin/ip6tables-nft-save', '/usr/sbin/iptables-legacy-save', '/usr/sbin/ip6tables-legacy-save',
] as const;
const XTABLES_MODULES = '/usr/lib/x86_64-linux-gnu/xtables';

export type Podman = (args: readonly string[]) => string;

const run = (file: string, args: readonly string[], cwd = ROOT): string => execFileSync(file, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });

/** Copies `path` into `rootfs` at the same place; a symlink stays a link (alternatives chains included) and its target is copied too. */
function copyHostFile(path: string, rootfs: string, seen: Set<string>): void {
  if (seen.has(path)) return;
  seen.add(path);
  const dest = join(rootfs, path);
  mkdirSync(dirname(dest), { recursive: true });
  if (lstatSync(path).isSymbolicLink()) {
    const target = readlinkSync(path);
    rmSync(dest, { force: true });
    symlinkSync(target, dest);
    copyHostFile(resolve(dirname(path), target), rootfs, seen);
    return;
  }
  cpSync(path, dest, { dereference: false, preserveTimestamps: true });
}

/** The libraries an ELF file loads (ldd), the loader included. */
function sharedLibraries(file: string): string[] {
  return [...run('ldd', [file]).matchAll(/(\/\S+) \(0x/gu)].map((m) => m[1] ?? '').filter((p) => p !== '');
}

/** Stages the host-derived base rootfs and returns the tarball `podman import` takes. */
export function stageBase(dir = join(STAGE, 'base')): string {
  const rootfs = join(dir, 'rootfs');
  rmSync(dir, { recursive: true, force: true });
  const seen = new Set<string>();
  for (const tool of HOST_TOOLS) if (existsSync(tool)) copyHostFile(tool, rootfs, seen);
  if (existsSync(XTABLES_MODULES)) cpSync(XTABLES_MODULES, join(rootfs, XTABLES_MODULES), { recursive: true });
  const elves = [...seen].filter((p) => !lstatSync(p).isSymbolicLink());
  const xt = existsSync(XTABLES_MODULES) ? run('find', [XTABLES_MODULES, '-name', '*.so']).split('\n').filter((l) => l !== '') : [];
  for (const lib of new Set([...elves, ...xt].flatMap(sharedLibraries))) copyHostFile(lib, rootfs, seen);
  for (const d of ['bin', 'tmp', 'run', 'etc', 'var']) mkdirSync(join(rootfs, d), { recursive: true });
  symlinkSync('/usr/bin/dash', join(rootfs, 'bin', 'sh'));
  symlinkSync('/run', join(rootfs, 'var', 'run'));
  writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(rootfs, 'etc', 'group'), 'root:x:0:\n');
  const tar = join(dir, 'base.tar');
  run('tar', ['-C', rootfs, '-cf', tar, '.']);
  return tar;
}

/** Stages package.json and the production node_modules (what `npm ls --omit=dev` lists) for the Containerfile. */
export function stageApp(dir = join(STAGE, 'app')): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  const paths = run('npm', ['ls', '--omit=dev', '--all', '--parseable']).split('\n').filter((p) => p.startsWith(join(ROOT, 'node_modules')));
  for (const p of paths) cpSync(p, join(dir, relative(ROOT, p)), { recursive: true, dereference: false });
}

/** Builds IMAGE_TAG (or `tag`) from the staged app and `base` (imported from this host when undefined). */
export function buildImage(podman: Podman, opts: { readonly tag?: string | undefined; readonly base?: string | undefined } = {}): string {
  if (!existsSync(join(ROOT, 'dist', 'bin', 'terway-hub'))) throw new Error('dist/bin/terway-hub is missing: run npm run build first');
  const base = opts.base ?? BASE_TAG;
  if (opts.base === undefined) podman(['import', stageBase(), BASE_TAG]);
  stageApp();
  const tag = opts.tag ?? IMAGE_TAG;
  podman(['build', '--pull=never', '--build-arg', `BASE=${base}`, '-t', tag, '-f', join(ROOT, 'Containerfile'), ROOT]);
  return tag;
}
