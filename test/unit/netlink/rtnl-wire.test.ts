/**
 * The rtnetlink wire format and requests (src/netlink/rtnl/wire.ts, requests.ts), pure: every request decoded
 * back with the same parser the socket layer uses, field by field, against the struct layouts of the kernel's
 * uapi headers (ifinfomsg 16 bytes, ifaddrmsg 8, rtmsg 12, fib_rule_hdr 12, ndmsg 12) and iproute2's choices
 * (flags, default scopes, tables ≥ 256 as attributes). The kernel side is the differential test's
 * (test/privileged/netlink/rtnl).
 */
import * as rq from '../../../src/netlink/rtnl/requests.js';
import { NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST, NLMSG_ERROR, message, parseAck, parseAttrs, parseMessages, ipv4Prefix, macBytes, macString, readStr, readU32 } from '../../../src/netlink/rtnl/wire.js';

function one(bytes: Uint8Array): { type: number; flags: number; seq: number; body: Uint8Array; total: number } {
  const msgs = parseMessages(bytes);
  expect(msgs).toHaveLength(1);
  const m = msgs[0];
  if (m === undefined) throw new Error('no message');
  expect(bytes.length % 4).toBe(0);
  expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true)).toBe(bytes.length);
  return { ...m, total: bytes.length };
}

const u8 = (b: Uint8Array, i: number): number => b[i] ?? -1;
const i32 = (b: Uint8Array, off: number): number => new DataView(b.buffer, b.byteOffset + off, 4).getInt32(0, true);
const attrs = (b: Uint8Array, headerLen: number): ReadonlyMap<number, Uint8Array> => parseAttrs(b.subarray(headerLen));
const ip = (b: Uint8Array | undefined): string => [...(b ?? [])].join('.');

const NEW = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
const REPLACE = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;

