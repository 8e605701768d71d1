/**
 * How the plugin binary picks its way of programming ip ops: the rtnetlink driver (./driver.ts) when it runs under
 * bun and libc loads, unless `TERWAY_HUB_NETLINK=iproute2` forces `ip -batch` for everything (a knob for operators
 * and for measuring one against the other). Loading starts when the plugin builds its executor, so it overlaps the
 * wait for the daemon's answer (≈ 1 ms: bun:ffi and libc). Anything else (Node.js: the daemon, GC) never loads it.
 */
import type { IpDriverSource } from '../ip-driver.js';
import { createRtnlDriver } from './driver.js';
import { loadLibc } from './socket.js';

const NETLINK_ENV = 'TERWAY_HUB_NETLINK';

export function rtnlDriverSource(env: Readonly<Record<string, string | undefined>>): IpDriverSource {
  if (env[NETLINK_ENV] === 'iproute2') return () => Promise.resolve(undefined);
  // started now, while the plugin waits for the daemon's answer; a failure is the executor's to log (and fall back)
  const loading = loadLibc().then((sys) => (sys === undefined ? undefined : createRtnlDriver(sys)));
  loading.catch(() => undefined);
  return () => loading;
}
