/**
 * The socket layer for AF_INET and AF_INET6: one object per open socket, with one method per
 * socket syscall and Linux's errno for every misuse. Results are `T | LinuxError`, or
 * {@link WOULD_BLOCK} when the call would block; the kernel turns WOULD_BLOCK into EAGAIN for
 * non-blocking sockets and into a wait on {@link InetSocket.readiness} otherwise (and raises
 * SIGPIPE for EPIPE on stream sockets unless MSG_NOSIGNAL: signals are the kernel's business).
 *
 * @module
 */
import {
  AddressFamily,
  E,
  isError,
  IpOption,
  IpProto,
  Ipv6Option,
  MsgFlag,
  PollEvent,
  Shut,
  SockType,
  SocketLevel,
  SocketOption,
  TcpOption,
  type LinuxError,
} from '@tsvisor/abi';
import { RingBuffer } from '../storage/ring-buffer.js';
import type { Stack } from '../stack.js';
import type { IpEndpoint } from '../wire/ip-address.js';
import { unspecifiedAddress } from '../wire/ip-address.js';
import { emitSockaddr, parseSockaddr, sockaddrFamily } from './sockaddr.js';
import type { TcpBuffers, TcpListener, TcpSocket } from './tcp.js';
import type { IcmpSocket } from './icmp.js';
import { udpBuffers, type UdpSocket } from './udp.js';
import { WOULD_BLOCK, type WouldBlock } from './would-block.js';

/** Buffer sizes of sockets made by the socket layer (bytes). */
export interface InetSocketConfig {
  readonly rcvBuf: number;
  readonly sndBuf: number;
}

const DEFAULT_CONFIG: InetSocketConfig = { rcvBuf: 131072, sndBuf: 65536 };

/** What recvfrom returns: bytes copied, the datagram's full length (MSG_TRUNC), and the sender. */
export interface RecvResult {
  /** Bytes copied into the buffer. */
  readonly n: number;
  /** The datagram's real length (what recv returns with MSG_TRUNC); equals n for streams. */
  readonly len: number;
  /** Sender address as a sockaddr (datagram sockets), undefined for streams. */
  readonly from: Uint8Array | undefined;
  /** The datagram was cut short (sets MSG_TRUNC in msg_flags). */
  readonly truncated: boolean;
}

type Impl =
  | { readonly kind: 'udp'; readonly sock: UdpSocket }
  | { readonly kind: 'icmp'; readonly sock: IcmpSocket }
  | { readonly kind: 'tcp'; readonly sock: TcpSocket }
  | { readonly kind: 'listener'; readonly sock: TcpListener };

/**
 * An AF_INET/AF_INET6 socket of type SOCK_STREAM (TCP) or SOCK_DGRAM (UDP).
 *
 * @example
 * ```ts
 * const s = InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_DGRAM, 0);
 * if (isError(s)) return s;
 * s.bind(emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 53 }));
 * ```
 */
export class InetSocket {
  /** O_NONBLOCK of the open file (connect answers EINPROGRESS instead of WOULD_BLOCK). */
  nonBlocking = false;
  private impl: Impl;
  private reuseAddr = false;
  private keepAlive = false;
  /** TCP_KEEPIDLE, TCP_KEEPINTVL (seconds) and TCP_KEEPCNT, Linux's defaults. */
  private keepIdle = 7200;
  private keepIntvl = 75;
  private keepCnt = 9;
  private broadcast = false;
  private noDelay = false;
  private hopLimit = 64;
  private shutRd = false;
  private shutWr = false;
  private connecting = false;

  private constructor(
    private readonly stack: Stack,
    /** 4 for AF_INET, 6 for AF_INET6. */
    readonly family: 4 | 6,
    /** SOCK_STREAM or SOCK_DGRAM. */
    readonly type: number,
    private readonly config: InetSocketConfig,
    impl?: Impl,
    ping = false,
  ) {
    this.impl =
      impl ??
      (type === SockType.SOCK_STREAM
        ? { kind: 'tcp', sock: stack.tcpSocket(family, this.rings()) }
        : ping
          ? { kind: 'icmp', sock: stack.icmpSocket(family) }
          : { kind: 'udp', sock: stack.udpSocket(family, udpBuffers(256, config.rcvBuf)) });
  }

