/**
 * AF_UNIX sockets (stream, datagram, seqpacket) as Linux's net/unix/af_unix.c behaves, in plain
 * TypeScript with no VFS: names in the filesystem are created and resolved by the caller through
 * {@link UnixPathBinder} (the kernel makes the S_IFSOCK node and hands back a stable key for it),
 * abstract names live in the {@link UnixDomain}. File descriptors passed with SCM_RIGHTS are
 * opaque references the kernel supplies; the domain gives back the ones that are never received
 * (a socket closed with messages queued) through {@link UnixDomainHooks.dropRights}.
 *
 * Results are `T | LinuxError`, or {@link WOULD_BLOCK} when a blocking call would wait: the
 * caller waits for {@link UnixSocket.readiness} (its listener runs when the bits may have
 * changed) or answers EAGAIN. SIGPIPE for EPIPE is the caller's business.
 *
 * Stream sockets carry out-of-band data as Linux does with CONFIG_AF_UNIX_OOB: the last byte of
 * a send with MSG_OOB is queued as a one-byte buffer of its own that the receiver remembers as
 * the mark. Reads stop in front of it and step over it (dropping it) unless SO_OOBINLINE;
 * recv(MSG_OOB) takes it. Queued data is kept as Linux's sk_buffs are, one per allocation of the
 * sender, so that SIOCOUTQ can answer with the memory they hold (their truesize).
 *
 * @module
 */
import { E, isError, MsgFlag, PollEvent, Shut, SockType, type LinuxError, type Sockaddr } from '@tsvisor/abi';
import { WOULD_BLOCK, type WouldBlock } from '../socket/would-block.js';
import { SocketFilter } from '../socket/cbpf.js';

/** Credentials as SO_PEERCRED and SCM_CREDENTIALS carry them. */
export interface UnixCreds {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
  /** The supplementary groups (SO_PEERGROUPS); none when not given. */
  readonly groups?: readonly number[] | undefined;
  /**
   * The kernel's handle on the process these credentials name (Linux's struct pid), opaque
   * here: what SO_PEERPIDFD and SCM_PIDFD make a pidfd of. None for credentials without one.
   */
  readonly process?: unknown;
}

/** What the kernel plugs into a domain. */
export interface UnixDomainHooks {
  /** SCM_RIGHTS references that will never be received (the receiving socket closed). */
  dropRights(refs: readonly unknown[]): void;
}

/**
 * Filesystem names, implemented by the kernel for one call (the caller's cwd and credentials).
 * Keys identify the socket node (e.g. device and inode numbers), so a renamed or hard-linked
 * node still reaches its socket.
 */
export interface UnixPathBinder {
  /** Creates the S_IFSOCK node for bind(2): its key, or EADDRINUSE (it exists), ENOENT, EACCES... */
  create(path: Uint8Array): string | LinuxError;
  /** Removes a node just made by {@link create} (a bind that fails after creating it). */
  remove(path: Uint8Array): void;
  /** Finds the node for connect/sendto: its key, or ENOENT, EACCES, ECONNREFUSED (not a socket)... */
  lookup(path: Uint8Array): string | LinuxError;
}

/** Ancillary data attached to a message. */
export interface UnixAncillary {
  /** SCM_RIGHTS: opaque file references (the sender's kernel already took a reference each). */
  readonly rights?: readonly unknown[] | undefined;
  /** SCM_CREDENTIALS as the sender gave them (already checked by the kernel) or its own. */
  readonly creds?: UnixCreds | undefined;
}

/** What a receive returns. */
export interface UnixRecvResult {
  /** Bytes copied into the buffer. */
  readonly n: number;
  /** The message's full length (datagram/seqpacket; what MSG_TRUNC returns), else n. */
  readonly len: number;
  /** The sender's address (datagram), or the peer's for streams; undefined when it has none. */
  readonly from: Sockaddr | undefined;
  /** The message did not fit (MSG_TRUNC in msg_flags). */
  readonly truncated: boolean;
  /** Passed references, now owned by the caller (absent when none or when peeking). */
  readonly rights: readonly unknown[] | undefined;
  /** The sender's credentials, when this socket has SO_PASSCRED. */
  readonly creds: UnixCreds | undefined;
  /**
   * With SO_PASSPIDFD: the sending process ({@link UnixCreds.process}) the receiver gets an
   * SCM_PIDFD for; undefined without the option or when the sender's credentials name none.
   */
  readonly pidfdProcess?: unknown;
  /** The out-of-band byte, read with MSG_OOB (MSG_OOB in msg_flags). */
  readonly oob?: boolean | undefined;
  /**
   * A stream read that stopped in front of the out-of-band mark: a caller gathering more
   * (MSG_WAITALL, SO_RCVLOWAT) returns what it has, as unix_stream_read_generic does.
   */
  readonly atMark?: boolean | undefined;
}

/** Linux's defaults: net.core.wmem_default / rmem_default and net.unix.max_dgram_qlen. */
export const UNIX_DEFAULT_SNDBUF = 212992;
/** Default receive buffer size (reported by SO_RCVBUF). */
export const UNIX_DEFAULT_RCVBUF = 212992;
const MAX_DGRAM_QLEN = 10;
/** A socket without credentials reports pid 0 and the overflow ids, as cred_to_ucred does. */
/** cred_to_ucred without credentials: pid 0, uid and gid -1 ((uid_t)-1). */
const NO_CREDS: UnixCreds = { pid: 0, uid: 0xffffffff, gid: 0xffffffff };

