/**
 * What Felix and Cilium leave on a node when they stop (reference backends.md, "One backend per node"; Terway's
 * policy/uninstall_policy.sh cleanup_felix). Data only: the daemon cleans it when it switches backends. Pure.
 */
import { HOST_TABLE } from './builtin/tables.js';
import type { Residue } from './types.js';

const ALL_TABLES = ['raw', 'mangle', 'nat', 'filter'] as const;

/** Felix (iptables dataplane): `cali-` chains, `cali:`-commented rules, cali40/cali60 ipsets, endpoint-status files. */
export function felixResidue(): Residue {
  return {
    backend: 'felix',
    iptables: {
      families: ['ipv4', 'ipv6'],
      flavours: ['legacy', 'nft'],
      tables: ALL_TABLES,
      chainPrefixes: ['cali-'],
      ruleCommentPrefixes: ['cali:'],
      forwardPolicyAccept: true,
    },
    // Felix's native nftables mode (v3.29+, NFTablesMode=Enabled/Auto) keeps its rules in table `calico`.
    nftTables: [
      { family: 'ip', name: 'calico' },
      { family: 'ip6', name: 'calico' },
    ],
    ipsetPrefixes: ['cali40', 'cali60'],
    links: [],
    tcProgramsOnLinkPrefixes: [],
    paths: ['/var/run/calico/endpoint-status'],
    conflistPluginTypes: [],
    sysctls: { 'net.ipv4.ip_forward': '1' },
  };
}

/**
 * Cilium: `CILIUM_` chains and `cilium`-commented feeder rules, cilium_host/cilium_net, its tc programs on the pod
 * veths (the hub's prefix), pinned maps, endpoint state, and its entry in the conflist.
 */
export function ciliumResidue(vethPrefix: string, cniType = 'cilium-cni'): Residue {
  return {
    backend: 'cilium',
    iptables: {
      families: ['ipv4', 'ipv6'],
      flavours: ['legacy', 'nft'],
      tables: ALL_TABLES,
      chainPrefixes: ['CILIUM_'],
      ruleCommentPrefixes: ['cilium-feeder:', 'cilium:'],
      forwardPolicyAccept: false,
    },
    nftTables: [],
    ipsetPrefixes: ['cilium_'],
    links: ['cilium_host', 'cilium_net'],
    tcProgramsOnLinkPrefixes: [vethPrefix],
    paths: ['/sys/fs/bpf/tc/globals/cilium_*', '/var/run/cilium/state', '/var/run/cilium/cilium.sock'],
    conflistPluginTypes: [cniType],
    sysctls: {},
  };
}

/**
 * The builtin backend: its host table `inet terway-hub` (veth modes). The tables inside pod netns (ipvlan, eni) are
 * removed by the daemon's enforcer itself when the backend is swapped out: it knows the pods' netns from its leases.
 */
export function builtinResidue(): Residue {
  return {
    backend: 'builtin',
    iptables: { families: [], flavours: [], tables: [], chainPrefixes: [], ruleCommentPrefixes: [], forwardPolicyAccept: false },
    nftTables: [{ family: 'inet', name: HOST_TABLE }],
    ipsetPrefixes: [],
    links: [],
    tcProgramsOnLinkPrefixes: [],
    paths: [],
    conflistPluginTypes: [],
    sysctls: {},
  };
}