  /**
   * Implements socket(2) for the inet families: TCP, UDP and ICMP echo ("ping", SOCK_DGRAM with
   * IPPROTO_ICMP or IPPROTO_ICMPV6; the caller checks net.ipv4.ping_group_range). EAFNOSUPPORT
   * for other families, EINVAL for unknown type flags, ESOCKTNOSUPPORT/EPROTONOSUPPORT for
   * other types and protocols.
   */
  static create(
    stack: Stack,
    domain: number,
    type: number,
    protocol: number,
    config: Partial<InetSocketConfig> = {},
  ): InetSocket | LinuxError {
    if (domain !== AddressFamily.AF_INET && domain !== AddressFamily.AF_INET6) return E.EAFNOSUPPORT;
    if (type & ~(SockType.SOCK_TYPE_MASK | SockType.SOCK_NONBLOCK | SockType.SOCK_CLOEXEC)) return E.EINVAL;
    const kind = type & SockType.SOCK_TYPE_MASK;
    const family = domain === AddressFamily.AF_INET ? 4 : 6;
    const pingProto = family === 4 ? IpProto.IPPROTO_ICMP : IpProto.IPPROTO_ICMPV6;
    if (kind === SockType.SOCK_STREAM) {
      if (protocol !== 0 && protocol !== IpProto.IPPROTO_TCP) return E.EPROTONOSUPPORT;
    } else if (kind === SockType.SOCK_DGRAM) {
      if (protocol !== 0 && protocol !== IpProto.IPPROTO_UDP && protocol !== pingProto)
        return E.EPROTONOSUPPORT;
    } else return E.ESOCKTNOSUPPORT;
    const s = new InetSocket(
      stack,
      family,
      kind,
      { ...DEFAULT_CONFIG, ...config },
      undefined,
      protocol === pingProto,
    );
    s.nonBlocking = (type & SockType.SOCK_NONBLOCK) !== 0;
    return s;
  }

  private rings(): TcpBuffers {
    return {
      rx: new RingBuffer(new Uint8Array(this.config.rcvBuf)),
      tx: new RingBuffer(new Uint8Array(this.config.sndBuf)),
    };
  }

  /** The IP protocol: IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP or IPPROTO_ICMPV6. */
  get protocol(): number {
    if (this.impl.kind === 'icmp') return this.family === 4 ? IpProto.IPPROTO_ICMP : IpProto.IPPROTO_ICMPV6;
    return this.type === SockType.SOCK_STREAM ? IpProto.IPPROTO_TCP : IpProto.IPPROTO_UDP;
  }

  private unspecified(): IpEndpoint {
    return { addr: unspecifiedAddress(this.family), port: 0 };
  }

  /** Implements bind(2). */
  bind(sockaddr: Uint8Array): 0 | LinuxError {
    const ep = parseSockaddr(sockaddr, this.family);
    if (isError(ep)) return ep;
    const s = this.impl.sock;
    s.reuseAddr = this.reuseAddr;
    return s.bind(ep) ?? 0;
  }

  /** Implements listen(2): EOPNOTSUPP on datagram sockets, EINVAL once connected. */
  listen(backlog: number): 0 | LinuxError {
    const impl = this.impl;
    if (impl.kind === 'udp' || impl.kind === 'icmp') return E.EOPNOTSUPP;
    if (impl.kind === 'listener') {
      impl.sock.listen(backlog);
      return 0;
    }
    if (impl.sock.state !== 'CLOSED' || this.connecting) return E.EINVAL;
    const local = impl.sock.local;
    impl.sock.close(); // releases the port for the listener that takes over
    const l = this.stack.tcpListener(this.family, () => this.rings());
    l.reuseAddr = this.reuseAddr;
    if (local) {
      const err = l.bind(local);
      if (err) return err;
    }
    const err = l.listen(backlog);
    if (err) return err;
    this.impl = { kind: 'listener', sock: l };
    return 0;
  }

  /** Implements accept4(2): EINVAL unless listening; WOULD_BLOCK when no connection is ready. */
  accept(flags = 0): InetSocket | LinuxError | WouldBlock {
    if (flags & ~(SockType.SOCK_NONBLOCK | SockType.SOCK_CLOEXEC)) return E.EINVAL;
    if (this.impl.kind !== 'listener') return E.EINVAL;
    const c = this.impl.sock.accept();
    if (c === WOULD_BLOCK || isError(c)) return c;
    const s = new InetSocket(this.stack, this.family, this.type, this.config, { kind: 'tcp', sock: c });
    s.nonBlocking = (flags & SockType.SOCK_NONBLOCK) !== 0;
    // An accepted socket inherits the listener's options, as on Linux.
    s.noDelay = this.noDelay;
    s.keepAlive = this.keepAlive;
    s.keepIdle = this.keepIdle;
    s.keepIntvl = this.keepIntvl;
    s.keepCnt = this.keepCnt;
    s.hopLimit = this.hopLimit;
    s.applyTcpOptions();
    return s;
  }