/*
 * The memory Linux charges a sender for one queued sk_buff (its truesize, what SIOCOUTQ sums), as
 * x86-64 kernels lay it out: the sk_buff itself (256 bytes once aligned), a kmalloc'ed head that
 * holds the linear bytes and the skb_shared_info (320 bytes), rounded up to the kmalloc size
 * (512 at least, then powers of two), and whole pages for the paged part.
 */
const SKB_STRUCT = 256;
const SKB_SHINFO = 320;
const PAGE_SIZE = 4096;
/** SKB_MAX_HEAD(0): the linear bytes that fit in one page with the shared info. */
const SKB_MAX_HEAD = PAGE_SIZE - SKB_SHINFO;
/** SKB_MAX_ALLOC: the linear bytes of an order-3 allocation. */
const SKB_MAX_ALLOC = (PAGE_SIZE << 3) - SKB_SHINFO;
/** UNIX_SKB_FRAGS_SZ: the paged bytes of one stream buffer at most. */
const UNIX_SKB_FRAGS_SZ = 32768;
/** MAX_SKB_FRAGS pages: the paged bytes of one datagram at most. */
const MAX_DGRAM_PAGED = 17 * PAGE_SIZE;

function pageAlign(n: number): number {
  return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}

/** truesize of an sk_buff with `linear` bytes in its head and `paged` bytes in pages. */
function skbTruesize(linear: number, paged: number): number {
  const head = Math.ceil(linear / 64) * 64 + SKB_SHINFO;
  const alloc = head <= 512 ? 512 : 2 ** Math.ceil(Math.log2(head));
  return alloc + SKB_STRUCT + pageAlign(paged);
}

/** The truesize of one stream buffer of `size` bytes (unix_stream_sendmsg's split). */
function streamTruesize(size: number): number {
  const paged = Math.min(size, pageAlign(Math.max(0, size - SKB_MAX_HEAD)));
  return skbTruesize(size - paged, paged);
}

/**
 * sk_filter(other, skb) in unix_dgram_sendmsg: what of a message the receiver's filter keeps
 * (cap 1), or undefined when it drops it. The skb is the payload alone, with no device.
 */
function filtered(other: UnixSocket, data: Uint8Array): Uint8Array | undefined {
  if (!other.filter.program) return data;
  const keep = other.filter.keep({ bytes: data, data: 0 }, 1);
  return keep < 0 ? undefined : data.subarray(0, keep);
}

/** The truesize of one datagram of `len` bytes (unix_dgram_sendmsg). */
function dgramTruesize(len: number): number {
  const paged = len > SKB_MAX_ALLOC ? pageAlign(Math.min(len - SKB_MAX_ALLOC, MAX_DGRAM_PAGED)) : 0;
  return skbTruesize(len - paged, paged);
}

/** One queued buffer (Linux's sk_buff on the receive queue). */
interface Message {
  data: Uint8Array;
  /** Bytes of `data` already read (streams; UNIXCB(skb).consumed). */
  off: number;
  sender: UnixSocket;
  rights: readonly unknown[] | undefined;
  creds: UnixCreds;
  /** The memory charged to the sender while this buffer is queued (SIOCOUTQ). */
  truesize: number;
}

type State = 'unconnected' | 'listening' | 'connected';

/**
 * The AF_UNIX names of one network namespace: abstract names and autobind numbers are its own;
 * bound paths are filesystem names, so every domain of a sandbox shares one table of them.
 */
export class UnixDomain {
  /** @internal */
  readonly abstract = new Map<string, UnixSocket>();
  /** @internal */
  readonly paths: Map<string, UnixSocket>;
  private nextAuto = 0;

  /** `pathsOf`: a domain of the same filesystem, whose bound paths this one reaches too. */
  constructor(
    readonly hooks: UnixDomainHooks,
    pathsOf?: UnixDomain,
  ) {
    this.paths = pathsOf?.paths ?? new Map<string, UnixSocket>();
  }

  /** @internal The next free autobind name (5 hex digits, as unix_autobind). */
  autoName(): Uint8Array | LinuxError {
    for (let i = 0; i < 0x100000; i++) {
      const name = (this.nextAuto++ & 0xfffff).toString(16).padStart(5, '0');
      const bytes = new TextEncoder().encode(name);
      if (!this.abstract.has(keyOf(bytes))) return bytes;
    }
    return E.ENOSPC;
  }
}

function keyOf(name: Uint8Array): string {
  return Buffer.from(name.buffer, name.byteOffset, name.byteLength).toString('latin1');
}

function isConnectionType(type: number): boolean {
  return type === SockType.SOCK_STREAM || type === SockType.SOCK_SEQPACKET;
}

/**
 * One AF_UNIX socket, with one method per socket syscall.
 *
 * @example
 * ```ts
 * const domain = new UnixDomain({ dropRights: () => {} });
 * const [a, b] = UnixSocket.pair(domain, SockType.SOCK_STREAM, CREDS) as [UnixSocket, UnixSocket];
 * a.send(new TextEncoder().encode('hi')); // 2
 * b.recv(new Uint8Array(8)); // { n: 2, ... }
 * ```
 */
