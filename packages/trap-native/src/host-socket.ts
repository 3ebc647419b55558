/**
 * Host sockets of the supervisor, for network mode `host`: the socket calls Node has no binding
 * for on raw fds (socket, bind, connect, listen, accept4, getsockname/getpeername, sendmsg,
 * recvmsg, setsockopt, getsockopt, shutdown, int ioctls, poll) and a readiness watch on the
 * epoll libuv already runs, so a task waiting on a host socket costs a pending promise and wakes
 * when the host says the socket is ready.
 *
 * Policy-free: the caller decides which families, addresses and options reach the host, and
 * passes only buffers it made itself. Every call answers its result or a `LinuxError`.
 *
 * @module
 */
import { errorOf, type LinuxError } from '@tsvisor/abi';
import { closeSync } from 'node:fs';
import { native } from './native.native.js';

/** A readiness watch of one host fd: reports once per `arm`, and each wakeup asked by `edges`. */
export interface HostFdWatch {
  /**
   * Reports (through the watch's callback, on the event loop) once the fd has any of `events`
   * (poll bits: POLLIN, POLLPRI, POLLOUT, POLLRDHUP/POLLHUP); 0 disarms. Errors and hang-ups
   * always report.
   */
  arm(events: number): void;
  /**
   * From now on reports (through the watch's edge callback) each wakeup of the fd by any of
   * `events` (POLLIN, POLLPRI, POLLOUT, POLLRDHUP), with the events it has then, as an
   * edge-triggered epoll would: a new segment or datagram while others are unread is one. 0
   * stops. Errors and hang-ups always report; that the fd is ready when asked is not reported.
   */
  edges(events: number): void;
  /** Ends the watch; must precede closing the fd. */
  close(): void;
}

/** The host socket calls: results or `LinuxError`s, never throws for a host failure. */
export interface HostSocketCalls {
  socket(domain: number, type: number, protocol: number): number | LinuxError;
  bind(fd: number, addr: Uint8Array): number | LinuxError;
  connect(fd: number, addr: Uint8Array): number | LinuxError;
  listen(fd: number, backlog: number): number | LinuxError;
  /** accept4 without the address: the new fd (read the peer with `name(fd, true, ...)`). */
  accept(fd: number, flags: number): number | LinuxError;
  /** getsockname/getpeername into `out`: the address's full length. */
  name(fd: number, peer: boolean, out: Uint8Array): number | LinuxError;
  /**
   * sendmsg with one buffer, an optional address and optional control messages (`control`: the
   * msg_control bytes, which the caller built and checked).
   */
  send(
    fd: number,
    data: Uint8Array,
    addr: Uint8Array | null,
    flags: number,
    control?: Uint8Array | null,
  ): number | LinuxError;
  /**
   * recvmsg into one buffer; `meta[0]` gets the sender address's length, `meta[1]` msg_flags.
   * With `control` (a buffer of the msg_controllen to offer; `meta` then has 3 elements) the
   * host's cmsgs land in it and `meta[2]` gets their length; MSG_CTRUNC says some did not fit.
   */
  recv(
    fd: number,
    buf: Uint8Array,
    flags: number,
    addr: Uint8Array,
    meta: Int32Array,
    control?: Uint8Array | null,
  ): number | LinuxError;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array): number | LinuxError;
  /** getsockopt into `out`: the value's length. */
  getsockopt(fd: number, level: number, name: number, out: Uint8Array): number | LinuxError;
  shutdown(fd: number, how: number): number | LinuxError;
  /** An ioctl that stores one int (FIONREAD, SIOCOUTQ): that int. */
  ioctlInt(fd: number, cmd: number): number | LinuxError;
  /** poll(2) of one fd, not waiting: its revents. */
  poll(fd: number, events: number): number | LinuxError;
  /**
   * A disarmed watch of `fd`; `onReady` runs on the event loop after each armed report, `onEdge`
   * with the fd's poll events after each wakeup that `edges` asked for.
   */
  watch(fd: number, onReady: () => void, onEdge: (events: number) => void): HostFdWatch | LinuxError;
  /** close(2). */
  close(fd: number): void;
}

