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
 * fixed per option, flags are masked to the ones with a meaning here, and data is copied through
 * the supervisor's own buffers. Host fds are always non-blocking and close-on-exec; a blocking
 * call of the sandbox waits on the kernel's wait queue, woken by a readiness watch on the epoll
 * the supervisor's event loop already runs.
 *
 * The handlers here are layered over the socket family (see {@link withHostSockets}): each
 * answers only for host sockets (and socket(2) only in host mode), and otherwise defers to the
 * netstack handler.
 *
 * @module
 */
import {
  E,
  MsgFlag,
  timespec,
  OpenFlag,
  SiCode,
  Signal,
  SockType,
  isError,
  msghdr,
  type LinuxError,
} from '@tsvisor/abi';
import { ERESTARTSYS, type Kernel, type Task } from '@tsvisor/kernel';
import { FileDescription, FileDescriptionImpl, WOULD_BLOCK, WaitQueue, type WouldBlock } from '@tsvisor/vfs';
import { netOf, socketInode } from './sys-socket-file.js';
import { interfaceIoctl } from './sys-netlink.js';
import { readStruct, writeStruct } from './user-structs.js';
import { writeStream } from './stream-write.js';
import {
  int,
  ptr,
  uint,
  type SyscallArgs,
  type SyscallFamily,
  type SyscallHandler,
  type SyscallResult,
} from './types.js';
import { fileAt, filesOf, nofile, vfsCreds, waitReady } from './vfs-context.js';

/** A readiness watch of one host fd (see {@link HostSockets.watch}). */
export interface HostFdWatch {
  /** One report once the fd has any of `events` (POLLIN, POLLOUT, POLLRDHUP); 0 disarms. */
  arm(events: number): void;
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
  send(fd: number, data: Uint8Array, addr: Uint8Array | null, flags: number): number | LinuxError;
  recv(fd: number, buf: Uint8Array, flags: number, addr: Uint8Array, meta: Int32Array): number | LinuxError;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array): number | LinuxError;
  getsockopt(fd: number, level: number, name: number, out: Uint8Array): number | LinuxError;
  shutdown(fd: number, how: number): number | LinuxError;
  ioctlInt(fd: number, cmd: number): number | LinuxError;
  poll(fd: number, events: number): number | LinuxError;
  watch(fd: number, onReady: () => void): HostFdWatch | LinuxError;
  close(fd: number): void;
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
const SOCKADDR_STORAGE = 128;
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

const POLLIN = 0x1;
const POLLPRI = 0x2;
const POLLOUT = 0x4;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const POLLRDHUP = 0x2000;

const SOL_SOCKET = 1;
const IPPROTO_IP = 0;
const IPPROTO_TCP = 6;
const IPPROTO_IPV6 = 41;
const SO_ERROR = 4;
const SO_LINGER = 13;
const SO_RCVTIMEO = 20;
const SO_SNDTIMEO = 21;

const FIONREAD = 0x541b;
const SIOCOUTQ = 0x5411;
const SIOCATMARK = 0x8905;

/** Send flags passed to the host; MSG_NOSIGNAL is always added (SIGPIPE is the sandbox's). */
const SEND_FLAGS =
  MsgFlag.MSG_OOB | MsgFlag.MSG_DONTROUTE | MsgFlag.MSG_EOR | MsgFlag.MSG_MORE | MsgFlag.MSG_CONFIRM;
/** Receive flags passed to the host; MSG_WAITALL is done here, MSG_DONTWAIT always added. */
const RECV_FLAGS = MsgFlag.MSG_OOB | MsgFlag.MSG_PEEK | MsgFlag.MSG_TRUNC;