export class UnixSocket {
  /** SO_SNDBUF (bytes this socket may have queued at its peers). */
  sndbuf = UNIX_DEFAULT_SNDBUF;
  /** SO_RCVBUF (reported only; Linux bounds unix queues by the sender's buffer). */
  rcvbuf = UNIX_DEFAULT_RCVBUF;
  /** SO_PASSCRED: received messages carry the sender's credentials. */
  passcred = false;
  /** SO_PASSPIDFD: received messages carry a pidfd of the sending process (SCM_PIDFD). */
  passpidfd = false;
  /**
   * SO_PASSRIGHTS (Linux 6.16): whether this socket accepts SCM_RIGHTS. Off, a send with
   * descriptors to it fails with EPERM.
   */
  passrights = true;
  /**
   * SO_OOBINLINE: the out-of-band byte stays in the stream (read in place, never with
   * MSG_OOB).
   */
  oobInline = false;
  /**
   * Runs when out-of-band data is queued to this socket (sk_send_sigurg: the kernel sends
   * SIGURG to the file's owner).
   */
  onUrgent: (() => void) | undefined;
  /**
   * SO_PEEK_OFF: where the next MSG_PEEK starts, in bytes past what a read would return, or -1
   * (off: every peek starts at the front). A peek moves it on by what it returned, a read back
   * by what it consumed (sk_peek_offset_fwd / sk_peek_offset_bwd).
   */
  peekOff = -1;
  /**
   * SO_ATTACH_FILTER's classic BPF program and SO_LOCK_FILTER. Datagram and seqpacket sends run
   * the receiver's on the payload (unix_dgram_sendmsg's sk_filter: the sender is told it sent
   * everything even when it drops); stream sockets keep a filter but never run it.
   */
  readonly filter = new SocketFilter();
  private state: State = 'unconnected';
  private addr: Sockaddr | undefined;
  private pathKey: string | undefined;
  private peer: UnixSocket | undefined;
  /** The peer's credentials (SO_PEERCRED). */
  private peerCreds: UnixCreds | undefined;
  private readonly queue: Message[] = [];
  private readonly backlogQueue: UnixSocket[] = [];
  /** Sockets whose connect waits for room in this listener's backlog. */
  private readonly connectWaiters = new Set<UnixSocket>();
  private backlog = 0;
  /**
   * The truesize of the buffers this socket sent that are still queued (sk_wmem_alloc): a send
   * allocates while it is below `sndbuf`, and POLLOUT wants it at a quarter of it.
   */
  private wmem = 0;
  /** The pending out-of-band buffer of a stream (u->oob_skb), one of `queue`. */
  private oobMsg: Message | undefined;
  /**
   * SIOCINQ of a stream (u->inq_len): bytes queued minus bytes read. Like Linux's counter it
   * does not go down when a read steps over an out-of-band byte it drops.
   */
  private inqLen = 0;
  private shutRcv = false;
  private shutSend = false;
  private error: LinuxError | undefined;
  private closed = false;
  private listener: ((events: number) => void) | undefined;

  private constructor(
    private readonly domain: UnixDomain,
    /** SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET. */
    readonly type: number,
    /**
     * The owner's credentials: what the peer sees with SO_PEERCRED (the kernel updates them to
     * the caller's at connect and listen, as Linux's init_peercred does).
     */
    public creds: UnixCreds,
  ) {}

  /**
   * Implements socket(2) for AF_UNIX: ESOCKTNOSUPPORT for other types (SOCK_RAW is mapped to
   * SOCK_DGRAM, as Linux does), EPROTONOSUPPORT for a protocol other than 0 or PF_UNIX. `type`
   * is the bare type: SOCK_NONBLOCK/SOCK_CLOEXEC belong to the file.
   */
  static create(domain: UnixDomain, type: number, creds: UnixCreds, protocol = 0): UnixSocket | LinuxError {
    if (protocol !== 0 && protocol !== 1) return E.EPROTONOSUPPORT;
    if (type === SockType.SOCK_RAW) type = SockType.SOCK_DGRAM;
    if (type !== SockType.SOCK_STREAM && type !== SockType.SOCK_DGRAM && type !== SockType.SOCK_SEQPACKET)
      return E.ESOCKTNOSUPPORT;
    return new UnixSocket(domain, type, creds);
  }

  /** Implements socketpair(2): two connected sockets. */
  static pair(
    domain: UnixDomain,
    type: number,
    creds: UnixCreds,
    protocol = 0,
  ): [UnixSocket, UnixSocket] | LinuxError {
    const a = UnixSocket.create(domain, type, creds, protocol);
    if (isError(a)) return a;
    const b = new UnixSocket(domain, a.type, creds);
    a.link(b);
    // unix_socketpair gives both ends peer credentials, datagram ones too (connect does not).
    a.peerCreds = b.creds;
    b.peerCreds = a.creds;
    return [a, b];
  }

  private link(b: UnixSocket): void {
    this.peer = b;
    b.peer = this;
    if (isConnectionType(this.type)) {
      this.state = 'connected';
      b.state = 'connected';
      this.peerCreds = b.creds;
      b.peerCreds = this.creds;
    }
  }

  /**
   * unix_may_passcred: SO_PASSCRED or SO_PASSPIDFD is on, so the socket autobinds on connect
   * and send, and stream reads do not join bytes of different senders.
   */
  private get passesCreds(): boolean {
    return this.passcred || this.passpidfd;
  }

  /** The bound address, if any. */
  get address(): Sockaddr | undefined {
    return this.addr;
  }

  /** Whether the socket is listening (SO_ACCEPTCONN). */
  get listening(): boolean {
    return this.state === 'listening';
  }

  /** The socket at the other end: a connected stream or seqpacket's, or a datagram socket's target. */
  get peerSocket(): UnixSocket | undefined {
    return this.peer;
  }

  /** A listener's connections not yet accepted, oldest first (unix_diag's UNIX_DIAG_ICONS). */
  get pendingConnections(): readonly UnixSocket[] {
    return this.backlogQueue;
  }

