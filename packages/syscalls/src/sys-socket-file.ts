/**
 * The socket as an open file: a VFS file description over an AF_UNIX socket or an AF_INET/6
 * socket of @tsvisor/netstack, so read/write/poll/epoll/close work on socket fds. Also the
 * network namespaces of a sandbox: each its own AF_UNIX abstract names, netlink ports and
 * netstack `Stack` driven by timers on the Node event loop; and the sandbox's table that keeps
 * descriptors in flight (SCM_RIGHTS).
 *
 * @module
 */
import { E, MsgFlag, SockType, isError, type LinuxError } from '@tsvisor/abi';
import { ARPHRD_LOOPBACK, NetlinkDomain, type LinkInfo, type NetlinkSocket } from './sys-netlink.js';
import { interfaceAddressing, interfaceRouting, stackLinkControl } from './sys-netlink-change.js';
import { withRcvlowat } from './socket-options.js';
import { socketCall } from './fasync.js';
import {
  NAMESPACE_INODES,
  type FdTable,
  type Kernel,
  type Namespace,
  type Task,
  type TimeSource,
} from '@tsvisor/kernel';
import { nsAllocInum, nsForget, nsLocation } from '@tsvisor/procfs';
import {
  InetSocket,
  LoopbackDevice,
  Stack,
  UnixDomain,
  UnixSocket,
  WOULD_BLOCK as NET_WOULD_BLOCK,
  cidr,
  type SpanCopy,
} from '@tsvisor/netstack';
import {
  FileDescriptionImpl,
  Inode,
  Mount,
  WOULD_BLOCK,
  WaitQueue,
  anonDev,
  nowNs,
  simpleStatfs,
  type FileDescription,
  type FilesystemImpl,
  type IOSequence,
  type Location,
  type Statfs,
  type WouldBlock,
} from '@tsvisor/vfs';

const FIONREAD = 0x541b;
const SIOCOUTQ = 0x5411;
/** SIOCATMARK: whether the next byte to read is urgent data. */
const SIOCATMARK = 0x8905;

/** SOCKFS_MAGIC. */
const SOCKFS_MAGIC = 0x534f434b;

/**
 * Linux's sockfs: a filesystem no path reaches, holding one inode per socket. Inodes are made
 * directly (no directory entry, no path walk, nothing to unlink), since a connection-rate
 * workload makes and drops two per connection.
 */
class SockFs implements FilesystemImpl {
  readonly type = 'sockfs';
  readonly dev = anonDev();
  readonly root: Inode;
  readonly mount: Mount;
  /** The next inode number (get_next_ino). */
  nextIno = 2;
  constructor() {
    this.root = new SockInode(this, 1, 0o040555);
    this.mount = new Mount(this, this.root, null, null, 0);
  }
  statfs(): Statfs {
    return simpleStatfs(SOCKFS_MAGIC);
  }
}

/** A socket's inode: S_IFSOCK, mode 0777, owned by root, timestamps of its creation. */
class SockInode extends Inode {
  constructor(
    readonly fs: SockFs,
    ino: number,
    mode: number,
  ) {
    super();
    this.ino = ino;
    this.mode = mode;
    const now = nowNs();
    this.atimeNs = this.mtimeNs = this.ctimeNs = this.btimeNs = now;
  }
}

let sockfs: SockFs | undefined;

/**
 * A fresh S_IFSOCK inode for one socket, as Linux's sock_alloc gives every socket its own
 * inode: its number is what `/proc/<pid>/fd` shows as `socket:[ino]` and /proc/net lists as the
 * socket's inode. `dispose()` is called when the socket goes away (the inode needs no cleanup:
 * nothing but the socket's file refers to it).
 */
export function newSocketInode(): { location: Location; dispose: () => void } {
  sockfs ??= new SockFs();
  const inode = new SockInode(sockfs, sockfs.nextIno++, 0o140777);
  return { location: { mount: sockfs.mount, inode }, dispose: () => undefined };
}

/** A descriptor travelling in an SCM_RIGHTS message: held by a slot of the in-flight table. */
export interface InFlight {
  readonly file: FileDescription;
  readonly slot: number;
}

