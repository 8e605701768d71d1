/**
 * rtnetlink requests for the ip ops of a plan (./../ops.ts), pure: each builder takes what the kernel needs
 * (ifindexes and netns fds already resolved by ./driver.ts) and returns one message, with the same header fields and
 * flags `ip` (iproute2) sends for the rendered line (./../render.ts), so the kernel ends in the same state and
 * answers with the same errors: `replace` = CREATE|REPLACE, `rule add` and `link add` = CREATE|EXCL (so an existing
 * rule or link is EEXIST), deletes = plain requests. Every request asks for an ACK.
 */
import { message, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST, ipv4Bytes, ipv4Prefix, macBytes, type NlWriter } from './wire.js';

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RTM_NEWNEIGH = 28;
const RTM_NEWRULE = 32;
const RTM_DELRULE = 33;

const AF_UNSPEC = 0;
const AF_INET = 2;

export const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_TXQLEN = 13;
const IFLA_LINKINFO = 18;
const IFLA_NET_NS_FD = 28;
const IFLA_EXT_MASK = 29;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const VETH_INFO_PEER = 1;
const RTEXT_FILTER_SKIP_STATS = 1 << 3;

const IFF_UP = 0x1;
const IFF_NOARP = 0x80;

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;

const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_TABLE = 15;
const RTN_UNSPEC = 0;
const RTN_UNICAST = 1;
const RTPROT_UNSPEC = 0;
const RTPROT_BOOT = 3;
const RTNH_F_ONLINK = 4;
export const RT_TABLE_MAIN = 254;
const RT_TABLE_UNSPEC = 0;

const FRA_DST = 1;
const FRA_SRC = 2;
const FRA_PRIORITY = 6;
const FRA_TABLE = 15;
const FR_ACT_UNSPEC = 0;
const FR_ACT_TO_TBL = 1;

const NDA_DST = 1;
const NDA_LLADDR = 2;
const NUD_PERMANENT = 0x80;

export const SCOPES = { universe: 0, link: 253, host: 254, nowhere: 255 } as const;

const NEW = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
const REPLACE = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
const PLAIN = NLM_F_REQUEST | NLM_F_ACK;

interface IfInfo {
  readonly index?: number;
  readonly flags?: number;
  readonly change?: number;
}

/** struct ifinfomsg (16 bytes). */
function ifinfomsg(w: NlWriter, i: IfInfo = {}): void {
  w.u8(AF_UNSPEC).u8(0).u16(0).i32(i.index ?? 0).u32(i.flags ?? 0).u32(i.change ?? 0);
}

/** A link's own attributes (name, MTU, MAC, netns), in iproute2's order. */
interface LinkAttrs {
  readonly name?: string;
  readonly mtu?: number;
  readonly mac?: string;
  readonly netnsFd?: number;
  readonly txqlen?: number;
}

function linkAttrs(w: NlWriter, a: LinkAttrs): void {
  if (a.name !== undefined) w.attrStr(IFLA_IFNAME, a.name);
  if (a.mtu !== undefined) w.attrU32(IFLA_MTU, a.mtu);
  if (a.mac !== undefined) w.attr(IFLA_ADDRESS, macBytes(a.mac));
  if (a.txqlen !== undefined) w.attrU32(IFLA_TXQLEN, a.txqlen);
  if (a.netnsFd !== undefined) w.attrU32(IFLA_NET_NS_FD, a.netnsFd);
}

/** RTM_GETLINK of one link by name (stats skipped). */
export function getLinkByName(seq: number, name: string): Uint8Array {
  return message(RTM_GETLINK, PLAIN, seq, (w) => {
    ifinfomsg(w);
    w.attrStr(IFLA_IFNAME, name).attrU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  });
}

/** `ip link add HOST mtu M address A type veth peer name P mtu M address B [netns FD]`. */
export function newVeth(seq: number, host: LinkAttrs & { readonly name: string }, peer: LinkAttrs & { readonly name: string }): Uint8Array {
  return message(RTM_NEWLINK, NEW, seq, (w) => {
    ifinfomsg(w);
    linkAttrs(w, host);
    w.nest(IFLA_LINKINFO, (li) => {
      li.attrStr(IFLA_INFO_KIND, 'veth');
      li.nest(IFLA_INFO_DATA, (d) => {
        d.nest(VETH_INFO_PEER, (p) => {
          ifinfomsg(p);
          linkAttrs(p, peer);
        });
      });
    });
  });
}

/** `ip link add NAME [address A] mtu M txqueuelen 0 type ifb`. */
export function newIfb(seq: number, a: LinkAttrs & { readonly name: string }): Uint8Array {
  return message(RTM_NEWLINK, NEW, seq, (w) => {
    ifinfomsg(w);
    linkAttrs(w, a);
    w.nest(IFLA_LINKINFO, (li) => li.attrStr(IFLA_INFO_KIND, 'ifb'));
  });
}

/** `ip link set dev NAME up` / `arp off`: a flag set on the link found by name. */
export function setLinkFlag(seq: number, name: string, flag: 'up' | 'noarp'): Uint8Array {
  const bit = flag === 'up' ? IFF_UP : IFF_NOARP;
  return message(RTM_NEWLINK, PLAIN, seq, (w) => {
    ifinfomsg(w, { flags: bit, change: bit });
    w.attrStr(IFLA_IFNAME, name);
  });
}

/** `ip link set dev NAME netns FD name NEW [mtu M]`: the link by index (the name attribute is its new name). */
export function moveLink(seq: number, index: number, netnsFd: number, newName: string, mtu?: number): Uint8Array {
  return message(RTM_NEWLINK, PLAIN, seq, (w) => {
    ifinfomsg(w, { index });
    linkAttrs(w, { netnsFd, name: newName, ...(mtu !== undefined ? { mtu } : {}) });
  });
}