/**
 * The socket options passed through, with the length of their value: 4 for ints, 8 for struct
 * linger, more for TCP_INFO and TCP_CONGESTION. Others answer ENOPROTOOPT. SO_RCVTIMEO and
 * SO_SNDTIMEO are kept by tsvisor (host fds never block), SO_BINDTODEVICE and multicast joins are
 * not offered.
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
      [12, 4], // SO_PRIORITY
      [SO_LINGER, 8],
      [15, 4], // SO_REUSEPORT
      [18, 4], // SO_RCVLOWAT
      [30, 4], // SO_ACCEPTCONN
      [38, 4], // SO_PROTOCOL
      [39, 4], // SO_DOMAIN
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
      [10, 4], // IP_MTU_DISCOVER
      [11, 4], // IP_RECVERR
      [14, 4], // IP_MTU
      [33, 4], // IP_MULTICAST_TTL
      [34, 4], // IP_MULTICAST_LOOP
    ]),
  ],
  [
    IPPROTO_IPV6,
    new Map([
      [16, 4], // IPV6_UNICAST_HOPS
      [18, 4], // IPV6_MULTICAST_HOPS
      [19, 4], // IPV6_MULTICAST_LOOP
      [23, 4], // IPV6_MTU_DISCOVER
      [24, 4], // IPV6_MTU
      [25, 4], // IPV6_RECVERR
      [26, 4], // IPV6_V6ONLY
      [67, 4], // IPV6_TCLASS
    ]),
  ],
]);
/** Options the sandbox may read but not set. */
const READ_ONLY = new Set(['1:3', `1:${SO_ERROR}`, '1:30', '1:38', '1:39', '6:11', '0:14', '41:24']);

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

/** The file side of a host socket (socket_file_ops over a host fd). */
export class HostSocketImpl extends FileDescriptionImpl {
  readonly #queue = new WaitQueue();
  #watch: HostFdWatch | undefined;
  #armed = 0;
  #closed = false;
  /** SO_RCVTIMEO/SO_SNDTIMEO as set by the sandbox (struct timeval bytes), kept here. */
  readonly timeouts = new Map<number, Uint8Array>();

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
    return r === E.EAGAIN ? this.#blocked(POLLIN) : r;
  }

  override write(src: Uint8Array): number | LinuxError | WouldBlock {
    const r = this.calls.send(this.fd, src, null, MsgFlag.MSG_DONTWAIT | MsgFlag.MSG_NOSIGNAL);
    return r === E.EAGAIN ? this.#blocked(POLLOUT) : r;
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
    const missing = mask & (POLLIN | POLLPRI | POLLOUT | POLLRDHUP) & ~ready;
    if (missing !== 0) this.#arm(missing);
    return ready & want;
  }

  /** Arms the readiness watch for `events` (for callers that sleep on the queue directly). */
  armFor(events: number): void {
    this.#arm(events);
  }

  #arm(events: number): void {
    if (!this.#watch) {
      const w = this.calls.watch(this.fd, () => {
        this.#armed = 0;
        this.#queue.notify(POLLIN | POLLPRI | POLLOUT | POLLERR | POLLHUP | POLLRDHUP);
      });
      if (isError(w)) return;
      this.#watch = w;
    }
    if ((this.#armed | events) === this.#armed) return;
    this.#armed |= events;
    this.#watch.arm(this.#armed);
  }

  /** FIONREAD/SIOCINQ, SIOCOUTQ and SIOCATMARK from the host; other requests ENOTTY. */
  override ioctl(cmd: number): number | LinuxError {
    if (cmd === FIONREAD || cmd === SIOCOUTQ || cmd === SIOCATMARK) return this.calls.ioctlInt(this.fd, cmd);
    return E.ENOTTY;
  }

  override release(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch?.close();
    this.calls.close(this.fd);
    this.#queue.notify(POLLERR | POLLHUP);
  }
}

// ---- helpers ------------------------------------------------------------------------------------

type Result = SyscallResult | Promise<SyscallResult>;
/** A handler that answers for host sockets only: undefined hands the call to netstack. */
type HostHandler = (t: Task, a: SyscallArgs) => Result | undefined;

function hostAt(t: Task, fd: number): { file: FileDescription; h: HostSocketImpl } | undefined {
  if (!hostNets.has(t.kernel)) return undefined;
  const file = fileAt(t, fd);
  if (isError(file) || !(file.impl instanceof HostSocketImpl)) return undefined;
  return { file, h: file.impl };
}

function nonBlocking(file: FileDescription, flags: number): boolean {
  return (file.getFlags() & OpenFlag.O_NONBLOCK) !== 0 || (flags & MsgFlag.MSG_DONTWAIT) !== 0;
}

/**
 * Runs `op` until it stops answering EAGAIN, waiting for `events` on the socket in between (a
 * non-blocking call gets the EAGAIN); a signal ends the wait with ERESTARTSYS.
 */