/**
 * How far CLOCK_MONOTONIC of `time` (ms) runs ahead of performance.now(), the poll clock of a
 * sandbox's stacks: their StackConfig.monotonicOffset, so that TCP timestamps count the
 * milliseconds of the sandbox's own CLOCK_MONOTONIC, as Linux's do the host's.
 */
export function monotonicOffsetOf(time: TimeSource): number {
  return Number(time.monotonicNs()) / 1e6 - performance.now();
}

/**
 * A sandbox's network when it is not loopback-only: the stack its inet sockets use and the links
 * rtnetlink reports (see {@link configureNetwork}).
 */
export interface NetworkSetup {
  readonly stack: Stack;
  readonly links: () => readonly LinkInfo[];
}

/**
 * One network namespace of a sandbox: its stack (the initial namespace's is the network mode's;
 * one made by unshare or clone(CLONE_NEWNET) starts with lo alone, down, without addresses, as
 * Linux's does), AF_UNIX abstract names, netlink ports and open sockets. Bound AF_UNIX paths
 * and descriptors in flight belong to the sandbox, so every namespace shares the initial one's.
 *
 * A namespace made inside the sandbox lives while a task, an open nsfs file or a socket holds
 * it (Kernel's {@link Namespace} references); with the last one its stack stops. The initial
 * namespace lives as long as the kernel.
 */
export class NetState implements Namespace {
  /** Set by {@link configureNetwork}; loopback only without it. */
  setup: NetworkSetup | undefined;
  /** AF_UNIX names of the namespace (bound paths shared by the sandbox's namespaces). */
  readonly unix: UnixDomain;
  /** Its nsfs inode number (`net:[...]`). */
  readonly inum: number;
  private stackValue: Stack | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Infinity;
  /** lo has been up: dev_open attached its qdisc (noqueue; noop before, in a new namespace). */
  private loOpened: boolean;
  /** References of a namespace made inside the sandbox; freed at 0. */
  private refs = 0;
  private freed = false;
  /** Holds one reference per descriptor in flight, so closing the sender's fd does not free it. */
  readonly inFlight: FdTable<FileDescription>;
  /** AF_NETLINK port ids, and the links rtnetlink reports. */
  readonly netlink = new NetlinkDomain(
    () => this.links(),
    () => this.settleLinks(),
  );
  /** Open socket files of the namespace (for /proc/net: inode and owner of each socket). */
  readonly open = new Set<SocketImpl>();
  /** The file side of each open socket. */
  readonly fileOf = new WeakMap<object, SocketImpl>();
  /** The sandbox's clocks (its stack's TCP timestamps count CLOCK_MONOTONIC). */
  private readonly time: TimeSource;

  /** `initial`: the sandbox's initial namespace, for a namespace made inside the sandbox. */
  constructor(
    kernel: Kernel,
    readonly initial?: NetState,
  ) {
    this.time = kernel.time;
    this.loOpened = initial === undefined;
    this.inFlight = initial?.inFlight ?? (kernel.newFdTable() as FdTable<FileDescription>);
    this.unix = new UnixDomain(
      {
        dropRights: (refs) => {
          for (const r of refs) this.inFlight.close((r as InFlight).slot);
        },
      },
      initial?.unix,
    );
    if (initial === undefined) {
      this.inum = NAMESPACE_INODES.net;
    } else {
      this.inum = nsAllocInum();
      // Its nsfs inode holds it while open; made now, so /proc/<pid>/ns/net reaches that inode.
      nsLocation('net', this.inum, this);
      made.set(this.inum, this);
    }
  }

  /** Takes a reference (a task, an open nsfs file, a socket). */
  get(): void {
    this.refs++;
  }

  /**
   * Drops a reference. The last one frees a namespace made inside the sandbox (cleanup_net):
   * its stack's timer stops, so nothing of it runs again; the initial namespace stays.
   */
  put(): void {
    if (--this.refs > 0 || this.initial === undefined || this.freed) return;
    this.freed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    nsForget(this.inum);
    made.delete(this.inum);
  }

  /** True once a stack exists (a socket was made). */
  get hasStack(): boolean {
    return this.stackValue !== undefined;
  }