  /** The backlog given to listen(2), after Linux's clamp (sk_max_ack_backlog). */
  get listenBacklog(): number {
    return this.backlog;
  }

  /** Which directions are shut down (sk_shutdown: 1 receive, 2 send), by either end. */
  get shutdownMask(): number {
    return (this.shutRcv ? 1 : 0) | (this.shutSend ? 2 : 0);
  }

  /**
   * Implements bind(2) with an already parsed AF_UNIX address: `unix-unnamed` autobinds, an
   * abstract name must be free (EADDRINUSE), a path is created through `fs`. EINVAL when the
   * socket already has a name.
   */
  bind(addr: Sockaddr, fs?: UnixPathBinder): 0 | LinuxError {
    if (addr.kind === 'unix-path' && fs && this.addr) {
      // unix_bind_bsd makes the node first: an existing name is EADDRINUSE even for a bound socket.
      const made = fs.create(addr.path);
      if (isError(made)) return made;
      fs.remove(addr.path);
      return E.EINVAL;
    }
    if (addr.kind === 'unix-unnamed') {
      if (this.addr) return E.EINVAL;
      return this.autobind();
    }
    if (this.addr) return E.EINVAL;
    if (addr.kind === 'unix-abstract') {
      const key = keyOf(addr.name);
      if (this.domain.abstract.has(key)) return E.EADDRINUSE;
      this.domain.abstract.set(key, this);
      this.addr = addr;
      return 0;
    }
    if (addr.kind !== 'unix-path' || !fs) return E.EINVAL;
    const key = fs.create(addr.path);
    if (typeof key !== 'string') return key;
    this.domain.paths.set(key, this);
    this.pathKey = key;
    this.addr = addr;
    return 0;
  }

  private autobind(): 0 | LinuxError {
    const name = this.domain.autoName();
    if (isError(name)) return name;
    this.domain.abstract.set(keyOf(name), this);
    this.addr = { kind: 'unix-abstract', name };
    return 0;
  }

  /** Implements listen(2): EOPNOTSUPP for datagrams, EINVAL unbound or connected. */
  listen(backlog: number): 0 | LinuxError {
    if (!isConnectionType(this.type)) return E.EOPNOTSUPP;
    if (!this.addr) return E.EINVAL;
    if (this.state === 'connected') return E.EINVAL;
    // somaxconn (4096) caps the backlog; a negative one means the maximum.
    this.backlog = backlog < 0 || backlog > 4096 ? 4096 : backlog;
    this.state = 'listening';
    // A waiting connect may fit now.
    this.changed();
    return 0;
  }

  private find(addr: Sockaddr, fs: UnixPathBinder | undefined): UnixSocket | LinuxError {
    let target: UnixSocket | undefined;
    if (addr.kind === 'unix-abstract') target = this.domain.abstract.get(keyOf(addr.name));
    else if (addr.kind === 'unix-path') {
      if (!fs) return E.ECONNREFUSED;
      const key = fs.lookup(addr.path);
      if (typeof key !== 'string') return key;
      target = this.domain.paths.get(key);
    } else return E.EINVAL;
    if (!target || target.closed) return E.ECONNREFUSED;
    if (target.type !== this.type) return E.EPROTOTYPE;
    return target;
  }

  /**
   * Implements connect(2). Streams and seqpackets join the listener's accept queue at once
   * (ECONNREFUSED when nothing listens there, WOULD_BLOCK while its backlog is full, EISCONN
   * when connected, EINVAL on a listener); datagram sockets set their default peer
   * (`unix-unnamed`, i.e. AF_UNSPEC, disconnects).
   */
  connect(addr: Sockaddr, fs?: UnixPathBinder): 0 | LinuxError | WouldBlock {
    if (!isConnectionType(this.type)) {
      if (addr.kind === 'other' && addr.family === 0) {
        this.disconnectDgram();
        return 0;
      }
      const target = this.find(addr, fs);
      if (isError(target)) return target;
      if (this.passesCreds && !this.addr) this.autobind();
      if (this.peer && this.peer !== target) this.disconnectDgram();
      this.peer = target;
      return 0;
    }
    if (addr.kind === 'unix-unnamed' || (addr.kind === 'other' && addr.family === 0)) return E.EINVAL;
    if (this.state === 'connected') return E.EISCONN;
    if (this.state === 'listening') return E.EINVAL;
    const target = this.find(addr, fs);
    if (isError(target)) return target;
    if (target.state !== 'listening' || target.shutRcv) return E.ECONNREFUSED;
    if (target.backlogQueue.length > target.backlog) {
      // Woken (through its readiness listener) when the listener accepts or closes.
      target.connectWaiters.add(this);
      return WOULD_BLOCK;
    }
    target.connectWaiters.delete(this);
    if (this.passesCreds && !this.addr) {
      const err = this.autobind();
      if (err !== 0) return err;
    }
    const server = new UnixSocket(this.domain, this.type, target.creds);
    server.addr = target.addr;
    // The accepted socket takes the listener's SO_PASSCRED, SO_PASSPIDFD and SO_PASSRIGHTS
    // (sk_scm_recv_flags).
    server.passcred = target.passcred;
    server.passpidfd = target.passpidfd;
    server.passrights = target.passrights;
    server.sndbuf = target.sndbuf;
    this.link(server);
    target.backlogQueue.push(server);
    target.changed();
    this.changed();
    return 0;
  }

  private disconnectDgram(): void {
    this.peer = undefined;
  }