function untilReady(
  t: Task,
  s: { file: FileDescription; h: HostSocketImpl },
  events: number,
  nb: boolean,
  op: () => number | LinuxError,
): Result {
  const r = op();
  if (r !== E.EAGAIN || nb) return r;
  const loop = async (): Promise<SyscallResult> => {
    for (;;) {
      if ((await waitReady(t, s.file, events)) === 'interrupted') return ERESTARTSYS;
      const again = op();
      if (again !== E.EAGAIN) return again;
    }
  };
  return loop();
}

/** move_addr_to_kernel: `EINVAL` for a length outside [0, 128], `EFAULT`; re-encoded for the host. */
function readAddr(t: Task, addr: number, len: number): Uint8Array | LinuxError {
  if (len < 0 || len > SOCKADDR_STORAGE) return E.EINVAL;
  if (len === 0) return new Uint8Array(0);
  const b = t.memory.read(addr, len);
  return isError(b) ? b : hostSockaddr(b);
}

/** move_addr_to_user: copies at most `*lenp` bytes of `bytes`, then stores the full length. */
function writeAddr(t: Task, addr: number, lenp: number, bytes: Uint8Array): LinuxError | undefined {
  const len = t.memory.readI32(lenp);
  if (isError(len)) return len;
  if (len < 0) return E.EINVAL;
  const n = Math.min(len, bytes.length);
  if (n > 0) {
    const err = t.memory.writeExact(addr, bytes.subarray(0, n));
    if (err) return err;
  }
  return t.memory.writeI32(lenp, bytes.length);
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
  const file = new FileDescription(
    impl,
    socketInode(),
    OpenFlag.O_RDWR | (flags & SockType.SOCK_NONBLOCK ? OpenFlag.O_NONBLOCK : 0),
    vfsCreds(t),
  );
  const fd = filesOf(t).install(file, { limit: nofile(t), cloexec: (flags & SockType.SOCK_CLOEXEC) !== 0 });
  if (isError(fd)) file.release();
  return fd;
}

const HOST_FLAGS = SockType.SOCK_NONBLOCK | SockType.SOCK_CLOEXEC;

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
  return interfaceIoctl(netOf(t.kernel).links(), t.memory, cmd, ptr(arg), h.domain === AF_INET);
}

// ---- handlers -----------------------------------------------------------------------------------

/** implements socket(2) in host mode for AF_INET and AF_INET6: a host socket. */
function socket(t: Task, a: SyscallArgs): Result | undefined {
  const calls = hostNets.get(t.kernel);
  const domain = int(a[0]);
  if (!calls || (domain !== AF_INET && domain !== AF_INET6)) return undefined;
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
  const addr = readAddr(t, ptr(a[1]), int(a[2]));
  if (isError(addr)) return addr;
  return s.h.calls.bind(s.h.fd, addr);
}

/** implements listen(2) on a host socket. */
function listen(t: Task, a: SyscallArgs): Result | undefined {
  const s = hostAt(t, int(a[0]));
  if (!s) return undefined;
  return s.h.calls.listen(s.h.fd, int(a[1]));
}

/**
 * implements connect(2) on a host socket: the host connect never blocks; a blocking one of the
 * sandbox waits for the socket to become writable and answers its SO_ERROR.
 */
