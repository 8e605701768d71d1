/**
 * The rtnetlink driver (../ip-driver.ts) of the plugin binary: links (veth with its peer in a pod netns, ifb, up,
 * NOARP, delete, move + rename + MTU into another netns), addresses, routes (onlink, scope, tables), PERMANENT
 * neighbours and rules, each one request on a NETLINK_ROUTE socket opened inside the op's namespace (./socket.ts),
 * built by ./requests.ts. Errors come back as iproute2 prints them (`RTNETLINK answers: <strerror>`, `Error: <extack>.`,
 * `Cannot find device "X"`), so ../tolerate.ts decides alike. Not supported (the executor sends them to `ip -batch`):
 * `link.ipvlan` (no ipvlan on the kernels this is verified on), and every non-ip op (tc, sysctls).
 */
import { errorMessage, toError } from '../../lib/errors.js';
import type { IpDriver } from '../ip-driver.js';
import type { NsRef, Op } from '../ops.js';
import { sameNs } from '../render.js';
import {
  IFLA_ADDRESS,
  RT_TABLE_MAIN,
  SCOPES,
  addRule,
  delLink,
  delRoute,
  delRule,
  getLinkByName,
  moveLink,
  newIfb,
  newVeth,
  replaceAddr,
  replaceNeigh,
  replaceRoute,
  setLinkFlag,
} from './requests.js';
import { SysError, type RtnlSocket, type RtnlSystem } from './socket.js';
import { macString, parseAttrs } from './wire.js';

type RtnlOp = Extract<Op, { kind: 'link.veth' | 'link.move' | 'link.arp-off' | 'link.up' | 'link.del' | 'addr.replace' | 'route.replace' | 'route.del' | 'rule.add' | 'rule.del' | 'neigh.replace' | 'link.ifb' }>;

const SUPPORTED: ReadonlySet<Op['kind']> = new Set<RtnlOp['kind']>([
  'link.veth', 'link.move', 'link.arp-off', 'link.up', 'link.del', 'addr.replace', 'route.replace', 'route.del', 'rule.add', 'rule.del', 'neigh.replace', 'link.ifb',
]);

function isRtnlOp(op: Op): op is RtnlOp {
  return SUPPORTED.has(op.kind);
}

const ENODEV = 19;
const IFINFOMSG_LEN = 16;

/** A failure whose text is final (iproute2's wording). */
class OpFailure extends Error {}

function noDevice(name: string): OpFailure {
  return new OpFailure(`Cannot find device "${name}"`);
}

/** One namespace's socket and the netns descriptors its ops refer to, for one run. */
interface Session {
  readonly sock: RtnlSocket;
  nsFd(ns: NsRef): number;
  close(): void;
}

