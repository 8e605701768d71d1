/**
 * The host side of an attached ENI, for privileged tests: when an ENI becomes InUse on the node's instance, a link
 * with that ENI's MAC appears in the host netns (one end of a veth pair, down, as a fresh ENI shows up), whose other
 * end sits in a "vSwitch" netns on a bridge holding the vSwitch gateway address; detach deletes the pair (from the
 * vSwitch side, so the ENI end goes wherever it was moved, as a detached ENI vanishes from a pod netns too).
 */
import { shAsync } from '../helpers/exec.js';
import type { Eni, HostLinkHook, VSwitch } from './state.js';

export interface NetnsHostLinks extends HostLinkHook {
  /** The vSwitch netns name of a vSwitch (created on first use). */
  vswitchNetns(vswId: string): string | undefined;
  /** The host link name given to an ENI (a dataplane must find it by MAC, not by this name). */
  linkName(eniId: string): string | undefined;
  /** Deletes every link and netns it created. */
  cleanup(): Promise<void>;
}

/** `prefix` (≤ 8 chars, e.g. `ae` + rand(4)) names every object: `<prefix>vN` netns, `<prefix>eN` / `<prefix>pN` links. */
export function netnsHostLinks(prefix: string): NetnsHostLinks {
  if (prefix.length > 8) throw new Error(`host link prefix too long: ${prefix}`);
  const nsOf = new Map<string, string>();
  const links = new Map<string, { host: string; peer: string; ns: string }>();
  /** Per ENI: the IPs the vSwitch delivers to its MAC (static neighbours), and the queue of changes. */
  const delivered = new Map<string, Set<string>>();
  const queues = new Map<string, Promise<void>>();
  let n = 0;

  // A VPC delivers an address to the ENI that owns it. Proxy ARP alone would let every ENI link answer for every
  // pod IP (the gateway then picks any ENI): the gateway's neighbour for each secondary IP is pinned to its ENI.
  const deliver = (eni: Eni): Promise<void> => {
    const run = async (): Promise<void> => {
      const l = links.get(eni.id);
      if (l === undefined) return;
      const have = delivered.get(eni.id) ?? new Set<string>();
      delivered.set(eni.id, have);
      const want = new Set(eni.ips.map((x) => x.ip)); // the primary IP too: a secondary ENI's primary IP may be a pod's
      for (const ip of want) {
        if (have.has(ip)) continue;
        await shAsync('ip', '-n', l.ns, 'neigh', 'replace', ip, 'lladdr', eni.mac, 'dev', 'br0', 'nud', 'permanent');
        have.add(ip);
      }
      for (const ip of have) {
        if (want.has(ip)) continue;
        await shAsync('ip', '-n', l.ns, 'neigh', 'del', ip, 'dev', 'br0').catch(() => undefined);
        have.delete(ip);
      }
    };
    const next = (queues.get(eni.id) ?? Promise.resolve()).then(run, run);
    queues.set(eni.id, next.catch(() => undefined));
    return next;
  };

  // Memoised as a promise: ENIs attached at once to one vSwitch must all wait for its netns and bridge (returning
  // the name before they exist let a second attach fail to enslave its link, leaving that ENI without carrier).
  const vswitches = new Map<string, Promise<string>>();
  const ensureVswitch = (vsw: VSwitch): Promise<string> => {
    const have = vswitches.get(vsw.id);
    if (have !== undefined) return have;
    const ns = `${prefix}v${String(nsOf.size)}`;
    nsOf.set(vsw.id, ns);
    const len = vsw.cidr.split('/')[1] ?? '24';
    const made = (async () => {
      await shAsync('ip', 'netns', 'add', ns);
      await shAsync('ip', '-n', ns, 'link', 'set', 'lo', 'up');
      await shAsync('ip', '-n', ns, 'link', 'add', 'br0', 'type', 'bridge');
      await shAsync('ip', '-n', ns, 'addr', 'add', `${vsw.gateway}/${len}`, 'dev', 'br0');
      await shAsync('ip', '-n', ns, 'link', 'set', 'br0', 'up');
      return ns;
    })();
    vswitches.set(vsw.id, made);
    return made;
  };

  return {
    async attached(eni: Eni, vsw: VSwitch) {
      const ns = await ensureVswitch(vsw);
      const k = n++;
      const host = `${prefix}e${String(k)}`;
      const peer = `${prefix}p${String(k)}`;
      await shAsync('ip', 'link', 'add', host, 'address', eni.mac, 'type', 'veth', 'peer', 'name', peer, 'netns', ns);
      // known before the next step can fail: a detach (or cleanup) always finds the pair it must remove
      links.set(eni.id, { host, peer, ns });
      await shAsync('ip', '-n', ns, 'link', 'set', peer, 'master', 'br0', 'up');
      // the VPC answers ARP for the ENI's secondary IPs (pods behind a veth-policy-routing host): proxy ARP stands in
      await shAsync('sysctl', '-qw', `net.ipv4.conf.${host}.proxy_arp=1`).catch(() => undefined);
      await deliver(eni);
    },
    addressesChanged: (eni: Eni) => deliver(eni),
    async detached(eni: Eni) {
      const l = links.get(eni.id);
      if (l === undefined) return;
      links.delete(eni.id);
      delivered.delete(eni.id);
      await shAsync('ip', '-n', l.ns, 'link', 'del', l.peer);
    },
    vswitchNetns: (id) => nsOf.get(id),
    linkName: (id) => links.get(id)?.host,
    async cleanup() {
      for (const l of links.values()) await shAsync('ip', '-n', l.ns, 'link', 'del', l.peer).catch(() => undefined);
      links.clear();
      for (const ns of nsOf.values()) await shAsync('ip', 'netns', 'del', ns).catch(() => undefined);
      nsOf.clear();
      vswitches.clear();
    },
  };
}