function connect(t: Task, a: SyscallArgs): Result | undefined {
  const s = hostAt(t, int(a[0]));
  if (!s) return undefined;
  const addr = readAddr(t, ptr(a[1]), int(a[2]));
  if (isError(addr)) return addr;
  const { calls, fd } = s.h;
  const r = calls.connect(fd, addr);
  if (r !== E.EINPROGRESS || nonBlocking(s.file, 0)) return r;
  const finish = async (): Promise<SyscallResult> => {
    for (;;) {
      // A restarted connect finds the attempt in progress (EALREADY), as on Linux.
      if ((await waitReady(t, s.file, POLLOUT)) === 'interrupted') return ERESTARTSYS;
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
  const r = untilReady(t, s, POLLIN, nonBlocking(s.file, 0), () => calls.accept(fd, HOST_FLAGS));
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
  return s.h.calls.shutdown(s.h.fd, int(a[1]));
}

function sigpipe(t: Task, r: SyscallResult, flags: number): SyscallResult {
  if (r === E.EPIPE && (flags & MsgFlag.MSG_NOSIGNAL) === 0)
    t.kernel.sendToTask(t, { signo: Signal.SIGPIPE, code: SiCode.SI_USER, pid: t.tgid, uid: t.creds.uid });
  return r;
}

/** Sends `data` (to `to`): streams loop until all is sent when blocking, datagrams go whole. */
function doSend(
  t: Task,
  s: { file: FileDescription; h: HostSocketImpl },
  data: Uint8Array,
  to: Uint8Array | null,
  flags: number,
): Result {
  const { calls, fd, type } = s.h;
  const hostFlags = (flags & SEND_FLAGS) | MsgFlag.MSG_DONTWAIT | MsgFlag.MSG_NOSIGNAL;
  const attempt = (sent: number): number | LinuxError | 'block' => {
    const r = calls.send(fd, data.subarray(sent), to, hostFlags);
    if (r === E.EAGAIN) {
      // Arm the watch for writability before the stream writer sleeps on the queue.
      s.h.armFor(POLLOUT);
      return 'block';
    }
    return r;
  };
  const r = writeStream(
    t,
    { queue: s.h.waitQueue, mask: POLLOUT | POLLERR | POLLHUP },
    data.length,
    attempt,
    {
      nonBlocking: nonBlocking(s.file, flags),
      loop: type === SockType.SOCK_STREAM,
    },
  );
  const finish = (o: { sent: number; stop: SyscallResult | undefined }): SyscallResult => {
    if (o.sent > 0) return o.sent;
    if (o.stop === undefined) return 0;
    return sigpipe(t, o.stop, flags);
  };
  return r instanceof Promise ? r.then(finish) : finish(r);
}

function ioLimit(h: HostSocketImpl): number {
  return h.type === SockType.SOCK_STREAM ? MAX_IO : MAX_DATAGRAM;
}

/** implements sendto(2) on a host socket. */
function sendto(t: Task, a: SyscallArgs): Result | undefined {
  const s = hostAt(t, int(a[0]));
  if (!s) return undefined;
  const len = Math.min(a[2] > BigInt(INT_MAX) ? INT_MAX : Number(a[2]), ioLimit(s.h));
  const data = t.memory.read(ptr(a[1]), len);
  if (isError(data)) return data;
  let to: Uint8Array | null = null;
  if (ptr(a[4]) !== 0) {
    const b = readAddr(t, ptr(a[4]), int(a[5]));
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
}

/** One receive into `buf`, waiting when blocking; MSG_WAITALL on a stream keeps filling. */
function doRecv(
  t: Task,
  s: { file: FileDescription; h: HostSocketImpl },
  buf: Uint8Array,
  flags: number,
): Received | LinuxError | Promise<Received | LinuxError | SyscallResult> {
  const { calls, fd, type } = s.h;
  const hostFlags = (flags & RECV_FLAGS) | MsgFlag.MSG_DONTWAIT;
  const from = new Uint8Array(SOCKADDR_STORAGE);
  const meta = new Int32Array(2);
  const waitAll =
    (flags & MsgFlag.MSG_WAITALL) !== 0 && type === SockType.SOCK_STREAM && (flags & MsgFlag.MSG_PEEK) === 0;
  let got = 0;
  const once = (): Received | LinuxError => {
    const r = calls.recv(fd, buf.subarray(got), hostFlags, from, meta);
    if (isError(r)) return r;
    return {
      n: Math.min(r, buf.length - got),
      len: r,
      from: from.subarray(0, Math.min(meta[0]!, SOCKADDR_STORAGE)),
      msgFlags: meta[1]!,
    };
  };
  const nb = nonBlocking(s.file, flags);
  const first = once();
  if (!isError(first) && (!waitAll || first.n === 0 || first.n >= buf.length)) return first;
  if (isError(first) && (first !== E.EAGAIN || nb)) return first;
  if (!isError(first)) got = first.n;
  const loop = async (): Promise<Received | LinuxError | SyscallResult> => {
    for (;;) {
      if ((await waitReady(t, s.file, POLLIN)) === 'interrupted') {
        return got > 0 ? { n: got, len: got, from: new Uint8Array(0), msgFlags: 0 } : ERESTARTSYS;
      }
      const r = once();
      if (isError(r)) {
        if (r === E.EAGAIN) continue;
        return got > 0 ? { n: got, len: got, from: new Uint8Array(0), msgFlags: 0 } : r;
      }
      if (!waitAll) return r;
      got += r.n;
      if (r.n === 0 || got >= buf.length) return { n: got, len: got, from: r.from, msgFlags: r.msgFlags };
    }
  };
  return loop();
}

function isReceived(r: unknown): r is Received {
  return typeof r === 'object' && r !== null && 'msgFlags' in r;
}

/** implements recvfrom(2) (and recv(3)) on a host socket. */
function recvfrom(t: Task, a: SyscallArgs): Result | undefined {
  const s = hostAt(t, int(a[0]));
  if (!s) return undefined;
  const flags = int(a[3]);
  if (flags & MsgFlag.MSG_ERRQUEUE) return E.EAGAIN;
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

/** Reads the msghdr at `mp` and its iovecs. */
function readMsghdr(
  t: Task,
  mp: number,
):
  | { raw: Uint8Array; m: ReturnType<typeof msghdr.parse>; iov: readonly { base: number; len: number }[] }
  | LinuxError {
  const raw = t.memory.read(mp, msghdr.size);
  if (isError(raw)) return raw;
  const m = msghdr.parse(raw, 0);
  if (isError(m)) return m;
  if (m.msg_namelen < 0) return E.EINVAL;
  if (m.msg_iovlen > 1024) return E.EMSGSIZE;
  const iov = t.memory.readIovecs(m.msg_iov, m.msg_iovlen);
  if (isError(iov)) return iov;
  return { raw, m, iov };
}

/** implements sendmsg(2) on a host socket: no control messages are passed (EINVAL). */
function sendmsg(t: Task, a: SyscallArgs): Result | undefined {
  const s = hostAt(t, int(a[0]));
  if (!s) return undefined;
  const hdr = readMsghdr(t, ptr(a[1]));
  if (isError(hdr)) return hdr;
  const { m, iov } = hdr;
  if (isError(m)) return m;
  let to: Uint8Array | null = null;
  if (m.msg_name !== 0 && m.msg_namelen > 0) {
    const b = readAddr(t, m.msg_name, Math.min(m.msg_namelen, SOCKADDR_STORAGE));
    if (isError(b)) return b;
    to = b;
  }
  if (m.msg_controllen > 0) return E.EINVAL;
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const v of iov) {
    const n = Math.min(v.len, ioLimit(s.h) - total);
    if (n <= 0) break;
    const b = t.memory.read(v.base, n);
    if (isError(b)) return b;
    parts.push(b);
    total += n;
  }
  const data = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    data.set(p, off);
    off += p.length;
  }
  return doSend(t, s, data, to, int(a[2]));
}

/** implements recvmsg(2) on a host socket: data and the sender's address; no control messages. */
function recvmsg(t: Task, a: SyscallArgs): Result | undefined {
  const s = hostAt(t, int(a[0]));
  if (!s) return undefined;
  const mp = ptr(a[1]);
  const flags = int(a[2]);
  const hdr = readMsghdr(t, mp);
  if (isError(hdr)) return hdr;
  const { raw, m, iov } = hdr;
  if (isError(m)) return m;
  if (flags & MsgFlag.MSG_ERRQUEUE) return E.EAGAIN;
  let total = 0;
  for (const v of iov) total = Math.min(total + v.len, ioLimit(s.h));
  const buf = new Uint8Array(total);
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
    dv.setInt32(8, m.msg_name !== 0 ? from.length : 0, true);
    dv.setBigUint64(40, 0n, true); // msg_controllen: no control messages
    dv.setInt32(48, r.msgFlags & (MsgFlag.MSG_TRUNC | MsgFlag.MSG_OOB | MsgFlag.MSG_EOR), true);
    const err = t.memory.writeExact(mp, raw);
    if (err) return err;
    return flags & MsgFlag.MSG_TRUNC && s.h.type !== SockType.SOCK_STREAM ? r.len : r.n;
  };
  const r = doRecv(t, s, buf, flags);
  return r instanceof Promise ? r.then(done) : done(r);
}

/** implements setsockopt(2) on a host socket: allowlisted options only (ENOPROTOOPT). */
function setsockopt(t: Task, a: SyscallArgs): Result | undefined {
  const s = hostAt(t, int(a[0]));
  if (!s) return undefined;
  const level = int(a[1]);
  const name = int(a[2]);
  const optlen = int(a[4]);
  if (optlen < 0) return E.EINVAL;
  if (level === SOL_SOCKET && (name === SO_RCVTIMEO || name === SO_SNDTIMEO)) {
    if (optlen < 16) return E.EINVAL;
    const v = t.memory.read(ptr(a[3]), 16);
    if (isError(v)) return v;
    s.h.timeouts.set(name, v);
    return 0;
  }
  const size = OPTIONS.get(level)?.get(name);
  if (size === undefined || READ_ONLY.has(`${level}:${name}`)) return E.ENOPROTOOPT;
  const n = Math.min(optlen, size);
  const v = n > 0 ? t.memory.read(ptr(a[3]), n) : new Uint8Array(0);
  if (isError(v)) return v;
  if (level === SOL_SOCKET && name === SO_LINGER && n >= 8) {
    // A lingering close blocks close(2) itself, even on a non-blocking socket: the supervisor's
    // event loop would stop. Only "no linger" and "reset on close" (a zero timeout) pass.
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    if (dv.getInt32(0, true) !== 0 && dv.getInt32(4, true) !== 0) return E.ENOPROTOOPT;
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
  let bytes: Uint8Array;
  if (level === SOL_SOCKET && (name === SO_RCVTIMEO || name === SO_SNDTIMEO)) {
    bytes = s.h.timeouts.get(name) ?? new Uint8Array(16);
  } else {
    const size = OPTIONS.get(level)?.get(name);
    if (size === undefined) return E.ENOPROTOOPT;
    const out = new Uint8Array(Math.min(len, size));
    const n = s.h.calls.getsockopt(s.h.fd, level, name, out);
    if (isError(n)) return n;
    bytes = out.subarray(0, Math.min(n, out.length));
  }
  const n = Math.min(len, bytes.length);
  const err = n > 0 ? t.memory.writeExact(ptr(a[3]), bytes.subarray(0, n)) : undefined;
  if (err) return err;
  return t.memory.writeI32(lenp, n) ?? 0;
}

const MMSGHDR_SIZE = 64;
const MSG_LEN_OFFSET = 56;

/**
 * sendmmsg(2)/recvmmsg(2) over host sockets: one sendmsg/recvmsg per entry. recvmmsg's timeout
 * is checked after each message, as Linux does (it never cuts a wait short).
 */
function mmsg(one: HostHandler, recv: boolean): HostHandler {
  return (t, a) => {
    const s = hostAt(t, int(a[0]));
    if (!s) return undefined;
    const tp = recv ? ptr(a[4]) : 0;
    let deadline: bigint | undefined;
    if (tp !== 0) {
      const ts = readStruct(t, tp, timespec);
      if (isError(ts)) return ts;
      if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1e9) return E.EINVAL;
      deadline = t.kernel.time.monotonicNs() + BigInt(ts.tv_sec) * 1_000_000_000n + BigInt(ts.tv_nsec);
    }
    const vec = ptr(a[1]);
    const vlen = Math.min(uint(a[2]), 1024);
    let flags = int(a[3]);
    let count = 0;
    const step = async (): Promise<SyscallResult> => {
      let stop: SyscallResult | undefined;
      for (let i = 0; i < vlen; i++) {
        const entry = vec + i * MMSGHDR_SIZE;
        const r = await one(t, [a[0], BigInt(entry), BigInt(flags & ~MsgFlag.MSG_WAITFORONE), 0n, 0n, 0n]);
        if (typeof r !== 'number') {
          stop = r;
          break;
        }
        const err = t.memory.writeI32(entry + MSG_LEN_OFFSET, r);
        if (err) {
          stop = err;
          break;
        }
        count++;
        if (recv && flags & MsgFlag.MSG_WAITFORONE) flags |= MsgFlag.MSG_DONTWAIT;
        if (deadline !== undefined && deadline <= t.kernel.time.monotonicNs()) break;
      }
      if (count > 0 && deadline !== undefined) {
        const left = deadline - t.kernel.time.monotonicNs();
        const rest = left > 0n ? left : 0n;
        const err = writeStruct(t, tp, timespec, {
          tv_sec: Number(rest / 1_000_000_000n),
          tv_nsec: Number(rest % 1_000_000_000n),
        });
        if (err) return err;
      }
      if (count > 0) return count;
      return stop ?? 0;
    };
    return step();
  };
}

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
  const out: Record<string, SyscallFamily[string]> = { ...family };
  for (const [name, host] of Object.entries(handlers)) {
    const def = family[name];
    if (!def) continue;
    const inner: SyscallHandler = def.handler;
    out[name] = { ...def, handler: (t, a) => host(t, a) ?? inner(t, a) };
  }
  return out;
}
