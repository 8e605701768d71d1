/**
 * Finds the node's link that has a MAC now, from sysfs (`/sys/class/net/<name>/address`), as Terway finds an ENI:
 * by MAC, never by name (a cloud, a DEL's neutral name or the kernel after a vanished netns may have renamed it).
 * The daemon's netns is the node's, so these are the host's links.
 */
import { readFile, readdir } from 'node:fs/promises';
import type { IfName, MacAddr } from '../lib/brand.js';
import type { LinkByMac } from '../pool/eni-source.js';

export interface SysfsNet {
  list(): Promise<readonly string[]>;
  address(link: string): Promise<string>;
}

export const realSysfsNet: SysfsNet = {
  list: () => readdir('/sys/class/net'),
  address: (link) => readFile(`/sys/class/net/${link}/address`, 'utf8'),
};

export function linkByMacFrom(fs: SysfsNet = realSysfsNet): LinkByMac {
  return async (mac: MacAddr): Promise<IfName | undefined> => {
    const want = mac.toLowerCase();
    for (const name of await fs.list()) {
      // a link may vanish between the listing and the read
      const addr = await fs.address(name).then((t) => t.trim().toLowerCase(), () => '');
      if (addr === want) return name as IfName;
    }
    return undefined;
  };
}