describe('rtnetlink requests', () => {
  it('a veth with its peer in another netns: names, MTU, MACs, kind and the peer nested in IFLA_INFO_DATA', () => {
    const m = one(rq.newVeth(7, { name: 'hub0', mtu: 1400, mac: '02:00:00:00:00:01' }, { name: 'eth0', mtu: 1400, mac: '02:00:00:00:00:02', netnsFd: 9 }));
    expect(m).toMatchObject({ type: rq.RTM_NEWLINK, flags: NEW, seq: 7 });
    const a = attrs(m.body, 16);
    expect(readStr(a.get(3))).toBe('hub0');
    expect(readU32(a.get(4))).toBe(1400);
    expect(macString(a.get(1) ?? new Uint8Array())).toBe('02:00:00:00:00:01');
    expect(a.has(28)).toBe(false); // the host end stays
    const linkinfo = parseAttrs(a.get(18) ?? new Uint8Array());
    expect(readStr(linkinfo.get(1))).toBe('veth');
    const peer = parseAttrs(linkinfo.get(2) ?? new Uint8Array()).get(1) ?? new Uint8Array();
    expect(peer.length).toBeGreaterThan(16); // an ifinfomsg, then the peer's attributes
    const pa = attrs(peer, 16);
    expect(readStr(pa.get(3))).toBe('eth0');
    expect(macString(pa.get(1) ?? new Uint8Array())).toBe('02:00:00:00:00:02');
    expect(readU32(pa.get(28))).toBe(9);
  });

  it('flag changes, deletes and moves address the link by name or by index', () => {
    const up = one(rq.setLinkFlag(1, 'lo', 'up'));
    expect({ type: up.type, flags: up.flags, index: i32(up.body, 4), ifiFlags: i32(up.body, 8), change: i32(up.body, 12) }).toEqual({ type: rq.RTM_NEWLINK, flags: NLM_F_REQUEST | NLM_F_ACK, index: 0, ifiFlags: 1, change: 1 });
    expect(readStr(attrs(up.body, 16).get(3))).toBe('lo');
    const noarp = one(rq.setLinkFlag(2, 'x', 'noarp'));
    expect([i32(noarp.body, 8), i32(noarp.body, 12)]).toEqual([0x80, 0x80]);
    const del = one(rq.delLink(3, 'gone'));
    expect(del.type).toBe(rq.RTM_DELLINK);
    const move = one(rq.moveLink(4, 42, 5, 'eth0', 1500));
    expect(i32(move.body, 4)).toBe(42);
    const ma = attrs(move.body, 16);
    expect([readU32(ma.get(28)), readStr(ma.get(3)), readU32(ma.get(4))]).toEqual([5, 'eth0', 1500]);
    expect(attrs(one(rq.moveLink(5, 42, 5, 'eth0')).body, 16).has(4)).toBe(false);
  });

  it('an ifb with txqueuelen 0', () => {
    const a = attrs(one(rq.newIfb(1, { name: 'ifb1', mtu: 1500, txqlen: 0 })).body, 16);
    expect([readStr(a.get(3)), readU32(a.get(13)), a.has(1), readStr(parseAttrs(a.get(18) ?? new Uint8Array()).get(1))]).toEqual(['ifb1', 0, false, 'ifb']);
  });

  it('an address: ifaddrmsg (family, prefix, scope, index), IFA_LOCAL = IFA_ADDRESS, replace semantics', () => {
    const m = one(rq.replaceAddr(1, 3, '10.1.2.3/32', rq.SCOPES.host));
    expect(m.flags).toBe(REPLACE);
    expect([u8(m.body, 0), u8(m.body, 1), u8(m.body, 3), i32(m.body, 4)]).toEqual([2, 32, 254, 3]);
    const a = attrs(m.body, 8);
    expect([ip(a.get(2)), ip(a.get(1))]).toEqual(['10.1.2.3', '10.1.2.3']);
  });

  it('routes: iproute2 default scopes, onlink, main table in the header, big tables as RTA_TABLE', () => {
    const viaGw = one(rq.replaceRoute(1, { dst: 'default', oif: 4, gateway: '169.254.1.1', onlink: true }));
    // family, dst_len, src_len, tos, table, protocol (boot), scope (universe), type (unicast); flags onlink
    expect([...viaGw.body.subarray(0, 8)]).toEqual([2, 0, 0, 0, 254, 3, 0, 1]);
    expect(i32(viaGw.body, 8)).toBe(4);
    const va = attrs(viaGw.body, 12);
    expect([va.has(1), ip(va.get(5)), readU32(va.get(4)), va.has(15)]).toEqual([false, '169.254.1.1', 4, false]);

    const linkScope = one(rq.replaceRoute(2, { dst: '10.0.0.5/32', oif: 2 }));
    expect([u8(linkScope.body, 1), u8(linkScope.body, 6)]).toEqual([32, 253]);
    expect(ip(attrs(linkScope.body, 12).get(1))).toBe('10.0.0.5');

    const big = one(rq.replaceRoute(3, { dst: 'default', oif: 2, gateway: '10.0.0.1', table: 1005 }));
    expect(u8(big.body, 4)).toBe(0);
    expect(readU32(attrs(big.body, 12).get(15))).toBe(1005);

    const del = one(rq.delRoute(4, { dst: '10.0.0.5/32', table: 254 }));
    expect(del.flags).toBe(NLM_F_REQUEST | NLM_F_ACK);
    // table main, protocol unspecified, scope nowhere (matches any), type unspecified
    expect([...del.body.subarray(4, 8)]).toEqual([254, 0, 255, 0]);
  });

  it('rules: add is CREATE|EXCL with action to-table, delete without a table matches any', () => {
    const add = one(rq.addRule(1, { priority: 2048, from: '10.1.0.9/32', table: 1005 }));
    expect(add.flags).toBe(NEW);
    // family, dst_len, src_len, tos, table (in FRA_TABLE), res1, res2, action FR_ACT_TO_TBL
    expect([...add.body.subarray(0, 8)]).toEqual([2, 0, 32, 0, 0, 0, 0, 1]);
    const aa = attrs(add.body, 12);
    expect([ip(aa.get(2)), readU32(aa.get(15)), readU32(aa.get(6)), aa.has(1)]).toEqual(['10.1.0.9', 1005, 2048, false]);
    const main = one(rq.addRule(2, { priority: 512, to: '10.1.0.9/32', table: rq.RT_TABLE_MAIN }));
    expect([u8(main.body, 1), u8(main.body, 4)]).toEqual([32, 254]);
    const anyTable = one(rq.delRule(3, { priority: 512, to: '10.1.0.9/32' }));
    expect([anyTable.flags, u8(anyTable.body, 4), u8(anyTable.body, 7), attrs(anyTable.body, 12).has(15)]).toEqual([NLM_F_REQUEST | NLM_F_ACK, 0, 0, false]);
  });

  it('a PERMANENT neighbour', () => {
    const m = one(rq.replaceNeigh(1, 6, '169.254.1.1', 'ee:ee:ee:ee:ee:ee'));
    expect(m.flags).toBe(REPLACE);
    expect([u8(m.body, 0), i32(m.body, 4), new DataView(m.body.buffer, m.body.byteOffset + 8, 2).getUint16(0, true)]).toEqual([2, 6, 0x80]);
    const a = attrs(m.body, 12);
    expect([ip(a.get(1)), macString(a.get(2) ?? new Uint8Array())]).toEqual(['169.254.1.1', 'ee:ee:ee:ee:ee:ee']);
  });

  it('a link lookup by name asks for no statistics', () => {
    const a = attrs(one(rq.getLinkByName(1, 'eth0')).body, 16);
    expect([readStr(a.get(3)), readU32(a.get(29))]).toEqual(['eth0', 8]);
  });
});

