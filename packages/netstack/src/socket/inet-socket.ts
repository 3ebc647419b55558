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
  type Cmsg,
  type LinuxError,
} from '@tsvisor/abi';
import { RingBuffer, type SpanCopy } from '../storage/ring-buffer.js';
import { LOOPBACK_IFINDEX, type Stack } from '../stack.js';
import type { IpAddress, IpEndpoint } from '../wire/ip-address.js';
import { Ipv4Address, Ipv6Address, unspecifiedAddress } from '../wire/ip-address.js';
import { CONGESTION_ALGORITHMS, type CongestionAlgorithm } from './congestion.js';
import {
  ipRecvControl,
  noIpRecvFlags,
  parseIpSendControl,
  TRANSPORT_PORT_REACH,
  transportPort,
  type IpRecvFlags,
} from './ip-cmsg.js';
import { IpOptions, PmtuDisc, UdpOption, udpSegmentControl, type IpOptionSocket } from './ip-options.js';
import { emitSockaddr, parseSockaddr, sockaddrFamily } from './sockaddr.js';
import { EMPTY_TCP_INFO, encodeTcpInfo, type TcpInfo } from './tcp-info.js';
import { TcpOptions, type TcpOptionsView } from './tcp-options.js';
import type { TcpBuffers, TcpListener, TcpSocket } from './tcp.js';
import type { IcmpSocket } from './icmp.js';
import { IPPROTO_RAW, type RawSocket } from './raw.js';
import { udpBuffers, type UdpReceived, type UdpSocket } from './udp.js';
import type { DatagramReceived } from './datagram-queues.js';
import { WOULD_BLOCK, type WouldBlock } from './would-block.js';
import { SocketFilter, type ClassicProgram } from './cbpf.js';
import { ReuseportGroup } from './reuseport.js';
import { tcpClockMs } from './tcp-time-wait.js';
import type { SocketErrors } from './error-queue.js';

/** Buffer sizes of sockets made by the socket layer (bytes). */
export interface InetSocketConfig {
  /** A datagram socket's receive queue; the SO_RCVBUF a TCP socket reports before it is set. */
  readonly rcvBuf: number;
  /** The SO_SNDBUF a TCP socket reports before it is set. */
  readonly sndBuf: number;
  /**
   * Capacity of a TCP receive ring, so the largest window it advertises. Storage is allocated
   * as data arrives (see RingBuffer), so a large value costs memory only while a transfer
   * fills it. Default 1 MiB: like Linux's autotuning (which may reach tcp_rmem[2], 6 MiB) it
   * lets a writer run ahead of its reader, without the multi-megabyte working set that would
   * push a loopback transfer's bytes out of the cache between their copies.
   */
  readonly tcpRcvRing?: number;
  /** Capacity of a TCP send ring, allocated likewise. Default 1 MiB (Linux's tcp_wmem[2]: 4 MiB). */
  readonly tcpSndRing?: number;
  /** net.core.rmem_max and wmem_max: the most SO_RCVBUF/SO_SNDBUF may ask for (before doubling). */
  readonly rmemMax: number;
  readonly wmemMax: number;
}

/** Linux's net.core.{r,w}mem_max and {r,w}mem_default (a datagram socket's initial buffers). */
const LINUX_MEM_MAX = 212992;
const LINUX_MEM_DEFAULT = 212992;
/** SOCK_MIN_SNDBUF and SOCK_MIN_RCVBUF of include/net/sock.h (x86-64). */
const SOCK_MIN_SNDBUF = 4608;
const SOCK_MIN_RCVBUF = 2304;
const INT_MAX = 0x7fffffff;
/** net.ipv4.tcp_adv_win_scale as it long was (1): half of a TCP socket's rcvbuf is window. */
const TCP_ADV_WIN_SCALE = 1;

/**
 * tcp_win_from_space: the part of sk_rcvbuf a TCP socket offers as window and queues, the rest
 * standing for skb overhead. (Linux since 6.6 estimates the overhead from the skbs it saw; the
 * fixed half keeps SO_RCVBUF's effect the same on every run.) Payload only is counted here, so
 * it is also the most the receive queue holds.
 */
function tcpReceiveSpace(rcvBuf: number): number {
  return rcvBuf - (rcvBuf >> TCP_ADV_WIN_SCALE);
}

const DEFAULT_CONFIG: InetSocketConfig = {
  rcvBuf: 131072,
  sndBuf: 16384, // net.ipv4.tcp_wmem[1]: what Linux reports; the send ring is tcpSndRing
  tcpRcvRing: 1 << 20,
  tcpSndRing: 1 << 20,
  rmemMax: LINUX_MEM_MAX,
  wmemMax: LINUX_MEM_MAX,
};
/** SKF_AD_MAX: what SO_BPF_EXTENSIONS reports. */
const SKF_AD_MAX = 64;
/** SO_RCVPRIORITY (Linux 6.14) and SO_PASSRIGHTS (6.16), newer than the abi tables. */
const SO_RCVPRIORITY = 82;
const SO_PASSRIGHTS = 83;
/** Linux TCP_CA_NAME_MAX: the size of a congestion control name with its NUL. */
const TCP_CA_NAME_MAX = 16;
/** SOL_UDP (IPPROTO_UDP) and SOL_UDPLITE (IPPROTO_UDPLITE), and UDP-Lite's coverage options. */
const SOL_UDP = 17;
const SOL_UDPLITE = 136;
const UDPLITE_SEND_CSCOV = 10;
const UDPLITE_RECV_CSCOV = 11;
/** TCP_INIT_CWND and net.ipv4.tcp_reordering's default: a listener's tcp_info shows them. */
const TCP_INIT_CWND = 10;
const TCP_REORDERING = 3;
/** sizeof(struct sock_extended_err) (<linux/errqueue.h>). */
const SOCK_EXTENDED_ERR_LEN = 16;
/** Linux's TCP_LISTEN state number, for TCP_INFO of a listener. */
const LINUX_TCP_LISTEN = 10;

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
  /** The byte is TCP urgent data, read with MSG_OOB (sets MSG_OOB in msg_flags). */
  readonly oob?: boolean;
  /** IP-level control messages for recvmsg (IP_PKTINFO, IPV6_HOPLIMIT, ...), in Linux's order. */
  readonly control?: readonly Cmsg[];
  /** An error from the error queue (sets MSG_ERRQUEUE in msg_flags). */
  readonly errQueue?: boolean;
}

/** A UDP datagram held open by UDP_CORK or MSG_MORE: its pieces, destination and control messages. */
interface CorkedDatagram {
  readonly chunks: Uint8Array[];
  len: number;
  readonly to: Uint8Array | undefined;
  readonly control?: readonly Cmsg[];
}

type Impl =
  | { readonly kind: 'udp'; readonly sock: UdpSocket }
  | { readonly kind: 'icmp'; readonly sock: IcmpSocket }
  | { readonly kind: 'raw'; readonly sock: RawSocket }
  | { readonly kind: 'tcp'; readonly sock: TcpSocket }
  | { readonly kind: 'listener'; readonly sock: TcpListener };

