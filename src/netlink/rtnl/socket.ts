/**
 * The rtnetlink socket layer of the plugin binary: libc `socket`/`sendto`/`recvfrom`/`setns`/`open`/`close` through
 * `bun:ffi` (bun only: `loadLibc` answers undefined on Node.js, where the daemon keeps the iproute2 executor).
 *
 * A netlink socket stays bound to the network namespace it was created in, so a socket for a pod namespace is made
 * by entering it on the calling thread (`setns`), calling `socket()`, and returning at once to the namespace this
 * thread started in (a descriptor kept open from the start). All of it is synchronous on the JS thread: no other
 * code runs on that thread in between, and bun's other threads never leave their namespace. Requests are
 * synchronous too: rtnetlink handles a request inside `sendto`, so its answer is queued before `recvfrom` (a receive
 * timeout guards against a kernel that never answers).
 */
import { bunGlobal } from '../../lib/bun.js';
import { cString, NLMSG_DONE, NLMSG_ERROR, parseAck, parseMessages, type NlAck, type NlMessage } from './wire.js';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0x80000;
const NETLINK_ROUTE = 0;
const O_RDONLY_CLOEXEC = 0x80000;
const CLONE_NEWNET = 0x40000000;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const SOL_NETLINK = 270;
const NETLINK_EXT_ACK = 11;
const RECV_TIMEOUT_S = 5;
const RECV_BUF = 65536;

type Ptr = number;
interface LibcSymbols {
  socket(domain: number, type: number, proto: number): number;
  sendto(fd: number, buf: Ptr, len: number, flags: number, addr: null, addrlen: number): number;
  recvfrom(fd: number, buf: Ptr, len: number, flags: number, addr: null, addrlen: null): number;
  setsockopt(fd: number, level: number, name: number, val: Ptr, len: number): number;
  setns(fd: number, nstype: number): number;
  open(path: Ptr, flags: number): number;
  close(fd: number): number;
  __errno_location(): Ptr;
  strerror(errno: number): unknown;
}

const SIGNATURES = {
  socket: { args: ['i32', 'i32', 'i32'], returns: 'i32' },
  sendto: { args: ['i32', 'ptr', 'u64', 'i32', 'ptr', 'u32'], returns: 'i32' },
  recvfrom: { args: ['i32', 'ptr', 'u64', 'i32', 'ptr', 'ptr'], returns: 'i32' },
  setsockopt: { args: ['i32', 'i32', 'i32', 'ptr', 'u32'], returns: 'i32' },
  setns: { args: ['i32', 'i32'], returns: 'i32' },
  open: { args: ['ptr', 'i32'], returns: 'i32' },
  close: { args: ['i32'], returns: 'i32' },
  __errno_location: { args: [], returns: 'ptr' },
  strerror: { args: ['i32'], returns: 'cstring' },
} as const;

/** A failed system call: its errno and libc's text for it (the text iproute2 would print). */
export class SysError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
    readonly text: string,
  ) {
    super(`${call}: ${text}`);
  }
}

/** One request's answer: the ack (errno 0) or error, and the data messages before it. */
interface RtnlAnswer extends NlAck {
  readonly replies: readonly NlMessage[];
}

export interface RtnlSocket {
  request(msg: Uint8Array, seq: number): RtnlAnswer;
  close(): void;
}

/** What the driver needs from the system: sockets in a namespace, namespace descriptors, errno texts. */
export interface RtnlSystem {
  /** The namespace this thread runs in (the executor's host), open for the process's lifetime. */
  readonly hostNsFd: number;
  /** A NETLINK_ROUTE socket in the namespace of `nsFd` (the host's when undefined). */
  socketIn(nsFd?: number): RtnlSocket;
  /** `open(path, O_RDONLY|O_CLOEXEC)` of a netns file. */
  openNs(path: string): number;
  closeFd(fd: number): void;
  strerror(errno: number): string;
}


/** The libc bindings, or undefined outside bun or when libc cannot be loaded (the caller then keeps iproute2). */
export async function loadLibc(): Promise<RtnlSystem | undefined> {
  if (bunGlobal() === undefined) return undefined;
  const ffi = await import('bun:ffi');
  const c = ffi.dlopen('libc.so.6', SIGNATURES).symbols as unknown as LibcSymbols;
  const errno = (): number => ffi.read.i32(c.__errno_location(), 0);
  const strerror = (e: number): string => String(c.strerror(e));
  const fail = (call: string): never => {
    const e = errno();
    throw new SysError(call, e, strerror(e));
  };
  const openNs = (path: string): number => {
    const fd = c.open(ffi.ptr(cString(path)), O_RDONLY_CLOEXEC);
    return fd < 0 ? fail(`open ${path}`) : fd;
  };
  const hostNsFd = openNs('/proc/thread-self/ns/net');
  const recvBuf = new Uint8Array(RECV_BUF);
  const recvPtr = ffi.ptr(recvBuf);

  const newSocket = (): number => {
    const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) fail('socket(AF_NETLINK)');
    const timeout = new Uint8Array(16);
    new DataView(timeout.buffer).setBigInt64(0, BigInt(RECV_TIMEOUT_S), true);
    const one = Uint8Array.of(1, 0, 0, 0);
    if (c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, ffi.ptr(timeout), 16) < 0 || c.setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, ffi.ptr(one), 4) < 0) {
      const e = errno();
      c.close(fd);
      throw new SysError('setsockopt', e, strerror(e));
    }
    return fd;
  };

  const wrap = (fd: number): RtnlSocket => ({
    request(msg, seq) {
      if (c.sendto(fd, ffi.ptr(msg), msg.length, 0, null, 0) < 0) fail('sendto');
      const replies: NlMessage[] = [];
      for (;;) {
        const n = c.recvfrom(fd, recvPtr, RECV_BUF, 0, null, null);
        if (n < 0) fail('recvfrom');
        for (const m of parseMessages(recvBuf.slice(0, n))) {
          if (m.seq !== seq) continue;
          if (m.type === NLMSG_ERROR) return { ...parseAck(m), replies };
          if (m.type === NLMSG_DONE) return { errno: 0, replies };
          replies.push(m);
        }
      }
    },
    close: () => void c.close(fd),
  });

  return {
    hostNsFd,
    socketIn(nsFd) {
      if (nsFd === undefined || nsFd === hostNsFd) return wrap(newSocket());
      if (c.setns(nsFd, CLONE_NEWNET) < 0) fail('setns into the pod namespace');
      let fd: number | SysError;
      try {
        fd = newSocket();
      } catch (err) {
        fd = err instanceof SysError ? err : new SysError('socket', 0, String(err));
      }
      // never leave this thread in the pod namespace
      if (c.setns(hostNsFd, CLONE_NEWNET) < 0) {
        const e = errno();
        throw new Error(`setns back to the host namespace failed (${strerror(e)}): this process cannot go on safely`);
      }
      if (fd instanceof SysError) throw fd;
      return wrap(fd);
    },
    openNs,
    closeFd: (fd) => void c.close(fd),
    strerror,
  };
}
