/**
 * Is a path a namespace file, before ADD/CHECK allocate anything? Cheap and process-free: two stat(2) calls.
 *
 * Every namespace file (`/var/run/netns/NAME` bind mounts, `/proc/PID/ns/net`) is an inode of nsfs, and nsfs is a
 * single kernel-internal mount: all its inodes share one st_dev. So a path whose st_dev equals that of
 * `/proc/self/ns/net` (always present while /proc is mounted) is a namespace; a regular file, a directory, a
 * device, or `/var/run/netns/NAME` left behind unmounted (a tmpfs empty file) is not.
 * Considered and not used: statfs f_type == NSFS_MAGIC (no statfs in Node/bun), scanning /proc/self/mountinfo
 * (reads and parses the whole table, and misses /proc/PID/ns/* which are not mounts), NS_GET_NSTYPE (an ioctl).
 * Limit: the st_dev test cannot tell a network namespace from another kind (`/proc/PID/ns/mnt`); entering such a
 * file fails later in setns(2) with EINVAL, and ADD rolls back as for any command failure.
 */
import { stat } from 'node:fs/promises';

export type NetnsVerdict =
  | { readonly kind: 'namespace' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'not-a-namespace'; readonly what: string }
  /** A stat was refused (EACCES, /proc not mounted): left to setns(2) to decide. `seen`: the path itself stat'ed. */
  | { readonly kind: 'unknown'; readonly seen: boolean; readonly why: string };

const REFERENCE = '/proc/self/ns/net';

function describe(s: Awaited<ReturnType<typeof stat>>): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFile()) return s.size === 0 ? 'an empty regular file (an unmounted netns?)' : 'a regular file';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isSocket()) return 'a socket';
  return 'not a namespace file';
}

export async function netnsVerdict(path: string, reference = REFERENCE): Promise<NetnsVerdict> {
  let target: Awaited<ReturnType<typeof stat>>;
  try {
    target = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    return { kind: 'unknown', seen: false, why: `stat ${path}: ${String(code)}` };
  }
  let ref: Awaited<ReturnType<typeof stat>>;
  try {
    ref = await stat(reference);
  } catch (err) {
    return { kind: 'unknown', seen: true, why: `stat ${reference}: ${String((err as NodeJS.ErrnoException).code)}` };
  }
  return target.dev === ref.dev ? { kind: 'namespace' } : { kind: 'not-a-namespace', what: describe(target) };
}

/** For ADD/CHECK: a problem to refuse with (code 4), or undefined (a namespace, or undecidable here). */
export async function netnsProblem(path: string): Promise<string | undefined> {
  const v = await netnsVerdict(path);
  switch (v.kind) {
    case 'namespace':
    case 'unknown':
      return undefined;
    case 'missing':
      return 'CNI_NETNS does not exist';
    case 'not-a-namespace':
      return `CNI_NETNS is not a namespace file (${v.what})`;
  }
}

/**
 * For DEL (and teardown steps): whether pod-side ops can enter it. A missing or non-namespace path counts as gone
 * (host ops only), as does a path that cannot be stat'ed (what `access` answered before); DEL tolerates all three.
 */
export async function netnsUsable(path: string): Promise<boolean> {
  const v = await netnsVerdict(path);
  return v.kind === 'namespace' || (v.kind === 'unknown' && v.seen);
}