/**
 * An AF_INET/AF_INET6 socket of type SOCK_STREAM (TCP), SOCK_DGRAM (UDP, ping) or SOCK_RAW.
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
  /**
   * SO_PEEK_OFF of a TCP or UDP socket (Linux's sk_peek_off): negative (-1 by default) peeks
   * from the front; from 0 up, MSG_PEEK starts this many bytes into the queue (across
   * datagrams on UDP) and moves it on by what it returned, and a read moves it back by what it
   * consumed, never below 0. Set as given by setsockopt; accepted sockets inherit it.
   */
  get peekOff(): number {
    return this.peekOffset;
  }
  set peekOff(v: number) {
    this.touch();
    this.peekOffset = v;
    this.watchArrivals();
  }
  private peekOffset = -1;
  /**
   * SO_OOBINLINE: TCP urgent data stays in the stream (reads return it in line, recv(MSG_OOB)
   * answers EINVAL) instead of being kept aside for recv(MSG_OOB). Accepted sockets inherit it.
   */
  get oobInline(): boolean {
    return this.urgInline;
  }
  set oobInline(on: boolean) {
    this.touch();
    this.urgInline = on;
    if (this.impl.kind === 'tcp') this.impl.sock.oobInline = on;
  }
  private urgInline = false;
  /**
   * Called when urgent data is announced on this TCP socket (Linux sk_send_sigurg), so that the
   * file's owner (F_SETOWN) gets SIGURG.
   */
  onUrgent: (() => void) | undefined;
  /**
   * SO_ATTACH_FILTER's classic BPF program and SO_LOCK_FILTER (sk->sk_filter): shared with the
   * protocol socket underneath, whose receive path runs it. An accepted socket starts with its
   * listener's (sk_clone_lock).
   */
  readonly filter: SocketFilter;
  /** The protocol socket underneath; set only through {@link take}. */
  private impl: Impl;
  private reuseAddr = false;
  private reusePort = false;
  /** The group a ping socket got from SO_ATTACH_REUSEPORT_CBPF while unbound (never used to deliver). */
  private pingReuseport: ReuseportGroup<unknown> | undefined;
  private keepAlive = false;
  /**
   * TCP_KEEPIDLE, TCP_KEEPINTVL (seconds), TCP_KEEPCNT and TCP_LINGER2 (seconds, -1: none);
   * undefined (never set, or TCP_LINGER2 0) follows the stack's net.ipv4 sysctls.
   */
  private keepIdle: number | undefined;
  private keepIntvl: number | undefined;
  private keepCnt: number | undefined;
  private linger2: number | undefined;
  private broadcast = false;
  private noDelay = false;
  /** TCP_CORK, TCP_QUICKACK (Linux reports 1 until set to 0), TCP_USER_TIMEOUT (ms), TCP_CONGESTION. */
  private cork = false;
  private quickAck: number | undefined;
  private userTimeout = 0;
  /** TCP_NOTSENT_LOWAT as Linux keeps it (a u32; 0 means the sysctl's, unlimited). */
  private notsentLowat = 0;
  private congestion: CongestionAlgorithm | undefined;
  /** TCP_MAXSEG, TCP_SYNCNT, TCP_DEFER_ACCEPT, TCP_INQ and the other options of tcp-options.ts. */
  private readonly tcpOpts = new TcpOptions();
  /** SO_LINGER: l_onoff and l_linger (seconds). */
  private linger = { onoff: 0, seconds: 0 };
  /**
   * IPV6_UNICAST_HOPS of an AF_INET6 socket, -1 while unset: then the hop limit of the link a
   * packet leaves by (net.ipv6.conf.<link>.hop_limit), read at each send.
   */
  private hopLimit = -1;
  /**
   * IP_TTL, -1 while unset: the namespace's net.ipv4.ip_default_ttl then, read at each send as
   * ip_select_ttl does. An AF_INET6 socket's IPv4-mapped traffic takes it too.
   */
  private ipTtl = -1;
  /**
   * IPV6_V6ONLY, off by default as Linux's net.ipv6.bindv6only=0: an AF_INET6 TCP socket on `::`
   * also takes IPv4 connections and may connect to ::ffff:a.b.c.d, and IPv4 peers show as
   * IPv4-mapped addresses.
   */
  private v6only = false;
  /** What recvmsg reports of IPv4 (IP_PKTINFO, IP_RECVTTL, IP_RECVTOS) and IPv6 datagrams. */
  private readonly rxFlags: { readonly v4: IpRecvFlags; readonly v6: IpRecvFlags } = {
    v4: noIpRecvFlags(),
    v6: noIpRecvFlags(),
  };
  /** IP_TOS (the TOS byte of IPv4 datagrams) and IPV6_TCLASS. */
  private ipTos = 0;
  private tclass = 0;
  /**
   * SO_SNDBUF and SO_RCVBUF as Linux keeps them (sk_sndbuf, sk_rcvbuf: twice what was asked).
   * A datagram socket's receive queue holds at most sk_rcvbuf payload bytes. A TCP socket's
   * send queue holds at most sk_sndbuf bytes once SO_SNDBUF is set, and its receive queue and
   * window tcp_win_from_space(sk_rcvbuf) once SO_RCVBUF is set; before, its rings keep the
   * configured sizes (Linux's autotuning, which setting either option turns off).
   */
  private sndBuf: number;
  private rcvBuf: number;
  /** SO_SNDBUF / SO_RCVBUF was set (Linux's SOCK_SNDBUF_LOCK, SOCK_RCVBUF_LOCK): the rings follow it. */
  private sndBufLock = false;
  private rcvBufLock = false;
  private shutRd = false;
  /**
   * A listener's port, named by bind(2), that its disconnect could not keep because accepted
   * connections held it: still this socket's (getsockname shows it), asked for again by listen(2).
   */
  private namedPortLost = false;
  private shutWr = false;
  private connecting = false;
  /** A send with MSG_FASTOPEN started the connection; its data goes once it is established. */
  private fastopenPending = false;
  /** SO_BINDTODEVICE / SO_BINDTOIFINDEX: the ifindex the socket is tied to (0: none). */
  private boundDevIf = 0;
  /** SO_RCVPRIORITY: kept and reported (recvmsg's SCM_PRIORITY message is not sent). */
  private rcvPriority = false;
  /** The IP-, IPv6- and UDP-level options of ip-options.ts (IP_MTU_DISCOVER, UDP_SEGMENT, ...). */
  private readonly ipOpts: IpOptions;
  /** Datagram data held by UDP_CORK or MSG_MORE until the send that ends the datagram. */
  private corked: CorkedDatagram | undefined;

  private constructor(
    private readonly stack: Stack,
    /** 4 for AF_INET, 6 for AF_INET6. */
    readonly family: 4 | 6,
    /** SOCK_STREAM, SOCK_DGRAM or SOCK_RAW. */
    readonly type: number,
    private readonly config: InetSocketConfig,
    impl?: Impl,
    proto: 'default' | 'ping' | 'udplite' | number = 'default',
  ) {
    const rx = (): ReturnType<typeof udpBuffers> => udpBuffers(256, config.rcvBuf);
    this.filter = impl?.sock.filter ?? new SocketFilter();
    this.impl = this.take(
      impl ??
        (type === SockType.SOCK_STREAM
          ? { kind: 'tcp', sock: stack.tcpSocket(family, this.rings()) }
          : typeof proto === 'number'
            ? { kind: 'raw', sock: stack.rawSocket(family, proto) }
            : proto === 'ping'
              ? { kind: 'icmp', sock: stack.icmpSocket(family) }
              : proto === 'udplite'
                ? { kind: 'udp', sock: stack.udpliteSocket(family, rx()) }
                : { kind: 'udp', sock: stack.udpSocket(family, rx()) }),
    );
    this.impl.sock.owner = this;
    this.ipOpts = new IpOptions(family);
    if (stack.iface.ipv4Sysctl.noPmtuDisc !== 0) this.ipOpts.pmtuDisc = PmtuDisc.DONT;
    const stream = type === SockType.SOCK_STREAM;
    this.sndBuf = stream ? config.sndBuf : LINUX_MEM_DEFAULT;
    this.rcvBuf = stream ? config.rcvBuf : LINUX_MEM_DEFAULT;
    this.applyRcvLimit();
    this.applyV6only();
  }

  /**
   * Implements socket(2) for the inet families: TCP, UDP and ICMP echo ("ping", SOCK_DGRAM with
   * IPPROTO_ICMP or IPPROTO_ICMPV6; the caller checks net.ipv4.ping_group_range) and raw IP
   * (SOCK_RAW with a protocol from 1 below IPPROTO_MAX, 0 is EPROTONOSUPPORT and beyond EINVAL;
   * the caller checks CAP_NET_RAW). EAFNOSUPPORT for other families, EINVAL for unknown type
   * flags, ESOCKTNOSUPPORT/EPROTONOSUPPORT for other types and protocols.
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
      if (
        protocol !== 0 &&
        protocol !== IpProto.IPPROTO_UDP &&
        protocol !== IpProto.IPPROTO_UDPLITE &&
        protocol !== pingProto
      )
        return E.EPROTONOSUPPORT;
    } else if (kind === SockType.SOCK_RAW) {
      // inet_create / inet6_create: a protocol below IPPROTO_MAX (263), but not 0 (IPPROTO_IP).
      if (protocol < 0 || protocol >= IPPROTO_MAX) return E.EINVAL;
      if (protocol === 0) return E.EPROTONOSUPPORT;
      const s = new InetSocket(stack, family, kind, { ...DEFAULT_CONFIG, ...config }, undefined, protocol);
      s.nonBlocking = (type & SockType.SOCK_NONBLOCK) !== 0;
      return s;
    } else return E.ESOCKTNOSUPPORT;
    const s = new InetSocket(
      stack,
      family,
      kind,
      { ...DEFAULT_CONFIG, ...config },
      undefined,
      protocol === pingProto ? 'ping' : protocol === IpProto.IPPROTO_UDPLITE ? 'udplite' : 'default',
    );
    s.nonBlocking = (type & SockType.SOCK_NONBLOCK) !== 0;
    return s;
  }

  /**
   * How many bytes of a setsockopt(2) value at (`level`, `name`) the option reads: more than an
   * int for IP_OPTIONS (40), IP_MULTICAST_IF and IP_ADD/DROP_MEMBERSHIP (a struct ip_mreqn);
   * the caller copies at most this much of optlen before {@link setsockoptBytes}.
   */
  static optionValueLength(level: number, name: number): number {
    if (level === SocketLevel.SOL_TCP) return TcpOptions.valueLength(name);
    if (level === SOL_ICMPV6 && name === ICMPV6_FILTER) return 32; // struct icmp6_filter
    if (level === SOL_RAW && name === ICMP_FILTER) return 4; // struct icmp_filter
    return IpOptions.valueLength(level, name);
  }

  /**
   * Whether setting (`level`, `name`) to `value` needs CAP_NET_RAW or CAP_NET_ADMIN, which the
   * caller checks (EPERM): IP_TRANSPARENT and IPV6_TRANSPARENT turned on.
   */
  static optionNeedsNetAdmin(level: number, name: number, value: Uint8Array): boolean {
    return IpOptions.needsNetAdmin(level, name, value);
  }

  /** The shortest setsockopt(2) value of (`level`, `name`): 0 for SOL_IP's int options (a byte will do), else 4. */
  static optionMinLength(level: number, name: number): number {
    // raw_seticmpfilter / rawv6_seticmpfilter copy whatever length they are given.
    if ((level === SOL_ICMPV6 && name === ICMPV6_FILTER) || (level === SOL_RAW && name === ICMP_FILTER))
      return 0;
    return IpOptions.minValueLength(level, name);
  }

  private rings(): TcpBuffers {
    return {
      // Sized now, allocated on the first byte (see RingBuffer): a connection that carries no
      // data costs no buffer memory.
      rx: new RingBuffer(
        this.rcvBufLock ? tcpReceiveSpace(this.rcvBuf) : (this.config.tcpRcvRing ?? this.config.rcvBuf),
      ),
      tx: new RingBuffer(this.sndBufLock ? this.sndBuf : (this.config.tcpSndRing ?? this.config.sndBuf)),
    };
  }

  /**
   * True for a TCP socket in CLOSED (not yet connected, or finished): no socket- or TCP-level
   * option can make it send a segment or arm a timer, so setting one need not poll the stack.
   */
  get idleTcp(): boolean {
    return this.impl.kind === 'tcp' && this.impl.sock.state === 'CLOSED';
  }

  /** The IP protocol: IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE, IPPROTO_ICMP, IPPROTO_ICMPV6, or a raw socket's. */
  get protocol(): number {
    if (this.impl.kind === 'icmp') return this.family === 4 ? IpProto.IPPROTO_ICMP : IpProto.IPPROTO_ICMPV6;
    if (this.impl.kind === 'raw') return this.impl.sock.protocol;
    if (this.impl.kind === 'udp' && this.impl.sock.lite) return IpProto.IPPROTO_UDPLITE;
    return this.type === SockType.SOCK_STREAM ? IpProto.IPPROTO_TCP : IpProto.IPPROTO_UDP;
  }

  /**
   * A destination that names no host (0.0.0.0, ::) means this host, as Linux routes it: IPv4 goes
   * to the bound address, else 127.0.0.1 (ip_route_connect, __ip_route_output_key), IPv6 to ::1
   * (tcp_v6_connect, ip6_datagram_connect, udpv6_sendmsg).
   */
  private toThisHost(ep: IpEndpoint): IpEndpoint {
    if (!ep.addr.isUnspecified()) return ep;
    if (ep.addr.version === 6) return { addr: Ipv6Address.LOOPBACK, port: ep.port };
    const bound = this.impl.sock.local?.addr;
    const own = bound && bound.version === 4 && !bound.isUnspecified() ? bound : Ipv4Address.LOOPBACK;
    return { addr: own, port: ep.port };
  }

  private unspecified(): IpEndpoint {
    return { addr: unspecifiedAddress(this.family), port: 0 };
  }

  /** A sockaddr of this socket's family: IPv4 endpoints of an AF_INET6 socket as ::ffff:a.b.c.d. */
  private emit(ep: IpEndpoint): Uint8Array {
    if (this.family === 6 && ep.addr.version === 4)
      return emitSockaddr({ addr: Ipv6Address.mapped(ep.addr), port: ep.port });
    return emitSockaddr(ep);
  }

  /** Pushes SO_RCVBUF down to a datagram socket: its receive queue and error queue share it. */
  private applyRcvLimit(): void {
    const impl = this.impl;
    if (impl.kind !== 'udp' && impl.kind !== 'icmp' && impl.kind !== 'raw') return;
    impl.sock.rcvLimit = this.rcvBuf;
    impl.sock.errors.rcvLimit = this.rcvBuf;
  }

  /** Pushes IPV6_V6ONLY down to the TCP, UDP socket or listener (it decides port sharing and matching). */
  private applyV6only(): void {
    const impl = this.impl;
    if (this.family === 6 && (impl.kind === 'tcp' || impl.kind === 'listener' || impl.kind === 'udp'))
      impl.sock.v6only = this.v6only;
  }

  /**
   * SO_BINDTODEVICE / SO_BINDTOIFINDEX: ties the socket to the link with index `ifindex` (0
   * unties it), numbered as the stack numbers them (`lo` is 1, the stack's device
   * `Stack.deviceIfindex`). A tied TCP or UDP socket receives only what arrives on that link
   * (a raw socket too, ICMP errors included),
   * sends only through it (see `Stack.routeVia`: never ENETUNREACH, but ENODEV on an index no
   * link has, which Linux, too, accepts here), and shares its port with sockets tied to other
   * links. EINVAL for a negative index; who may change a binding (CAP_NET_RAW) is the caller's
   * business.
   */
  bindToDevice(ifindex: number): 0 | LinuxError {
    this.touch();
    if (ifindex < 0) return E.EINVAL;
    this.boundDevIf = ifindex;
    if (ifindex !== 0) this.stack.noteDeviceBinding();
    this.applyDevice();
    return 0;
  }

  /** The ifindex of SO_BINDTODEVICE / SO_BINDTOIFINDEX, 0 when not tied to a link. */
  get boundDevice(): number {
    return this.boundDevIf;
  }

  private applyDevice(): void {
    if (this.impl.kind !== 'icmp') this.impl.sock.boundDevIf = this.boundDevIf;
  }

  /** Implements bind(2). */
  bind(sockaddr: Uint8Array): 0 | LinuxError {
    this.touch();
    let ep = parseSockaddr(sockaddr, this.family);
    if (isError(ep)) return ep;
    const v4 = this.family === 6 && ep.addr.version === 6 ? ep.addr.v4Mapped() : undefined;
    if (v4 && this.impl.kind === 'tcp') {
      // inet6_bind: ::ffff:a.b.c.d binds the IPv4 address (EINVAL on a v6-only socket or one
      // already bound); the socket is an IPv4 one underneath from now on, as for a mapped connect.
      const old = this.impl.sock;
      if (this.v6only || old.holdsPort || old.state !== 'CLOSED') return E.EINVAL;
      this.impl = this.take({ kind: 'tcp', sock: this.ipv4Underneath(old) });
      ep = { addr: v4, port: ep.port };
    }
    const s = this.impl.sock;
    s.reuseAddr = this.reuseAddr;
    if (this.impl.kind !== 'icmp' && this.impl.kind !== 'raw') this.impl.sock.reusePort = this.reusePort;
    // __inet6_bind: bound to one IPv6 address (not the wildcard, not IPv4-mapped), a TCP or UDP
    // socket is IPv6-only from then on (sk_ipv6only); raw and ping sockets bind otherwise. It is
    // set before the port is taken (an SO_REUSEPORT group's members compare it) and restored
    // when bind fails.
    const kind = this.impl.kind;
    const wasV6only = this.v6only;
    if ((kind === 'tcp' || kind === 'udp') && ep.addr.version === 6 && !ep.addr.isUnspecified() && !v4)
      this.v6only = true;
    this.applyV6only();
    this.applyIpOptions();
    const err = s.bind(ep);
    if (err) {
      this.v6only = wasV6only;
      this.applyV6only();
      return err;
    }
    return 0;
  }

  /** Closes the IPv6 TCP socket `old` and gives this AF_INET6 socket an IPv4 one in its place. */
  private ipv4Underneath(old: TcpSocket): TcpSocket {
    old.owner = undefined;
    old.close();
    const conn = this.stack.tcpSocket(4, this.rings());
    conn.owner = this;
    conn.reuseportGroup = old.reuseportGroup; // a program attached before bind stays the socket's
    return conn;
  }

  /** Implements listen(2): EOPNOTSUPP on datagram sockets, EINVAL once connected. */
  listen(backlog: number): 0 | LinuxError {
    this.touch();
    const impl = this.impl;
    if (impl.kind === 'udp' || impl.kind === 'icmp' || impl.kind === 'raw') return E.EOPNOTSUPP;
    if (impl.kind === 'listener') {
      impl.sock.listen(backlog);
      return 0;
    }
    // inet_listen: only an unconnected socket (a connected one stays so even once reset).
    if (impl.sock.state !== 'CLOSED' || this.connecting || impl.sock.connectStarted) return E.EINVAL;
    const conflict = impl.sock.reuseportListenConflict();
    if (conflict) return conflict;
    // A port the socket no longer holds (an automatic one a disconnect released, though
    // getsockname still shows it) is not taken back: inet_num is 0 then, and Linux picks one. A
    // named one that a disconnect could not keep (its accepted connections hold it) is asked for
    // again, as inet_csk_listen_start's get_port does: EADDRINUSE while they conflict.
    const held = impl.sock.local;
    const local = held && !impl.sock.holdsPort && !this.namedPortLost ? { addr: held.addr, port: 0 } : held;
    impl.sock.owner = undefined;
    impl.sock.close(); // releases the port for the listener that takes over
    // A socket bound to an IPv4-mapped address listens for IPv4 only.
    const l = this.stack.tcpListener(impl.sock.family, () => this.rings());
    l.reuseAddr = this.reuseAddr;
    l.reusePort = this.reusePort;
    l.reuseportGroup = impl.sock.reuseportGroup;
    l.boundDevIf = this.boundDevIf;
    l.bindPortLock = impl.sock.portLocked;
    l.nonLocalBind = this.ipOpts.nonLocalBind;
    l.localPortRange = this.ipOpts.localPortRange;
    l.minTtl = this.ipOpts.minTtl;
    l.minHopCount = this.ipOpts.minHopCount;
    // What the listener's SYN-ACKs leave with, read each time one does (ip_select_ttl and
    // ip6_xmit on the listener); a connection copies them as its handshake completes.
    l.ipOptionsOf = (family) =>
      family === 4
        ? { hopLimit: this.ipTtl, trafficClass: this.ipTos }
        : { hopLimit: this.hopLimit, trafficClass: this.tclass };
    l.prepareChild = (child) => {
      child.filter = new SocketFilter();
      child.filter.copyFrom(this.filter);
      this.tcpOpts.apply(child, this.rcvBufLock);
      child.trafficClass = child.family === 4 ? this.ipTos : this.tclass;
      // Its first SYN-ACK leaves with the listener's IP_TTL or IPV6_UNICAST_HOPS, in the same poll.
      child.hopLimit = child.family === 4 ? this.ipTtl : this.hopLimit;
      // tcp_reqsk_record_syn: the headers of the SYN being answered, as the listener asks now.
      const save = this.tcpOpts.saveSyn;
      if (save !== 0) child.savedSyn = this.stack.iface.receivedTcpHeaders(save === 2);
    };
    if (l.family === 6) l.v6only = this.v6only;
    if (local) {
      const err = l.bind(local);
      if (err) return err;
    }
    const err = l.listen(backlog);
    if (err) return err;
    this.impl = this.take({ kind: 'listener', sock: l });
    l.owner = this;
    this.namedPortLost = false;
    return 0;
  }

  /** Implements accept4(2): EINVAL unless listening; WOULD_BLOCK when no connection is ready. */
  accept(flags = 0): InetSocket | LinuxError | WouldBlock {
    this.touch();
    if (flags & ~(SockType.SOCK_NONBLOCK | SockType.SOCK_CLOEXEC)) return E.EINVAL;
    // Datagram sockets have no accept (sock_no_accept); an unlistening stream socket is EINVAL.
    if (this.impl.kind === 'udp' || this.impl.kind === 'icmp' || this.impl.kind === 'raw')
      return E.EOPNOTSUPP;
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
    s.linger2 = this.linger2;
    s.hopLimit = this.hopLimit;
    s.ipTtl = this.ipTtl;
    s.ipTos = this.ipTos;
    s.tclass = this.tclass;
    s.userTimeout = this.userTimeout;
    s.notsentLowat = this.notsentLowat;
    s.peekOff = this.peekOff;
    s.urgInline = this.urgInline;
    s.boundDevIf = this.boundDevIf; // the connection has it already, from its listener
    s.reusePort = this.reusePort; // sk_clone_lock copies sk_reuseport (the child has no group)
    s.congestion = this.congestion;
    s.tcpOpts.copyFrom(this.tcpOpts);
    s.linger = { ...this.linger };
    s.v6only = this.v6only;
    s.ipOpts.inherit(this.ipOpts); // sk_clone_lock copies the IP-level options too
    // The TTL and TOS in effect are those the connection copied as its handshake completed
    // (inet_csk_clone_lock), not the listener's now.
    if (c.family === 4) {
      s.ipTtl = c.hopLimit;
      s.ipTos = c.trafficClass;
    } else {
      s.hopLimit = c.hopLimit;
      s.tclass = c.trafficClass;
    }
    // The buffer sizes too (sk_clone_lock copies them); the rings were made from them already.
    s.sndBuf = this.sndBuf;
    s.rcvBuf = this.rcvBuf;
    s.sndBufLock = this.sndBufLock;
    s.rcvBufLock = this.rcvBufLock;
    s.applyTcpOptions();
    return s;
  }

  /**
   * Implements connect(2). Datagram sockets connect at once (AF_UNSPEC disconnects). Stream
   * sockets start the handshake and answer EINPROGRESS when non-blocking, or WOULD_BLOCK:
   * wait for POLLOUT and call {@link finishConnect}.
   */
  connect(sockaddr: Uint8Array): 0 | LinuxError | WouldBlock {
    this.touch();
    const impl = this.impl;
    if (impl.kind === 'udp' || impl.kind === 'icmp' || impl.kind === 'raw') {
      if (sockaddr.length >= 2 && sockaddrFamily(sockaddr) === AddressFamily.AF_UNSPEC) {
        impl.sock.disconnect();
        // __udp_disconnect (UDP's and raw sockets' disconnect) forgets the device binding too.
        if (impl.kind !== 'icmp') this.boundDevIf = 0;
        return 0;
      }
      const ep = parseSockaddr(sockaddr, this.family);
      if (isError(ep)) return ep;
      this.applyIpOptions();
      return impl.sock.connect(this.toThisHost(ep)) ?? 0;
    }
    const unspec = sockaddr.length >= 2 && sockaddrFamily(sockaddr) === AddressFamily.AF_UNSPEC;
    if (impl.kind === 'listener') {
      if (!unspec) return E.EISCONN;
      this.disconnectListener(impl.sock);
      return 0;
    }
    if (unspec) {
      this.disconnectTcp(); // tcp_disconnect: reset a live connection; the socket may connect again
      return 0;
    }
    const s = impl.sock;
    if (this.connecting) {
      if (s.state === 'SYN_SENT' || s.state === 'SYN_RECEIVED') return E.EALREADY;
      // Linux: the first connect after the handshake finished reports its outcome (0, or the
      // error and the socket is disconnected so that a later connect starts afresh); after
      // that the socket is connected and connect says EISCONN.
      return this.connectOutcome();
    }
    // A socket that connected (or was accepted) stays connected for connect(2), even reset.
    if (s.state !== 'CLOSED' || s.connectStarted) return E.EISCONN;
    let ep = parseSockaddr(sockaddr, this.family);
    if (isError(ep)) return ep;
    const mapped = ep.addr.version === 6 ? ep.addr.v4Mapped() : undefined;
    let conn = s;
    if (mapped) {
      // An IPv4 peer named as ::ffff:a.b.c.d: an IPv4 connection underneath (tcp_v6_connect hands
      // it to tcp_v4_connect). A socket bound to :: keeps its port, one bound to a mapped address
      // is IPv4 already; one bound to a specific IPv6 address cannot reach IPv4.
      if (this.v6only) return E.ENETUNREACH;
      if (s.family === 6) {
        const local = s.holdsPort ? s.local : undefined;
        if (local && !local.addr.isUnspecified()) return E.ENETUNREACH;
        conn = this.ipv4Underneath(s);
        this.impl = this.take({ kind: 'tcp', sock: conn });
        if (local) {
          conn.reuseAddr = this.reuseAddr;
          conn.reusePort = this.reusePort;
          const err = conn.bind({ addr: unspecifiedAddress(4), port: local.port });
          if (err) return err;
        }
      }
      ep = { addr: mapped, port: ep.port };
    }
    ep = this.toThisHost(ep);
    conn.reuseAddr = this.reuseAddr;
    conn.reusePort = this.reusePort;
    conn.boundDevIf = this.boundDevIf;
    this.applyIpOptions();
    this.applyTcpOptions();
    const err = conn.connect(ep);
    if (err) return err;
    conn.hopLimit = this.ownHops(ep.addr);
    this.connecting = true;
    return this.nonBlocking ? E.EINPROGRESS : WOULD_BLOCK;
  }

  /** The end of a blocking connect: 0 when established, the error when it failed, else WOULD_BLOCK. */
  finishConnect(): 0 | LinuxError | WouldBlock {
    this.touch();
    if (this.impl.kind !== 'tcp') return 0;
    const s = this.impl.sock;
    if (s.state === 'SYN_SENT' || s.state === 'SYN_RECEIVED') return WOULD_BLOCK;
    return this.connectOutcome();
  }

  /**
   * The outcome of a finished handshake, as __inet_stream_connect reports it: 0 when the
   * connection is (or was) up; when it already closed, its error (ECONNABORTED once SO_ERROR
   * took it) and a disconnect, so that the next connect(2) starts a new connection.
   */
  private connectOutcome(): 0 | LinuxError {
    this.connecting = false;
    if (this.impl.kind !== 'tcp' || this.impl.sock.state !== 'CLOSED') return 0;
    const err = this.impl.sock.takeError() ?? E.ECONNABORTED;
    this.disconnectTcp();
    return err;
  }

  /**
   * Linux's tcp_disconnect: a fresh TCP socket of this family takes the old one's place (see
   * TcpSocket.takeOver), with this socket's options and no shutdown.
   */
  private disconnectTcp(): void {
    if (this.impl.kind !== 'tcp') return;
    const old = this.impl.sock;
    const fresh = this.stack.tcpSocket(this.family, this.rings());
    old.owner = undefined;
    fresh.takeOver(old);
    this.impl = this.take({ kind: 'tcp', sock: fresh });
    fresh.owner = this;
    fresh.boundDevIf = this.boundDevIf;
    this.connecting = false;
    this.shutRd = false;
    this.shutWr = false;
    this.applyTcpOptions();
    if (this.cork) fresh.setCork(true);
  }

  /**
   * Linux's tcp_disconnect of a listener (shutdown(2) for reading, connect(AF_UNSPEC)): it stops
   * listening (inet_csk_listen_stop resets the connections not yet accepted, inet_unhash takes it
   * out of its SO_REUSEPORT group, so a listen(2) again puts it at the end of the group's array)
   * and is an unconnected socket again, which may listen or connect. A port bind(2) named stays
   * bound; an automatic one is released, though getsockname still shows it (inet_sport stays).
   * Should accepted connections hold the named port without sharing it, the port is shown but not
   * held ({@link namedPortLost}), and a new listen(2) asks for it again.
   */
  private disconnectListener(l: TcpListener): void {
    const local = l.local;
    const keepPort = l.bindPortLock;
    l.owner = undefined;
    l.close();
    const fresh = this.stack.tcpSocket(l.family, this.rings());
    this.impl = this.take({ kind: 'tcp', sock: fresh });
    fresh.owner = this;
    fresh.reuseAddr = this.reuseAddr;
    fresh.reusePort = this.reusePort;
    fresh.boundDevIf = this.boundDevIf;
    this.shutRd = false;
    this.shutWr = false;
    this.applyV6only();
    this.applyIpOptions();
    this.applyTcpOptions();
    if (this.cork) fresh.setCork(true);
    if (local && !(keepPort && fresh.bind(local) === undefined)) {
      fresh.local = local;
      this.namedPortLost = keepPort;
    }
  }

  /**
   * Implements sendto(2)/send(2), and sendmsg(2) with `control`, its IP-level control messages
   * (see {@link parseIpSendControl}; stream sockets ignore them). `to` is ignored on stream
   * sockets, as Linux does.
   */
  sendto(
    data: Uint8Array,
    flags = 0,
    to?: Uint8Array,
    control?: readonly Cmsg[],
  ): number | LinuxError | WouldBlock {
    this.touch();
    // MSG_DONTWAIT/MSG_NOSIGNAL are decided by the caller; MSG_OOB makes TCP data urgent.
    const impl = this.impl;
    if (impl.kind === 'listener') return E.EPIPE;
    if (impl.kind === 'tcp') {
      if (this.shutWr) return E.EPIPE;
      if (flags & MsgFlag.MSG_FASTOPEN || this.fastopenPending) {
        const r = this.fastopenConnect(impl.sock, flags, to);
        if (r !== undefined) return r;
      }
      const n =
        this.impl.kind === 'tcp' ? this.impl.sock.send(data, (flags & MsgFlag.MSG_MORE) !== 0) : E.EPIPE;
      if (flags & MsgFlag.MSG_OOB && typeof n === 'number' && n > 0 && this.impl.kind === 'tcp')
        this.impl.sock.markUrgent();
      return n;
    }
    // udp_sendmsg and ping_common_sendmsg: no urgent data on datagrams (BSD's error).
    if (flags & MsgFlag.MSG_OOB) return E.EOPNOTSUPP;
    // inet_send_prepare: an unbound datagram socket gets its ephemeral port before anything
    // else is checked, so even a send that fails (EDESTADDRREQ) leaves it bound.
    if (impl.kind === 'udp' && !impl.sock.local) {
      this.applyIpOptions();
      const err = impl.sock.autobind();
      if (err) return err;
    }
    if (impl.kind === 'udp') {
      // udp_sendmsg: UDP_CORK or MSG_MORE holds the data; the send without them ends the datagram.
      const more = this.ipOpts.udpCork || (flags & MsgFlag.MSG_MORE) !== 0;
      if (more || this.corked) return this.sendCorked(impl.sock, data, to, control, more);
    }
    return this.sendDatagram(data, to, control);
  }

  /**
   * A send while UDP_CORK or MSG_MORE holds a datagram open: the first one checks there is a
   * destination (EDESTADDRREQ) and fixes it; each appends (EMSGSIZE past the largest datagram,
   * which drops what was held, as udp_flush_pending_frames); one without `more` sends it all.
   */
  private sendCorked(
    sock: UdpSocket,
    data: Uint8Array,
    to: Uint8Array | undefined,
    control: readonly Cmsg[] | undefined,
    more: boolean,
  ): number | LinuxError | WouldBlock {
    if (!this.corked) {
      if ((!to || to.length === 0) && !sock.remote) return E.EDESTADDRREQ;
      if (this.shutWr) return E.EPIPE; // ip_append_data's buffer allocation
      this.corked = { chunks: [], len: 0, to, ...(control ? { control } : {}) };
    }
    const c = this.corked;
    if (c.len + data.length > (this.family === 4 ? 65507 : 65527)) {
      this.corked = undefined;
      return E.EMSGSIZE;
    }
    c.chunks.push(data.slice());
    c.len += data.length;
    if (more) return data.length;
    const r = this.pushCorked();
    return typeof r === 'number' ? data.length : r;
  }

  /** udp_push_pending_frames: sends what UDP_CORK / MSG_MORE held as one datagram. */
  private pushCorked(): number | LinuxError | WouldBlock {
    const c = this.corked;
    if (!c) return 0;
    this.corked = undefined;
    const all = new Uint8Array(c.len);
    let at = 0;
    for (const chunk of c.chunks) {
      all.set(chunk, at);
      at += chunk.length;
    }
    return this.sendDatagram(all, c.to, c.control);
  }

  /** The datagram part of {@link sendto}: one UDP or ICMP datagram (or UDP_SEGMENT's several). */
  private sendDatagram(
    data: Uint8Array,
    to: Uint8Array | undefined,
    control: readonly Cmsg[] | undefined,
  ): number | LinuxError | WouldBlock {
    const impl = this.impl;
    if (impl.kind !== 'udp' && impl.kind !== 'icmp' && impl.kind !== 'raw') return E.EOPNOTSUPP;
    let dst: IpEndpoint | undefined;
    if (to && to.length > 0) {
      const ep = parseSockaddr(to, this.family);
      if (isError(ep)) return ep;
      dst = this.toThisHost(ep);
    }
    impl.sock.hopLimit = this.sendHops((dst ?? impl.sock.remote)?.addr);
    if (dst && (dst.addr.isBroadcast() || this.stack.iface.isDirectedBroadcast(dst.addr)) && !this.broadcast)
      return E.EACCES; // Linux needs SO_BROADCAST to send to a broadcast address
    // udp_sendmsg and ping_common_sendmsg find the destination first; SEND_SHUTDOWN is only seen
    // when the datagram's buffer is allocated (EPIPE).
    if (this.shutWr) {
      if (!dst && !impl.sock.remote) return E.EDESTADDRREQ;
      if (impl.kind === 'udp' && dst?.port === 0) return E.EINVAL;
      return E.EPIPE;
    }
    if (impl.kind === 'icmp') {
      impl.sock.trafficClass = this.family === 4 ? this.ipTos : this.tclass;
      return dst ? impl.sock.sendto(data, dst) : impl.sock.sendto(data);
    }
    if (impl.kind === 'raw') {
      const pmtu = this.family === 4 ? this.ipOpts.pmtuDisc : this.ipOpts.pmtuDisc6;
      return impl.sock.sendto(data, dst, {
        trafficClass: this.family === 4 ? this.ipTos : this.tclass,
        // __ip_make_skb: DF for IP_PMTUDISC_WANT and DO (ip_dont_fragment), and PROBE.
        dontFragment: pmtu === PmtuDisc.WANT || pmtu === PmtuDisc.DO || pmtu === PmtuDisc.PROBE,
        refuseFragment: this.ipOpts.dontFragment(this.family),
      });
    }
    impl.sock.trafficClass = this.family === 4 ? this.ipTos : this.tclass;
    let opts;
    if (control && control.length > 0) {
      opts = parseIpSendControl(
        this.family,
        control,
        (i) => i === LOOPBACK_IFINDEX || i === this.stack.deviceIfindex,
      );
      if (isError(opts)) return opts;
    }
    const gso = udpSegmentControl(control) ?? this.ipOpts.gsoSize;
    if (isError(gso)) return gso;
    if (gso > 0) opts = { ...opts, gsoSize: gso };
    return impl.sock.sendto(data, dst, opts);
  }

  /** What ip-options.ts needs of this socket. */
  private optionSocket(): IpOptionSocket {
    const stack = this.stack;
    const exists = (i: number): boolean => i === LOOPBACK_IFINDEX || i === stack.deviceIfindex;
    const nic = stack.deviceIfindex !== LOOPBACK_IFINDEX;
    return {
      family: this.family,
      stream: this.type === SockType.SOCK_STREAM,
      localPort: this.impl.sock.local?.port ?? 0,
      boundDevIf: this.boundDevIf,
      connectedPath: () => {
        const impl = this.impl;
        if (impl.kind === 'listener' || (impl.kind === 'tcp' && !impl.sock.isConnected)) return undefined;
        const peer = impl.sock.remote;
        if (!peer) return undefined;
        return {
          peer: peer.addr.bytes,
          mtu: impl.kind === 'icmp' ? impl.sock.routeMtu() : stack.mtuFor(peer.addr),
        };
      },
      ifindexExists: exists,
      ifindexOfAddress: (bytes) => {
        const a = new Ipv4Address(bytes);
        if (!stack.isLocalAddress(a)) return undefined;
        return a.isLoopback() ? LOOPBACK_IFINDEX : stack.deviceIfindex;
      },
      routeIfindex: (bytes) => {
        const a = bytes.length === 4 ? new Ipv4Address(bytes) : new Ipv6Address(bytes);
        if (a.isUnspecified() || a.isLoopback() || stack.isLocalAddress(a)) return LOOPBACK_IFINDEX;
        return nic ? stack.deviceIfindex : undefined;
      },
    };
  }

  /** Pushes the options of ip-options.ts that bind, connect and send follow down to the socket. */
  private applyIpOptions(): void {
    const impl = this.impl;
    const o = this.ipOpts;
    const errors = this.errorQueue;
    if (errors) {
      errors.recvErr = (v) => o.recvErr(v);
      errors.recvErrRfc4884 = (v) => (v === 4 ? o.recvErrRfc4884 : o.recvErrRfc4884v6) === 1;
    }
    if (impl.kind === 'icmp') {
      impl.sock.pmtuDisc = this.family === 4 ? o.pmtuDisc : o.pmtuDisc6;
      impl.sock.refuseFragment = o.dontFragment(this.family);
    }
    if (impl.kind === 'raw') impl.sock.pmtuDisc = this.family === 4 ? o.pmtuDisc : o.pmtuDisc6;
    if (impl.kind === 'icmp' || impl.kind === 'raw') return;
    impl.sock.nonLocalBind = o.nonLocalBind;
    impl.sock.localPortRange = o.localPortRange;
    if (impl.kind === 'tcp') {
      impl.sock.bindAddressNoPort = o.bindAddressNoPort;
      impl.sock.pmtuDisc = (v) => (v === 4 ? o.pmtuDisc : o.pmtuDisc6);
      impl.sock.recvErr = (v) => o.recvErr(v);
    }
    if (impl.kind !== 'udp') {
      impl.sock.minTtl = o.minTtl;
      impl.sock.minHopCount = o.minHopCount;
    }
    if (impl.kind === 'udp') {
      impl.sock.dontFragment = (v) => o.dontFragment(v);
      impl.sock.pmtuDisc = (v) => (v === 4 ? o.pmtuDisc : o.pmtuDisc6);
      impl.sock.noCheck6Tx = o.noCheck6Tx;
      impl.sock.noCheck6Rx = o.noCheck6Rx;
      impl.sock.unicastIf = o.unicastIf;
      impl.sock.gro = o.udpGro;
      impl.sock.mcastIf = o.mcastIndex;
      impl.sock.mcastIf6 = o.mcastIf6;
      impl.sock.mcastTtl = o.mcastTtl;
      impl.sock.mcastHops6 = o.mcastHops6;
      impl.sock.memberOf = (group, ifindex) => o.isMember(group.bytes, ifindex);
      impl.sock.multicastAll = (v) => o.multicastAll(v);
    }
  }

  /**
   * MSG_FASTOPEN on a TCP send (tcp_sendmsg_fastopen) as Linux does it with no fast open cookie
   * cached: the send connects to `to` first and its data follows the handshake. Undefined: go
   * on and send (the connection is up, or still starting for a blocking send: the send then
   * waits); else the send's answer: WOULD_BLOCK (blocking: wait for the handshake),
   * EINPROGRESS (non-blocking), EISCONN on a connected socket, EOPNOTSUPP for AF_UNSPEC, and
   * connect(2)'s errors.
   */
  private fastopenConnect(
    conn: TcpSocket,
    flags: number,
    to: Uint8Array | undefined,
  ): LinuxError | WouldBlock | undefined {
    if (this.fastopenPending) {
      // The handshake this send started is over: the socket is connected as by connect(2).
      if (conn.state !== 'SYN_SENT' && conn.state !== 'SYN_RECEIVED') {
        this.fastopenPending = false;
        this.connecting = false;
      }
      return undefined;
    }
    if (!(flags & MsgFlag.MSG_FASTOPEN)) return undefined;
    if (to && to.length >= 2 && sockaddrFamily(to) === AddressFamily.AF_UNSPEC) return E.EOPNOTSUPP;
    if (conn.state !== 'CLOSED' || conn.connectStarted || this.connecting)
      return conn.state === 'SYN_SENT' ? E.EALREADY : E.EISCONN;
    const r = this.connect(to ?? new Uint8Array(0));
    if (r === WOULD_BLOCK || r === E.EINPROGRESS) this.fastopenPending = true;
    // A non-blocking send (MSG_DONTWAIT) connects as a non-blocking connect(2) does.
    if (r === WOULD_BLOCK && flags & MsgFlag.MSG_DONTWAIT) return E.EINPROGRESS;
    return r === 0 ? undefined : r;
  }

  /**
   * send(2) on a stream socket with the bytes copied straight from the caller's memory into the
   * send ring by `copy` (see {@link TcpSocket.sendFrom}): the results of {@link sendto}, EFAULT
   * only when `copy` moved nothing. EOPNOTSUPP on datagram sockets (they take whole datagrams).
   * `queued`: bytes this send(2) call queued already (see TcpSocket.sendFrom: an error then
   * stays for the next call).
   */
  sendFrom(max: number, copy: SpanCopy, queued = 0): number | LinuxError | WouldBlock {
    this.touch();
    const impl = this.impl;
    if (impl.kind === 'listener') return E.EPIPE;
    if (this.shutWr) return E.EPIPE;
    if (impl.kind !== 'tcp') return E.EOPNOTSUPP;
    return impl.sock.sendFrom(max, copy, queued);
  }

  /**
   * recv(2) on a stream socket with the bytes copied straight from the receive ring into the
   * caller's memory by `copy` (see {@link TcpSocket.recvInto}); MSG_PEEK leaves them queued.
   * The results of {@link recvfrom} as a byte count. EOPNOTSUPP on datagram sockets.
   */
  recvInto(max: number, copy: SpanCopy, flags = 0): number | LinuxError | WouldBlock {
    this.touch();
    const impl = this.impl;
    if (impl.kind === 'listener') return E.ENOTCONN;
    if (impl.kind !== 'tcp') return E.EOPNOTSUPP;
    if (this.shutRd && impl.sock.recvQueue === 0) return 0;
    const peek = (flags & MsgFlag.MSG_PEEK) !== 0;
    const off = this.peekOffset; // SO_PEEK_OFF, -1 when not set (the getter, read directly)
    const r = impl.sock.recvInto(max, copy, peek, off > 0 ? off : 0);
    if (typeof r === 'number' && off >= 0) this.movePeekOff(peek ? r : -r);
    return r;
  }

  /**
   * recv(2) with MSG_OOB on TCP (see TcpSocket.recvUrgent): the urgent byte into `buf` (with
   * MSG_TRUNC counted, not copied), MSG_TRUNC in msg_flags for an empty buffer (the byte is
   * taken all the same), 0 after SHUT_RD, never WOULD_BLOCK.
   */
  private recvUrgent(sock: TcpSocket, buf: Uint8Array, flags: number): RecvResult | LinuxError {
    const r = sock.recvUrgent((flags & MsgFlag.MSG_PEEK) !== 0);
    if (r === 'eof' || (r === E.EAGAIN && this.shutRd))
      return { n: 0, len: 0, from: undefined, truncated: false };
    if (isError(r)) return r;
    if (buf.length === 0) return { n: 0, len: 0, from: undefined, truncated: true, oob: true };
    if (!(flags & MsgFlag.MSG_TRUNC)) buf[0] = r;
    return { n: 1, len: 1, from: undefined, truncated: false, oob: true };
  }

  /** sk_peek_offset_fwd/bwd: a set SO_PEEK_OFF moves by `n` (negative: back), not below 0. */
  private movePeekOff(n: number): void {
    if (this.peekOffset >= 0) this.peekOffset = Math.max(this.peekOffset + n, 0);
  }

  /**
   * recvmsg(2) with MSG_ERRQUEUE (ip_recv_error, ipv6_recv_error; inet_recv_error for TCP): the
   * oldest queued error's payload into `buf`, the destination of the datagram it is about as
   * the sender, and an IP_RECVERR (IPV6_RECVERR on AF_INET6) message holding its
   * sock_extended_err and the offender's address. EAGAIN, never a wait, when none is queued.
   */
  private recvError(buf: Uint8Array): RecvResult | LinuxError {
    const impl = this.impl;
    const e = impl.kind === 'tcp' ? impl.sock.dequeueError() : this.errorQueue?.dequeue();
    if (!e) return E.EAGAIN;
    const n = Math.min(e.payload.length, buf.length);
    buf.set(e.payload.subarray(0, n));
    // A local error names no offender: the sockaddr stays zeroed.
    const offender = e.offender
      ? this.emit({ addr: e.offender, port: 0 })
      : new Uint8Array(this.family === 4 ? 16 : 28);
    const data = new Uint8Array(SOCK_EXTENDED_ERR_LEN + offender.length);
    const dv = new DataView(data.buffer);
    dv.setUint32(0, e.errno.errno, true);
    data[4] = e.origin;
    data[5] = e.type;
    data[6] = e.code;
    dv.setUint32(8, e.info, true);
    dv.setUint32(12, e.data, true);
    data.set(offender, SOCK_EXTENDED_ERR_LEN);
    const control =
      this.family === 4
        ? { level: SocketLevel.SOL_IP, type: IpOption.IP_RECVERR, data }
        : { level: SocketLevel.SOL_IPV6, type: Ipv6Option.IPV6_RECVERR, data };
    // ip_recv_error answers the bytes copied, MSG_TRUNC or not.
    return {
      n,
      len: n,
      from: this.emit(e.dst),
      truncated: n < e.payload.length,
      control: [control],
      errQueue: true,
    };
  }

  /**
   * Implements recvfrom(2)/recv(2) with MSG_PEEK and MSG_TRUNC (MSG_ERRQUEUE: see
   * {@link recvError}); MSG_WAITALL is the caller's loop.
   */
  recvfrom(buf: Uint8Array, flags = 0): RecvResult | LinuxError | WouldBlock {
    this.touch();
    const impl = this.impl;
    if (flags & MsgFlag.MSG_ERRQUEUE) return this.recvError(buf);
    const peek = (flags & MsgFlag.MSG_PEEK) !== 0;
    if (impl.kind === 'listener') return E.ENOTCONN;
    if (impl.kind === 'tcp') {
      if (flags & MsgFlag.MSG_OOB) return this.recvUrgent(impl.sock, buf, flags);
      if (this.shutRd && impl.sock.recvQueue === 0)
        return { n: 0, len: 0, from: undefined, truncated: false };
      const r = peek ? impl.sock.peek(buf, Math.max(this.peekOff, 0)) : impl.sock.recv(buf);
      if (typeof r !== 'number') return r;
      this.movePeekOff(peek ? r : -r);
      if (this.tcpOpts.inq) {
        // TCP_INQ: a TCP_CM_INQ message with the bytes left to read (tcp_recvmsg).
        const data = new Uint8Array(4);
        new DataView(data.buffer).setInt32(0, impl.sock.inqHint, true);
        const control = [{ level: SocketLevel.SOL_TCP, type: TcpOption.TCP_CM_INQ, data }];
        return { n: r, len: r, from: undefined, truncated: false, control };
      }
      return { n: r, len: r, from: undefined, truncated: false };
    }
    // ORIGDSTADDR reads its port from the datagram's transport header, which a raw or ping
    // socket's buffer may be too short to hold: read into a bigger one, then hand over `buf`'s part.
    const origDst =
      impl.kind !== 'udp' && (this.family === 4 ? this.rxFlags.v4 : this.rxFlags.v6).origDst === true;
    const into = origDst && buf.length < TRANSPORT_PORT_REACH ? new Uint8Array(TRANSPORT_PORT_REACH) : buf;
    const r =
      impl.kind === 'udp' ? impl.sock.recvfrom(buf, peek, this.peekOff) : impl.sock.recvfrom(into, peek);
    // After SHUT_RD an empty queue reads as end of file, but only for a call that would wait.
    const wouldWait = !this.nonBlocking && (flags & MsgFlag.MSG_DONTWAIT) === 0;
    if (r === WOULD_BLOCK && this.shutRd && wouldWait)
      return { n: 0, len: 0, from: undefined, truncated: false };
    if (r === WOULD_BLOCK || isError(r)) return r;
    const n = Math.min(r.len - ((r as UdpReceived).skip ?? 0), buf.length);
    if (into !== buf) buf.set(into.subarray(0, n));
    const truncated = into === buf ? r.truncated : r.len > buf.length;
    const res = { n, len: r.len, from: this.emit(r.from), truncated };
    const on = (f: IpRecvFlags): boolean => f.pktinfo || f.hopLimit || f.trafficClass || f.origDst === true;
    if (impl.kind !== 'udp') {
      // raw_recvmsg / rawv6_recvmsg / ping_recvmsg: UDP's IP messages (ip_cmsg_recv,
      // ip6_datagram_recv_ctl) for datagrams of the socket's own family, ORIGDSTADDR too: its
      // port is what the transport header has where UDP's destination port is (measured, see
      // raw-ping-cmsg.c: an ICMP message's checksum).
      const ip = (r as DatagramReceived).ip;
      const { v4, v6 } = this.rxFlags;
      if (!ip || !on(this.family === 4 ? v4 : v6)) return res;
      // A ping socket's IP_PKTINFO has no ipi_spec_dst (0.0.0.0, measured: ping_queue_rcv_skb
      // skips the ipv4_pktinfo_prepare raw_rcv_skb does).
      const spec =
        impl.kind === 'icmp'
          ? unspecifiedAddress(this.family)
          : (this.stack.sourceAddressFor(r.from.addr) ?? ip.dst);
      const port = origDst ? transportPort(into, r.len, impl.kind === 'raw' && this.family === 4) : 0;
      const control = ipRecvControl(ip, { v4, v6 }, ip.ifindex, spec, this.family, port);
      return control.length > 0 ? { ...res, control } : res;
    }
    // udp_recvmsg moves the peek offset by what it returns: the datagram's length with MSG_TRUNC.
    const moved = flags & MsgFlag.MSG_TRUNC ? r.len : n;
    this.movePeekOff(peek ? moved : -moved);
    const meta = (r as UdpReceived).meta;
    // udp_recvmsg: the UDP_GRO message (the segment size of a datagram read whole) comes first.
    const gro: Cmsg[] =
      meta.gsoSize !== undefined
        ? [{ level: SOL_UDP, type: UdpOption.UDP_GRO, data: intBytes(meta.gsoSize) }]
        : [];
    if (!on(this.rxFlags.v4) && !(this.family === 6 && on(this.rxFlags.v6)))
      return gro.length > 0 ? { ...res, control: gro } : res;
    const spec = this.stack.sourceAddressFor(r.from.addr) ?? meta.dst;
    const port = impl.sock.local?.port ?? 0;
    const control = [...gro, ...ipRecvControl(meta, this.rxFlags, meta.ifindex, spec, this.family, port)];
    return control.length > 0 ? { ...res, control } : res;
  }

  /**
   * The options only raw sockets have (raw_setsockopt, rawv6_setsockopt): IP_HDRINCL,
   * ICMP_FILTER (IPPROTO_ICMP sockets, else EOPNOTSUPP), IPV6_CHECKSUM (an even offset or -1;
   * EINVAL on ICMPv6 sockets at SOL_IPV6), IPV6_HDRINCL (at SOL_IPV6 or SOL_RAW, as
   * IPV6_CHECKSUM; IPPROTO_RAW sockets may turn it off too) and ICMPV6_FILTER (IPPROTO_ICMPV6
   * sockets). Undefined: an option of the other levels, handled as for any inet socket.
   */
  private setRawOption(
    raw: RawSocket,
    level: number,
    name: number,
    v: Uint8Array,
  ): 0 | LinuxError | undefined {
    const int = (): number =>
      v.length >= 4 ? new DataView(v.buffer, v.byteOffset, 4).getInt32(0, true) : (v[0] ?? 0);
    if (this.family === 4) {
      if (level === SocketLevel.SOL_IP && name === IpOption.IP_HDRINCL) {
        raw.hdrincl = int() !== 0 || raw.protocol === IPPROTO_RAW;
        return 0;
      }
      if (level !== SOL_RAW) return undefined;
      if (name !== ICMP_FILTER) return E.ENOPROTOOPT;
      if (raw.protocol !== IpProto.IPPROTO_ICMP) return E.EOPNOTSUPP;
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, raw.icmpFilter, true);
      b.set(v.subarray(0, 4));
      raw.icmpFilter = new DataView(b.buffer).getUint32(0, true);
      return 0;
    }
    if (level === SOL_ICMPV6) {
      if (raw.protocol !== IpProto.IPPROTO_ICMPV6) return E.EOPNOTSUPP;
      if (name !== ICMPV6_FILTER) return E.ENOPROTOOPT;
      const b = new Uint8Array(raw.icmp6Filter.buffer);
      b.set(v.subarray(0, 32));
      return 0;
    }
    const hdrincl = name === Ipv6Option.IPV6_HDRINCL && (level === SOL_RAW || level === SocketLevel.SOL_IPV6);
    const checksum = name === IPV6_CHECKSUM && (level === SOL_RAW || level === SocketLevel.SOL_IPV6);
    if (level === SOL_RAW && !checksum && !hdrincl) return E.ENOPROTOOPT;
    if (!checksum && !hdrincl) return undefined;
    if (v.length < 4) return E.EINVAL;
    if (hdrincl) {
      raw.hdrincl = int() !== 0;
      return 0;
    }
    if (raw.protocol === IpProto.IPPROTO_ICMPV6 && level === SocketLevel.SOL_IPV6) return E.EINVAL;
    const off = int();
    if (off > 0 && off & 1) return E.EINVAL;
    raw.checksumOffset = off < 0 ? -1 : off;
    return 0;
  }

  /**
   * Whether getsockopt(2) of option `name` at `level` reads a negative `*optlen` as the large
   * unsigned length it also is, so the whole int is copied: do_rawv6_getsockopt's
   * IPV6_HDRINCL and IPV6_CHECKSUM (min_t(unsigned int, ...)), and every SOL_IPV6 option of an
   * IPv6 socket ({@link IpOptions.takesUnsignedOptlen}); every other option fails, with the
   * errno of {@link negativeOptlenError}.
   */
  takesUnsignedOptlen(level: number, name: number): boolean {
    if (IpOptions.takesUnsignedOptlen(this.family, level)) return true;
    return (
      this.impl.kind === 'raw' &&
      this.family === 6 &&
      (level === SOL_RAW || level === SocketLevel.SOL_IPV6) &&
      (name === Ipv6Option.IPV6_HDRINCL || name === IPV6_CHECKSUM)
    );
  }

  /**
   * The errno of getsockopt(2) with a negative `*optlen` (one {@link takesUnsignedOptlen} does
   * not take): Linux picks the handler by the level, and a level or a name the handler does not
   * have is refused before the length is read. sk_getsockopt (SOL_SOCKET), do_tcp_getsockopt
   * (SOL_TCP of a TCP socket) and udp_lib_getsockopt (SOL_UDP and SOL_UDPLITE of a UDP socket)
   * test the length first: EINVAL even for an unknown name. A raw socket keeps SOL_RAW: IPv4's
   * ICMP_FILTER is EOPNOTSUPP on a socket that is not IPPROTO_ICMP, then EINVAL; any other name
   * ENOPROTOOPT (IPv6's IPV6_CHECKSUM and IPV6_HDRINCL take the length unsigned). An IPv6 raw
   * socket keeps SOL_ICMPV6: EOPNOTSUPP unless IPPROTO_ICMPV6, ENOPROTOOPT but for
   * ICMPV6_FILTER, which is EINVAL. Other levels: {@link IpOptions.negativeOptlenError}.
   */
  negativeOptlenError(level: number, name: number): LinuxError {
    if (level === SocketLevel.SOL_SOCKET) return E.EINVAL;
    const impl = this.impl;
    if (this.type === SockType.SOCK_STREAM) {
      if (level === SocketLevel.SOL_TCP) return E.EINVAL;
    } else if (impl.kind === 'udp') {
      if (level === SOL_UDP || level === SOL_UDPLITE) return E.EINVAL;
    } else if (impl.kind === 'raw') {
      const proto = impl.sock.protocol;
      if (level === SOL_RAW && this.family === 4) {
        if (name !== ICMP_FILTER) return E.ENOPROTOOPT;
        return proto === IpProto.IPPROTO_ICMP ? E.EINVAL : E.EOPNOTSUPP;
      }
      if (level === SOL_RAW) return E.ENOPROTOOPT;
      if (level === SOL_ICMPV6 && this.family === 6) {
        if (proto !== IpProto.IPPROTO_ICMPV6) return E.EOPNOTSUPP;
        return name === ICMPV6_FILTER ? E.EINVAL : E.ENOPROTOOPT;
      }
    }
    return IpOptions.negativeOptlenError(this.family, impl.kind === 'raw', level, name);
  }

  /** getsockopt(2) of the options of {@link setRawOption}: the whole value, which the caller cuts. */
  private getRawOption(raw: RawSocket, level: number, name: number): Uint8Array | LinuxError | undefined {
    if (this.family === 4) {
      if (level === SocketLevel.SOL_IP && name === IpOption.IP_HDRINCL) return intBytes(raw.hdrincl ? 1 : 0);
      if (level !== SOL_RAW) return undefined;
      if (name !== ICMP_FILTER) return E.ENOPROTOOPT;
      if (raw.protocol !== IpProto.IPPROTO_ICMP) return E.EOPNOTSUPP;
      return intBytes(raw.icmpFilter | 0);
    }
    if (level === SOL_ICMPV6) {
      if (raw.protocol !== IpProto.IPPROTO_ICMPV6) return E.EOPNOTSUPP;
      if (name !== ICMPV6_FILTER) return E.ENOPROTOOPT;
      return new Uint8Array(raw.icmp6Filter.buffer.slice(0));
    }
    if (level !== SOL_RAW && level !== SocketLevel.SOL_IPV6) return undefined;
    if (name === Ipv6Option.IPV6_HDRINCL) return intBytes(raw.hdrincl ? 1 : 0);
    if (name === IPV6_CHECKSUM) return intBytes(raw.checksumOffset);
    return level === SOL_RAW ? E.ENOPROTOOPT : undefined;
  }

  /**
   * SO_ATTACH_REUSEPORT_CBPF (reuseport_attach_prog): `prog` becomes the program that picks the
   * member of this socket's SO_REUSEPORT group (see reuseport.ts), replacing the group's
   * previous one. An unbound UDP socket or a TCP socket not yet listening needs SO_REUSEPORT and
   * gets a group of its own, which it keeps if it is the first on its port; a bound or
   * listening socket needs a group (it bound with SO_REUSEPORT). EINVAL otherwise: for raw
   * sockets (hashed from their creation) always. A ping socket takes one only while unbound, as
   * on Linux, and no group ever uses it (ping sockets do not share ports by SO_REUSEPORT).
   */
  attachReuseportProgram(prog: ClassicProgram): 0 | LinuxError {
    const holder = this.reuseportHolder();
    if (!holder) return E.EINVAL;
    let group = holder.group;
    if (!holder.hashed) {
      if (!this.reusePort) return E.EINVAL;
      group = holder.start();
    }
    if (!group) return E.EINVAL; // bound without SO_REUSEPORT
    group.program = prog;
    return 0;
  }

  /**
   * SO_DETACH_REUSEPORT_BPF (reuseport_detach_prog): removes the program of this socket's group.
   * Without a group: ENOENT when SO_REUSEPORT is on, else EINVAL; ENOENT when no program is
   * attached.
   */
  detachReuseportProgram(): 0 | LinuxError {
    const group = this.reuseportHolder()?.group;
    if (!group) return this.reusePort ? E.ENOENT : E.EINVAL;
    if (!group.program) return E.ENOENT;
    group.program = undefined;
    return 0;
  }

  /**
   * The SO_REUSEPORT group of the protocol socket underneath (Linux's sk_reuseport_cb), whether
   * that socket is hashed (bound UDP, listening or connected TCP: Linux's !sk_unhashed), and how
   * to give it a group of its own (reuseport_alloc); undefined for raw sockets.
   */
  private reuseportHolder():
    | {
        readonly group: ReuseportGroup<unknown> | undefined;
        readonly hashed: boolean;
        readonly start: () => ReuseportGroup<unknown>;
      }
    | undefined {
    const impl = this.impl;
    switch (impl.kind) {
      case 'udp': {
        const s = impl.sock;
        return {
          group: s.reuseportGroup,
          hashed: s.local !== undefined,
          start: () => (s.reuseportGroup ??= new ReuseportGroup()),
        };
      }
      case 'tcp': {
        const s = impl.sock;
        const hashed = s.state !== 'CLOSED' || this.connecting;
        return { group: s.reuseportGroup, hashed, start: () => (s.reuseportGroup ??= new ReuseportGroup()) };
      }
      case 'icmp': {
        // A ping socket never joins a group (ping_get_port), but takes a program while unbound.
        const hashed = impl.sock.local !== undefined;
        return {
          group: this.pingReuseport,
          hashed,
          start: () => (this.pingReuseport ??= new ReuseportGroup()),
        };
      }
      case 'listener': {
        const s = impl.sock;
        return {
          group: s.reuseportGroup,
          hashed: s.isListening,
          start: () => (s.reuseportGroup ??= new ReuseportGroup()),
        };
      }
      default:
        return undefined;
    }
  }

  /** Implements shutdown(2): EINVAL for a bad `how`, ENOTCONN when not connected. */
  shutdown(how: number): 0 | LinuxError {
    this.touch();
    if (how !== Shut.SHUT_RD && how !== Shut.SHUT_WR && how !== Shut.SHUT_RDWR) return E.EINVAL;
    const impl = this.impl;
    if (impl.kind === 'listener') {
      // inet_shutdown: an aborted listener is a closed socket; a listening one is left as it is by
      // SHUT_WR and disconnected by a shutdown for reading.
      if (!impl.sock.isListening) return E.ENOTCONN;
      if (how !== Shut.SHUT_WR) this.disconnectListener(impl.sock);
      return 0;
    }
    const connected =
      impl.kind === 'udp' || impl.kind === 'icmp' || impl.kind === 'raw'
        ? impl.sock.remote !== undefined
        : impl.sock.isConnected || impl.sock.state === 'SYN_SENT';
    // Linux (inet_shutdown) marks the socket shut even when it answers ENOTCONN.
    if (how !== Shut.SHUT_WR) this.shutRd = true;
    if (how !== Shut.SHUT_WR && impl.kind === 'tcp') impl.sock.readShut = true;
    if (how !== Shut.SHUT_RD) {
      this.shutWr = true;
      if (impl.kind === 'tcp' && connected) impl.sock.shutdownWrite();
    }
    return connected ? 0 : E.ENOTCONN;
  }

  /** Implements getsockname(2): the bound address, or the unspecified address and port 0. */
  getsockname(): Uint8Array {
    // A raw socket's port is its protocol (inet_create sets inet_sport to it).
    if (this.impl.kind === 'raw') return this.emit(this.impl.sock.name(this.unspecified().addr));
    if (this.impl.kind === 'udp') return this.emit(this.impl.sock.sockName ?? this.unspecified());
    return this.emit(this.impl.sock.local ?? this.unspecified());
  }

  /** Implements getpeername(2): ENOTCONN without a peer. */
  getpeername(): Uint8Array | LinuxError {
    const impl = this.impl;
    if (impl.kind === 'listener') return E.ENOTCONN;
    if (impl.kind === 'tcp' && !impl.sock.isConnected) return E.ENOTCONN;
    // inet_getname: no peer port (a raw socket connected without one) is no peer.
    if (impl.kind === 'raw' && impl.sock.remote?.port === 0) return E.ENOTCONN;
    const r = impl.sock.remote;
    return r ? this.emit(r) : E.ENOTCONN;
  }

  /**
   * Implements getsockopt(2) for integer options. ENOPROTOOPT for options not known here.
   * SO_RCVBUF/SO_SNDBUF report Linux's doubled values once set; before, a datagram socket
   * reports Linux's 212992 and a TCP socket its ring sizes.
   */
  getsockopt(level: number, name: number): number | LinuxError {
    this.touch();
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
          return this.impl.sock.takeError()?.errno ?? 0;
        case SocketOption.SO_REUSEADDR:
          return this.reuseAddr ? 1 : 0;
        case SocketOption.SO_REUSEPORT:
          return this.reusePort ? 1 : 0;
        case SocketOption.SO_KEEPALIVE:
          return this.keepAlive ? 1 : 0;
        case SocketOption.SO_BROADCAST:
          return this.broadcast ? 1 : 0;
        case SocketOption.SO_ACCEPTCONN:
          return this.impl.kind === 'listener' ? 1 : 0;
        case SocketOption.SO_RCVBUF:
          return this.rcvBuf;
        case SocketOption.SO_SNDBUF:
          return this.sndBuf;
        case SocketOption.SO_BPF_EXTENSIONS:
          return SKF_AD_MAX; // the classic BPF extensions a filter may use
        case SocketOption.SO_RESERVE_MEM:
          return 0; // nothing reserved (setting it: see setsockopt)
        case SocketOption.SO_PEERPIDFD:
          return E.ENODATA; // an inet socket has no peer process
        case SO_RCVPRIORITY:
          return this.rcvPriority ? 1 : 0;
        case SO_PASSRIGHTS:
          return E.EOPNOTSUPP; // AF_UNIX only
        default:
          return E.ENOPROTOOPT;
      }
    }
    if (level === SocketLevel.SOL_TCP && tcp) {
      switch (name) {
        case TcpOption.TCP_NODELAY:
          return this.noDelay ? 1 : 0;
        case TcpOption.TCP_KEEPIDLE:
          return this.keepIdle ?? this.stack.sysctl.keepaliveTime;
        case TcpOption.TCP_KEEPINTVL:
          return this.keepIntvl ?? this.stack.sysctl.keepaliveIntvl;
        case TcpOption.TCP_KEEPCNT:
          return this.keepCnt ?? this.stack.sysctl.keepaliveProbes;
        case TcpOption.TCP_LINGER2:
          return this.linger2 ?? this.stack.sysctl.finTimeout;
        case TcpOption.TCP_CORK:
          return this.cork ? 1 : 0;
        case TcpOption.TCP_QUICKACK:
          return this.quickAck ?? 1;
        case TcpOption.TCP_USER_TIMEOUT:
          return this.userTimeout;
        case TcpOption.TCP_NOTSENT_LOWAT:
          return this.notsentLowat | 0; // the u32 read back as an int
        default:
          return this.tcpOpts.get(name, this.tcpOptionsView()) ?? E.ENOPROTOOPT;
      }
    }
    if (!tcp && (level === SOL_UDP || level === SOL_UDPLITE) && this.impl.kind === 'udp') {
      // udp_lib_getsockopt: the coverages read 0 (full coverage) on plain UDP sockets too.
      if (name === UDPLITE_SEND_CSCOV) return this.impl.sock.sendCoverage;
      if (name === UDPLITE_RECV_CSCOV) return this.impl.sock.recvCoverage;
    }
    if (level === SocketLevel.SOL_IP && name === IpOption.IP_TTL)
      return this.ipTtl === -1 ? this.stack.sysctl.defaultTtl : this.ipTtl;
    const rx = this.rxFlag(level, name);
    if (rx) return rx.flags[rx.key] ? 1 : 0;
    if (level === SocketLevel.SOL_IP && name === IpOption.IP_TOS) return this.ipTos;
    if (level === SocketLevel.SOL_IPV6 && this.family === 6 && name === Ipv6Option.IPV6_TCLASS)
      return this.tclass;
    if (level === SocketLevel.SOL_IPV6 && this.family === 6) {
      if (name === Ipv6Option.IPV6_UNICAST_HOPS)
        return this.hopLimit === -1 ? this.routeHopLimit() : this.hopLimit;
      if (name === Ipv6Option.IPV6_V6ONLY) return this.v6only ? 1 : 0;
    }
    // An AF_INET socket hands other levels to do_ip_getsockopt, which refuses any but SOL_IP
    // with EOPNOTSUPP; the protocol's own level (SOL_TCP, SOL_UDP) and SOL_IP say ENOPROTOOPT.
    const own = tcp ? level === SocketLevel.SOL_TCP : level === SOL_UDP || level === SOL_UDPLITE;
    const ip = this.ipOpts.get(this.optionSocket(), level, name);
    if (typeof ip === 'number' || (ip !== undefined && isError(ip))) return ip;
    if (this.family === 4 && level !== SocketLevel.SOL_IP && !own) return E.EOPNOTSUPP;
    return E.ENOPROTOOPT;
  }

  /**
   * Implements setsockopt(2) for integer options (EINVAL for out-of-range values).
   * SO_SNDBUFFORCE/SO_RCVBUFFORCE are taken as allowed: the caller checks CAP_NET_ADMIN.
   */
  setsockopt(level: number, name: number, value: number): 0 | LinuxError {
    this.touch();
    const tcp = this.type === SockType.SOCK_STREAM;
    const flag = value !== 0;
    if (level === SocketLevel.SOL_SOCKET) {
      switch (name) {
        case SocketOption.SO_REUSEADDR:
          this.reuseAddr = flag;
          return 0;
        case SocketOption.SO_REUSEPORT:
          this.reusePort = flag;
          // sk_reuseport is one flag: set after bind, it lets later sockets share the port.
          if (this.impl.kind !== 'icmp' && this.impl.kind !== 'raw') this.impl.sock.reusePort = flag;
          return 0;
        case SocketOption.SO_KEEPALIVE:
          this.keepAlive = flag;
          this.applyTcpOptions();
          return 0;
        case SocketOption.SO_BROADCAST:
          this.broadcast = flag;
          return 0;
        case SocketOption.SO_SNDBUF:
        case SocketOption.SO_RCVBUF:
        case SocketOption.SO_SNDBUFFORCE:
        case SocketOption.SO_RCVBUFFORCE:
          this.setBufferSize(name, value);
          return 0;
        case SO_RCVPRIORITY:
          this.rcvPriority = flag;
          return 0;
        case SO_PASSRIGHTS: // AF_UNIX only
        case SocketOption.SO_RESERVE_MEM: // needs memory-cgroup socket accounting, which netstack has not
          return E.EOPNOTSUPP;
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
        case TcpOption.TCP_LINGER2: // negative: -1; above TCP_FIN_TIMEOUT_MAX (120 s): 120; 0: the sysctl
          this.linger2 = value < 0 ? -1 : value === 0 ? undefined : Math.min(value, 120);
          this.applyTcpOptions();
          return 0;
        case TcpOption.TCP_CORK:
          this.cork = flag;
          if (this.impl.kind === 'tcp') this.impl.sock.setCork(flag);
          return 0;
        case TcpOption.TCP_QUICKACK:
          this.quickAck = flag ? 1 : 0;
          this.applyTcpOptions();
          return 0;
        case TcpOption.TCP_USER_TIMEOUT: // Linux: negative is EINVAL
          if (value < 0) return E.EINVAL;
          this.userTimeout = value;
          this.applyTcpOptions();
          return 0;
        case TcpOption.TCP_NOTSENT_LOWAT: // any int, kept as a u32 (-1 is UINT_MAX)
          this.notsentLowat = value >>> 0;
          this.applyTcpOptions();
          return 0;
        default: {
          const r = this.tcpOpts.set(name, value, this.tcpOptionsView());
          if (r === 0) this.applyTcpOptions();
          return r ?? E.ENOPROTOOPT;
        }
      }
    }
    const rx = this.rxFlag(level, name);
    if (rx) {
      rx.flags[rx.key] = flag;
      return 0;
    }
    if (level === SocketLevel.SOL_IP && name === IpOption.IP_TOS) {
      // __ip_sock_set_tos: the low byte; a stream socket keeps its ECN bits (TCP owns them).
      const v = value & 0xff;
      this.ipTos = tcp ? (v & ~3) | (this.ipTos & 3) : v;
      this.applyTcpOptions();
      return 0;
    }
    if (level === SocketLevel.SOL_IPV6 && this.family === 6 && name === Ipv6Option.IPV6_TCLASS) {
      // RFC 3542 6.5: -1 restores the default, 0.
      if (value < -1 || value > 0xff) return E.EINVAL;
      const v = value === -1 ? 0 : value;
      this.tclass = tcp ? (v & ~3) | (this.tclass & 3) : v;
      this.applyTcpOptions();
      return 0;
    }
    const hops = level === SocketLevel.SOL_IPV6 && this.family === 6 && name === Ipv6Option.IPV6_UNICAST_HOPS;
    const cscov = name === UDPLITE_SEND_CSCOV || name === UDPLITE_RECV_CSCOV;
    if (!tcp && (level === SOL_UDP || level === SOL_UDPLITE) && cscov && this.impl.kind === 'udp') {
      // udp_lib_setsockopt: UDP-Lite only; 1..7 become 8 (the header), above 65535 is 65535.
      const u = this.impl.sock;
      if (!u.lite) return E.ENOPROTOOPT;
      const v = value !== 0 && value < 8 ? 8 : Math.min(value, 0xffff);
      if (name === UDPLITE_SEND_CSCOV) u.sendCoverage = v;
      else {
        u.recvCoverage = v;
        u.recvCoverageSet = true;
      }
      return 0;
    }
    if (level === SocketLevel.SOL_IP && name === IpOption.IP_TTL) {
      // -1 returns to the namespace's default (do_ip_setsockopt).
      if (value !== -1 && (value < 1 || value > 255)) return E.EINVAL;
      this.ipTtl = value;
      this.applyHops();
      return 0;
    }
    if (hops) {
      // -1 hands the hop limit back to the link's (do_ipv6_setsockopt).
      if (value < -1 || value > 255) return E.EINVAL;
      this.hopLimit = value;
      this.applyHops();
      return 0;
    }
    if (level === SocketLevel.SOL_IPV6 && this.family === 6 && name === Ipv6Option.IPV6_V6ONLY) {
      // Linux (do_ipv6_setsockopt): only before the socket is bound.
      if (this.impl.sock.local) return E.EINVAL;
      this.v6only = flag;
      this.applyV6only();
      return 0;
    }
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setInt32(0, value, true);
    const r = this.ipOpts.set(this.optionSocket(), level, name, value, bytes);
    if (r === 0) this.applyIpOptions();
    // IP_RECVERR / IPV6_RECVERR off: skb_errqueue_purge.
    const recvErr =
      (level === SocketLevel.SOL_IP && name === IpOption.IP_RECVERR) ||
      (level === SocketLevel.SOL_IPV6 && name === Ipv6Option.IPV6_RECVERR);
    if (r === 0 && recvErr && !flag) this.errorQueue?.purge();
    if (r === 0 && level === SOL_UDP && name === UdpOption.UDP_CORK && !flag) this.pushCorked(); // udp_push_pending_frames
    return r ?? E.ENOPROTOOPT;
  }

  /**
   * The receive-report flag an option names: IP_PKTINFO, IP_RECVTTL, IP_RECVTOS (any inet
   * socket) and IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS (AF_INET6).
   */
  private rxFlag(level: number, name: number): { flags: IpRecvFlags; key: keyof IpRecvFlags } | undefined {
    if (level === SocketLevel.SOL_IP) {
      const f = this.rxFlags.v4;
      if (name === IpOption.IP_PKTINFO) return { flags: f, key: 'pktinfo' };
      if (name === IpOption.IP_RECVTTL) return { flags: f, key: 'hopLimit' };
      if (name === IpOption.IP_RECVTOS) return { flags: f, key: 'trafficClass' };
      if (name === IpOption.IP_RECVORIGDSTADDR) return { flags: f, key: 'origDst' };
    } else if (level === SocketLevel.SOL_IPV6 && this.family === 6) {
      const f = this.rxFlags.v6;
      if (name === Ipv6Option.IPV6_RECVPKTINFO) return { flags: f, key: 'pktinfo' };
      if (name === Ipv6Option.IPV6_RECVHOPLIMIT) return { flags: f, key: 'hopLimit' };
      if (name === Ipv6Option.IPV6_RECVTCLASS) return { flags: f, key: 'trafficClass' };
      if (name === Ipv6Option.IPV6_RECVORIGDSTADDR) return { flags: f, key: 'origDst' };
    }
    return undefined;
  }

  /**
   * sock_setsockopt's SO_SNDBUF/SO_RCVBUF: the value, read as unsigned (a negative one is huge),
   * is capped at wmem_max/rmem_max, then doubled for bookkeeping overhead and raised to
   * SOCK_MIN_*. The FORCE variants (the caller has checked CAP_NET_ADMIN) skip the cap and take
   * a negative value as 0.
   */
  private setBufferSize(name: number, value: number): void {
    const force = name === SocketOption.SO_SNDBUFFORCE || name === SocketOption.SO_RCVBUFFORCE;
    const snd = name === SocketOption.SO_SNDBUF || name === SocketOption.SO_SNDBUFFORCE;
    let v = force
      ? Math.max(value, 0)
      : Math.min(value >>> 0, snd ? this.config.wmemMax : this.config.rmemMax);
    v = Math.min(v, Math.floor(INT_MAX / 2));
    const impl = this.impl;
    if (snd) {
      this.sndBuf = Math.max(v * 2, SOCK_MIN_SNDBUF);
      this.sndBufLock = true;
      if (impl.kind === 'tcp') impl.sock.setSendBuffer(this.sndBuf);
    } else {
      this.rcvBuf = Math.max(v * 2, SOCK_MIN_RCVBUF);
      this.rcvBufLock = true;
      this.applyRcvLimit();
      if (impl.kind === 'tcp') impl.sock.setReceiveSpace(tcpReceiveSpace(this.rcvBuf));
    }
    // A listener's sizes reach its connections through rings() as they are made.
  }

  /**
   * The hop limit of the socket's packets to `dst` now: for IPv6 IPV6_UNICAST_HOPS or, while it
   * is unset, the hop_limit of the link to `dst`; for IPv4, an AF_INET6 socket's to an
   * IPv4-mapped address included (udp_sendmsg's ip_select_ttl), IP_TTL or, while it is unset,
   * net.ipv4.ip_default_ttl.
   */
  private sendHops(dst: IpAddress | undefined): number {
    const own = this.ownHops(dst);
    if (own !== -1) return own;
    const v4 = dst !== undefined && (dst.version === 4 || dst.v4Mapped() !== undefined);
    return this.family === 6 && !v4 ? this.stack.ipv6HopLimit(dst) : this.stack.sysctl.defaultTtl;
  }

  /** The IP_TTL or IPV6_UNICAST_HOPS that applies to packets to `dst` (see {@link sendHops}); -1: unset. */
  private ownHops(dst: IpAddress | undefined): number {
    const v4 = dst !== undefined && (dst.version === 4 || dst.v4Mapped() !== undefined);
    return this.family === 6 && !v4 ? this.hopLimit : this.ipTtl;
  }

  /**
   * Hands a new IP_TTL or IPV6_UNICAST_HOPS to the connection or datagram socket: a connection
   * keeps -1 for unset and reads the sysctl per segment (TcpSocket.hopsConf).
   */
  private applyHops(): void {
    const impl = this.impl;
    if (impl.kind === 'tcp') impl.sock.hopLimit = this.ownHops(impl.sock.remote?.addr);
    else if (impl.kind !== 'listener') impl.sock.hopLimit = this.sendHops(impl.sock.remote?.addr);
  }

  /**
   * What getsockopt(IPV6_UNICAST_HOPS) shows while it is unset: the hop limit of the route a
   * connected socket holds, else net.ipv6.conf.all.hop_limit (ipv6_getsockopt).
   */
  private routeHopLimit(): number {
    const impl = this.impl;
    const connected = impl.kind !== 'listener' && (impl.kind !== 'tcp' || impl.sock.isConnected);
    const peer = connected ? impl.sock.remote : undefined;
    return this.stack.ipv6HopLimit(peer?.addr);
  }

  /** Pushes the keepalive settings and hop limit down to the TCP connection. */
  private applyTcpOptions(): void {
    if (this.impl.kind !== 'tcp') return;
    const s = this.impl.sock;
    s.keepAlive = this.keepAlive;
    s.keepIdle = this.keepIdle === undefined ? undefined : this.keepIdle * 1000;
    s.keepIntvl = this.keepIntvl === undefined ? undefined : this.keepIntvl * 1000;
    s.keepCnt = this.keepCnt;
    s.linger2 = this.linger2 === undefined || this.linger2 < 0 ? this.linger2 : this.linger2 * 1000;
    s.hopLimit = this.ownHops(s.remote?.addr);
    s.trafficClass = s.family === 4 ? this.ipTos : this.tclass;
    s.noDelay = this.noDelay;
    // TCP_QUICKACK=1 (Linux leaves delayed-ACK "pingpong" mode): here it means an ACK for every
    // segment; the default keeps delayed ACKs, which Linux also reports as 1.
    s.quickAck = this.quickAck === 1;
    s.userTimeout = this.userTimeout;
    s.notsentLowat = this.notsentLowat;
    s.oobInline = this.urgInline;
    s.onUrgent = () => this.onUrgent?.();
    if (this.congestion) s.setCongestion(this.congestion);
    this.tcpOpts.apply(s, this.rcvBufLock);
  }

  /** What tcp-options.ts needs to know of this socket. */
  private tcpOptionsView(): TcpOptionsView {
    const impl = this.impl;
    return {
      conn: impl.kind === 'tcp' ? impl.sock : undefined,
      listening: impl.kind === 'listener',
      receiveSpace: this.rcvBufLock
        ? tcpReceiveSpace(this.rcvBuf)
        : (this.config.tcpRcvRing ?? this.config.rcvBuf),
      netns: this.stack,
      clockMs: () => tcpClockMs(this.stack.pollNow(), this.stack.monotonicOffset),
    };
  }

  /**
   * Implements getsockopt(2) with its bytes: the options with struct or string values
   * (SO_LINGER, TCP_INFO, TCP_CONGESTION) and every integer option of {@link getsockopt}, cut
   * to `optlen` as Linux copies at most that much. EINVAL for a negative length. An option
   * that reports the length it needs with its error (TCP_SAVED_SYN into too small a buffer:
   * EINVAL) writes it through `storeLen`, the caller's store to `*optlen`.
   */
  getsockoptBytes(
    level: number,
    name: number,
    optlen: number,
    storeLen?: (n: number) => LinuxError | undefined,
  ): Uint8Array | LinuxError {
    if (optlen < 0) return E.EINVAL;
    if (this.impl.kind === 'raw') {
      const r = this.getRawOption(this.impl.sock, level, name);
      if (r !== undefined) return isError(r) ? r : r.subarray(0, Math.min(optlen, r.length));
    }
    const tcp = this.type === SockType.SOCK_STREAM;
    let full: Uint8Array;
    const so = level === SocketLevel.SOL_SOCKET ? this.socketLevelBytes(name) : undefined;
    if (so) {
      full = so;
    } else if (level === SocketLevel.SOL_SOCKET && name === SocketOption.SO_LINGER) {
      full = new Uint8Array(8);
      const dv = new DataView(full.buffer);
      dv.setInt32(0, this.linger.onoff, true);
      dv.setInt32(4, this.linger.seconds, true);
    } else if (level === SocketLevel.SOL_TCP && tcp && name === TcpOption.TCP_INFO) {
      full = encodeTcpInfo(this.tcpInfo());
    } else if (level === SocketLevel.SOL_TCP && tcp && name === TcpOption.TCP_CONGESTION) {
      full = new Uint8Array(TCP_CA_NAME_MAX); // char[16], zero-padded
      full.set(new TextEncoder().encode(this.congestionName()));
    } else {
      const bytes =
        level === SocketLevel.SOL_TCP && tcp
          ? this.tcpOpts.getBytes(name, optlen, this.tcpOptionsView(), storeLen)
          : undefined;
      if (bytes !== undefined)
        return isError(bytes) ? bytes : bytes.subarray(0, Math.min(optlen, bytes.length));
      const ipBytes = this.ipOpts.get(this.optionSocket(), level, name, optlen);
      if (ipBytes !== undefined && isError(ipBytes)) return ipBytes;
      if (ipBytes instanceof Uint8Array) return ipBytes.subarray(0, Math.min(optlen, ipBytes.length));
      const v = this.getsockopt(level, name);
      if (isError(v)) return v;
      // do_ip_getsockopt: into less than an int, a value that fits a byte is one byte.
      if (IpOptions.answersByte(level, name, optlen, v)) return Uint8Array.of(v);
      full = new Uint8Array(4);
      new DataView(full.buffer).setInt32(0, v, true);
    }
    return full.subarray(0, Math.min(optlen, full.length));
  }

  /**
   * The SOL_SOCKET options whose value is not an int: SO_GET_FILTER (no filter: no bytes),
   * SO_TXTIME (struct sock_txtime, never set: zeros) and SO_MEMINFO (the 9 u32 of
   * sk_get_meminfo: the queues, the buffer sizes, the drops; a datagram socket's receive queue
   * as the truesize Linux charges it, TCP's and every send queue as bytes; UDP's forward
   * allocation). Undefined for others.
   */
  private socketLevelBytes(name: number): Uint8Array | undefined {
    // The attached program (sk_get_filter; the syscall layer sizes it in instructions).
    if (name === SocketOption.SO_GET_FILTER) return this.filter.program?.bytes.slice() ?? new Uint8Array(0);
    if (name === SocketOption.SO_TXTIME) return new Uint8Array(8);
    if (name !== SocketOption.SO_MEMINFO) return undefined;
    const impl = this.impl;
    const rx =
      impl.kind === 'tcp' ? impl.sock.recvQueue : impl.kind === 'listener' ? 0 : impl.sock.rmemAlloc();
    const tx =
      impl.kind === 'tcp' ? impl.sock.sendQueue : impl.kind === 'listener' ? 0 : impl.sock.queuedBytes();
    const drops = impl.kind === 'tcp' || impl.kind === 'listener' ? 0 : impl.sock.drops;
    const fwd = impl.kind === 'udp' ? impl.sock.forwardAlloc : 0;
    // rmem_alloc, rcvbuf, wmem_alloc, sndbuf, fwd_alloc, wmem_queued, optmem, backlog, drops
    return new Uint8Array(new Uint32Array([rx, this.rcvBuf, 0, this.sndBuf, fwd, tx, 0, 0, drops]).buffer);
  }

  /**
   * Implements setsockopt(2) with its bytes: SO_LINGER (`struct linger`), TCP_CONGESTION (a
   * name: ENOENT when unknown), and every integer option of {@link setsockopt} (EINVAL when
   * shorter than an int).
   */
  setsockoptBytes(level: number, name: number, optval: Uint8Array): 0 | LinuxError {
    this.touch();
    if (this.impl.kind === 'raw') {
      const r = this.setRawOption(this.impl.sock, level, name, optval);
      if (r !== undefined) return r;
    }
    const tcp = this.type === SockType.SOCK_STREAM;
    const dv = new DataView(optval.buffer, optval.byteOffset, optval.byteLength);
    if (level === SocketLevel.SOL_SOCKET && name === SocketOption.SO_LINGER) {
      if (optval.length < 8) return E.EINVAL;
      this.linger = { onoff: dv.getInt32(0, true) !== 0 ? 1 : 0, seconds: dv.getInt32(4, true) };
      return 0;
    }
    if (level === SocketLevel.SOL_TCP && tcp && name === TcpOption.TCP_CONGESTION) {
      if (optval.length < 1) return E.EINVAL;
      const raw = optval.subarray(0, Math.min(optval.length, TCP_CA_NAME_MAX - 1));
      const nul = raw.indexOf(0);
      const text = new TextDecoder().decode(nul >= 0 ? raw.subarray(0, nul) : raw);
      const algo = CONGESTION_ALGORITHMS.find((a) => a === text);
      if (!algo) return E.ENOENT;
      this.congestion = algo;
      this.applyTcpOptions();
      return 0;
    }
    if (level === SocketLevel.SOL_TCP && tcp) {
      const r = this.tcpOpts.setBytes(name, optval);
      if (r !== undefined) return r;
    }
    const byteValue = IpOptions.byteOptionValue(level, name, optval);
    if (byteValue !== undefined)
      return isError(byteValue) ? byteValue : this.setsockopt(level, name, byteValue);
    if (IpOptions.valueLength(level, name) > 4 || optval.length < 4) {
      // IP_OPTIONS, IP_MULTICAST_IF, IP_ADD_MEMBERSHIP...: values that are not (only) an int.
      const v = optval.length >= 4 ? dv.getInt32(0, true) : 0;
      const r = this.ipOpts.set(this.optionSocket(), level, name, v, optval);
      if (r === 0) this.applyIpOptions();
      if (r !== undefined) return r;
    }
    if (optval.length < 4) return E.EINVAL;
    return this.setsockopt(level, name, dv.getInt32(0, true));
  }

  /**
   * `v` as this socket's protocol socket (at creation, connect, listen, disconnect): it receives
   * through this socket's filter. A plain field rather than a setter, since every call reads it.
   */
  private take(v: Impl): Impl {
    v.sock.filter = this.filter;
    return v;
  }

  private congestionName(): CongestionAlgorithm {
    if (this.impl.kind === 'tcp') return this.impl.sock.congestion;
    return this.congestion ?? this.stack.defaultCongestion;
  }

  /**
   * TCP_INFO for this socket. A listener reports what tcp_get_info fills in before it stops for
   * one: LISTEN, a fresh socket's congestion window and reordering, and in the aliased fields
   * the connections ready for accept (tcpi_unacked) and the backlog (tcpi_sacked).
   */
  private tcpInfo(): TcpInfo {
    const impl = this.impl;
    if (impl.kind === 'tcp') return impl.sock.info();
    if (impl.kind !== 'listener') return { ...EMPTY_TCP_INFO, state: LINUX_TCP_LISTEN };
    return {
      ...EMPTY_TCP_INFO,
      state: LINUX_TCP_LISTEN,
      sndCwnd: TCP_INIT_CWND,
      reordering: TCP_REORDERING,
      unacked: impl.sock.pendingCount,
      sacked: impl.sock.backlog,
    };
  }

  /**
   * FIONREAD: bytes (stream) or the next datagram's length waiting to be read; EINVAL on a
   * listener, as tcp_ioctl answers; ENOTTY on a ping socket, whose protocol has no ioctl.
   */
  inq(): number | LinuxError {
    const impl = this.impl;
    if (impl.kind === 'tcp') return impl.sock.readable;
    if (impl.kind === 'udp' || impl.kind === 'raw') return impl.sock.nextDatagramLength();
    return impl.kind === 'icmp' ? E.ENOTTY : E.EINVAL;
  }

  /**
   * SIOCOUTQ: bytes not yet acknowledged (stream) or queued (datagram); EINVAL on a listener,
   * ENOTTY on a ping socket.
   */
  outq(): number | LinuxError {
    const impl = this.impl;
    if (impl.kind === 'tcp') return impl.sock.sendQueue;
    if (impl.kind === 'udp' || impl.kind === 'raw') return impl.sock.queuedBytes();
    return impl.kind === 'icmp' ? E.ENOTTY : E.EINVAL;
  }

  /**
   * SIOCATMARK: 1 when the next byte to read is the urgent byte (read with MSG_OOB or not), as
   * sockatmark(3) asks; a listener answers 0 (Linux tcp_ioctl); datagram sockets have no such
   * request (ENOTTY).
   */
  atMark(): number | LinuxError {
    if (this.type !== SockType.SOCK_STREAM) return E.ENOTTY;
    return this.impl.kind === 'tcp' && this.impl.sock.atUrgentMark ? 1 : 0;
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
   * Arrivals so far, each one a sk_data_ready call in Linux: datagrams queued (UDP, ping, raw),
   * segments that made data or a FIN readable (TCP), connections that completed their handshake
   * (a listener). Signal-driven I/O counts by it what readiness edges hide, an arrival behind one
   * not yet read. It restarts from 0 when listen(2) turns the socket into a listener.
   */
  get arrivals(): number {
    return this.impl.sock.arrivals;
  }

  /**
   * Registers `wake(events)` to run whenever this socket's readiness bits change (checked after
   * each `Stack.poll` and `Stack.notifyWatchers`); undefined unregisters. This is what an epoll
   * or poll wait queue hangs on.
   */
  setReadinessListener(wake: ((events: number) => void) | undefined): void {
    this.unwatch?.();
    this.unwatchArrivals?.();
    this.unwatchArrivals = undefined;
    this.unwatchWakeups?.();
    this.wake = wake;
    this.unwatch = wake ? this.stack.watch(this, () => this.readiness(), wake, this.watchOwner) : undefined;
    this.unwatchWakeups = wake ? this.watchWakeups(wake) : undefined;
    this.watchArrivals();
  }

  /**
   * Whether the stack works out the readiness for the listener after each poll (on by default):
   * off while nobody waits on the socket, the listener having no one to tell. Turned on, it
   * reports changes from the bits at that moment on (see Stack.followWatcher). Datagram
   * sockets' arrival watchers stay on.
   */
  followReadiness(on: boolean): void {
    this.stack.followWatcher(this, on);
  }

  /** The pending error and error queue of a datagram socket (UDP, ping, raw), or a TCP connection's error queue. */
  private get errorQueue(): SocketErrors | undefined {
    const impl = this.impl;
    return impl.kind === 'udp' || impl.kind === 'icmp' || impl.kind === 'raw' || impl.kind === 'tcp'
      ? impl.sock.errors
      : undefined;
  }

  /**
   * A datagram socket's waiters are woken at every datagram queued (sk_data_ready) and every
   * error reported (sk_error_report), whether its readiness bits change or not, so an
   * edge-triggered epoll hears of each: its listener also runs whenever either count moves.
   */
  private watchWakeups(wake: (events: number) => void): (() => void) | undefined {
    const impl = this.impl;
    if (impl.kind !== 'udp' && impl.kind !== 'icmp' && impl.kind !== 'raw') return undefined;
    const sock = impl.sock;
    return this.stack.watch(
      {},
      () => sock.arrivals + sock.errors.reports,
      () => wake(this.readiness()),
      this.watchOwner,
    );
  }

  /**
   * What the stack's readiness watchers of this socket follow: a TCP connection or listener
   * and a UDP socket report what happens to them (see Stack.touch), so the watchers run only
   * then; ping and raw sockets' run at every poll.
   */
  private get watchOwner(): object | undefined {
    return this.type === SockType.SOCK_STREAM || this.impl.kind === 'udp' ? this : undefined;
  }

  /** A call reached this socket: the next poll dispatches its connection and reads its readiness. */
  private touch(): void {
    const impl = this.impl;
    if (impl.kind === 'tcp') this.stack.touch(impl.sock);
    this.stack.touchOwner(this);
  }
  private unwatch: (() => void) | undefined;
  private wake: ((events: number) => void) | undefined;
  private unwatchArrivals: (() => void) | undefined;
  private unwatchWakeups: (() => void) | undefined;

  /**
   * With SO_PEEK_OFF set, a peek past the queued bytes of a TCP socket waits for more of them
   * although the socket stays readable (Linux's sk_wait_data wakes on every arrival), so the
   * listener also runs whenever the receive queue changes, not only when the readiness bits do.
   * (A datagram socket's listener runs at every arrival anyway: see {@link watchWakeups}.)
   */
  private watchArrivals(): void {
    const wake = this.wake;
    if (!wake || this.peekOffset < 0 || this.unwatchArrivals) return;
    const queued = (): number => {
      const impl = this.impl;
      return impl.kind === 'tcp' ? impl.sock.recvQueue : 0;
    };
    this.unwatchArrivals = this.stack.watch({}, queued, () => wake(this.readiness()), this.watchOwner);
  }

  /**
   * Aborts the socket from outside the application with `err` (sock_diag's SOCK_DESTROY, `ss -K`):
   * tcp_abort for a connection ({@link TcpSocket.destroy}) or a listener
   * ({@link TcpListener.destroy}), udp_abort ({@link UdpSocket.destroy}) or raw_abort
   * ({@link RawSocket.destroy}). A ping socket has no abort (no inet_diag handler reaches one on
   * Linux): EOPNOTSUPP. Whether the caller may (CAP_NET_ADMIN) is the caller's decision.
   */
  destroy(err: LinuxError): 0 | LinuxError {
    this.touch();
    const impl = this.impl;
    if (impl.kind === 'icmp') return E.EOPNOTSUPP;
    impl.sock.destroy(err);
    // __udp_disconnect forgets the device binding too (sk_bound_dev_if = 0).
    if (impl.kind === 'udp' || impl.kind === 'raw') this.boundDevIf = 0;
    return 0;
  }

  /**
   * Implements close(2) of the last reference. With SO_LINGER on and a zero timeout a TCP
   * connection is aborted with a RST, as Linux does; with a non-zero timeout the connection
   * closes in the background as without linger (the caller may wait on `lingerDone`).
   */
  close(): void {
    this.touch();
    this.setReadinessListener(undefined);
    this.impl.sock.owner = undefined;
    if (this.impl.kind === 'tcp' && this.linger.onoff && this.linger.seconds === 0) this.impl.sock.abort();
    else this.impl.sock.close();
  }

  /** SO_LINGER with a timeout: whether everything sent was acknowledged (what a lingering close waits for). */
  lingerDone(): boolean {
    return this.impl.kind !== 'tcp' || this.impl.sock.sendQueue === 0 || !this.impl.sock.isConnected;
  }

  /** The SO_LINGER timeout (ms) a blocking close waits at most, or undefined when not lingering. */
  get lingerTimeout(): number | undefined {
    return this.linger.onoff && this.linger.seconds > 0 ? this.linger.seconds * 1000 : undefined;
  }
}

/** SOL_RAW and its ICMP_FILTER (<linux/icmp.h>); SOL_ICMPV6 and ICMPV6_FILTER; IPV6_CHECKSUM. */
const SOL_RAW = 255;
/** IPPROTO_MAX of <linux/in.h> (IPPROTO_MPTCP + 1). */
const IPPROTO_MAX = 263;
const ICMP_FILTER = 1;
const SOL_ICMPV6 = 58;
const ICMPV6_FILTER = 1;
const IPV6_CHECKSUM = 7;

/** An int as the 4 bytes of a control message. */
function intBytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}