  /**
   * The stack: network mode `sandbox`'s or `host`'s when configured; else, in the initial
   * namespace, loopback only (mode `none`: 127.0.0.1/8 and ::1), and in a new one lo alone,
   * down and without addresses until `ip link set lo up` gives it 127.0.0.1/8 and ::1.
   */
  get stack(): Stack {
    this.stackValue ??= this.setup?.stack;
    this.stackValue ??= new Stack({
      clock: () => performance.now(),
      monotonicOffset: monotonicOffsetOf(this.time),
      device: new LoopbackDevice(),
      ...(this.initial === undefined
        ? { addresses: [cidr('127.0.0.1/8'), cidr('::1/128')] }
        : { addresses: [], loopbackDown: true }),
    });
    return this.stackValue;
  }

  /** The sandbox's interfaces as rtnetlink and getifaddrs see them: `lo` (ifindex 1). */
  links(): readonly LinkInfo[] {
    if (this.setup) return this.setup.links();
    const stack = this.stack;
    // The loopback device carries all of this stack's traffic: its counters are lo's.
    const counters = stack.iface.deviceCounters;
    const control = stackLinkControl(stack, true);
    return [
      {
        index: 1,
        name: 'lo',
        flags: control.flags,
        txQueueLen: control.txQueueLen,
        mtu: stack.mtu(true),
        type: ARPHRD_LOOPBACK,
        address: new Uint8Array(6),
        broadcast: new Uint8Array(6),
        addresses: stack.iface.addresses,
        gateways: stack.iface.gateways,
        stats: () => counters,
        ...interfaceAddressing(stack.iface, true),
        qdisc: this.loOpened ? 'noqueue' : 'noop',
        linkControl: {
          ...control,
          setFlags: (flags) => {
            control.setFlags(flags);
            this.loOpened ||= stack.loopbackUp;
          },
        },
        routeControl: interfaceRouting(stack, 1, 1),
        // Flags and lifetimes on the clock kick() polls the stack with.
        ipv6: () => stack.iface.ipv6Addresses(),
        clock: () => performance.now(),
      },
    ];
  }

  /**
   * Runs the stack after a change to its links (rtnetlink, SIOCSIF*), which may come before any
   * socket call made the stack in use: network mode `sandbox`'s is run then too.
   */
  private settleLinks(): void {
    if (this.setup) this.stackValue ??= this.setup.stack;
    this.kick();
  }

  /**
   * Runs the stack until nothing is due now, then arms a timer for its next deadline. Called after
   * every inet socket call; the timer is unref'd so an idle stack never keeps Node alive.
   */
  kick(): void {
    const stack = this.stackValue;
    if (!stack) return;
    let next: number | undefined;
    for (let i = 0; i < 64; i++) {
      const now = performance.now();
      next = stack.poll(now);
      if (next === undefined || next > now) break;
    }
    if (next === undefined) return;
    if (this.timer !== undefined && this.timerAt <= next) return;
    this.arm(next);
  }

  /**
   * Moves the timer to `next`. A method of its own: the timer's closure captures `this`, which
   * would make every kick() allocate a context, where most kicks leave the timer alone.
   */
  private arm(next: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.kick();
      },
      Math.max(0, next - performance.now()),
    );
    this.timer.unref?.();
  }
}

const states = new WeakMap<Kernel, NetState>();
/** Namespaces made inside sandboxes and not yet freed, by nsfs inode number (unique per process). */
const made = new Map<number, NetState>();

/** The sandbox's initial network namespace, made on first use. */
export function initialNetOf(kernel: Kernel): NetState {
  let s = states.get(kernel);
  if (!s) {
    s = new NetState(kernel);
    states.set(kernel, s);
  }
  return s;
}

/**
 * The network namespace task `t` is in: where the sockets it makes belong (a socket's own calls
 * use the namespace it was made in, {@link SocketImpl.net}).
 */
export function netOf(t: Task): NetState {
  return (t.netns as NetState | undefined) ?? initialNetOf(t.kernel);
}

/** A new network namespace of `kernel`'s sandbox (copy_net_ns): lo alone, down. */
export function newNetNamespace(kernel: Kernel): NetState {
  return new NetState(kernel, initialNetOf(kernel));
}