/** `ip link del dev NAME`. */
export function delLink(seq: number, name: string): Uint8Array {
  return message(RTM_DELLINK, PLAIN, seq, (w) => {
    ifinfomsg(w);
    w.attrStr(IFLA_IFNAME, name);
  });
}

/** `ip addr replace CIDR dev X [scope S]`: IFA_LOCAL and IFA_ADDRESS both the address (no peer, no broadcast). */
export function replaceAddr(seq: number, index: number, cidr: string, scope: number): Uint8Array {
  const p = ipv4Prefix(cidr);
  return message(RTM_NEWADDR, REPLACE, seq, (w) => {
    w.u8(AF_INET).u8(p.len).u8(0).u8(scope).u32(index);
    w.attr(IFA_LOCAL, p.addr).attr(IFA_ADDRESS, p.addr);
  });
}

/** The table fields as iproute2 fills them: a table below 256 in the header, a larger one as RTA_TABLE/FRA_TABLE. */
function tableOf(table: number): { readonly header: number; readonly attr?: number } {
  return table < 256 ? { header: table } : { header: RT_TABLE_UNSPEC, attr: table };
}

export interface RouteSpec {
  /** `a.b.c.d/len`, or `default`. */
  readonly dst: string;
  readonly oif?: number;
  readonly gateway?: string;
  readonly onlink?: boolean;
  /** Explicit scope; otherwise iproute2's default (link without a gateway, universe with one; nowhere on delete). */
  readonly scope?: number;
  readonly table?: number;
}

function route(seq: number, type: number, flags: number, r: RouteSpec): Uint8Array {
  const del = type === RTM_DELROUTE;
  const dst = r.dst === 'default' ? { addr: new Uint8Array(0), len: 0 } : ipv4Prefix(r.dst);
  const table = tableOf(r.table ?? RT_TABLE_MAIN);
  const scope = r.scope ?? (del ? SCOPES.nowhere : r.gateway === undefined ? SCOPES.link : SCOPES.universe);
  return message(type, flags, seq, (w) => {
    w.u8(AF_INET).u8(dst.len).u8(0).u8(0).u8(table.header).u8(del ? RTPROT_UNSPEC : RTPROT_BOOT).u8(scope).u8(del ? RTN_UNSPEC : RTN_UNICAST);
    w.u32(r.onlink === true ? RTNH_F_ONLINK : 0);
    if (table.attr !== undefined) w.attrU32(RTA_TABLE, table.attr);
    if (dst.addr.length > 0) w.attr(RTA_DST, dst.addr);
    if (r.gateway !== undefined) w.attr(RTA_GATEWAY, ipv4Bytes(r.gateway));
    if (r.oif !== undefined) w.attrU32(RTA_OIF, r.oif);
  });
}

/** `ip route replace DST [via GW] dev X [onlink] [scope S] [table T]`. */
export function replaceRoute(seq: number, r: RouteSpec & { readonly oif: number }): Uint8Array {
  return route(seq, RTM_NEWROUTE, REPLACE, r);
}

/** `ip route del DST [dev X] [table T]`. */
export function delRoute(seq: number, r: RouteSpec): Uint8Array {
  return route(seq, RTM_DELROUTE, PLAIN, r);
}

export interface RuleSpec {
  readonly priority: number;
  readonly from?: string;
  readonly to?: string;
  /** Absent: any table (delete only). */
  readonly table?: number;
}

function rule(seq: number, add: boolean, r: RuleSpec): Uint8Array {
  const src = r.from === undefined ? undefined : ipv4Prefix(r.from);
  const dst = r.to === undefined ? undefined : ipv4Prefix(r.to);
  const table = tableOf(r.table ?? (add ? RT_TABLE_MAIN : RT_TABLE_UNSPEC));
  return message(add ? RTM_NEWRULE : RTM_DELRULE, add ? NEW : PLAIN, seq, (w) => {
    w.u8(AF_INET).u8(dst?.len ?? 0).u8(src?.len ?? 0).u8(0).u8(table.header).u8(0).u8(0).u8(add ? FR_ACT_TO_TBL : FR_ACT_UNSPEC);
    w.u32(0);
    if (dst !== undefined) w.attr(FRA_DST, dst.addr);
    if (src !== undefined) w.attr(FRA_SRC, src.addr);
    if (table.attr !== undefined) w.attrU32(FRA_TABLE, table.attr);
    w.attrU32(FRA_PRIORITY, r.priority);
  });
}

/** `ip rule add [from S] [to D] lookup T priority P` (EEXIST when the same rule is there). */
export function addRule(seq: number, r: RuleSpec & { readonly table: number }): Uint8Array {
  return rule(seq, true, r);
}

/** `ip rule del [from S] [to D] [lookup T] priority P`. */
export function delRule(seq: number, r: RuleSpec): Uint8Array {
  return rule(seq, false, r);
}

/** `ip neigh replace IP lladdr MAC dev X nud permanent`. */
export function replaceNeigh(seq: number, index: number, ip: string, mac: string): Uint8Array {
  return message(RTM_NEWNEIGH, REPLACE, seq, (w) => {
    w.u8(AF_INET).u8(0).u16(0).i32(index).u16(NUD_PERMANENT).u8(0).u8(0);
    w.attr(NDA_DST, ipv4Bytes(ip)).attr(NDA_LLADDR, macBytes(mac));
  });
}
