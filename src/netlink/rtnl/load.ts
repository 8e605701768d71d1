/**
 * How the plugin binary picks its way of programming ip ops: the rtnetlink driver (./driver.ts) when it runs under
 * bun and libc loads, unless `TERWAY_HUB_NETLINK=iproute2` forces `ip -batch` for everything (a knob for operators
 * and for measuring one against the other). Anything else (Node.js: the daemon, GC) never loads it.
 */
import type { IpDriverSource } from '../ip-driver.js';
import { createRtnlDriver } from './driver.js';
import { loadLibc } from './socket.js';

export const NETLINK_ENV = 'TERWAY_HUB_NETLINK';

export function rtnlDriverSource(env: Readonly<Record<string, string | undefined>>): IpDriverSource {
  return async () => {
    if (env[NETLINK_ENV] === 'iproute2') return undefined;
    const sys = await loadLibc();
    return sys === undefined ? undefined : createRtnlDriver(sys);
  };
}