/** A network namespace made inside a sandbox of this process, by nsfs inode number (setns). */
export function madeNetOf(inum: number): NetState | undefined {
  return made.get(inum);
}

/**
 * Gives the sandboxed kernel `setup`'s stack and links instead of the loopback-only default
 * (network mode `none`). Call before the first socket is made. Returns the function to call when
 * packets arrive from outside (it runs the stack and wakes the sockets they concern). The end of
 * each duplicate address detection the stack runs is announced on rtnetlink.
 */
export function configureNetwork(kernel: Kernel, setup: NetworkSetup): () => void {
  const net = initialNetOf(kernel);
  if (net.hasStack) throw new Error('configureNetwork: the network is already in use');
  net.setup = setup;
  setup.stack.iface.dadListener = (c) => net.netlink.addressSettled(c.address);
  return () => net.kick();
}

/** Largest staging buffer kept between calls; bigger reads and writes get their own. */
const STAGING_KEEP = 1 << 20;
let stagingBuf = new Uint8Array(1 << 16);

/**
 * A buffer of exactly `n` bytes for one synchronous copy between app memory and a socket (its
 * contents are garbage). Reused across calls: a stream read or write then allocates nothing,
 * where a fresh zero-filled 64 KiB array per syscall costs more than the copy itself.
 */
function staging(n: number): Uint8Array {
  if (n > STAGING_KEEP) return new Uint8Array(n);
  if (stagingBuf.length < n) stagingBuf = new Uint8Array(Math.max(n, stagingBuf.length * 2));
  return stagingBuf.subarray(0, n);
}

/** Any kind of socket: AF_UNIX, AF_INET/AF_INET6, AF_NETLINK. */
export type AnySocket = UnixSocket | InetSocket | NetlinkSocket;

/** Maps netstack's would-block to the VFS's. */
export function vfsBlock<T>(r: T | typeof NET_WOULD_BLOCK): T | WouldBlock {
  return r === NET_WOULD_BLOCK ? WOULD_BLOCK : (r as T);
}

/** The file side of a socket (Linux's socket_file_ops). */
export class SocketImpl extends FileDescriptionImpl {
  readonly queue: WaitQueue;

  /** The socket's own inode number (`socket:[ino]`) and its owner's fsuid, for /proc/net. */
  inode = 0;
  uid = 0;
  private disposeInode: (() => void) | undefined;
  /** An AF_INET/AF_INET6 socket of the stack (the kind {@link settle} runs the stack for). */
  private readonly inet: boolean;
  /** A TCP socket: read(2) and write(2) copy straight between its rings and app memory. */
  private readonly tcp: boolean;
  /**
   * The app memory of the read or write in progress, which {@link spanIn} and
   * {@link spanOut} copy from and to, and how many bytes they moved so far. A copy runs
   * synchronously inside one recvInto/sendFrom, so one pair per socket serves every call rather
   * than a closure per call (see {@link sendFromIO}). Each copies to or from the next bytes of
   * the sequence, so a ring that hands out two pieces fills (or drains) the app buffer in order.
   */
  private io: IOSequence | null = null;
  private ioDone = 0;
  private readonly spanIn: SpanCopy = (span) => {
    const io = this.io as IOSequence;
    const r = (this.ioDone === 0 ? io : io.dropFirst(this.ioDone)).copyIn(span);
    if (!isError(r)) this.ioDone += r;
    return r;
  };
  private readonly spanOut: SpanCopy = (span) => {
    const io = this.io as IOSequence;
    const r = (this.ioDone === 0 ? io : io.dropFirst(this.ioDone)).copyOut(span);
    if (!isError(r)) this.ioDone += r;
    return r;
  };

  constructor(
    readonly sock: AnySocket,
    readonly net: NetState,
  ) {
    super();
    // A socket's family and type never change.
    this.inet = sock instanceof InetSocket;
    this.tcp = this.inet && sock.type === SockType.SOCK_STREAM;
    // The stack works out an inet socket's readiness for its listener after every poll: it does
    // so only while someone waits on the queue (blocked I/O, poll, epoll, O_ASYNC).
    this.queue = this.inet
      ? new WaitQueue((active) => (sock as InetSocket).followReadiness(active))
      : new WaitQueue();
    sock.setReadinessListener((ev) => this.queue.notify(ev));
    if (this.inet) (sock as InetSocket).followReadiness(false);
    net.get();
    net.open.add(this);
    net.fileOf.set(sock, this);
  }