  /** Implements accept4(2): EOPNOTSUPP for datagrams, EINVAL unless listening, else WOULD_BLOCK. */
  accept(): UnixSocket | LinuxError | WouldBlock {
    if (!isConnectionType(this.type)) return E.EOPNOTSUPP;
    if (this.state !== 'listening') return E.EINVAL;
    const s = this.backlogQueue.shift();
    if (!s) return WOULD_BLOCK;
    this.changed();
    this.wakeConnectors();
    return s;
  }

  private wakeConnectors(): void {
    const waiting = [...this.connectWaiters];
    this.connectWaiters.clear();
    for (const w of waiting) w.changed();
  }

  /**
   * Implements sendmsg(2)'s data path. Streams send what fits (at least one byte, else
   * WOULD_BLOCK); datagrams and seqpackets send the whole message or nothing (EMSGSIZE when it can
   * never fit). `to` on a connected stream is EISCONN, on an unconnected one EOPNOTSUPP.
   * MSG_OOB on a stream makes the last byte out-of-band data (queued on its own, replacing a
   * mark still pending at the peer, whose {@link onUrgent} runs): EOPNOTSUPP for an empty
   * send, and for datagram and seqpacket sockets.
   *
   * `adopt`: the caller hands `data` over and never touches it again (a buffer it filled for
   * this call alone), so a stream queues views of it instead of copies.
   */
  send(
    data: Uint8Array,
    flags = 0,
    to?: Sockaddr,
    fs?: UnixPathBinder,
    anc: UnixAncillary = {},
    adopt = false,
  ): number | LinuxError | WouldBlock {
    const oob = (flags & MsgFlag.MSG_OOB) !== 0;
    const creds = anc.creds ?? this.creds;
    if (this.type === SockType.SOCK_DGRAM) {
      return oob ? E.EOPNOTSUPP : this.sendDgram(data, to, fs, anc.rights, creds);
    }
    // unix_stream_sendmsg refuses an empty out-of-band send before anything else.
    if (oob && this.type === SockType.SOCK_STREAM && data.length === 0) return E.EOPNOTSUPP;
    if (to) return this.state === 'connected' ? E.EISCONN : E.EOPNOTSUPP;
    if (this.state !== 'connected' || !this.peer) return E.ENOTCONN;
    if (oob && this.type === SockType.SOCK_SEQPACKET) return E.EOPNOTSUPP;
    if (this.shutSend) return E.EPIPE;
    const err = this.takeError();
    if (err) return err;
    const other = this.peer;
    if (other.closed || other.shutRcv) return E.EPIPE;
    if (anc.rights && anc.rights.length > 0 && !other.passrights) return E.EPERM;
    if (this.type === SockType.SOCK_SEQPACKET) {
      if (data.length > this.sndbuf - 32) return E.EMSGSIZE;
      if (this.wmem >= this.sndbuf) return WOULD_BLOCK;
      const kept = filtered(other, data);
      if (kept) this.enqueue(other, kept.slice(), anc.rights, creds, dgramTruesize(kept.length));
      else if (anc.rights && anc.rights.length > 0) this.domain.hooks.dropRights(anc.rights);
      return data.length;
    }
    // With MSG_OOB the bytes before the last go as ordinary data, then the last one on its own.
    const plain = oob ? data.length - 1 : data.length;
    if (data.length === 0) return 0;
    const n = this.enqueueStream(other, data.subarray(0, plain), anc.rights, creds, adopt);
    // What did not fit (the out-of-band byte included) is the caller's next attempt.
    if (n < plain) return n > 0 ? n : WOULD_BLOCK;
    if (!oob) return n;
    if (this.wmem >= this.sndbuf) return n > 0 ? n : WOULD_BLOCK;
    // Descriptors go with the first buffer: this one when no ordinary byte went before it.
    this.enqueue(other, data.slice(n, n + 1), n > 0 ? undefined : anc.rights, creds, streamTruesize(1), true);
    other.onUrgent?.();
    return n + 1;
  }

  /**
   * Queues stream bytes in buffers of at most what unix_stream_sendmsg puts in one sk_buff
   * (half the send buffer less 64, and a page of head plus UNIX_SKB_FRAGS_SZ), the descriptors
   * with the first, while this socket's queued memory is below its send buffer (a buffer may
   * take it past: sock_alloc_send_pskb checks before allocating). Returns the bytes queued.
   * With `adopt` the buffers are views of `data` (see {@link send}).
   */
  private enqueueStream(
    other: UnixSocket,
    data: Uint8Array,
    rights: readonly unknown[] | undefined,
    creds: UnixCreds,
    adopt: boolean,
  ): number {
    const most = Math.min((this.sndbuf >> 1) - 64, SKB_MAX_HEAD + UNIX_SKB_FRAGS_SZ);
    let at = 0;
    while (at < data.length && this.wmem < this.sndbuf) {
      const size = Math.min(data.length - at, most);
      this.enqueue(
        other,
        adopt ? data.subarray(at, at + size) : data.slice(at, at + size),
        at === 0 ? rights : undefined,
        creds,
        streamTruesize(size),
      );
      at += size;
    }
    return at;
  }

