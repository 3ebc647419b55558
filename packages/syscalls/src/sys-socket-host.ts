/**
 * Network mode `host` (gVisor's hostinet): the sandbox's AF_INET and AF_INET6 sockets (TCP, UDP,
 * ICMP "ping" datagrams where the host allows them) are real host sockets owned by the
 * supervisor. The sandbox sees each as its own fd: a file description whose read, write, poll
 * readiness and ioctls go to the host fd. AF_UNIX and AF_NETLINK stay in the sandbox's own
 * namespace (netstack), as in gVisor.
 *
 * Nothing from the sandbox reaches the host unchecked: addresses are re-encoded from their parsed
 * fields (only AF_INET, AF_INET6 and AF_UNSPEC; any other family is passed as its bare family
 * number, so the host picks the errno), socket options pass only from an allowlist with a length
 * fixed per option, flags are masked to the ones with a meaning here, control messages are
 * rebuilt one by one from an allowlist of levels and types (SCM_RIGHTS and SCM_CREDENTIALS, which
 * inet sockets ignore, are dropped: no fd number from the sandbox ever reaches the host), the
 * privileged parts of calls are checked against the sandbox task (not the supervisor, root on the
 * host), and data is copied through the supervisor's own buffers. Host fds are always
 * non-blocking and close-on-exec; a blocking call of the sandbox waits on the kernel's wait queue,
 * woken by a readiness watch on the epoll the supervisor's event loop already runs (or by the
 * watch's report of each wakeup of the host socket, while an edge-triggered epoll interest of the
 * sandbox asks for those: see {@link HostSocketImpl.wantEdges}), and gives up
 * after SO_RCVTIMEO/SO_SNDTIMEO as Linux does. Nothing here ever blocks the event loop: a
 * lingering close (SO_LINGER) is a wait of the closing task, not of the host's close(2).
 *
 * The handlers here are layered over the socket family (see {@link withHostSockets}): each
 * answers only for host sockets (and socket(2) only in host mode), and otherwise defers to the
 * netstack handler.
 *
 * @module
 */