const POLLIN = 0x1;
const POLLPRI = 0x2;
const POLLOUT = 0x4;
const POLLHUP = 0x10;
const POLLRDHUP = 0x2000;
const UV_READABLE = 1;
const UV_WRITABLE = 2;
const UV_DISCONNECT = 4;
const UV_PRIORITIZED = 8;
/** The bit fdWatchEdges's reports carry beside the events. */
const EDGE_REPORT = 1 << 30;

function res(r: number): number | LinuxError {
  return r < 0 ? errorOf(-r) : r;
}

interface WatchCallbacks {
  readonly onReady: () => void;
  readonly onEdge: (events: number) => void;
}

let callbacks: Map<number, WatchCallbacks> | undefined;

function watchFd(
  fd: number,
  onReady: () => void,
  onEdge: (events: number) => void,
): HostFdWatch | LinuxError {
  const { addon } = native();
  if (!callbacks) {
    const map = new Map<number, WatchCallbacks>();
    addon.fdWatchInit((id, events) => {
      const c = map.get(id);
      if (!c) return;
      if (events & EDGE_REPORT) c.onEdge(events & 0xffff);
      else c.onReady();
    });
    callbacks = map;
  }
  const id = addon.fdWatch(fd);
  if (id < 0) return errorOf(-id);
  const map = callbacks;
  map.set(id, { onReady, onEdge });
  return {
    arm(events: number): void {
      let uv = 0;
      if (events & POLLIN) uv |= UV_READABLE;
      if (events & POLLPRI) uv |= UV_PRIORITIZED;
      if (events & POLLOUT) uv |= UV_WRITABLE;
      if (events & (POLLRDHUP | POLLHUP)) uv |= UV_DISCONNECT;
      addon.fdWatchArm(id, uv);
    },
    edges(events: number): void {
      // The poll bits asked for are epoll's own.
      addon.fdWatchEdges(id, events & (POLLIN | POLLPRI | POLLOUT | POLLRDHUP));
    },
    close(): void {
      map.delete(id);
      addon.fdUnwatch(id);
    },
  };
}

/**
 * The host socket calls of this process, for network mode `host`.
 *
 * @example
 * ```ts
 * const fd = hostSockets.socket(2, 1 | 0o4000 | 0o2000000, 0); // AF_INET, SOCK_STREAM | NONBLOCK | CLOEXEC
 * if (typeof fd === 'number') hostSockets.close(fd);
 * ```
 */
export const hostSockets: HostSocketCalls = {
  socket: (d, t, p) => res(native().addon.sockSocket(d, t, p)),
  bind: (fd, a) => res(native().addon.sockBind(fd, a)),
  connect: (fd, a) => res(native().addon.sockConnect(fd, a)),
  listen: (fd, b) => res(native().addon.sockListen(fd, b)),
  accept: (fd, f) => res(native().addon.sockAccept(fd, f)),
  name: (fd, peer, out) => res(native().addon.sockName(fd, peer ? 1 : 0, out)),
  send: (fd, d, a, f, c) => res(native().addon.sockSend(fd, d, a, f, c ?? null)),
  recv: (fd, b, f, a, m, c) => res(native().addon.sockRecv(fd, b, f, a, m, c ?? null)),
  setsockopt: (fd, l, n, v) => res(native().addon.sockSetOpt(fd, l, n, v)),
  getsockopt: (fd, l, n, o) => res(native().addon.sockGetOpt(fd, l, n, o)),
  shutdown: (fd, h) => res(native().addon.sockShutdown(fd, h)),
  ioctlInt: (fd, c) => res(native().addon.ioctlInt(fd, c)),
  poll: (fd, e) => res(native().addon.fdPoll(fd, e)),
  watch: watchFd,
  close: closeFd,
};

function closeFd(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing to release.
  }
}