  private sendDgram(
    data: Uint8Array,
    to: Sockaddr | undefined,
    fs: UnixPathBinder | undefined,
    rights: readonly unknown[] | undefined,
    creds: UnixCreds,
  ): number | LinuxError | WouldBlock {
    if (data.length > this.sndbuf - 32) return E.EMSGSIZE;
    let other: UnixSocket;
    if (to) {
      const t = this.find(to, fs);
      if (isError(t)) return t;
      other = t;
    } else {
      if (!this.peer) return E.ENOTCONN;
      if (this.peer.closed) {
        this.peer = undefined;
        return E.ECONNREFUSED;
      }
      other = this.peer;
    }
    if (this.passesCreds && !this.addr) this.autobind();
    // sock_alloc_send_pskb waits for send buffer room before the filter runs.
    if (other.filter.program && this.wmem >= this.sndbuf) return WOULD_BLOCK;
    const kept = filtered(other, data);
    if (!kept) {
      if (rights && rights.length > 0) this.domain.hooks.dropRights(rights);
      return data.length;
    }
    if (other.peer && other.peer !== this) return E.EPERM;
    if (rights && rights.length > 0 && !other.passrights) return E.EPERM;
    if (other.shutRcv) return E.EPIPE;
    if (this.shutSend) return E.EPIPE;
    if (other.peer !== this && other.queue.length >= MAX_DGRAM_QLEN) return WOULD_BLOCK;
    if (this.wmem >= this.sndbuf) return WOULD_BLOCK;
    this.enqueue(other, kept.slice(), rights, creds, dgramTruesize(kept.length));
    return data.length;
  }

  private enqueue(
    other: UnixSocket,
    data: Uint8Array,
    rights: readonly unknown[] | undefined,
    creds: UnixCreds,
    truesize: number,
    oob = false,
  ): void {
    const m: Message = {
      data,
      off: 0,
      sender: this,
      rights: rights && rights.length > 0 ? rights : undefined,
      creds,
      truesize,
    };
    other.queue.push(m);
    // The receiver's listener must see POLLPRI with the byte.
    if (oob) other.oobMsg = m;
    other.inqLen += data.length;
    this.wmem += truesize;
    other.changed();
    this.changed();
  }

  /** `m` left the queue: its sender gets back the buffer's memory (sock_wfree). */
  private release(m: Message): void {
    const s = m.sender;
    s.wmem -= m.truesize;
    s.changed();
  }

  /** Unlinks and frees the buffer at `i` (descriptors it still holds go back to the kernel). */
  private drop(i: number): void {
    const m = this.queue[i]!;
    this.queue.splice(i, 1);
    if (m === this.oobMsg) this.oobMsg = undefined;
    if (m.rights) this.domain.hooks.dropRights(m.rights);
    m.rights = undefined;
    this.release(m);
  }

  /**
   * Implements recvmsg(2)'s data path with MSG_PEEK and MSG_TRUNC. Streams read across queued
   * writes but never past one that carries descriptors (those arrive with their own bytes);
   * end of file is n = 0. WOULD_BLOCK when nothing is queued; MSG_WAITALL is the caller's loop.
   * A stream read stops in front of the out-of-band mark ({@link UnixRecvResult.atMark}) and
   * steps over the byte, dropping it, unless SO_OOBINLINE; MSG_OOB takes that byte (EINVAL when
   * none is pending or with SO_OOBINLINE), EOPNOTSUPP on datagram and seqpacket sockets.
   */
  recv(buf: Uint8Array, flags = 0): UnixRecvResult | LinuxError | WouldBlock {
    const peek = (flags & MsgFlag.MSG_PEEK) !== 0;
    if (this.type === SockType.SOCK_STREAM) {
      if (this.state !== 'connected') return E.EINVAL;
      return flags & MsgFlag.MSG_OOB ? this.recvUrg(buf, peek) : this.recvStream(buf, peek);
    }
    if (this.type === SockType.SOCK_SEQPACKET && this.state !== 'connected') return E.ENOTCONN;
    if (flags & MsgFlag.MSG_OOB) return E.EOPNOTSUPP;
    // With SO_PEEK_OFF a peek skips that many bytes: whole messages first, then into one
    // (__skb_try_recv_datagram); an empty queue past the offset is "nothing to read".
    let skip = peek ? Math.max(this.peekOff, 0) : 0;
    let at = 0;
    while (peek && at < this.queue.length && skip > 0 && skip >= this.queue[at]!.data.length) {
      skip -= this.queue[at]!.data.length;
      at++;
    }
    const m = this.queue[at];
    if (!m) {
      const err = this.takeError();
      if (err) return err;
      if (this.shutRcv) return this.eof();
      return WOULD_BLOCK;
    }
    const n = Math.min(buf.length, m.data.length - skip);
    buf.set(m.data.subarray(skip, skip + n));
    if (!peek) {
      this.queue.shift();
      this.release(m);
      if (this.peekOff >= 0) this.peekOff = Math.max(this.peekOff - m.data.length, 0);
    } else if (this.peekOff >= 0) this.peekOff += n;
    return {
      n,
      len: m.data.length - skip,
      from: m.sender.addr,
      truncated: n < m.data.length - skip,
      rights: peek ? undefined : m.rights,
      creds: this.passcred ? m.creds : undefined,
      pidfdProcess: this.passpidfd ? m.creds.process : undefined,
    };
  }

  private eof(): UnixRecvResult {
    return { n: 0, len: 0, from: undefined, truncated: false, rights: undefined, creds: undefined };
  }