  /**
   * Implements connect(2). Datagram sockets connect at once (AF_UNSPEC disconnects). Stream
   * sockets start the handshake and answer EINPROGRESS when non-blocking, or WOULD_BLOCK:
   * wait for POLLOUT and call {@link finishConnect}.
   */
  connect(sockaddr: Uint8Array): 0 | LinuxError | WouldBlock {
    const impl = this.impl;
    if (impl.kind === 'udp' || impl.kind === 'icmp') {
      if (sockaddr.length >= 2 && sockaddrFamily(sockaddr) === AddressFamily.AF_UNSPEC) {
        impl.sock.disconnect();
        return 0;
      }
      const ep = parseSockaddr(sockaddr, this.family);
      if (isError(ep)) return ep;
      return impl.sock.connect(ep) ?? 0;
    }
    if (impl.kind === 'listener') return E.EISCONN;
    const s = impl.sock;
    if (this.connecting) {
      if (s.state === 'SYN_SENT' || s.state === 'SYN_RECEIVED') return E.EALREADY;
      // Linux: the first connect after the handshake finished reports its outcome (0 or the
      // error); later ones say EISCONN.
      this.connecting = false;
      return s.takeError() ?? 0;
    }
    if (s.state !== 'CLOSED') return E.EISCONN;
    const ep = parseSockaddr(sockaddr, this.family);
    if (isError(ep)) return ep;
    s.reuseAddr = this.reuseAddr;
    this.applyTcpOptions();
    const err = s.connect(ep);
    if (err) return err;
    this.connecting = true;
    return this.nonBlocking ? E.EINPROGRESS : WOULD_BLOCK;
  }

  /** The end of a blocking connect: 0 when established, the error when it failed, else WOULD_BLOCK. */
  finishConnect(): 0 | LinuxError | WouldBlock {
    if (this.impl.kind !== 'tcp') return 0;
    const s = this.impl.sock;
    if (s.state === 'SYN_SENT' || s.state === 'SYN_RECEIVED') return WOULD_BLOCK;
    this.connecting = false;
    return s.takeError() ?? 0;
  }

  /** Implements sendto(2)/send(2). `to` is ignored on stream sockets, as Linux does. */
  sendto(data: Uint8Array, flags = 0, to?: Uint8Array): number | LinuxError | WouldBlock {
    void flags; // MSG_DONTWAIT/MSG_NOSIGNAL are decided by the caller; others have no effect here
    const impl = this.impl;
    if (impl.kind === 'listener') return E.EPIPE;
    if (this.shutWr) return E.EPIPE;
    if (impl.kind === 'tcp') return impl.sock.send(data);
    let dst: IpEndpoint | undefined;
    if (to && to.length > 0) {
      const ep = parseSockaddr(to, this.family);
      if (isError(ep)) return ep;
      dst = ep;
    }
    impl.sock.hopLimit = this.hopLimit;
    if (dst && (dst.addr.isBroadcast() || this.stack.iface.isDirectedBroadcast(dst.addr)) && !this.broadcast)
      return E.EACCES; // Linux needs SO_BROADCAST to send to a broadcast address
    return dst ? impl.sock.sendto(data, dst) : impl.sock.sendto(data);
  }

  /** Implements recvfrom(2)/recv(2) with MSG_PEEK and MSG_TRUNC; MSG_WAITALL is the caller's loop. */
  recvfrom(buf: Uint8Array, flags = 0): RecvResult | LinuxError | WouldBlock {
    const impl = this.impl;
    const peek = (flags & MsgFlag.MSG_PEEK) !== 0;
    if (impl.kind === 'listener') return E.ENOTCONN;
    if (impl.kind === 'tcp') {
      if (this.shutRd && impl.sock.recvQueue === 0)
        return { n: 0, len: 0, from: undefined, truncated: false };
      const r = peek ? impl.sock.peek(buf) : impl.sock.recv(buf);
      if (typeof r !== 'number') return r;
      return { n: r, len: r, from: undefined, truncated: false };
    }
    const r = impl.sock.recvfrom(buf, peek);
    // After SHUT_RD an empty queue reads as end of file, but only for a call that would wait.
    const wouldWait = !this.nonBlocking && (flags & MsgFlag.MSG_DONTWAIT) === 0;
    if (r === WOULD_BLOCK && this.shutRd && wouldWait)
      return { n: 0, len: 0, from: undefined, truncated: false };
    if (r === WOULD_BLOCK || isError(r)) return r;
    const n = Math.min(r.len, buf.length);
    return { n, len: r.len, from: emitSockaddr(r.from), truncated: r.truncated };
  }

