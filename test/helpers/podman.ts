/**
 * An isolated podman for end-to-end tests: its own storage, run root and containers.conf (CNI backend, the given
 * conf and plugin dirs), cgroupfs, no events, and a registry-free busybox image. The host's podman setup is never
 * touched; several instances (several "stores") can share one CNI network.
 */
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh, shTry, type Ran } from './exec.js';

export const BUSYBOX_IMAGE = 'localhost/hubbb:1';
/** `podman run` flags this machine needs (no CAP_SYS_RESOURCE: limits cannot be raised) plus NET_RAW for ping. */
export const RUN = ['--runtime', 'runc', 'run', '-d', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--cap-add', 'NET_RAW'] as const;

export interface IsolatedPodman {
  readonly root: string;
  (args: readonly string[]): Ran;
}

export function isolatedPodman(root: string, cni: { readonly confDir: string; readonly pluginDirs: readonly string[] }): IsolatedPodman {
  mkdirSync(root, { recursive: true });
  const dirs = cni.pluginDirs.map((d) => JSON.stringify(d)).join(', ');
  writeFileSync(join(root, 'containers.conf'), `[network]\nnetwork_backend = "cni"\nnetwork_config_dir = ${JSON.stringify(cni.confDir)}\ncni_plugin_dirs = [${dirs}]\n`);
  const env = { ...process.env, CONTAINERS_CONF: join(root, 'containers.conf') };
  const base = ['--root', join(root, 'storage'), '--runroot', join(root, 'run'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'none'];
  const podman = (args: readonly string[]): Ran => shTry('podman', [...base, ...args], { env, timeoutMs: 120_000 });
  return Object.assign(podman, { root });
}

/** Imports BUSYBOX_IMAGE (busybox-static and its applets) into `podman`'s store; returns the import's outcome. */
export function importBusybox(podman: IsolatedPodman): Ran {
  const rootfs = join(podman.root, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  sh('chmod', ['0755', join(rootfs, 'bin', 'busybox')]);
  for (const c of ['sh', 'ip', 'sleep', 'ping', 'nc', 'cat', 'echo']) symlinkSync('busybox', join(rootfs, 'bin', c));
  sh('tar', ['-C', rootfs, '-cf', join(podman.root, 'bb.tar'), '.']);
  return podman(['import', join(podman.root, 'bb.tar'), BUSYBOX_IMAGE]);
}