  /**
   * recv(MSG_OOB) on a stream (unix_stream_recv_urg): the pending out-of-band byte, which stays
   * queued as an empty buffer (a read still stops there) unless MSG_PEEK leaves it pending. No
   * address or control data comes with it. A buffer of no room still takes it and counts it.
   */
  private recvUrg(buf: Uint8Array, peek: boolean): UnixRecvResult | LinuxError {
    const m = this.oobMsg;
    if (this.oobInline || !m) return E.EINVAL;
    if (buf.length > 0) buf[0] = m.data[m.off]!;
    if (!peek) {
      this.oobMsg = undefined;
      this.inqLen -= 1;
      // The empty buffer an earlier out-of-band byte left in front of this one goes now.
      const i = this.queue.indexOf(m);
      const prev = this.queue[i - 1];
      if (prev && prev.off === prev.data.length) this.drop(i - 1);
      m.off += 1;
      this.changed();
    }
    return {
      n: 1,
      len: 1,
      from: undefined,
      truncated: false,
      rights: undefined,
      creds: undefined,
      oob: true,
    };
  }

  /**
   * Linux's manage_oob: what a stream read does on meeting the buffer at `i` (the head, or the
   * next one of a peek) after `copied` bytes. Empty buffers left by out-of-band bytes already
   * taken are stepped over (and freed unless peeking) or end a read that has bytes; the pending
   * out-of-band buffer ends a read that has bytes, else it is taken out of band: dropped, or
   * read in place with SO_OOBINLINE. Returns the index of the buffer to read from, or -1 (stop
   * here, or nothing to read).
   */
  private manageOob(i: number, peek: boolean, copied: number): number {
    const q = this.queue;
    let m = q[i]!;
    if (m.off < m.data.length && m !== this.oobMsg) return i;
    if (m.off === m.data.length) {
      if (copied > 0 && (!this.oobMsg || m === this.oobMsg)) return -1;
      if (peek) i++;
      else this.drop(i);
      const next = q[i];
      if (!next) return -1;
      m = next;
    }
    if (m !== this.oobMsg) return i;
    if (copied > 0) return -1;
    if (peek) return this.oobInline ? i : i + 1 < q.length ? i + 1 : -1;
    this.oobMsg = undefined;
    if (this.oobInline) return i;
    this.drop(i);
    return q.length > 0 ? 0 : -1;
  }

  /** unix_stream_read_generic: one read (or peek) of stream bytes, see {@link recv}. */
  private recvStream(buf: Uint8Array, peek: boolean): UnixRecvResult | LinuxError | WouldBlock {
    const q = this.queue;
    let n = 0;
    let rights: readonly unknown[] | undefined;
    let first: Message | undefined;
    let atMark = false;
    // SO_PEEK_OFF: a peek starts that many bytes in (unix_stream_read_generic's skip).
    let skip = peek ? Math.max(this.peekOff, 0) : 0;
    // A read looks at the head of the queue each time round; a peek walks on from buffer to
    // buffer.
    let i = 0;
    let m: Message | undefined = q[0];
    for (;;) {
      if (m) {
        i = this.manageOob(i, peek, n);
        m = i < 0 ? undefined : q[i];
        if (!m && n > 0) {
          atMark = true;
          break;
        }
      }
      if (!m) {
        if (n > 0) break;
        const err = this.takeError();
        if (err) return err;
        if (this.shutRcv) return this.eof();
        return WOULD_BLOCK;
      }
      while (skip >= m.data.length - m.off) {
        skip -= m.data.length - m.off;
        m = q[++i];
        if (!m) break;
      }
      // Past the end with the offset: the "nothing (more) to read" case above.
      if (!m) continue;
      // The read stops at a buffer from another sender (credentials differ) and at one carrying
      // descriptors once it has bytes.
      if (n > 0 && (m.rights || (this.passesCreds && first && m.creds !== first.creds))) break;
      first ??= m;
      const start = m.off + skip;
      skip = 0;
      const take = Math.min(buf.length - n, m.data.length - start);
      buf.set(m.data.subarray(start, start + take), n);
      n += take;
      if (!peek) {
        if (m.rights) {
          rights = m.rights;
          m.rights = undefined;
        }
        m.off += take;
        this.inqLen -= take;
        // A buffer partly read keeps its memory charged to the sender.
        if (m.off < m.data.length) break;
        q.splice(i, 1);
        if (m === this.oobMsg) this.oobMsg = undefined;
        this.release(m);
        if (rights || n >= buf.length) break;
        i = 0;
        m = q[0];
      } else {
        if (m.rights || n >= buf.length) break;
        m = q[++i];
        if (!m) break;
      }
    }
    if (this.peekOff >= 0) this.peekOff = peek ? this.peekOff + n : Math.max(this.peekOff - n, 0);
    const from = first?.sender.addr;
    const creds = this.passcred ? first?.creds : undefined;
    const pidfdProcess = this.passpidfd ? first?.creds.process : undefined;
    return { n, len: n, from, truncated: false, rights, creds, pidfdProcess, atMark };
  }

  /** Implements shutdown(2): EINVAL for a bad `how`; an unconnected socket is marked too (as unix_shutdown). */
  shutdown(how: number): 0 | LinuxError {
    if (how !== Shut.SHUT_RD && how !== Shut.SHUT_WR && how !== Shut.SHUT_RDWR) return E.EINVAL;
    const rd = how !== Shut.SHUT_WR;
    const wr = how !== Shut.SHUT_RD;
    if (rd) this.shutRcv = true;
    if (wr) this.shutSend = true;
    const other = this.peer;
    if (other && isConnectionType(this.type)) {
      if (rd) other.shutSend = true;
      if (wr) other.shutRcv = true;
      other.changed();
    }
    this.changed();
    return 0;
  }

  /** Implements getsockname(2): the bound name, or the unnamed address. */
  getsockname(): Sockaddr {
    return this.addr ?? { kind: 'unix-unnamed' };
  }