  /** Gives this socket its own inode (see newSocketInode); returns its location. */
  ownInode(): Location {
    const { location, dispose } = newSocketInode();
    this.disposeInode = dispose;
    this.inode = location.inode.ino;
    return location;
  }

  /**
   * TCP's sendFrom with the bytes copied from `src` (at most `max`) straight into the send ring.
   * The stack is not run: the caller settles. `queued`: bytes the same call queued already.
   */
  sendFromIO(src: IOSequence, max: number, queued = 0): number | LinuxError | typeof NET_WOULD_BLOCK {
    this.io = src;
    this.ioDone = 0;
    const r = (this.sock as InetSocket).sendFrom(max, this.spanIn, queued);
    this.io = null;
    return r;
  }

  /**
   * TCP's recvInto with the bytes copied from the receive ring straight to `dst` (at most
   * `max`; MSG_PEEK in `flags` leaves them queued). The stack is not run: the caller settles.
   */
  recvIntoIO(dst: IOSequence, max: number, flags = 0): number | LinuxError | typeof NET_WOULD_BLOCK {
    this.io = dst;
    this.ioDone = 0;
    const r = (this.sock as InetSocket).recvInto(max, this.spanOut, flags);
    this.io = null;
    return r;
  }

  /** Runs the stack after an inet socket call, so packets move and readiness updates. */
  settle(): void {
    if (this.inet) this.net.kick();
  }

  override get stream(): boolean {
    return true;
  }

  override read(dst: Uint8Array): number | LinuxError | WouldBlock {
    const r = this.sock instanceof UnixSocket ? this.sock.recv(dst) : this.sock.recvfrom(dst);
    this.settle();
    if (r === NET_WOULD_BLOCK || isError(r)) return vfsBlock(r);
    return r.n;
  }

  /**
   * read(2)/readv(2) into app memory that may fault part way. Only what reached the app is
   * consumed, so a fault leaves the rest queued (tcp_recvmsg / unix_stream_read_generic stop at
   * the failed copy and return what they copied): TCP copies straight from its receive ring,
   * AF_UNIX streams are peeked into a staging buffer first. A datagram that cannot be copied is
   * consumed, as Linux drops it too.
   */
  override readIO(dst: IOSequence, offset: number, file: FileDescription): number | LinuxError | WouldBlock {
    if (this.tcp && dst.length !== 0) {
      // Straight from the receive ring into the app's memory: one copy, and only what reached
      // the app is consumed.
      const r = this.recvIntoIO(dst, dst.length);
      // Nothing to take changed nothing: the stack is already idle (every call and timer runs it).
      if (r === NET_WOULD_BLOCK) return WOULD_BLOCK;
      this.settle();
      return vfsBlock(r);
    }
    const sock = this.sock;
    // Netlink sockets are datagram sockets (SOCK_RAW/SOCK_DGRAM); TCP went above.
    if (sock.type !== SockType.SOCK_STREAM || dst.length === 0 || !(sock instanceof UnixSocket))
      return super.readIO(dst, offset, file);
    const stage = staging(dst.length);
    // This peek reads from the front: SO_PEEK_OFF moves only the app's own MSG_PEEK reads, and a
    // read(2) consumes from the front and moves the offset back (sk_peek_offset_bwd).
    const peekOff = sock.peekOff;
    sock.peekOff = -1;
    const peeked = sock.recv(stage, MsgFlag.MSG_PEEK);
    sock.peekOff = peekOff;
    // A peek changes nothing, so the stack runs once, after the bytes are taken (or here when
    // there are none to take).
    if (peeked === NET_WOULD_BLOCK || isError(peeked) || peeked.n === 0) {
      this.settle();
      return peeked === NET_WOULD_BLOCK || isError(peeked) ? vfsBlock(peeked) : 0;
    }
    const got = dst.copyOut(stage.subarray(0, peeked.n));
    if (isError(got)) return got;
    const taken = sock.recv(stage.subarray(0, got));
    this.settle();
    if (taken === NET_WOULD_BLOCK || isError(taken)) return vfsBlock(taken);
    return taken.n;
  }