import {
  Capability,
  E,
  MsgFlag,
  OpenFlag,
  SiCode,
  Signal,
  SockType,
  isError,
  type LinuxError,
} from '@tsvisor/abi';
import { Waiter, capable, type Kernel, type Task } from '@tsvisor/kernel';
import type { FileDescription } from '@tsvisor/vfs';
import {
  FileDescriptionImpl,
  UserIOSequence,
  WOULD_BLOCK,
  WaitQueue,
  type IOSequence,
  type WouldBlock,
} from '@tsvisor/vfs';
import { initialNetOf, netOf, newSocketInode } from './sys-socket-file.js';
import { closedHostConnectionsOf, type ClosedHostConnections } from './host-closed-sockets.js';
import { interfaceIoctl } from './sys-netlink.js';
import { writeStream, type WriteOutcome } from './stream-write.js';
import { SendTimeout, deadlineOf, sockIntrErrno } from './socket-timeout.js';
import { int, ptr, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';
import { fileAt } from './vfs-context.js';
import {
  SOCKADDR_STORAGE,
  layerFamily,
  perMessage,
  readAddr,
  writeAddr,
  type LayerHandler,
  installSocketFile,
  socketFile,
  readMsghdr,
} from './socket-layer.js';

/** A readiness watch of one host fd (see {@link HostSockets.watch}). */
export interface HostFdWatch {
  /** One report once the fd has any of `events` (POLLIN, POLLPRI, POLLOUT, POLLRDHUP); 0 disarms. */
  arm(events: number): void;
  /**
   * From now on an edge report at each wakeup of the fd by any of `events` (POLLIN, POLLPRI,
   * POLLOUT, POLLRDHUP; errors and hang-ups always), as Linux's ep_poll_callback queues an
   * EPOLLET interest: each segment or datagram that arrives is one, unread data or not. 0 stops.
   * That the fd is ready when asked is not reported.
   */
  edges(events: number): void;
  /** Ends the watch; called before the fd is closed. */
  close(): void;
}

/**
 * The host socket calls network mode `host` needs; `@tsvisor/trap-native`'s `hostSockets`
 * provides them. Each answers its result or a `LinuxError` and never throws for host failures.
 */
export interface HostSockets {
  socket(domain: number, type: number, protocol: number): number | LinuxError;
  bind(fd: number, addr: Uint8Array): number | LinuxError;
  connect(fd: number, addr: Uint8Array): number | LinuxError;
  listen(fd: number, backlog: number): number | LinuxError;
  accept(fd: number, flags: number): number | LinuxError;
  name(fd: number, peer: boolean, out: Uint8Array): number | LinuxError;
  /** sendmsg(2); `control` holds the cmsgs (already checked and rebuilt by the caller). */
  send(
    fd: number,
    data: Uint8Array,
    addr: Uint8Array | null,
    flags: number,
    control?: Uint8Array | null,
  ): number | LinuxError;
  /**
   * recvmsg(2): `meta[0]` = the sender address's length, `meta[1]` = msg_flags; with `control`
   * (`meta` then has 3 elements) the host's cmsgs land in it and `meta[2]` = their length.
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
  getsockopt(fd: number, level: number, name: number, out: Uint8Array): number | LinuxError;
  shutdown(fd: number, how: number): number | LinuxError;
  ioctlInt(fd: number, cmd: number): number | LinuxError;
  poll(fd: number, events: number): number | LinuxError;
  /** `onReady` after each report armed by `arm`; `onEdge`, with the fd's events, after each of `edges`. */
  watch(fd: number, onReady: () => void, onEdge: (events: number) => void): HostFdWatch | LinuxError;
  close(fd: number): void;
  /**
   * The host's TCP congestion control algorithms: those loaded (net.ipv4.
   * tcp_available_congestion_control) and those an unprivileged process may pick
   * (tcp_allowed_congestion_control). Optional; without it only reno and cubic are offered.
   */
  congestionControl?(): { readonly available: readonly string[]; readonly allowed: readonly string[] };
}

const hostNets = new WeakMap<Kernel, HostSockets>();

/**
 * Puts `kernel` in network mode `host`: its AF_INET/AF_INET6 sockets made from now on are host
 * sockets made with `calls`.
 *
 * @example
 * ```ts
 * import { hostSockets } from '@tsvisor/trap-native';
 * configureHostNetwork(kernel, hostSockets);
 * ```
 */
export function configureHostNetwork(kernel: Kernel, calls: HostSockets): void {
  hostNets.set(kernel, calls);
}

const AF_UNSPEC = 0;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_PACKET = 10;
const SOCKADDR_IN = 16;
const SOCKADDR_IN6 = 28;
/**
 * The most one call copies between the sandbox and the host (both ways): a bound on what the
 * supervisor allocates per call. A stream send or receive moves at most this much per call (a
 * short count, which callers loop on); a datagram is never larger than 64 KiB anyway.
 */
const MAX_IO = 4 << 20;
const MAX_DATAGRAM = (1 << 16) + 1;
const INT_MAX = 0x7fffffff;
/** The lowest port bind(2) gives without CAP_NET_BIND_SERVICE (Linux's default). */
const PROT_SOCK = 1024;
/** TCP_CA_NAME_MAX: a congestion control name is at most 15 bytes. */
const TCP_CA_NAME_MAX = 16;
const TCP_CONGESTION = 13;
/**
 * How long the readiness watch of a host socket pauses after a report that was only an error
 * nobody reads (a non-empty error queue): such a socket's waiters look again at most this often.
 */
const ERROR_ONLY_REARM_MS = 10;

const POLLIN = 0x1;
const POLLPRI = 0x2;
const POLLOUT = 0x4;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const POLLRDNORM = 0x40;
const POLLWRNORM = 0x100;
const POLLRDHUP = 0x2000;

/**
 * The poll events a host socket's readiness watch reports (HostFdWatch.arm: POLLIN, POLLPRI,
 * POLLOUT, POLLRDHUP; errors and hang-ups always; an inet socket's POLLRDNORM comes and goes with
 * its POLLIN, its POLLWRNORM with its POLLOUT): a socket waited for anything else (POLLRDBAND,
 * POLLWRBAND) must be asked again to learn of it.
 */
export const HOST_WATCHED =
  POLLIN | POLLPRI | POLLOUT | POLLRDHUP | POLLERR | POLLHUP | POLLRDNORM | POLLWRNORM;

/** What the watch is armed or asked edges for to learn of `events` (see {@link HOST_WATCHED}). */
function watchedFor(events: number): number {
  return (
    (events & (POLLIN | POLLPRI | POLLOUT | POLLRDHUP)) |
    (events & POLLRDNORM ? POLLIN : 0) |
    (events & POLLWRNORM ? POLLOUT : 0)
  );
}

/**
 * The bit a host socket's wait queue is notified with, beside the events, for an edge report of
 * its watch (a wakeup of the host socket: see HostFdWatch.edges), which no poll event uses.
 */
export const HOST_EDGE = 1 << 17;

/**
 * Calls of the sandbox on host sockets that may have changed the host readiness of some socket
 * (its own or a peer's over the loopback: data sent or read, a connection made, accepted, shut
 * down or closed), counted; and how many of them the event loop is known to have polled the
 * watches after (see {@link hostSettled}).
 */
let hostChanges = 0;
let settledChanges = 0;
let settling: { readonly upTo: number; readonly done: Promise<void> } | undefined;

/**
 * When the sandbox changed host sockets since the event loop last polled their readiness
 * watches: a promise that resolves once it has (two turns of the loop: an immediate runs after
 * the poll phase of its turn, and only the next turn's poll sees what the calls did); otherwise
 * undefined. epoll_wait waits for it before it looks at a set that holds host sockets, because
 * the host answers the sandbox's own calls at once (a send over the loopback makes the peer
 * readable before it returns, as on Linux) while the sandbox hears of it only from the watch.
 * Without it, a wait right after sends to two connections whose ends in the set had been found
 * idle reported one of them, the other at the next wait (testdata/epoll-host-idle.c in the
 * runtime; CPython's test_epoll test_control_and_wait is the same with edge-triggered ends).
 */
export function hostSettled(): Promise<void> | undefined {
  if (settledChanges >= hostChanges) return undefined;
  const upTo = hostChanges;
  if (settling && settling.upTo >= upTo) return settling.done;
  const done = new Promise<void>((resolve) =>
    setImmediate(() =>
      setImmediate(() => {
        settledChanges = Math.max(settledChanges, upTo);
        if (settling?.upTo === upTo) settling = undefined;
        resolve();
      }),
    ),
  );
  settling = { upTo, done };
  return done;
}

const SOL_SOCKET = 1;
const IPPROTO_IP = 0;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_IPV6 = 41;
const IPPROTO_UDPLITE = 136;
const SO_ERROR = 4;
const SO_PRIORITY = 12;
const SO_LINGER = 13;
const SO_RCVTIMEO_OLD = 20;
const SO_SNDTIMEO_OLD = 21;
const SO_RCVTIMEO_NEW = 66;
const SO_SNDTIMEO_NEW = 67;
const SCM_RIGHTS = 1;
const SCM_CREDENTIALS = 2;
const SO_MARK = 36;
const SO_TIMESTAMPING_OLD = 37;
const SCM_TXTIME = 61;
/** sizeof(struct cmsghdr) on x86-64: cmsg_len (8), cmsg_level, cmsg_type. */
const CMSG_HDR = 16;
/**
 * The most control data one sendmsg takes: Linux allocates it with sock_kmalloc, which fails
 * with ENOBUFS beyond net.core.optmem_max (131072 by default).
 */
const OPTMEM_MAX = 131072;
/** The most control data one recvmsg offers the host (far above what any inet cmsg set needs). */
const MAX_RECV_CONTROL = 1 << 16;

const FIONREAD = 0x541b;
const SHUT_WR = 1;
const SIOCOUTQ = 0x5411;
const SIOCATMARK = 0x8905;

/** Send flags passed to the host; MSG_NOSIGNAL is always added (SIGPIPE is the sandbox's). */
const SEND_FLAGS =
  MsgFlag.MSG_OOB | MsgFlag.MSG_DONTROUTE | MsgFlag.MSG_EOR | MsgFlag.MSG_MORE | MsgFlag.MSG_CONFIRM;
/**
 * Receive flags passed to the host; MSG_WAITALL is done here, MSG_DONTWAIT always added.
 * MSG_ERRQUEUE reads the host socket's error queue (IP_RECVERR), which never blocks on Linux.
 */
const RECV_FLAGS = MsgFlag.MSG_OOB | MsgFlag.MSG_PEEK | MsgFlag.MSG_TRUNC | MsgFlag.MSG_ERRQUEUE;
/** The msg_flags a receive reports. */
const RECV_MSG_FLAGS =
  MsgFlag.MSG_TRUNC | MsgFlag.MSG_CTRUNC | MsgFlag.MSG_OOB | MsgFlag.MSG_EOR | MsgFlag.MSG_ERRQUEUE;

/**
 * The socket options passed through, with the length of their value: 4 for ints, 8 for struct
 * linger, 16 for struct timeval, more for TCP_INFO, TCP_CONGESTION and IPv6 structs. Others
 * answer ENOPROTOOPT. Not offered: SO_BINDTODEVICE, SO_MARK, IP_TRANSPARENT, IP_FREEBIND,
 * multicast joins, IP options and IPv6 extension headers (the supervisor's privileges would
 * apply to them), SO_ZEROCOPY and SO_TIMESTAMPING (error-queue notifications).
 */
const OPTIONS: ReadonlyMap<number, ReadonlyMap<number, number>> = new Map([
  [
    SOL_SOCKET,
    new Map([
      [2, 4], // SO_REUSEADDR
      [3, 4], // SO_TYPE
      [SO_ERROR, 4],
      [5, 4], // SO_DONTROUTE
      [6, 4], // SO_BROADCAST
      [7, 4], // SO_SNDBUF
      [8, 4], // SO_RCVBUF
      [9, 4], // SO_KEEPALIVE
      [10, 4], // SO_OOBINLINE
      [SO_PRIORITY, 4],
      [SO_LINGER, 8],
      [15, 4], // SO_REUSEPORT
      [18, 4], // SO_RCVLOWAT
      [SO_RCVTIMEO_OLD, 16],
      [SO_SNDTIMEO_OLD, 16],
      [29, 4], // SO_TIMESTAMP_OLD
      [30, 4], // SO_ACCEPTCONN
      [35, 4], // SO_TIMESTAMPNS_OLD
      [38, 4], // SO_PROTOCOL
      [39, 4], // SO_DOMAIN
      [40, 4], // SO_RXQ_OVFL
      [63, 4], // SO_TIMESTAMP_NEW
      [64, 4], // SO_TIMESTAMPNS_NEW
      [SO_RCVTIMEO_NEW, 16],
      [SO_SNDTIMEO_NEW, 16],
    ]),
  ],
  [
    IPPROTO_TCP,
    new Map([
      [1, 4], // TCP_NODELAY
      [2, 4], // TCP_MAXSEG
      [3, 4], // TCP_CORK
      [4, 4], // TCP_KEEPIDLE
      [5, 4], // TCP_KEEPINTVL
      [6, 4], // TCP_KEEPCNT
      [7, 4], // TCP_SYNCNT
      [8, 4], // TCP_LINGER2
      [9, 4], // TCP_DEFER_ACCEPT
      [10, 4], // TCP_WINDOW_CLAMP
      [11, 256], // TCP_INFO (struct tcp_info; read only)
      [12, 4], // TCP_QUICKACK
      [13, 16], // TCP_CONGESTION (TCP_CA_NAME_MAX)
      [18, 4], // TCP_USER_TIMEOUT
      [25, 4], // TCP_NOTSENT_LOWAT
    ]),
  ],
  [
    IPPROTO_IP,
    new Map([
      [1, 4], // IP_TOS
      [2, 4], // IP_TTL
      [8, 4], // IP_PKTINFO
      [10, 4], // IP_MTU_DISCOVER
      [11, 4], // IP_RECVERR
      [12, 4], // IP_RECVTTL
      [13, 4], // IP_RECVTOS
      [14, 4], // IP_MTU
      [20, 4], // IP_RECVORIGDSTADDR
      [24, 4], // IP_BIND_ADDRESS_NO_PORT
      [25, 4], // IP_RECVFRAGSIZE
      [33, 4], // IP_MULTICAST_TTL
      [34, 4], // IP_MULTICAST_LOOP
    ]),
  ],
  [
    IPPROTO_IPV6,
    new Map([
      [2, 4], // IPV6_2292PKTINFO
      [8, 4], // IPV6_2292HOPLIMIT
      [16, 4], // IPV6_UNICAST_HOPS
      [18, 4], // IPV6_MULTICAST_HOPS
      [19, 4], // IPV6_MULTICAST_LOOP
      [23, 4], // IPV6_MTU_DISCOVER
      [24, 4], // IPV6_MTU
      [25, 4], // IPV6_RECVERR
      [26, 4], // IPV6_V6ONLY
      [49, 4], // IPV6_RECVPKTINFO
      [50, 20], // IPV6_PKTINFO (struct in6_pktinfo, sticky)
      [51, 4], // IPV6_RECVHOPLIMIT
      [52, 4], // IPV6_HOPLIMIT
      [60, 4], // IPV6_RECVPATHMTU
      [61, 32], // IPV6_PATHMTU (struct ip6_mtuinfo; read only)
      [62, 4], // IPV6_DONTFRAG
      [66, 4], // IPV6_RECVTCLASS
      [67, 4], // IPV6_TCLASS
      [70, 4], // IPV6_AUTOFLOWLABEL
      [74, 4], // IPV6_RECVORIGDSTADDR
      [77, 4], // IPV6_RECVFRAGSIZE
    ]),
  ],
]);
/** UDP and UDP-Lite options, at SOL_UDP and at IPPROTO_UDPLITE (the same udp_lib_setsockopt). */
const UDP_OPTIONS: ReadonlyMap<number, number> = new Map([
  [1, 4], // UDP_CORK
  [10, 4], // UDPLITE_SEND_CSCOV
  [11, 4], // UDPLITE_RECV_CSCOV
  [101, 4], // UDP_NO_CHECK6_TX
  [102, 4], // UDP_NO_CHECK6_RX
  [103, 4], // UDP_SEGMENT
]);
/** Options the sandbox may read but not set. */
const READ_ONLY = new Set(['1:3', `1:${SO_ERROR}`, '1:30', '1:38', '1:39', '6:11', '0:14', '41:24', '41:61']);

function optionSize(level: number, name: number): number | undefined {
  if (level === IPPROTO_UDP || level === IPPROTO_UDPLITE) return UDP_OPTIONS.get(name);
  return OPTIONS.get(level)?.get(name);
}

/**
 * Re-encodes a sockaddr of the sandbox for the host. AF_INET, AF_INET6 and AF_UNSPEC are rebuilt
 * from their fields, at the length the sandbox gave when shorter than the struct (the host then
 * answers EINVAL as Linux does) and at the struct's own length otherwise. Any other family goes
 * as just its family number, zero padded to the given length (capped at 16), for the host's errno.
 */
export function hostSockaddr(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.min(bytes.length, SOCKADDR_IN6));
  if (bytes.length < 2) {
    out.set(bytes);
    return out;
  }
  const family = bytes[0]! | (bytes[1]! << 8);
  if (family === AF_INET || family === AF_UNSPEC) {
    const n = Math.min(bytes.length, SOCKADDR_IN);
    const b = new Uint8Array(n);
    // sa_family, sin_port, sin_addr: the fields Linux reads; sin_zero stays zero.
    b.set(bytes.subarray(0, Math.min(n, 8)));
    return b;
  }
  if (family === AF_INET6) {
    const n = Math.min(bytes.length, SOCKADDR_IN6);
    const b = new Uint8Array(n);
    b.set(bytes.subarray(0, n));
    return b;
  }
  const b = new Uint8Array(Math.min(bytes.length, SOCKADDR_IN));
  b[0] = bytes[0]!;
  b[1] = bytes[1]!;
  return b;
}