  /** Implements shutdown(2): EINVAL for a bad `how`, ENOTCONN when not connected. */
  shutdown(how: number): 0 | LinuxError {
    if (how !== Shut.SHUT_RD && how !== Shut.SHUT_WR && how !== Shut.SHUT_RDWR) return E.EINVAL;
    const impl = this.impl;
    if (impl.kind === 'listener') {
      // Linux: shutdown of a listener stops listening.
      impl.sock.close();
      return 0;
    }
    const connected =
      impl.kind === 'udp' || impl.kind === 'icmp'
        ? impl.sock.remote !== undefined
        : impl.sock.isConnected || impl.sock.state === 'SYN_SENT';
    // Linux (inet_shutdown) marks the socket shut even when it answers ENOTCONN.
    if (how !== Shut.SHUT_WR) this.shutRd = true;
    if (how !== Shut.SHUT_RD) {
      this.shutWr = true;
      if (impl.kind === 'tcp' && connected) impl.sock.shutdownWrite();
    }
    return connected ? 0 : E.ENOTCONN;
  }

  /** Implements getsockname(2): the bound address, or the unspecified address and port 0. */
  getsockname(): Uint8Array {
    return emitSockaddr(this.impl.sock.local ?? this.unspecified());
  }

  /** Implements getpeername(2): ENOTCONN without a peer. */
  getpeername(): Uint8Array | LinuxError {
    const impl = this.impl;
    if (impl.kind === 'listener') return E.ENOTCONN;
    if (impl.kind === 'tcp' && !impl.sock.isConnected) return E.ENOTCONN;
    const r = impl.sock.remote;
    return r ? emitSockaddr(r) : E.ENOTCONN;
  }

  /**
   * Implements getsockopt(2) for integer options. ENOPROTOOPT for options not known here
   * (SO_RCVBUF/SO_SNDBUF report the ring sizes, not Linux's doubled accounting).
   */
  getsockopt(level: number, name: number): number | LinuxError {
    const tcp = this.type === SockType.SOCK_STREAM;
    if (level === SocketLevel.SOL_SOCKET) {
      switch (name) {
        case SocketOption.SO_TYPE:
          return this.type;
        case SocketOption.SO_DOMAIN:
          return this.family === 4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6;
        case SocketOption.SO_PROTOCOL:
          return this.protocol;
        case SocketOption.SO_ERROR:
          return this.impl.kind === 'listener' ? 0 : (this.impl.sock.takeError()?.errno ?? 0);
        case SocketOption.SO_REUSEADDR:
          return this.reuseAddr ? 1 : 0;
        case SocketOption.SO_KEEPALIVE:
          return this.keepAlive ? 1 : 0;
        case SocketOption.SO_BROADCAST:
          return this.broadcast ? 1 : 0;
        case SocketOption.SO_ACCEPTCONN:
          return this.impl.kind === 'listener' ? 1 : 0;
        case SocketOption.SO_RCVBUF:
          return this.config.rcvBuf;
        case SocketOption.SO_SNDBUF:
          return this.config.sndBuf;
        default:
          return E.ENOPROTOOPT;
      }
    }
    if (level === SocketLevel.SOL_TCP && tcp) {
      switch (name) {
        case TcpOption.TCP_NODELAY:
          return this.noDelay ? 1 : 0;
        case TcpOption.TCP_KEEPIDLE:
          return this.keepIdle;
        case TcpOption.TCP_KEEPINTVL:
          return this.keepIntvl;
        case TcpOption.TCP_KEEPCNT:
          return this.keepCnt;
        default:
          return E.ENOPROTOOPT;
      }
    }
    if (level === SocketLevel.SOL_IP && this.family === 4 && name === IpOption.IP_TTL) return this.hopLimit;
    if (level === SocketLevel.SOL_IPV6 && this.family === 6) {
      if (name === Ipv6Option.IPV6_UNICAST_HOPS) return this.hopLimit;
      if (name === Ipv6Option.IPV6_V6ONLY) return 1; // no dual-stack sockets yet: always v6-only
    }
    return E.ENOPROTOOPT;
  }

