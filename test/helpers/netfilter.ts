/** Netfilter state for tests of chained plugins (portmap, firewall), which program iptables. */
import { sh } from './exec.js';

/**
 * iptables and ip6tables rules (`-save`, counters and comments dropped), one line per chain declaration or rule,
 * prefixed with family and table: `v4 nat -A POSTROUTING -j CNI-HOSTPORT-MASQ`. Chain plugins (portmap, firewall)
 * program netfilter, which snapshotHost does not see.
 */
export function snapshotNetfilter(netns?: string): string[] {
  const out: string[] = [];
  for (const [fam, cmd] of [['v4', 'iptables-save'], ['v6', 'ip6tables-save']] as const) {
    const text = netns === undefined ? sh(cmd, []) : sh('ip', ['netns', 'exec', netns, cmd]);
    let table = '';
    for (const line of text.split('\n')) {
      if (line.startsWith('*')) table = line.slice(1);
      else if (line.startsWith(':')) out.push(`${fam} ${table} ${line.replace(/ \[\d+:\d+\]$/u, '')}`);
      else if (line.startsWith('-A')) out.push(`${fam} ${table} ${line}`);
    }
  }
  return out.sort();
}

/**
 * What chained plugins leave on purpose after the last DEL: their shared top-level chains and the jumps into them,
 * which they create once and never remove (portmap: CNI-HOSTPORT-{DNAT,SETMARK,MASQ} in nat; firewall:
 * CNI-FORWARD and CNI-ADMIN in filter). Anything else netfilter keeps after DEL is residue.
 */
export const SHARED_NETFILTER: readonly RegExp[] = [
  /^v[46] nat :CNI-HOSTPORT-(DNAT|SETMARK|MASQ) -$/u,
  /^v[46] nat -A (PREROUTING|OUTPUT) -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT$/u,
  /^v[46] nat -A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ$/u,
  /^v[46] nat -A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000\/0x2000$/u,
  /^v[46] nat -A CNI-HOSTPORT-MASQ -m mark --mark 0x2000\/0x2000 -j MASQUERADE$/u,
  /^v[46] filter :CNI-(FORWARD|ADMIN) -$/u,
  // a table's built-in chains appear with the table (the first rule in it), with their default policy
  /^v[46] (filter|nat|mangle|raw) :(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) ACCEPT$/u,
  /^v[46] filter -A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD$/u,
  /^v[46] filter -A CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j CNI-ADMIN$/u,
];

/** Netfilter lines added since `before`, the shared chains above aside. */
export function netfilterResidue(before: readonly string[], after: readonly string[]): { added: string[]; removed: string[] } {
  const b = new Set(before);
  const a = new Set(after);
  return {
    added: after.filter((l) => !b.has(l) && !SHARED_NETFILTER.some((re) => re.test(l))),
    removed: before.filter((l) => !a.has(l)),
  };
}

