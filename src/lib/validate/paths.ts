/**
 * One validator per path concept, used by both the daemon and the plugin. Each returns a problem (without the
 * value; the caller quotes it) or undefined. Pure; the plugin loads it.
 */
import { utf8Length } from '../text.js';

/** Linux PATH_MAX, including the terminating NUL. */
export const PATH_MAX = 4096;
/** sockaddr_un.sun_path is 108 bytes including the terminating NUL. */
export const SUN_PATH_MAX = 107;

/** An absolute path the kernel can take: starts with '/', no NUL, shorter than PATH_MAX bytes. */
export function absolutePathProblem(v: string): string | undefined {
  if (!v.startsWith('/')) return 'must be an absolute path';
  if (v.includes('\0')) return 'must not contain a NUL byte';
  if (utf8Length(v) >= PATH_MAX) return `must be shorter than ${String(PATH_MAX)} bytes`;
  return undefined;
}

/** A unix socket path (the daemon's RPC socket, as the daemon binds it and the plugin dials it). */
export function socketPathProblem(v: string): string | undefined {
  const p = absolutePathProblem(v);
  if (p !== undefined) return p;
  const n = utf8Length(v);
  return n > SUN_PATH_MAX ? `is ${String(n)} bytes; a unix socket path holds at most ${String(SUN_PATH_MAX)}` : undefined;
}

/**
 * A network namespace path (`CNI_NETNS`, the lease's netns): absolute. Whether it is a network namespace is a
 * question for the file system (src/lib/netns-check.ts); whether it fits an `ip -batch` line for netlink/render.
 */
export function netnsPathProblem(v: string): string | undefined {
  const p = absolutePathProblem(v);
  return p === undefined ? undefined : `netns ${p}`;
}