  /** Implements setsockopt(2) for integer options (EINVAL for out-of-range values). */
  setsockopt(level: number, name: number, value: number): 0 | LinuxError {
    const tcp = this.type === SockType.SOCK_STREAM;
    const flag = value !== 0;
    if (level === SocketLevel.SOL_SOCKET) {
      switch (name) {
        case SocketOption.SO_REUSEADDR:
          this.reuseAddr = flag;
          return 0;
        case SocketOption.SO_KEEPALIVE:
          this.keepAlive = flag;
          this.applyTcpOptions();
          return 0;
        case SocketOption.SO_BROADCAST:
          this.broadcast = flag;
          return 0;
        default:
          return E.ENOPROTOOPT;
      }
    }
    if (level === SocketLevel.SOL_TCP && tcp) {
      switch (name) {
        case TcpOption.TCP_NODELAY:
          this.noDelay = flag;
          this.applyTcpOptions();
          return 0;
        case TcpOption.TCP_KEEPIDLE: // Linux: 1..MAX_TCP_KEEPIDLE (32767 s)
        case TcpOption.TCP_KEEPINTVL: // 1..MAX_TCP_KEEPINTVL (32767 s)
          if (value < 1 || value > 32767) return E.EINVAL;
          if (name === TcpOption.TCP_KEEPIDLE) this.keepIdle = value;
          else this.keepIntvl = value;
          this.applyTcpOptions();
          return 0;
        case TcpOption.TCP_KEEPCNT: // 1..MAX_TCP_KEEPCNT (127)
          if (value < 1 || value > 127) return E.EINVAL;
          this.keepCnt = value;
          this.applyTcpOptions();
          return 0;
        default:
          return E.ENOPROTOOPT;
      }
    }
    const hops =
      (level === SocketLevel.SOL_IP && this.family === 4 && name === IpOption.IP_TTL) ||
      (level === SocketLevel.SOL_IPV6 && this.family === 6 && name === Ipv6Option.IPV6_UNICAST_HOPS);
    if (hops) {
      if (value === -1) value = 64;
      if (value < 1 || value > 255) return E.EINVAL;
      this.hopLimit = value;
      if (this.impl.kind !== 'listener') this.impl.sock.hopLimit = value;
      return 0;
    }
    if (level === SocketLevel.SOL_IPV6 && this.family === 6 && name === Ipv6Option.IPV6_V6ONLY)
      return flag ? 0 : E.ENOPROTOOPT; // dual-stack (v4-mapped) sockets are not supported yet
    return E.ENOPROTOOPT;
  }

  /** Pushes the keepalive settings and hop limit down to the TCP connection. */
  private applyTcpOptions(): void {
    if (this.impl.kind !== 'tcp') return;
    const s = this.impl.sock;
    s.keepAlive = this.keepAlive;
    s.keepIdle = this.keepIdle * 1000;
    s.keepIntvl = this.keepIntvl * 1000;
    s.keepCnt = this.keepCnt;
    s.hopLimit = this.hopLimit;
    s.noDelay = this.noDelay;
  }

  /** FIONREAD: bytes (stream) or the next datagram's length waiting to be read. */
  inq(): number {
    const impl = this.impl;
    if (impl.kind === 'tcp') return impl.sock.recvQueue;
    if (impl.kind === 'udp' || impl.kind === 'icmp') return impl.sock.nextDatagramLength();
    return 0;
  }

  /** SIOCOUTQ: bytes not yet acknowledged (stream) or queued (datagram). */
  outq(): number {
    const impl = this.impl;
    if (impl.kind === 'tcp') return impl.sock.sendQueue;
    if (impl.kind === 'udp' || impl.kind === 'icmp') return impl.sock.queuedBytes();
    return 0;
  }

  /** poll(2)/epoll readiness bits (POLLIN, POLLOUT, POLLERR, POLLHUP, POLLRDHUP...). */
  readiness(): number {
    const impl = this.impl;
    let ev = impl.sock.readiness();
    if (impl.kind === 'listener') return ev;
    if (this.shutRd) ev |= PollEvent.POLLIN | PollEvent.POLLRDNORM | PollEvent.POLLRDHUP;
    if (this.shutRd && this.shutWr) ev |= PollEvent.POLLHUP;
    return ev;
  }

  /**
   * Registers `wake(events)` to run whenever this socket's readiness bits change (checked after
   * each `Stack.poll` and `Stack.notifyWatchers`); undefined unregisters. This is what an epoll
   * or poll wait queue hangs on.
   */
  setReadinessListener(wake: ((events: number) => void) | undefined): void {
    this.unwatch?.();
    this.unwatch = wake ? this.stack.watch(this, () => this.readiness(), wake) : undefined;
  }
  private unwatch: (() => void) | undefined;

  /** Implements close(2) of the last reference. */
  close(): void {
    this.setReadinessListener(undefined);
    this.impl.sock.close();
  }
}
