/**
 * The Debian packages the demo and the test suites use, installed when missing, so the README's two commands work
 * on a fresh Debian 12 exactly as written (they run as root). Each package is checked by a file it ships; only
 * what is missing is installed, and what is installed is printed. `TERWAY_HUB_NO_INSTALL=1` turns installing off
 * (the suites that need a missing tool then skip, saying why).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface Prereq {
  /** The Debian package. */
  readonly pkg: string;
  /** A file the package installs: present → the package counts as installed. */
  readonly file: string;
  /** Why the project needs it. */
  readonly why: string;
}

export const DEMO_PREREQS: readonly Prereq[] = [
  { pkg: 'iproute2', file: '/usr/sbin/ip', why: 'ip/tc: the executor and every network check' },
  { pkg: 'procps', file: '/usr/sbin/sysctl', why: 'sysctl for the demo vSwitch' },
  { pkg: 'util-linux', file: '/usr/bin/nsenter', why: 'nsenter/unshare: pod namespaces, hermetic test runs' },
  { pkg: 'nftables', file: '/usr/sbin/nft', why: 'the builtin NetworkPolicy backend (its rules are nftables)' },
  { pkg: 'conntrack', file: '/usr/sbin/conntrack', why: 'the builtin policy backend cutting denied flows' },
];

export const TEST_PREREQS: readonly Prereq[] = [
  ...DEMO_PREREQS,
  { pkg: 'iputils-ping', file: '/usr/bin/ping', why: 'connectivity checks in the privileged suites' },
  { pkg: 'tar', file: '/usr/bin/tar', why: 'the podman test image' },
  { pkg: 'iperf3', file: '/usr/bin/iperf3', why: 'bandwidth measurements' },
  { pkg: 'iptables', file: '/usr/sbin/iptables', why: 'the reference portmap/firewall plugins' },
  { pkg: 'containernetworking-plugins', file: '/usr/lib/cni/portmap', why: 'the reference CNI plugins (chains, benchmarks)' },
  { pkg: 'podman', file: '/usr/bin/podman', why: 'a real CNI runtime (libcni)' },
  { pkg: 'runc', file: '/usr/sbin/runc', why: "podman's OCI runtime" },
  { pkg: 'busybox-static', file: '/bin/busybox', why: 'a container root file system without a registry' },
];

function apt(args: readonly string[]): boolean {
  const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return r.status === 0;
}

/** Installs the missing packages of `list` (root, apt-get present, not turned off); returns what is still missing. */
export function ensurePrereqs(list: readonly Prereq[], who: string): readonly Prereq[] {
  const missing = list.filter((p) => !existsSync(p.file));
  if (missing.length === 0) return [];
  const names = missing.map((p) => p.pkg);
  const why = missing.map((p) => `${p.pkg} (${p.why})`).join(', ');
  if (process.env.TERWAY_HUB_NO_INSTALL === '1' || process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    console.log(`${who}: not installing missing packages ${why}: ${process.getuid?.() !== 0 ? 'not root' : 'installing is turned off or apt-get is absent'}`);
    return missing;
  }
  console.log(`${who}: installing ${names.join(' ')} with apt-get: ${why}`);
  const ok = apt(['update', '-qq']) && apt(['install', '-y', '-qq', '--no-install-recommends', ...names]);
  const still = missing.filter((p) => !existsSync(p.file));
  if (!ok || still.length > 0) console.log(`${who}: apt-get could not install ${still.map((p) => p.pkg).join(' ') || names.join(' ')}; what needs it will say so`);
  return still;
}