const IP_TOS = 1;
const IP_TTL = 2;
const IP_PKTINFO = 8;
const IP_PROTOCOL = 52;
/** IPv4 cmsgs sendmsg passes (ip_cmsg_send); the host checks their lengths and values. */
const IP_SEND_CMSGS = new Set([IP_TOS, IP_TTL, IP_PKTINFO, IP_PROTOCOL]);
/**
 * IPv6 cmsgs sendmsg passes (ip6_datagram_send_ctl): IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS,
 * IPV6_DONTFRAG, IPV6_FLOWINFO and the RFC 2292 PKTINFO/HOPLIMIT.
 */
const IPV6_SEND_CMSGS = new Set([50, 52, 67, 62, 11, 2, 8]);
/**
 * IP options (IP_RETOPTS) and IPv6 extension headers and next hops (HOPOPTS, RTHDR, DSTOPTS,
 * RTHDRDSTOPTS, NEXTHOP and their RFC 2292 forms): Linux accepts them from unprivileged
 * processes only in part, and here the host would check the supervisor's privileges, so they are
 * refused with EPERM rather than passed.
 */
const PRIVILEGED_CMSGS = new Set([
  '0:7',
  '41:54',
  '41:55',
  '41:57',
  '41:59',
  '41:3',
  '41:4',
  '41:5',
  '41:6',
  '41:9',
]);
/** The highest SO_PRIORITY an unprivileged socket may set (TC_PRIO_INTERACTIVE). */
const TC_PRIO_INTERACTIVE = 6;

function align8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * Rebuilds the control messages of a sendmsg(2) for the host, walking them as Linux does
 * (CMSG_FIRSTHDR, __cmsg_nxthdr, CMSG_OK: EINVAL for a cmsg_len below the header or past the
 * buffer). What each protocol does with a level is kept: SOL_SOCKET cmsgs are checked for every
 * socket (SCM_RIGHTS and SCM_CREDENTIALS mean nothing to inet sockets, which __sock_cmsg_send
 * accepts and ignores: they are dropped here, so no fd number of the sandbox ever reaches the
 * host; SO_MARK needs CAP_NET_ADMIN: EPERM; unknown types EINVAL); IP-level
 * cmsgs only on datagram sockets (TCP ignores them) from an allowlist, with EPERM for IP options
 * and IPv6 extension headers and EINVAL for unknown types; SOL_IPV6 cmsgs are ignored on AF_INET
 * sockets as ip_cmsg_send does; other levels are ignored by every inet protocol and dropped.
 * The bytes of a passed cmsg are copied as given (its length included): the host checks them.
 *
 * @example
 * ```ts
 * const ttl = new Uint8Array(24);
 * new DataView(ttl.buffer).setBigUint64(0, 20n, true); // cmsg_len = CMSG_LEN(4), SOL_IP
 * ttl[12] = 2; // IP_TTL
 * ttl[16] = 9;
 * hostControl(ttl, { stream: false, domain: 2 }); // the same 24 bytes
 * ```
 */
export function hostControl(
  ctl: Uint8Array,
  sock: { readonly stream: boolean; readonly domain: number },
): Uint8Array | LinuxError {
  const dv = new DataView(ctl.buffer, ctl.byteOffset, ctl.byteLength);
  const kept: Uint8Array[] = [];
  let size = 0;
  for (let off = 0; off + CMSG_HDR <= ctl.length;) {
    const len = dv.getBigUint64(off, true);
    if (len < BigInt(CMSG_HDR) || len > BigInt(ctl.length - off)) return E.EINVAL;
    const n = Number(len);
    const level = dv.getInt32(off + 8, true);
    const type = dv.getInt32(off + 12, true);
    let pass = false;
    if (level === SOL_SOCKET) {
      if (type === SO_MARK) return E.EPERM;
      if (type === SO_PRIORITY) {
        if (n !== CMSG_HDR + 4) return E.EINVAL;
        const prio = dv.getInt32(off + CMSG_HDR, true);
        if (prio < 0 || prio > TC_PRIO_INTERACTIVE) return E.EPERM;
        pass = true;
      } else if (type === SO_TIMESTAMPING_OLD || type === SCM_TXTIME) {
        pass = true;
      } else if (type !== SCM_RIGHTS && type !== SCM_CREDENTIALS) {
        return E.EINVAL; // __sock_cmsg_send's default
      }
    } else if (
      !sock.stream &&
      (level === IPPROTO_IP || (level === IPPROTO_IPV6 && sock.domain === AF_INET6))
    ) {
      if (PRIVILEGED_CMSGS.has(`${level}:${type}`)) return E.EPERM;
      const allowed = level === IPPROTO_IP ? IP_SEND_CMSGS : IPV6_SEND_CMSGS;
      if (!allowed.has(type)) return E.EINVAL;
      pass = true;
    }
    if (pass) {
      const c = new Uint8Array(align8(n));
      c.set(ctl.subarray(off, off + n));
      kept.push(c);
      size += c.length;
    }
    off += align8(n);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of kept) {
    out.set(c, at);
    at += c.length;
  }
  // The last cmsg's padding is not part of the buffer the kernel is given (CMSG_OK is per cmsg,
  // so trimming it changes nothing but keeps msg_controllen as tight as the sandbox's).
  if (kept.length > 0) {
    const last = kept[kept.length - 1]!;
    const lastLen = Number(new DataView(last.buffer).getBigUint64(0, true));
    return out.subarray(0, size - last.length + lastLen);
  }
  return out;
}

/**
 * The cmsgs the host returned, for the sandbox: copied as they are, except that an SCM_RIGHTS
 * (which inet sockets never carry) would be host fds: they are closed and the cmsg dropped.
 */
function sandboxControl(calls: HostSockets, ctl: Uint8Array): Uint8Array {
  const dv = new DataView(ctl.buffer, ctl.byteOffset, ctl.byteLength);
  let rights = false;
  for (let off = 0; off + CMSG_HDR <= ctl.length;) {
    const n = Number(dv.getBigUint64(off, true));
    if (n < CMSG_HDR || n > ctl.length - off) break;
    if (dv.getInt32(off + 8, true) === SOL_SOCKET && dv.getInt32(off + 12, true) === SCM_RIGHTS)
      rights = true;
    off += align8(n);
  }
  if (!rights) return ctl;
  const out: number[] = [];
  for (let off = 0; off + CMSG_HDR <= ctl.length;) {
    const n = Number(dv.getBigUint64(off, true));
    if (n < CMSG_HDR || n > ctl.length - off) break;
    if (dv.getInt32(off + 8, true) === SOL_SOCKET && dv.getInt32(off + 12, true) === SCM_RIGHTS) {
      for (let p = off + CMSG_HDR; p + 4 <= off + n; p += 4) calls.close(dv.getInt32(p, true));
    } else {
      out.push(...ctl.subarray(off, Math.min(off + align8(n), ctl.length)));
    }
    off += align8(n);
  }
  return Uint8Array.from(out);
}

/** The staging buffer of {@link HostSocketImpl.readIO}, grown as needed up to MAX_IO. */
let readStage = new Uint8Array(0);

/**
 * The staging buffer of {@link doSend}'s copies from the app, shared by every send (the calls
 * are synchronous up to a wait, before which a send that still holds bytes takes its own copy of
 * them). A fresh buffer per send cost a page fault per 4 KiB it was copied into: on a machine
 * whose page faults the hypervisor handles, process_vm_readv into one took 117 µs a 64 KiB write
 * instead of 16.
 */
let sendStage = new Uint8Array(0);

/** `stage`, or a larger one when it holds fewer than `want` bytes (doubling, up to MAX_IO). */
function grownStage(stage: Uint8Array<ArrayBuffer>, want: number): Uint8Array<ArrayBuffer> {
  return stage.length >= want ? stage : new Uint8Array(Math.max(want, Math.min(stage.length * 2, MAX_IO)));
}