  override write(src: Uint8Array): number | LinuxError | WouldBlock {
    const r = this.sock instanceof UnixSocket ? this.sock.send(src) : this.sock.sendto(src);
    this.settle();
    return vfsBlock(r);
  }

  /**
   * write(2)/writev(2) from app memory on a TCP socket: the bytes go straight from the app's
   * memory into the send ring, as many as fit (one copy; a blocked writer copies the rest when
   * room appears). A fault part way sends what was copied, EFAULT only when nothing was.
   * `queued`: bytes this write(2) queued already (a blocked writer going on), so that a reset
   * meanwhile ends it with that count and stays for the next call (see sendFromIO).
   */
  override writeIO(
    src: IOSequence,
    offset: number,
    file: FileDescription,
    queued = 0,
  ): number | LinuxError | WouldBlock {
    const sock = this.sock;
    if (sock instanceof UnixSocket && sock.type === SockType.SOCK_STREAM && src.length > 0) {
      // The bytes are copied in once, into a buffer the socket then keeps (no second copy).
      const buf = new Uint8Array(this.sendWindow(src.length));
      const got = src.copyIn(buf);
      if (isError(got)) return got;
      const r = sock.send(buf.subarray(0, got), 0, undefined, undefined, {}, true);
      this.settle();
      return vfsBlock(r);
    }
    if (!this.tcp || src.length === 0)
      return super.writeIO(src.takeFirst(this.sendWindow(src.length)), offset, file);
    const r = this.sendFromIO(src, src.length, queued);
    if (r === NET_WOULD_BLOCK) return WOULD_BLOCK; // a full ring: nothing changed, nothing to run
    this.settle();
    return vfsBlock(r);
  }

  /**
   * How much of a `len`-byte write(2) to copy in from the app. A unix stream socket takes only
   * what its send buffer has room for, so copying all of a large buffer on every attempt read
   * the app's memory over and over (a 5 MiB write through a 208 KiB buffer copied in about 60
   * MiB). unix_stream_sendmsg queues buffers of at most half the send buffer while the queued
   * memory (SIOCOUTQ) is below SO_SNDBUF, each counting at least its bytes, so one call takes
   * less than the room plus half the buffer: a window that large gets the same buffers and the
   * same count as the whole would. Other sockets take all or nothing (datagrams, seqpacket).
   */
  private sendWindow(len: number): number {
    const sock = this.sock;
    if (!(sock instanceof UnixSocket) || sock.type !== SockType.SOCK_STREAM) return len;
    return Math.min(len, Math.max(0, sock.sndbuf - sock.outq()) + (sock.sndbuf >> 1));
  }

  override readiness(mask: number): number {
    return withRcvlowat(this.sock, this.sock.readiness()) & mask;
  }

  override get waitQueue(): WaitQueue {
    return this.queue;
  }

  /** FIONREAD, SIOCOUTQ and SIOCATMARK; other requests are not socket ioctls here (ENOTTY). */
  override ioctl(cmd: number): number | LinuxError {
    if (cmd === FIONREAD) return this.sock.inq();
    if (cmd === SIOCOUTQ) return this.sock.outq();
    if (cmd === SIOCATMARK) return 'atMark' in this.sock ? this.sock.atMark() : E.ENOTTY;
    return E.ENOTTY;
  }

  /** Set once the last reference went away (close(2) then lingers: see lingerOnClose). */
  released = false;

  override release(file: FileDescription): void {
    this.released = true;
    this.net.open.delete(this);
    this.disposeInode?.();
    // What the close does to the peer is a hang-up for O_ASYNC, not data (see fasync.ts).
    socketCall(file, 'close', () => this.sock.close());
    this.settle();
    this.net.put();
  }
}

/** The socket behind a file, or ENOTSOCK. */
export function socketOf(file: FileDescription): SocketImpl | LinuxError {
  return file.impl instanceof SocketImpl ? file.impl : E.ENOTSOCK;
}