export function createRtnlDriver(sys: RtnlSystem): IpDriver {
  let seq = Math.floor(Date.now() / 1000) & 0xffffff;

  function openSession(ns: NsRef): Session {
    const fds = new Map<string, number>();
    const nsFd = (ref: NsRef): number => {
      if (ref.kind === 'host') return sys.hostNsFd;
      const known = fds.get(ref.path);
      if (known !== undefined) return known;
      let fd: number;
      try {
        fd = sys.openNs(ref.path);
      } catch (err) {
        throw new OpFailure(`Cannot open network namespace "${ref.path}": ${errorMessage(err)}`);
      }
      fds.set(ref.path, fd);
      return fd;
    };
    const closeFds = (): void => {
      for (const fd of fds.values()) sys.closeFd(fd);
    };
    try {
      const sock = sys.socketIn(ns.kind === 'host' ? undefined : nsFd(ns));
      return { sock, nsFd, close: () => { sock.close(); closeFds(); } };
    } catch (err) {
      closeFds();
      throw err;
    }
  }

  /** Sends one request; throws OpFailure with iproute2's text on an error answer (`name`: a by-name link request). */
  function call(s: Session, build: (seq: number) => Uint8Array, name?: string): ReturnType<RtnlSocket['request']> {
    seq = (seq + 1) >>> 0;
    const answer = s.sock.request(build(seq), seq);
    if (answer.errno === 0) return answer;
    if (name !== undefined && answer.errno === ENODEV) throw noDevice(name);
    throw new OpFailure(answer.message !== undefined ? `Error: ${answer.message}${answer.message.endsWith('.') ? '' : '.'}` : `RTNETLINK answers: ${sys.strerror(answer.errno)}`);
  }

  /** The link's ifindex and attributes (RTM_GETLINK by name); undefined when there is no such link. */
  function getLink(s: Session, name: string): { readonly index: number; readonly attrs: ReadonlyMap<number, Uint8Array> } | undefined {
    let answer;
    try {
      answer = call(s, (q) => getLinkByName(q, name), name);
    } catch (err) {
      if (err instanceof OpFailure && err.message === noDevice(name).message) return undefined;
      throw err;
    }
    const body = answer.replies[0]?.body;
    if (body === undefined || body.length < IFINFOMSG_LEN) throw new OpFailure(`no RTM_NEWLINK answer for link ${name}`);
    return { index: new DataView(body.buffer, body.byteOffset, body.byteLength).getInt32(4, true), attrs: parseAttrs(body.subarray(IFINFOMSG_LEN)) };
  }

  function indexOf(s: Session, name: string): number {
    const link = getLink(s, name);
    if (link === undefined) throw noDevice(name);
    return link.index;
  }

  function table(t: number | 'main'): number {
    return t === 'main' ? RT_TABLE_MAIN : t;
  }

  function exec(s: Session, op: RtnlOp): void {
    switch (op.kind) {
      case 'link.veth': {
        const peerFd = sameNs(op.ns, op.peerNs) ? undefined : s.nsFd(op.peerNs);
        call(s, (q) => newVeth(q, { name: op.host.name, mtu: op.mtu, mac: op.host.mac }, { name: op.peer.name, mtu: op.mtu, mac: op.peer.mac, ...(peerFd !== undefined ? { netnsFd: peerFd } : {}) }));
        return;
      }
      case 'link.ifb':
        call(s, (q) => newIfb(q, { name: op.name, ...(op.mac !== undefined ? { mac: op.mac } : {}), mtu: op.mtu, txqlen: 0 }));
        return;
      case 'link.move': {
        const fd = s.nsFd(op.to);
        const index = indexOf(s, op.name);
        call(s, (q) => moveLink(q, index, fd, op.newName, op.mtu));
        return;
      }
      case 'link.up':
      case 'link.arp-off':
        call(s, (q) => setLinkFlag(q, op.name, op.kind === 'link.up' ? 'up' : 'noarp'), op.name);
        return;
      case 'link.del':
        call(s, (q) => delLink(q, op.name), op.name);
        return;
      case 'addr.replace': {
        const index = indexOf(s, op.dev);
        const scope = op.scope !== undefined ? SCOPES[op.scope] : op.cidr.startsWith('127.') ? SCOPES.host : SCOPES.universe;
        call(s, (q) => replaceAddr(q, index, op.cidr, scope));
        return;
      }
      case 'route.replace': {
        const oif = indexOf(s, op.dev);
        call(s, (q) =>
          replaceRoute(q, {
            dst: op.dst, oif,
            ...(op.via !== undefined ? { gateway: op.via } : {}),
            ...(op.onlink === true ? { onlink: true } : {}),
            ...(op.scope !== undefined ? { scope: SCOPES[op.scope] } : {}),
            ...(op.table !== undefined ? { table: op.table } : {}),
          }),
        );
        return;
      }
      case 'route.del': {
        const oif = op.dev !== undefined ? indexOf(s, op.dev) : undefined;
        call(s, (q) => delRoute(q, { dst: op.dst, ...(oif !== undefined ? { oif } : {}), ...(op.table !== undefined ? { table: op.table } : {}) }));
        return;
      }
      case 'rule.add':
        call(s, (q) => addRule(q, { priority: op.priority, ...(op.from !== undefined ? { from: op.from } : {}), ...(op.to !== undefined ? { to: op.to } : {}), table: table(op.table) }));
        return;
      case 'rule.del':
        call(s, (q) => delRule(q, { priority: op.priority, ...(op.from !== undefined ? { from: op.from } : {}), ...(op.to !== undefined ? { to: op.to } : {}), ...(op.table !== undefined ? { table: table(op.table) } : {}) }));
        return;
      case 'neigh.replace': {
        const index = indexOf(s, op.dev);
        call(s, (q) => replaceNeigh(q, index, op.ip, op.lladdr));
        return;
      }
    }
  }

  function runOps(ns: NsRef, ops: readonly Op[], signal: AbortSignal | undefined): readonly string[] {
    let s: Session;
    try {
      s = openSession(ns);
    } catch (err) {
      if (!(err instanceof OpFailure || err instanceof SysError)) throw err; // e.g. stuck in the pod netns: never go on
      return ops.map(() => errorMessage(err));
    }
    try {
      return ops.map((op) => {
        if (signal?.aborted === true) return 'aborted: not run';
        if (!isRtnlOp(op)) return `${op.kind}: not supported by the rtnetlink driver`;
        try {
          exec(s, op);
          return '';
        } catch (err) {
          return errorMessage(err);
        }
      });
    } finally {
      s.close();
    }
  }

  /** '' for a link without a hardware address. */
  function readMac(ns: NsRef, name: string): string | undefined {
    const s = openSession(ns);
    try {
      const link = getLink(s, name);
      if (link === undefined) return undefined;
      const mac = link.attrs.get(IFLA_ADDRESS);
      return mac === undefined ? '' : macString(mac);
    } finally {
      s.close();
    }
  }

  return {
    name: 'rtnetlink',
    supports: isRtnlOp,
    run: (ns, ops, signal) => Promise.resolve(runOps(ns, ops, signal)),
    linkMac: (ns, name) => {
      try {
        return Promise.resolve(readMac(ns, name));
      } catch (err) {
        return Promise.reject(toError(err));
      }
    },
  };
}