/** The file side of a host socket (socket_file_ops over a host fd). */
export class HostSocketImpl extends FileDescriptionImpl {
  readonly #queue = new WaitQueue();
  /** The host's changes arrive through the readiness watch, after the fact. */
  override get readinessLags(): boolean {
    return true;
  }
  #watch: HostFdWatch | undefined;
  #armed = 0;
  /** The last report of the watch was an error and nothing asked for (see #arm). */
  #errorsOnly = false;
  #rearm: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /**
   * SO_RCVTIMEO and SO_SNDTIMEO as the host rounded them (its sk_rcvtimeo/sk_sndtimeo, in ns):
   * how long a blocking receive (accept) or send (connect) of the sandbox waits before EAGAIN
   * (EINPROGRESS for connect). Undefined waits for ever; 0 does not wait.
   */
  rcvTimeoutNs: bigint | undefined;
  sndTimeoutNs: bigint | undefined;
  /**
   * SO_LINGER on with a non-zero time, in ms: the host socket itself never lingers (its close
   * would block the supervisor), the closing task waits instead (see {@link hostLingerOnClose}).
   */
  lingerMs: number | undefined;
  /**
   * 'held' once release() kept the host fd open for a lingering close(2); 'claimed' while that
   * close waits; back to 'none' when the host fd is closed.
   */
  #linger: 'none' | 'held' | 'claimed' = 'none';
  /** Its own sockfs inode number (`socket:[ino]`) and its creator's fsuid, for /proc/net. */
  inode = 0;
  uid = 0;
  /** The events each edge-triggered epoll interest wants the host's wakeups of (see {@link wantEdges}). */
  readonly #edgeWants = new Map<object, number>();
  /** Their union, as the watch was asked for it (watchedFor's bits). */
  #edges = 0;
  /** The set of open host sockets this one is listed in until released (see openHostSockets). */
  openSet: Set<HostSocketImpl> | undefined;
  /** Where its connection is remembered once released, for /proc/net (see host-closed-sockets.ts). */
  closedList: ClosedHostConnections | undefined;

  constructor(
    /** The host fd (non-blocking, close-on-exec), owned by this description. */
    readonly fd: number,
    readonly calls: HostSockets,
    /** SOCK_STREAM, SOCK_DGRAM... */
    readonly type: number,
    /** AF_INET or AF_INET6. */
    readonly domain: number,
  ) {
    super();
  }

  override get stream(): boolean {
    return true;
  }

  override get waitQueue(): WaitQueue {
    return this.#queue;
  }

  override read(dst: Uint8Array): number | LinuxError | WouldBlock {
    const r = this.calls.recv(
      this.fd,
      dst,
      MsgFlag.MSG_DONTWAIT,
      new Uint8Array(SOCKADDR_STORAGE),
      new Int32Array(2),
    );
    if (r === E.EAGAIN) return this.#blocked(POLLIN);
    this.touched();
    return r;
  }

  /**
   * read(2)/readv(2): at most {@link ioLimit} per call (a short read, which a stream allows and
   * which holds any datagram), through one staging buffer all host sockets share (the calls are
   * synchronous), so a blocked reader that wakes and finds nothing allocates nothing.
   */
  override readIO(dst: IOSequence): number | LinuxError | WouldBlock {
    if (dst.length === 0) return 0; // sock_read_iter: nothing asked, nothing read
    const want = Math.min(dst.length, this.type === SockType.SOCK_STREAM ? MAX_IO : MAX_DATAGRAM);
    readStage = grownStage(readStage, want);
    const buf = readStage.subarray(0, want);
    const n = this.read(buf);
    if (typeof n !== 'number' || n <= 0) return n;
    return dst.copyOut(buf.subarray(0, n));
  }

  override write(src: Uint8Array): number | LinuxError | WouldBlock {
    const r = this.calls.send(this.fd, src, null, MsgFlag.MSG_DONTWAIT | MsgFlag.MSG_NOSIGNAL);
    if (r === E.EAGAIN) return this.#blocked(POLLOUT);
    this.touched();
    return r;
  }

  /**
   * A call of the sandbox reached the host socket (not one the host refused with EAGAIN): the
   * readiness of this socket or its peer may have changed on the host.
   */
  touched(): void {
    hostChanges++;
  }