describe('rtnetlink answers and values', () => {
  /** An NLMSG_ERROR as the kernel builds it: -errno, the request's header (capped), then extended-ack TLVs. */
  function errorAnswer(errno: number, text?: string): Uint8Array {
    const request = rq.delLink(9, 'x');
    return message(NLMSG_ERROR, text === undefined ? 0 : 0x100 | 0x200, 9, (w) => {
      w.i32(-errno).bytes(request.subarray(0, 16));
      if (text !== undefined) w.attrStr(1, text);
    });
  }

  it('reads errno and the extended-ack message; an ACK is errno 0', () => {
    const [err] = parseMessages(errorAnswer(19, 'Nexthop device is not up'));
    expect(err && parseAck(err)).toEqual({ errno: 19, message: 'Nexthop device is not up' });
    const [plain] = parseMessages(errorAnswer(17));
    expect(plain && parseAck(plain)).toEqual({ errno: 17 });
    const [ack] = parseMessages(errorAnswer(0));
    expect(ack && parseAck(ack)).toEqual({ errno: 0 });
  });

  it('splits a datagram of several messages and drops a truncated tail', () => {
    const a = rq.delLink(1, 'a');
    const b = rq.delLink(2, 'bb');
    const both = new Uint8Array(a.length + b.length + 6);
    both.set(a);
    both.set(b, a.length);
    expect(parseMessages(both).map((m) => m.seq)).toEqual([1, 2]);
  });

  it('parses and refuses addresses', () => {
    expect(ipv4Prefix('10.0.0.0/8')).toEqual({ addr: Uint8Array.of(10, 0, 0, 0), len: 8 });
    expect(ipv4Prefix('1.2.3.4').len).toBe(32);
    expect(() => ipv4Prefix('1.2.3.4/33')).toThrow(RangeError);
    expect(() => ipv4Prefix('1.2.3.256/24')).toThrow(RangeError);
    expect(() => macBytes('02:00:00:00:00')).toThrow(RangeError);
    expect(macString(macBytes('02:AB:00:00:00:ff'))).toBe('02:ab:00:00:00:ff');
  });
});