  /** Implements getpeername(2): ENOTCONN without a peer. */
  getpeername(): Sockaddr | LinuxError {
    const p = this.peer;
    if (!p || (isConnectionType(this.type) && this.state !== 'connected')) return E.ENOTCONN;
    return p.addr ?? { kind: 'unix-unnamed' };
  }

  /** SO_PEERCRED: the peer's credentials at connect time, or pid 0 and the overflow ids. */
  peercred(): UnixCreds {
    return this.peerCreds ?? NO_CREDS;
  }

  /**
   * SO_PEERPIDFD: the process of the peer's credentials at connect or socketpair time (what a
   * pidfd is made of), or undefined when the socket has none (no peer credentials: ENODATA).
   * It stays the same process after that process exits, as Linux keeps its struct pid.
   */
  peerProcess(): unknown {
    return this.peerCreds?.process;
  }

  /**
   * SO_PEERGROUPS: the peer's supplementary groups at connect time; undefined when the socket
   * has no peer credentials (sk_peer_cred NULL: ENODATA).
   */
  peerGroups(): readonly number[] | undefined {
    return this.peerCreds ? (this.peerCreds.groups ?? []) : undefined;
  }

  /** SO_ERROR: the pending error, cleared by reading it. */
  takeError(): LinuxError | undefined {
    const e = this.error;
    this.error = undefined;
    return e;
  }

  /**
   * FIONREAD (SIOCINQ), as unix_inq_len: a stream's count of bytes queued and not read (Linux's
   * inq_len, which keeps an out-of-band byte a read dropped), all queued bytes of a seqpacket
   * socket, the next datagram's length; EINVAL on a listener.
   */
  inq(): number | LinuxError {
    if (this.state === 'listening') return E.EINVAL;
    if (this.type === SockType.SOCK_STREAM) return this.inqLen;
    if (this.type === SockType.SOCK_SEQPACKET)
      return this.queue.reduce((s, m) => s + m.data.length - m.off, 0);
    return this.queue[0]?.data.length ?? 0;
  }

  /**
   * SIOCOUTQ, as unix_outq_len: the memory (truesize) of the buffers this socket sent that are
   * still queued at a receiver; a buffer partly read still counts whole.
   */
  outq(): number {
    return this.wmem;
  }

  /**
   * SIOCATMARK: whether a stream's next byte is the out-of-band mark (the pending out-of-band
   * byte, or the empty buffer one that was taken left, with no other pending or the pending one
   * right behind it); EOPNOTSUPP for datagram and seqpacket sockets.
   */
  atMark(): number | LinuxError {
    if (this.type !== SockType.SOCK_STREAM) return E.EOPNOTSUPP;
    const m = this.queue[0];
    if (!m) return 0;
    if (m === this.oobMsg) return 1;
    return m.off === m.data.length && (!this.oobMsg || this.queue[1] === this.oobMsg) ? 1 : 0;
  }

  /** poll(2)/epoll readiness, as unix_poll and unix_dgram_poll compute it. */
  readiness(): number {
    let ev = 0;
    if (this.error) ev |= PollEvent.POLLERR;
    if (this.shutRcv) ev |= PollEvent.POLLRDHUP | PollEvent.POLLIN | PollEvent.POLLRDNORM;
    if (this.shutRcv && this.shutSend) ev |= PollEvent.POLLHUP;
    if (this.queue.length > 0 || this.backlogQueue.length > 0) ev |= PollEvent.POLLIN | PollEvent.POLLRDNORM;
    if (this.oobMsg) ev |= PollEvent.POLLPRI;
    if (isConnectionType(this.type) && this.state === 'unconnected') ev |= PollEvent.POLLHUP;
    if (this.state === 'listening') return ev;
    // unix_writable: sk_wmem_alloc (which counts one more than the buffers) at a quarter.
    let writable = (this.wmem + 1) * 4 <= this.sndbuf;
    if (this.type !== SockType.SOCK_STREAM && this.peer && this.peer.peer !== this) {
      if (this.peer.queue.length >= MAX_DGRAM_QLEN) writable = false;
    }
    if (writable) ev |= PollEvent.POLLOUT | PollEvent.POLLWRNORM | PollEvent.POLLWRBAND;
    return ev;
  }

  /** Registers `wake(events)`, run whenever the readiness may have changed; undefined unregisters. */
  setReadinessListener(wake: ((events: number) => void) | undefined): void {
    this.listener = wake;
  }

  private changed(): void {
    this.listener?.(this.readiness());
  }

  /**
   * Implements close(2) of the last reference: unread descriptors go back to the kernel, the
   * name is freed, a connected peer sees end of file (ECONNRESET if this socket left data
   * unread), and connections never accepted are reset.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listener = undefined;
    if (this.addr?.kind === 'unix-abstract') {
      const key = keyOf(this.addr.name);
      if (this.domain.abstract.get(key) === this) this.domain.abstract.delete(key);
    }
    if (this.pathKey !== undefined && this.domain.paths.get(this.pathKey) === this)
      this.domain.paths.delete(this.pathKey);
    const unread = this.queue.length > 0;
    this.oobMsg = undefined;
    for (const m of this.queue.splice(0)) {
      if (m.rights) this.domain.hooks.dropRights(m.rights);
      this.release(m);
    }
    for (const s of this.backlogQueue.splice(0)) s.close();
    this.wakeConnectors();
    const other = this.peer;
    this.peer = undefined;
    if (other && isConnectionType(this.type)) {
      other.shutRcv = true;
      other.shutSend = true;
      if (unread) other.error = E.ECONNRESET;
      other.changed();
    }
  }
}