  /**
   * An edge-triggered epoll interest (`owner`) wants to hear of every wakeup of the host socket
   * by `events` (0: no more), as Linux queues it at each: the watch reports them (HostFdWatch.
   * edges) and the queue is notified of each with {@link HOST_EDGE}. While it does, the level
   * watch is not armed for those events: every change to them is such a wakeup.
   */
  wantEdges(owner: object, events: number): void {
    if (events === 0) this.#edgeWants.delete(owner);
    else this.#edgeWants.set(owner, watchedFor(events));
    let all = 0;
    for (const e of this.#edgeWants.values()) all |= e;
    if (all === this.#edges || this.#closed) return;
    const gone = this.#edges & ~all;
    this.#edges = all;
    this.#ensureWatch()?.edges(all);
    // Waiters that counted on the edges for what they lack have the level watch again.
    if (gone !== 0 && this.#queue.active) this.#arm(gone);
  }

  /**
   * The host said EAGAIN: arms the watch for `events` before the caller sleeps on the queue (not
   * every caller asks for readiness before sleeping).
   */
  #blocked(events: number): WouldBlock {
    this.#arm(events);
    return WOULD_BLOCK;
  }

  /**
   * The host fd's readiness now; when some asked-for event is missing, the watch is armed for it,
   * so the waiters that asked are woken once the host has it.
   */
  override readiness(mask: number): number {
    if (this.#closed) return POLLERR & mask;
    const want = mask | POLLERR | POLLHUP;
    const r = this.calls.poll(this.fd, want & 0xffff);
    const ready = typeof r === 'number' ? r : POLLERR;
    const missing = mask & ~ready;
    if (missing !== 0) this.#arm(missing);
    return ready & want;
  }

  /** Arms the readiness watch for `events` (for callers that sleep on the queue directly). */
  armFor(events: number): void {
    this.#arm(events);
  }

  /** Arms the level watch for what it takes to learn of `events`, but those the edges report. */
  #arm(events: number): void {
    const w = this.#ensureWatch();
    if (!w) return;
    const add = watchedFor(events) & ~this.#edges;
    if ((this.#armed | add) === this.#armed) return;
    this.#armed |= add;
    if (this.#errorsOnly) this.#rearm ??= setTimeout(() => this.#rearmNow(), ERROR_ONLY_REARM_MS);
    else w.arm(this.#armed);
  }

  #ensureWatch(): HostFdWatch | undefined {
    if (this.#watch) return this.#watch;
    const w = this.calls.watch(
      this.fd,
      () => {
        const armed = this.#armed;
        this.#armed = 0;
        // epoll always reports an error, and a socket whose error queue (IP_RECVERR) is not
        // empty has one for as long as nobody reads the queue: a wait for something else would
        // wake on every turn of the event loop. Such a report still wakes the waiters (a new
        // SO_ERROR is theirs to return), but the next arm waits a little (see #rearm).
        const now = this.calls.poll(this.fd, (armed | POLLERR | POLLHUP) & 0xffff);
        this.#errorsOnly =
          typeof now === 'number' && (now & (armed | POLLHUP)) === 0 && (now & POLLERR) !== 0;
        this.#queue.notify(POLLIN | POLLPRI | POLLOUT | POLLERR | POLLHUP | POLLRDHUP);
      },
      // The wakeup's events with the RDNORM/WRNORM bits that come with them (see HOST_WATCHED).
      (events) =>
        this.#queue.notify(
          events | (events & POLLIN ? POLLRDNORM : 0) | (events & POLLOUT ? POLLWRNORM : 0) | HOST_EDGE,
        ),
    );
    if (isError(w)) return undefined;
    this.#watch = w;
    return w;
  }

  /** The arm held back after an error-only report. */
  #rearmNow(): void {
    this.#rearm = undefined;
    this.#errorsOnly = false;
    if (this.#armed !== 0) this.#watch?.arm(this.#armed);
  }

  /** FIONREAD/SIOCINQ, SIOCOUTQ and SIOCATMARK from the host; other requests ENOTTY. */
  override ioctl(cmd: number): number | LinuxError {
    if (cmd === FIONREAD || cmd === SIOCOUTQ || cmd === SIOCATMARK) return this.calls.ioctlInt(this.fd, cmd);
    return E.ENOTTY;
  }

  override release(): void {
    if (this.#closed) return;
    this.#closed = true;
    hostChanges++; // the peer sees the close
    this.openSet?.delete(this);
    this.closedList?.record(this);
    if (this.#rearm !== undefined) clearTimeout(this.#rearm);
    this.#watch?.close();
    this.#watch = undefined;
    if (this.#lingers()) {
      // close(2) lingers (hostLingerOnClose claims the fd in the same handler call); any other
      // last reference (exit, dup2 over it) does not, as PF_EXITING skips the linger in Linux.
      // The FIN goes now, as tcp_close sends it before it waits: the wait is for it and the data
      // before it to be acknowledged.
      this.calls.shutdown(this.fd, SHUT_WR);
      this.#linger = 'held';
      queueMicrotask(() => {
        if (this.#linger === 'held') this.#finishLinger();
      });
    } else {
      this.calls.close(this.fd);
    }
    this.#queue.notify(POLLERR | POLLHUP);
  }

  /**
   * Whether closing lingers: SO_LINGER on with a time, a TCP socket with sent data not yet
   * acknowledged and nothing unread (unread data makes tcp_close reset the connection at once).
   */
  #lingers(): boolean {
    if (this.lingerMs === undefined || this.type !== SockType.SOCK_STREAM || this.#unsent() === 0)
      return false;
    const unread = this.calls.ioctlInt(this.fd, FIONREAD);
    return typeof unread === 'number' && unread === 0;
  }

  #unsent(): number {
    const n = this.calls.ioctlInt(this.fd, SIOCOUTQ);
    return typeof n === 'number' ? n : 0;
  }

  /** The lingering close's host side: true while sent data is still unacknowledged. */
  lingerPending(): boolean {
    return this.#linger !== 'none' && this.#unsent() > 0;
  }

  /** Ends a lingering close: the host fd closes (its data still goes out, as after a linger). */
  #finishLinger(): void {
    if (this.#linger === 'none') return;
    this.#linger = 'none';
    this.calls.close(this.fd);
  }

  /**
   * Takes over the host close that release() held back for a lingering close(2): `undefined`
   * when there is none; else a function that finishes it.
   */
  claimLinger(): (() => void) | undefined {
    if (this.#linger !== 'held') return undefined;
    this.#linger = 'claimed';
    return () => this.#finishLinger();
  }
}

// ---- helpers ------------------------------------------------------------------------------------

type Result = SyscallResult | Promise<SyscallResult>;
/** A handler that answers for host sockets only: undefined hands the call to netstack. */
type HostHandler = LayerHandler;

function hostAt(t: Task, fd: number): { file: FileDescription; h: HostSocketImpl } | undefined {
  if (!hostNets.has(t.kernel)) return undefined;
  const file = fileAt(t, fd);
  if (isError(file) || !(file.impl instanceof HostSocketImpl)) return undefined;
  return { file, h: file.impl };
}

function nonBlocking(file: FileDescription, flags: number): boolean {
  return (file.getFlags() & OpenFlag.O_NONBLOCK) !== 0 || (flags & MsgFlag.MSG_DONTWAIT) !== 0;
}

type HostSocket = { file: FileDescription; h: HostSocketImpl };

/** What a signal during a blocking socket call answers (see {@link sockIntrErrno}). */
const interrupted = sockIntrErrno;

/**
 * Waits, after the caller's operation found the socket not ready, until the host reports
 * something (one of `events`, an error, a hang-up), a signal comes, or the monotonic `deadline`
 * passes. Only `events` count as ready at once: an error the host already shows is one the
 * operation did not return (a queued IP_RECVERR error), and waking on it would never sleep.
 */
async function waitHost(
  t: Task,
  s: HostSocket,
  events: number,
  deadline: bigint | undefined,
): Promise<'ready' | 'interrupted' | 'timeout'> {
  if (deadline !== undefined && deadline <= t.kernel.time.monotonicNs()) return 'timeout';
  const q = s.h.waitQueue;
  const w = new Waiter(undefined);
  const sub = { mask: events | POLLERR | POLLHUP, notify: (): void => void w.wake('notified') };
  q.add(sub);
  try {
    if ((s.file.readiness(events) & events) !== 0) return 'ready';
    if (deadline !== undefined) w.setDeadline(t.kernel.time, deadline);
    const r = await t.block(w);
    return r === 'notified' ? 'ready' : r;
  } finally {
    q.remove(sub);
  }
}

/**
 * Runs `op` until it stops answering EAGAIN, waiting for `events` on the socket in between (a
 * non-blocking call gets the EAGAIN, and so does a wait past `timeoutNs`); a signal ends the wait
 * (see {@link interrupted}).
 */
function untilReady(
  t: Task,
  s: HostSocket,
  events: number,
  nb: boolean,
  timeoutNs: bigint | undefined,
  op: () => number | LinuxError,
): Result {
  const r = op();
  if (r !== E.EAGAIN || nb) return r;
  const deadline = deadlineOf(t, timeoutNs);
  const loop = async (): Promise<SyscallResult> => {
    for (;;) {
      const w = await waitHost(t, s, events, deadline);
      if (w === 'interrupted') return interrupted(deadline);
      const again = op();
      if (again !== E.EAGAIN || w === 'timeout') return again;
    }
  };
  return loop();
}

/**
 * The lingering part of close(2) on a host socket with SO_LINGER on and a time: when `h` was the
 * last reference and the host still holds unacknowledged data, the closing task waits until the
 * host has it acknowledged, the linger time passes, or a signal comes; then the host fd closes
 * (without lingering: what is left still goes out, as after Linux's linger). close returns 0 in
 * every case, even on a non-blocking socket, as Linux's (see linger.c).
 */
export function hostLingerOnClose(t: Task, h: HostSocketImpl): 0 | Promise<0> {
  const finish = h.claimLinger();
  if (!finish) return 0;
  if (!h.lingerPending()) {
    finish();
    return 0;
  }
  const time = t.kernel.time;
  const w = new Waiter(undefined);
  const ms = h.lingerMs ?? 0;
  if (ms >= 0) w.setDeadline(time, time.monotonicNs() + BigInt(ms) * 1_000_000n);
  // No readiness event says "all acknowledged": the host is asked every 10 ms.
  let cancel: (() => void) | undefined;
  const look = (): void => {
    if (!h.lingerPending()) w.wake('notified');
    else cancel = time.setTimer(time.monotonicNs() + 10_000_000n, look);
  };
  look();
  return t.block(w).then(() => {
    cancel?.();
    finish();
    return 0 as const;
  });
}

/** move_addr_to_kernel, re-encoded for the host. */
function readHostAddr(t: Task, addr: number, len: number): Uint8Array | LinuxError {
  const b = readAddr(t, addr, len);
  return isError(b) || b.length === 0 ? b : hostSockaddr(b);
}

function hostName(h: HostSocketImpl, peer: boolean): Uint8Array | LinuxError {
  const out = new Uint8Array(SOCKADDR_STORAGE);
  const n = h.calls.name(h.fd, peer, out);
  return isError(n) ? n : out.subarray(0, Math.min(n, SOCKADDR_STORAGE));
}

function install(
  t: Task,
  calls: HostSockets,
  hostFd: number,
  type: number,
  domain: number,
  flags: number,
): number | LinuxError {
  const impl = new HostSocketImpl(hostFd, calls, type, domain);
  const { location } = newSocketInode();
  impl.inode = location.inode.ino;
  impl.uid = t.creds.fsuid;
  impl.openSet = openSetOf(t.kernel);
  impl.openSet.add(impl);
  impl.closedList = closedHostConnectionsOf(t.kernel);
  const file = socketFile(t, impl, location, flags);
  return installSocketFile(t, file, flags);
}

const HOST_FLAGS = SockType.SOCK_NONBLOCK | SockType.SOCK_CLOEXEC;

const openSets = new WeakMap<Kernel, Set<HostSocketImpl>>();

function openSetOf(kernel: Kernel): Set<HostSocketImpl> {
  let set = openSets.get(kernel);
  if (!set) {
    set = new Set();
    openSets.set(kernel, set);
  }
  return set;
}

/**
 * The sandbox's open host sockets in creation order (for /proc/net, which must list these and
 * never the host's other sockets); undefined when `kernel` is not in network mode `host`.
 */
export function openHostSockets(kernel: Kernel): readonly HostSocketImpl[] | undefined {
  if (!hostNets.has(kernel)) return undefined;
  return [...openSetOf(kernel)];
}

/**
 * The interface ioctls (SIOCGIFINDEX, SIOCGIFCONF, ...) on a host socket, answered from the links
 * rtnetlink reports (the host's, in host mode) and never passed to the host; undefined for other
 * requests, which go to the description's own ioctl.
 */
export function hostInterfaceIoctl(
  t: Task,
  h: HostSocketImpl,
  cmd: number,
  arg: bigint,
): SyscallResult | undefined {
  // Host sockets are made in the initial namespace only, and stay there.
  const net = initialNetOf(t.kernel);
  // SIOCSIF* are answered here too (the host's links have no LinkControl: EOPNOTSUPP), never
  // passed to the host.
  return interfaceIoctl(net.links(), t.memory, cmd, ptr(arg), h.domain === AF_INET, {
    domain: net.netlink,
    netAdmin: capable(t.creds, Capability.CAP_NET_ADMIN),
  });
}

// ---- handlers -----------------------------------------------------------------------------------

/** implements socket(2) in host mode for AF_INET and AF_INET6: a host socket. */
function socket(t: Task, a: SyscallArgs): Result | undefined {
  const calls = hostNets.get(t.kernel);
  const domain = int(a[0]);
  if (!calls || (domain !== AF_INET && domain !== AF_INET6)) return undefined;
  // The host's network is the initial namespace's: a namespace made inside has its own stack.
  if (netOf(t).initial !== undefined) return undefined;
  const type = int(a[1]);
  if (type & ~(SockType.SOCK_TYPE_MASK | HOST_FLAGS)) return E.EINVAL;
  const kind = type & SockType.SOCK_TYPE_MASK;
  // Raw sockets would let the sandbox craft packets as the supervisor: refused, as for a process
  // without CAP_NET_RAW. The host answers for every other kind and protocol.
  if (kind === SockType.SOCK_RAW || kind === SOCK_PACKET) return E.EPERM;
  const fd = calls.socket(domain, kind | HOST_FLAGS, int(a[2]));
  if (isError(fd)) return fd;
  return install(t, calls, fd, kind, domain, type);
}

/** implements bind(2) on a host socket. */
function bind(t: Task, a: SyscallArgs): Result | undefined {
  const s = hostAt(t, int(a[0]));
  if (!s) return undefined;
  const addr = readHostAddr(t, ptr(a[1]), int(a[2]));
  if (isError(addr)) return addr;
  // The host would check the supervisor's CAP_NET_BIND_SERVICE; the sandbox's own is what counts
  // (inet_bind_sk: a port below ip_unprivileged_port_start, 1024 by default, is EACCES without it).
  const full = s.h.domain === AF_INET ? SOCKADDR_IN : SOCKADDR_IN6;
  if (
    addr.length >= full &&
    (addr[0]! | (addr[1]! << 8)) === s.h.domain &&
    !capable(t.creds, Capability.CAP_NET_BIND_SERVICE)
  ) {
    const port = (addr[2]! << 8) | addr[3]!;
    if (port !== 0 && port < PROT_SOCK) return E.EACCES;
  }
  return s.h.calls.bind(s.h.fd, addr);
}

/** implements listen(2) on a host socket. */
function listen(t: Task, a: SyscallArgs): Result | undefined {
  const s = hostAt(t, int(a[0]));
  if (!s) return undefined;
  const r = s.h.calls.listen(s.h.fd, int(a[1]));
  // A socket that listens is no longer writable nor hung up (TCP_CLOSE to TCP_LISTEN).
  if (r === 0) s.h.touched();
  return r;
}

/**
 * implements connect(2) on a host socket: the host connect never blocks; a blocking one of the
 * sandbox waits for the socket to become writable and answers its SO_ERROR, or EINPROGRESS once
 * SO_SNDTIMEO passes (inet_stream_connect).
 */
function connect(t: Task, a: SyscallArgs): Result | undefined {
  const s = hostAt(t, int(a[0]));
  if (!s) return undefined;
  const addr = readHostAddr(t, ptr(a[1]), int(a[2]));
  if (isError(addr)) return addr;
  const { calls, fd } = s.h;
  const r = calls.connect(fd, addr);
  // A connecting socket stops being writable and hung up (TCP_CLOSE to TCP_SYN_SENT); its
  // listener's side changes on the host at once.
  if (r !== E.EAGAIN) s.h.touched();
  if (r !== E.EINPROGRESS || nonBlocking(s.file, 0)) return r;
  const deadline = deadlineOf(t, s.h.sndTimeoutNs);
  const finish = async (): Promise<SyscallResult> => {
    for (;;) {
      // A restarted connect finds the attempt in progress (EALREADY), as on Linux.
      const w = await waitHost(t, s, POLLOUT, deadline);
      if (w === 'interrupted') return interrupted(deadline);
      if (w === 'timeout') {
        const last = calls.connect(fd, addr);
        return last === E.EALREADY ? E.EINPROGRESS : last;
      }
      // Once the attempt is over, connecting again reports it (__inet_stream_connect): 0 and
      // the socket counts as connected, or the error that ended it.
      const again = calls.connect(fd, addr);
      if (again !== E.EALREADY && again !== E.EINPROGRESS) return again;
    }
  };
  return finish();
}

/** implements accept4(2) (and accept(2)) on a host socket. */
function accept4(t: Task, a: SyscallArgs): Result | undefined {
  const flags = int(a[3]);
  if (flags & ~HOST_FLAGS) return undefined; // netstack's handler answers EINVAL first
  const s = hostAt(t, int(a[0]));
  if (!s) return undefined;
  const { calls, fd } = s.h;
  const r = untilReady(t, s, POLLIN, nonBlocking(s.file, 0), s.h.rcvTimeoutNs, () => {
    const c = calls.accept(fd, HOST_FLAGS);
    if (c !== E.EAGAIN) s.h.touched();
    return c;
  });
  const done = (c: SyscallResult): SyscallResult => {
    if (typeof c !== 'number') return c;
    const addrp = ptr(a[1]);
    if (addrp !== 0) {
      const err = writeAddr(t, addrp, ptr(a[2]), hostPeerOf(calls, c));
      if (err) {
        calls.close(c);
        return err;
      }
    }
    return install(t, calls, c, s.h.type, s.h.domain, flags);
  };
  return r instanceof Promise ? r.then(done) : done(r);
}

function hostPeerOf(calls: HostSockets, fd: number): Uint8Array {
  const out = new Uint8Array(SOCKADDR_STORAGE);
  const n = calls.name(fd, true, out);
  return isError(n) ? new Uint8Array(0) : out.subarray(0, n);
}

function accept(t: Task, a: SyscallArgs): Result | undefined {
  return accept4(t, [a[0], a[1], a[2], 0n, 0n, 0n]);
}

/** implements getsockname(2) on a host socket. */
function getsockname(t: Task, a: SyscallArgs): Result | undefined {
  const s = hostAt(t, int(a[0]));
  if (!s) return undefined;
  const b = hostName(s.h, false);
  if (isError(b)) return b;
  return writeAddr(t, ptr(a[1]), ptr(a[2]), b) ?? 0;
}

/** implements getpeername(2) on a host socket. */
function getpeername(t: Task, a: SyscallArgs): Result | undefined {
  const s = hostAt(t, int(a[0]));
  if (!s) return undefined;
  const b = hostName(s.h, true);
  if (isError(b)) return b;
  return writeAddr(t, ptr(a[1]), ptr(a[2]), b) ?? 0;
}

/** implements shutdown(2) on a host socket. */
function shutdown(t: Task, a: SyscallArgs): Result | undefined {
  const s = hostAt(t, int(a[0]));
  if (!s) return undefined;
  const r = s.h.calls.shutdown(s.h.fd, int(a[1]));
  s.h.touched();
  return r;
}

function sigpipe(t: Task, r: SyscallResult, flags: number): SyscallResult {
  if (r === E.EPIPE && (flags & MsgFlag.MSG_NOSIGNAL) === 0)
    t.kernel.sendToTask(t, { signo: Signal.SIGPIPE, code: SiCode.SI_USER, pid: t.tgid, uid: t.creds.uid });
  return r;
}

/**
 * The SO_SNDTIMEO of a blocking send on a host socket, for the stream writer; undefined for
 * non-blocking calls (O_NONBLOCK or MSG_DONTWAIT: `nonBlocking`) and sockets without one.
 */
function sendTimeout(t: Task, file: FileDescription, nonBlocking: boolean): SendTimeout | undefined {
  const h = file.impl;
  if (nonBlocking || !(h instanceof HostSocketImpl) || h.sndTimeoutNs === undefined) return undefined;
  return new SendTimeout(t, h.waitQueue, POLLOUT, h.sndTimeoutNs);
}

/**
 * The wait of a blocking read on a host socket (`events` POLLIN: read(2), readv(2)) or write
 * (POLLOUT) after `op` answered WOULD_BLOCK once: `op` again whenever the host reports something
 * (see {@link waitHost}), EAGAIN once SO_RCVTIMEO (SO_SNDTIMEO) passes, and for a signal a
 * restart, or EINTR with a timeout (sock_intr_errno). Undefined for other files (the generic wait
 * of sys-file.ts applies).
 */
export function hostBlockingIo(
  t: Task,
  file: FileDescription,
  events: number,
  op: () => number | LinuxError | WouldBlock,
): Promise<SyscallResult> | undefined {
  const h = file.impl;
  if (!(h instanceof HostSocketImpl)) return undefined;
  const s = { file, h };
  const write = (events & POLLOUT) !== 0;
  const deadline = deadlineOf(t, write ? h.sndTimeoutNs : h.rcvTimeoutNs);
  const loop = async (): Promise<SyscallResult> => {
    for (;;) {
      const w = await waitHost(t, s, write ? POLLOUT : POLLIN, deadline);
      if (w === 'interrupted') return interrupted(deadline);
      const r = op();
      if (r !== WOULD_BLOCK) return r;
      if (w === 'timeout') return E.EAGAIN;
    }
  };
  return loop();
}

/**
 * Sends `src` (to `to`, with the rebuilt cmsgs `control`). The bytes are copied from the app as
 * they go, at most {@link ioLimit} at a time, so the supervisor never holds more than that: a
 * blocking stream send goes on until all of it is sent (tcp_sendmsg), or returns the bytes sent
 * so far when a fault, a signal or SO_SNDTIMEO stops it (see {@link SendTimeout}); a datagram
 * goes whole, and a fault in it is EFAULT (its copy fails before anything is sent).
 */
function doSend(
  t: Task,
  s: HostSocket,
  src: IOSequence,
  to: Uint8Array | null,
  flags: number,
  control: Uint8Array | null = null,
): Result {
  const { calls, fd, type } = s.h;
  const stream = type === SockType.SOCK_STREAM;
  const limit = ioLimit(s.h);
  const total = stream ? src.length : Math.min(src.length, limit);
  const hostFlags = (flags & SEND_FLAGS) | MsgFlag.MSG_DONTWAIT | MsgFlag.MSG_NOSIGNAL;
  const nb = nonBlocking(s.file, flags);
  // The bytes copied from the app and not sent yet, from offset `at` of `src`: an attempt the
  // host refused (EAGAIN), or took in part, does not copy them again.
  let staged = NONE;
  let at = 0;
  const attempt = (sent: number): number | LinuxError | 'block' => {
    if (sent < at || sent >= at + staged.length) {
      const want = Math.min(total - sent, limit);
      sendStage = grownStage(sendStage, want);
      const buf = sendStage.subarray(0, want);
      const got = buf.length > 0 ? src.dropFirst(sent).copyIn(buf) : 0;
      if (isError(got)) return got;
      if (!stream && got < buf.length) return E.EFAULT;
      staged = buf.subarray(0, got);
      at = sent;
    }
    // The cmsgs go with the first piece only, as tcp_sendmsg reads them once per call.
    const r = calls.send(fd, staged.subarray(sent - at), to, hostFlags, sent === 0 ? control : null);
    if (r !== E.EAGAIN) {
      s.h.touched();
      return r;
    }
    // The writer sleeps now, and other sends use the shared stage meanwhile: keep what is left.
    if (staged.buffer === sendStage.buffer) {
      staged = staged.slice(sent - at);
      at = sent;
    }
    // Arm the watch for writability before the stream writer sleeps on the queue.
    s.h.armFor(POLLOUT);
    return 'block';
  };
  const timeout = sendTimeout(t, s.file, nb);
  const r = writeStream(
    t,
    { queue: s.h.waitQueue, mask: POLLOUT | POLLERR | POLLHUP },
    total,
    timeout ? timeout.wrap(attempt) : attempt,
    { nonBlocking: nb, loop: stream },
  );
  const finish = (o0: WriteOutcome): SyscallResult => {
    const o = timeout ? timeout.end(o0) : o0;
    if (o.sent > 0) return o.sent;
    if (o.stop === undefined) return 0;
    return sigpipe(t, o.stop, flags);
  };
  return r instanceof Promise ? r.then(finish) : finish(r);
}

/**
 * write(2)/writev(2)/pwritev2(2) on a host socket, which sys-file.ts hands over: a send with no
 * flags but MSG_DONTWAIT for RWF_NOWAIT and MSG_NOSIGNAL for RWF_NOSIGNAL, so a blocking stream
 * write goes on until all is sent and SO_SNDTIMEO applies, as sock_write_iter's sendmsg does.
 * Undefined for other files.
 */
export function hostSocketWrite(
  t: Task,
  file: FileDescription,
  src: IOSequence,
  mode: { readonly nowait?: boolean; readonly nosignal?: boolean },
): Result | undefined {
  const h = file.impl;
  if (!(h instanceof HostSocketImpl)) return undefined;
  const flags = (mode.nowait ? MsgFlag.MSG_DONTWAIT : 0) | (mode.nosignal ? MsgFlag.MSG_NOSIGNAL : 0);
  return doSend(t, { file, h }, src, null, flags);
}

function ioLimit(h: HostSocketImpl): number {
  return h.type === SockType.SOCK_STREAM ? MAX_IO : MAX_DATAGRAM;
}

/** implements sendto(2) on a host socket. */
function sendto(t: Task, a: SyscallArgs): Result | undefined {
  const s = hostAt(t, int(a[0]));
  if (!s) return undefined;
  const len = a[2] > BigInt(INT_MAX) ? INT_MAX : Number(a[2]);
  const data = new UserIOSequence(t.memory, [{ base: ptr(a[1]), len }]);
  let to: Uint8Array | null = null;
  if (ptr(a[4]) !== 0) {
    const b = readHostAddr(t, ptr(a[4]), int(a[5]));
    if (isError(b)) return b;
    to = b.length > 0 ? b : null;
  }
  return doSend(t, s, data, to, int(a[3]));
}

interface Received {
  n: number;
  len: number;
  from: Uint8Array;
  msgFlags: number;
  /** The host's cmsgs (empty without a control buffer). */
  control: Uint8Array;
}

/**
 * One receive into `buf` (cmsgs into `control` when given), waiting when blocking, up to
 * SO_RCVTIMEO (then EAGAIN, or what MSG_WAITALL gathered); MSG_WAITALL on a stream keeps
 * filling. MSG_ERRQUEUE never waits (ip_recv_error answers EAGAIN on an empty queue).
 */
function doRecv(
  t: Task,
  s: HostSocket,
  buf: Uint8Array,
  flags: number,
  control: Uint8Array | null = null,
): Received | LinuxError | Promise<Received | LinuxError | SyscallResult> {
  const { calls, fd, type } = s.h;
  const hostFlags = (flags & RECV_FLAGS) | MsgFlag.MSG_DONTWAIT;
  const from = new Uint8Array(SOCKADDR_STORAGE);
  const meta = new Int32Array(3);
  const waitAll =
    (flags & MsgFlag.MSG_WAITALL) !== 0 && type === SockType.SOCK_STREAM && (flags & MsgFlag.MSG_PEEK) === 0;
  let got = 0;
  const once = (): Received | LinuxError => {
    const r = control
      ? calls.recv(fd, buf.subarray(got), hostFlags, from, meta, control)
      : calls.recv(fd, buf.subarray(got), hostFlags, from, meta);
    if (r !== E.EAGAIN) s.h.touched();
    if (isError(r)) return r;
    return {
      n: Math.min(r, buf.length - got),
      len: r,
      from: from.subarray(0, Math.min(meta[0]!, SOCKADDR_STORAGE)),
      msgFlags: meta[1]!,
      control: control
        ? sandboxControl(calls, control.subarray(0, Math.min(meta[2]!, control.length)))
        : NONE,
    };
  };
  const partial = (r?: Received): Received => ({
    n: got,
    len: got,
    from: r?.from ?? NONE,
    msgFlags: r?.msgFlags ?? 0,
    control: r?.control ?? NONE,
  });
  const nb = nonBlocking(s.file, flags) || (flags & MsgFlag.MSG_ERRQUEUE) !== 0;
  const first = once();
  if (!isError(first) && (!waitAll || first.n === 0 || first.n >= buf.length)) return first;
  if (isError(first) && (first !== E.EAGAIN || nb)) return first;
  if (!isError(first)) got = first.n;
  const deadline = deadlineOf(t, s.h.rcvTimeoutNs);
  const loop = async (): Promise<Received | LinuxError | SyscallResult> => {
    for (;;) {
      const w = await waitHost(t, s, POLLIN, deadline);
      if (w === 'interrupted') return got > 0 ? partial() : interrupted(deadline);
      const r = once();
      if (isError(r)) {
        if (r === E.EAGAIN && w !== 'timeout') continue;
        return got > 0 ? partial() : r;
      }
      if (!waitAll) return r;
      got += r.n;
      if (r.n === 0 || got >= buf.length || w === 'timeout') return partial(r);
    }
  };
  return loop();
}

const NONE = new Uint8Array(0);

function isReceived(r: unknown): r is Received {
  return typeof r === 'object' && r !== null && 'msgFlags' in r;
}

/** implements recvfrom(2) (and recv(3)) on a host socket. */
function recvfrom(t: Task, a: SyscallArgs): Result | undefined {
  const s = hostAt(t, int(a[0]));
  if (!s) return undefined;
  const flags = int(a[3]);
  const len = Math.min(Number(a[2] & 0xffff_ffffn), ioLimit(s.h));
  const buf = new Uint8Array(len);
  const done = (r: Received | LinuxError | SyscallResult): SyscallResult => {
    if (!isReceived(r)) return r as SyscallResult;
    if (r.n > 0) {
      const err = t.memory.writeExact(ptr(a[1]), buf.subarray(0, r.n));
      if (err) return err;
    }
    if (ptr(a[4]) !== 0) {
      const err = writeAddr(
        t,
        ptr(a[4]),
        ptr(a[5]),
        s.h.type === SockType.SOCK_STREAM ? new Uint8Array(0) : r.from,
      );
      if (err) return err;
    }
    return flags & MsgFlag.MSG_TRUNC && s.h.type !== SockType.SOCK_STREAM ? r.len : r.n;
  };
  const r = doRecv(t, s, buf, flags);
  return r instanceof Promise ? r.then(done) : done(r);
}

/**
 * implements sendmsg(2) on a host socket; control messages are rebuilt for the host by
 * {@link hostControl} (ENOBUFS beyond optmem_max, as sock_kmalloc fails; EFAULT).
 */
function sendmsg(t: Task, a: SyscallArgs): Result | undefined {
  const s = hostAt(t, int(a[0]));
  if (!s) return undefined;
  const hdr = readMsghdr(t, ptr(a[1]));
  if (isError(hdr)) return hdr;
  const { m, iov } = hdr;
  if (isError(m)) return m;
  let to: Uint8Array | null = null;
  if (m.msg_name !== 0 && m.msg_namelen > 0) {
    const b = readHostAddr(t, m.msg_name, Math.min(m.msg_namelen, SOCKADDR_STORAGE));
    if (isError(b)) return b;
    to = b;
  }
  let control: Uint8Array | null = null;
  const ctlLen = Number(m.msg_controllen);
  if (ctlLen > 0) {
    if (ctlLen >= OPTMEM_MAX) return E.ENOBUFS;
    const raw = t.memory.read(m.msg_control, ctlLen);
    if (isError(raw)) return raw;
    const c = hostControl(raw, { stream: s.h.type === SockType.SOCK_STREAM, domain: s.h.domain });
    if (isError(c)) return c;
    control = c.length > 0 ? c : null;
  }
  return doSend(t, s, new UserIOSequence(t.memory, iov), to, int(a[2]), control);
}

/**
 * implements recvmsg(2) on a host socket: data, the sender's address and the host's control
 * messages (offered room: the sandbox's msg_controllen; MSG_CTRUNC when they did not fit).
 */
function recvmsg(t: Task, a: SyscallArgs): Result | undefined {
  const s = hostAt(t, int(a[0]));
  if (!s) return undefined;
  const mp = ptr(a[1]);
  const flags = int(a[2]);
  const hdr = readMsghdr(t, mp);
  if (isError(hdr)) return hdr;
  const { raw, m, iov } = hdr;
  if (isError(m)) return m;
  let total = 0;
  for (const v of iov) total = Math.min(total + v.len, ioLimit(s.h));
  const buf = new Uint8Array(total);
  // No msg_control offers no room: the host reports MSG_CTRUNC for any cmsg, as put_cmsg does.
  const room = m.msg_control === 0 ? 0 : Math.min(Number(m.msg_controllen), MAX_RECV_CONTROL);
  const control = new Uint8Array(room);
  const done = (r: Received | LinuxError | SyscallResult): SyscallResult => {
    if (!isReceived(r)) return r as SyscallResult;
    let written = 0;
    for (const v of iov) {
      if (written >= r.n) break;
      const n = Math.min(v.len, r.n - written);
      const err = t.memory.writeExact(v.base, buf.subarray(written, written + n));
      if (err) return err;
      written += n;
    }
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const from = s.h.type === SockType.SOCK_STREAM ? new Uint8Array(0) : r.from;
    if (m.msg_name !== 0 && from.length > 0) {
      const n = Math.min(m.msg_namelen, SOCKADDR_STORAGE, from.length);
      const err = n > 0 ? t.memory.writeExact(m.msg_name, from.subarray(0, n)) : undefined;
      if (err) return err;
    }
    // A cmsg that cannot be stored is lost, as put_cmsg's failed copy is: msg_controllen then
    // says what was stored (nothing).
    const stored =
      r.control.length > 0 && !t.memory.writeExact(m.msg_control, r.control) ? r.control.length : 0;
    dv.setInt32(8, m.msg_name !== 0 ? from.length : 0, true);
    dv.setBigUint64(40, BigInt(stored), true);
    // ____sys_recvmsg starts msg_flags from the caller's MSG_CMSG_CLOEXEC.
    dv.setInt32(48, (r.msgFlags & RECV_MSG_FLAGS) | (flags & MsgFlag.MSG_CMSG_CLOEXEC), true);
    const err = t.memory.writeExact(mp, raw);
    if (err) return err;
    return flags & MsgFlag.MSG_TRUNC && s.h.type !== SockType.SOCK_STREAM ? r.len : r.n;
  };
  const r = doRecv(t, s, buf, flags, control);
  return r instanceof Promise ? r.then(done) : done(r);
}

const NSEC_PER_USEC = 1000n;
const NSEC_PER_SEC = 1_000_000_000n;

/**
 * SO_RCVTIMEO/SO_SNDTIMEO: the host stores the value (so getsockopt answers its rounding to
 * jiffies, and its checks give EINVAL/EDOM), and the sandbox's blocking calls use it. A negative
 * tv_sec means "do not wait" (sock_set_timeout stores 0, reported as 0 like "for ever"); it is
 * given to the host as 0 so the host does not log the warning Linux prints for it.
 */
function setTimeoutOption(
  t: Task,
  s: HostSocket,
  level: number,
  name: number,
  addr: number,
  optlen: number,
): Result {
  if (optlen < 16) return E.EINVAL;
  const v = t.memory.read(addr, 16);
  if (isError(v)) return v;
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const sec = dv.getBigInt64(0, true);
  const usec = dv.getBigInt64(8, true);
  if (usec < 0n || usec >= 1_000_000n) return E.EDOM;
  const value = sec < 0n ? new Uint8Array(16) : v;
  const r = s.h.calls.setsockopt(s.h.fd, level, name, value);
  if (isError(r)) return r;
  let ns: bigint | undefined = 0n;
  if (sec >= 0n) {
    const out = new Uint8Array(16);
    const n = s.h.calls.getsockopt(s.h.fd, level, name, out);
    if (isError(n)) return n;
    const o = new DataView(out.buffer);
    const total = o.getBigInt64(0, true) * NSEC_PER_SEC + o.getBigInt64(8, true) * NSEC_PER_USEC;
    ns = total === 0n ? undefined : total;
  }
  if (name === SO_RCVTIMEO_OLD || name === SO_RCVTIMEO_NEW) s.h.rcvTimeoutNs = ns;
  else s.h.sndTimeoutNs = ns;
  return 0;
}

/**
 * SO_LINGER: "off" and "reset on close" (a zero time) go to the host as they are. A lingering
 * close would block the host's close(2), and so the supervisor: the host gets the time (so
 * getsockopt reports it) with the flag off, and the sandbox's close waits instead.
 */
function setLinger(s: HostSocket, v: Uint8Array): Result {
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const on = dv.getInt32(0, true) !== 0;
  const secs = dv.getInt32(4, true);
  const r = s.h.calls.setsockopt(s.h.fd, SOL_SOCKET, SO_LINGER, v);
  if (isError(r) || !on || secs === 0) {
    if (!isError(r)) s.h.lingerMs = undefined;
    return r;
  }
  const off = v.slice();
  new DataView(off.buffer).setInt32(0, 0, true);
  const r2 = s.h.calls.setsockopt(s.h.fd, SOL_SOCKET, SO_LINGER, off);
  if (isError(r2)) return r2;
  // The host keeps the time as jiffies; a time it cannot hold (huge or "negative") lingers for
  // ever (MAX_SCHEDULE_TIMEOUT).
  s.h.lingerMs = secs < 0 ? -1 : secs * 1000;
  return 0;
}

/**
 * TCP_CONGESTION as an unprivileged process may set it (tcp_set_congestion_control without
 * CAP_NET_ADMIN): ENOENT for an algorithm the host has not loaded (the supervisor, root on the
 * host, would have the kernel load its module), EPERM for one not allowed to everyone.
 */
function congestionRefused(calls: HostSockets, v: Uint8Array): LinuxError | undefined {
  let end = v.indexOf(0);
  if (end < 0) end = v.length;
  const name = String.fromCharCode(...v.subarray(0, Math.min(end, TCP_CA_NAME_MAX - 1)));
  const cc = calls.congestionControl?.() ?? { available: ['reno', 'cubic'], allowed: ['reno', 'cubic'] };
  if (!cc.available.includes(name)) return E.ENOENT;
  if (!cc.allowed.includes(name)) return E.EPERM;
  return undefined;
}

/** implements setsockopt(2) on a host socket: allowlisted options only (ENOPROTOOPT). */
function setsockopt(t: Task, a: SyscallArgs): Result | undefined {
  const s = hostAt(t, int(a[0]));
  if (!s) return undefined;
  const level = int(a[1]);
  const name = int(a[2]);
  const optlen = int(a[4]);
  if (optlen < 0) return E.EINVAL;
  const size = optionSize(level, name);
  if (size === undefined || READ_ONLY.has(`${level}:${name}`)) return E.ENOPROTOOPT;
  if (
    level === SOL_SOCKET &&
    (name === SO_RCVTIMEO_OLD ||
      name === SO_SNDTIMEO_OLD ||
      name === SO_RCVTIMEO_NEW ||
      name === SO_SNDTIMEO_NEW)
  )
    return setTimeoutOption(t, s, level, name, ptr(a[3]), optlen);
  const n = Math.min(optlen, size);
  const v = n > 0 ? t.memory.read(ptr(a[3]), n) : new Uint8Array(0);
  if (isError(v)) return v;
  if (level === SOL_SOCKET && name === SO_PRIORITY && n >= 4) {
    // sk_set_prio_allowed: above TC_PRIO_INTERACTIVE needs CAP_NET_ADMIN, which the supervisor has
    // on the host and the sandbox must not borrow.
    const prio = new DataView(v.buffer, v.byteOffset, v.byteLength).getInt32(0, true);
    if (prio < 0 || prio > TC_PRIO_INTERACTIVE) return E.EPERM;
  }
  if (level === SOL_SOCKET && name === SO_LINGER && n >= 8) return setLinger(s, v);
  if (level === IPPROTO_TCP && name === TCP_CONGESTION && n >= 1) {
    const refused = congestionRefused(s.h.calls, v);
    if (refused) return refused;
  }
  return s.h.calls.setsockopt(s.h.fd, level, name, v);
}

/** implements getsockopt(2) on a host socket: allowlisted options only (ENOPROTOOPT). */
function getsockopt(t: Task, a: SyscallArgs): Result | undefined {
  const s = hostAt(t, int(a[0]));
  if (!s) return undefined;
  const level = int(a[1]);
  const name = int(a[2]);
  const lenp = ptr(a[4]);
  const len = t.memory.readI32(lenp);
  if (isError(len)) return len;
  if (len < 0) return E.EINVAL;
  const size = optionSize(level, name);
  if (size === undefined) return E.ENOPROTOOPT;
  // SO_LINGER is read whole, then cut to the sandbox's length: its l_onoff may be the sandbox's.
  const linger = level === SOL_SOCKET && name === SO_LINGER;
  const out = new Uint8Array(linger ? size : Math.min(len, size));
  const got = s.h.calls.getsockopt(s.h.fd, level, name, out);
  if (isError(got)) return got;
  if (level === SOL_SOCKET && name === SO_ERROR) s.h.touched(); // reading it clears it
  if (linger && s.h.lingerMs !== undefined && got >= 4) new DataView(out.buffer).setInt32(0, 1, true);
  const bytes = out.subarray(0, Math.min(got, out.length));
  const n = Math.min(len, bytes.length);
  const err = n > 0 ? t.memory.writeExact(ptr(a[3]), bytes.subarray(0, n)) : undefined;
  if (err) return err;
  return t.memory.writeI32(lenp, n) ?? 0;
}

/** sendmmsg(2)/recvmmsg(2) over host sockets: one sendmsg/recvmsg per entry. */
const mmsg = (one: HostHandler, recv: boolean): HostHandler =>
  perMessage(one, recv, (t, fd) => hostAt(t, fd) !== undefined);

const handlers: Readonly<Record<string, HostHandler>> = {
  socket,
  bind,
  listen,
  connect,
  accept,
  accept4,
  getsockname,
  getpeername,
  shutdown,
  sendto,
  recvfrom,
  sendmsg,
  recvmsg,
  setsockopt,
  getsockopt,
  sendmmsg: mmsg(sendmsg, false),
  recvmmsg: mmsg(recvmsg, true),
};

/**
 * The socket family with host-mode handlers in front: each syscall named here first asks its
 * host handler, which answers for host sockets (socket(2): in host mode, for AF_INET/AF_INET6)
 * and hands anything else to the netstack handler.
 */
export function withHostSockets(family: SyscallFamily): SyscallFamily {
  return layerFamily(family, handlers);
}
