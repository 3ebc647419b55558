/**
 * UDP sockets: bind, connect, sendto/recvfrom over caller-owned datagram queues. A connected
 * socket receives only from its peer and learns of hard ICMP errors (port unreachable:
 * ECONNREFUSED) on its next call, as on Linux; with IP_RECVERR / IPV6_RECVERR every socket
 * learns of every ICMP error, and keeps it on its error queue (see error-queue.ts). An
 * abort from outside (`destroy`, udp_abort behind sock_diag's SOCK_DESTROY) is reported the same
 * way and disconnects the socket.
 *
 * @module
 */
import { E, isError, PollEvent, type LinuxError } from '@tsvisor/abi';
import type { IcmpErrorReport, ReceivedIp } from '../iface/interface.js';
import type { DispatchContext } from '../iface/outgoing.js';
import { NeighborHold } from './datagram-queues.js';
import { PacketBuffer } from '../storage/ring-buffer.js';
import type { IpAddress, IpEndpoint } from '../wire/ip-address.js';
import { unspecifiedAddress } from '../wire/ip-address.js';
import { UDP_HEADER_LEN, type UdpRepr } from '../wire/udp.js';
import { NetMib, type UdpMib } from '../stats/mib.js';
import type { PortSpace, SocketEnv } from './socket-set.js';
import { WOULD_BLOCK, type WouldBlock } from './would-block.js';
import { PmtuDisc, UDP_MAX_SEGMENTS } from './ip-options.js';
import type { SocketFilter } from './cbpf.js';
import { udpFilterPacket } from './filter-packet.js';
import { joinReuseport, leaveReuseport, type ReuseportGroup } from './reuseport.js';
import { icmpErrno, SocketErrors } from './error-queue.js';
import { datagramTruesize, sizeReceiveQueue } from './skb-truesize.js';
import { IPV4_HEADER_LEN } from '../wire/ipv4.js';
import { IPV6_HEADER_LEN } from '../wire/ipv6.js';

/** Largest UDP payload over IPv4 and IPv6 (65535 - IP header - UDP header). */
const MAX_PAYLOAD = { 4: 65507, 6: 65527 } as const;
/** Staging for outgoing datagrams: filled and serialised within one synchronous emit, so shared. */
const SCRATCH = new Uint8Array(65536);
const NO_BYTES = new Uint8Array(0);
const IPPROTO_UDP = 17;
const IPPROTO_UDPLITE = 136;

/** What a received datagram keeps of its IP header, for recvmsg's ancillary data. */
export interface UdpRxMeta {
  readonly from: IpEndpoint;
  /** The destination address of the IP header (IP_PKTINFO's ipi_addr, IPV6_PKTINFO's address). */
  readonly dst: IpAddress;
  /** TTL or hop limit (IP_RECVTTL, IPV6_RECVHOPLIMIT). */
  readonly hopLimit: number;
  /** TOS byte or traffic class (IP_RECVTOS, IPV6_RECVTCLASS). */
  readonly trafficClass: number;
  /** The link it arrived on (IP_PKTINFO's ipi_ifindex, IPV6_PKTINFO's ipi6_ifindex). */
  readonly ifindex: number;
  /** UDP_GRO: the datagram is a whole UDP_SEGMENT send of segments of this size (the UDP_GRO message). */
  readonly gsoSize?: number;
  /** What Linux charges the datagram against SO_RCVBUF: its sk_buff's truesize (see skb-truesize.ts). */
  readonly truesize: number;
}

/** A datagram received: its length, sender, IP header fields and whether `out` was too short for it. */
export interface UdpReceived {
  readonly len: number;
  readonly from: IpEndpoint;
  /** MSG_TRUNC: the datagram was longer than the buffer (the rest is discarded). */
  readonly truncated: boolean;
  /** The IP header fields of the datagram. */
  readonly meta: UdpRxMeta;
  /** A peek at an offset (SO_PEEK_OFF): where in the datagram the copy began. */
  readonly skip?: number;
}

/** Per-datagram overrides from sendmsg's ancillary data (IP_TTL/IPV6_HOPLIMIT, IP_TOS/IPV6_TCLASS, *_PKTINFO). */
export interface UdpSendOptions {
  readonly hopLimit?: number;
  readonly trafficClass?: number;
  /** Source address to send from (must be local: EINVAL otherwise, as ip6_datagram_send_ctl). */
  readonly src?: IpAddress;
  /** UDP_SEGMENT (option or control message): the data leaves as datagrams of this size. */
  readonly gsoSize?: number;
}

/** The page size receive memory is reserved in (sk_mem_pages). */
const PAGE_SIZE = 4096;

interface TxMeta {
  readonly src: IpAddress;
  readonly dst: IpEndpoint;
  readonly hopLimit: number;
  readonly trafficClass: number;
  /** UDP_SEGMENT: the datagram leaves as segments of this size (0: as it is). */
  readonly gsoSize: number;
  /** The MTU the datagram is fragmented to where it is below the link's (Outgoing's pathMtu). */
  readonly pathMtu: number;
  /** DF on an IPv4 datagram that is not fragmented (Outgoing's dontFragment). */
  readonly dontFragment: boolean;
}

/** The caller-owned queues of a UDP socket. */
export interface UdpBuffers {
  readonly rx: PacketBuffer<UdpRxMeta>;
  readonly tx: PacketBuffer<TxMeta>;
}

/** Makes the two queues of a UDP socket over fresh storage (a convenience for callers). */
export function udpBuffers(slots = 64, bytes = 65536): UdpBuffers {
  return {
    rx: new PacketBuffer(slots, new Uint8Array(bytes)),
    tx: new PacketBuffer(slots, new Uint8Array(bytes)),
  };
}

/** A UDP socket; create it with `Stack.udpSocket`. */
export class UdpSocket extends NeighborHold {
  /** @internal the order of its creation in its stack (ties between equal matches go to the first) */
  order = 0;
  /** The bound endpoint (address may be unspecified), or undefined before bind. */
  local: IpEndpoint | undefined;
  /** The connected peer, if any. */
  remote: IpEndpoint | undefined;
  /** SO_REUSEADDR. */
  reuseAddr = false;
  /** SO_REUSEPORT (see {@link PortBinding.reusePort}). */
  reusePort = false;
  /** The SO_REUSEPORT group this socket is in, or whose program it attached before bind (see reuseport.ts). */
  reuseportGroup: ReuseportGroup<UdpSocket> | undefined;
  /** IP_TTL / IPV6_UNICAST_HOPS. */
  hopLimit = 64;
  /** IP_TOS / IPV6_TCLASS: the TOS byte or traffic class of sent datagrams. */
  trafficClass = 0;
  private rcvLimitValue = Infinity;
  /**
   * Datagrams dropped on arrival: over SO_RCVBUF, by the socket filter, or short of UDP-Lite's
   * coverage (sk_drops: SO_MEMINFO's and /proc/net/udp's drops).
   */
  drops = 0;
  /**
   * IPV6_V6ONLY of an AF_INET6 socket (the socket layer sets it; Linux's default is off). With it
   * off the socket is dual-stack: bound to `::` it also receives IPv4 datagrams, and IPv4-mapped
   * addresses (::ffff:a.b.c.d) name IPv4 peers and local addresses.
   */
  v6only = true;
  /** The socket-layer object this socket serves (an InetSocket), for /proc/net; undefined once closed. */
  owner: object | undefined;
  /** SO_BINDTODEVICE's ifindex (0: none): datagrams come in and go out on that link only. */
  boundDevIf = 0;
  /** IP_FREEBIND / IP_TRANSPARENT: bind may name an address that is not this host's. */
  nonLocalBind = false;
  /** IP_LOCAL_PORT_RANGE (see {@link PortBinding.localPortRange}). */
  localPortRange = 0;
  /**
   * UDP_NO_CHECK6_TX: IPv6 datagrams leave with checksum 0; UDP_NO_CHECK6_RX: such datagrams
   * are taken (else dropped as checksum errors, RFC 6936).
   */
  noCheck6Tx = false;
  noCheck6Rx = false;
  /** IP_UNICAST_IF: the link IPv4 unicast datagrams leave by when the socket names none (0: the route's). */
  unicastIf = 0;
  /**
   * IP_MULTICAST_IF / IPV6_MULTICAST_IF (the link groups are sent out of, 0: the route's) and
   * IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS (the hop limit of datagrams to a group).
   */
  mcastIf = 0;
  mcastIf6 = 0;
  mcastTtl = 1;
  mcastHops6 = 1;
  /** Whether the socket joined `group` on link `ifindex` (IP_ADD_MEMBERSHIP, IPV6_JOIN_GROUP). */
  memberOf: (group: IpAddress, ifindex: number) => boolean = () => false;
  /**
   * IP_MULTICAST_ALL (IPv4) / IPV6_MULTICAST_ALL (IPv6): the socket also gets groups it did not
   * join that another socket joined.
   */
  multicastAll: (v: 4 | 6) => boolean = () => true;
  /**
   * UDP_GRO: a UDP_SEGMENT send from this host is read as one datagram (with the segment size
   * for recvmsg's UDP_GRO message), as Linux's loopback delivers the GSO packet whole; without
   * it the segments are read one by one. Separate datagrams are never merged.
   */
  gro = false;
  /**
   * Whether a datagram of IP version `v` must not be fragmented (IP_PMTUDISC_DO and kin,
   * IPV6_DONTFRAG): one larger than the path MTU is then EMSGSIZE.
   */
  dontFragment: (v: 4 | 6) => boolean = () => false;
  /** IP_MTU_DISCOVER / IPV6_MTU_DISCOVER (PmtuDisc): whether ICMP's "too big" is an error. */
  pmtuDisc: (v: 4 | 6) => number = () => PmtuDisc.WANT;
  /** Asynchronous errors (from ICMP, or an abort) and the error queue of IP_RECVERR. */
  readonly errors = new SocketErrors(() => this.rxTruesize + this.forwardDeficit);
  /** The truesize of the queued datagrams. */
  private rxTruesize = 0;
  /**
   * How many of the queued datagrams, from the head, are in Linux's reader_queue: a read takes
   * from there, and moves everything queued there when it finds it empty (__skb_recv_udp, and
   * FIONREAD's first_packet_length).
   */
  private readerQueued = 0;
  /**
   * The truesize of datagrams read but still charged (udp_rmem_release's forward_deficit): it
   * goes back once it reaches {@link forwardThreshold} or the reader queue empties.
   */
  private forwardDeficit = 0;
  /** A quarter of SO_RCVBUF (forward_threshold). */
  private forwardThreshold = Infinity;
  /**
   * sk_forward_alloc, SO_MEMINFO's fwd_alloc: receive memory reserved in whole pages and not
   * charged yet. An arrival reserves the pages it lacks (udp_rmem_schedule); a release gives
   * back the pages wholly free and keeps the rest (udp_rmem_release).
   */
  forwardAlloc = 0;
  private closed = false;
  /**
   * bind(2) named an address / a port (Linux's SOCK_BINDADDR_LOCK, SOCK_BINDPORT_LOCK): an abort
   * keeps them, where an address connect(2) chose or a port picked automatically goes back.
   */
  private bindAddrLock = false;
  private bindPortLock = false;
  /**
   * The address bind(2) named, kept when a disconnect released the port picked with it (Linux
   * keeps inet_rcv_saddr when it unhashes the socket): getsockname shows it with port 0, and the
   * next automatic bind binds it again.
   */
  private heldAddr: IpAddress | undefined;

  /**
   * SO_RCVBUF (Linux's doubled sk_rcvbuf): a datagram whose truesize would take the receive
   * memory (queued datagrams and errors, and what reads have not given back yet) over it is
   * dropped, unless that memory is empty.
   */
  get rcvLimit(): number {
    return this.rcvLimitValue;
  }
  set rcvLimit(limit: number) {
    this.rcvLimitValue = limit;
    // udp_lib_setsockopt sets forward_threshold with every SO_RCVBUF.
    this.forwardThreshold = Math.floor(limit / 4);
    sizeReceiveQueue(this.buffers.rx, limit);
  }

  /** getsockname's endpoint: the bound one, or an address bind(2) named that lost its port; undefined when unbound. */
  get sockName(): IpEndpoint | undefined {
    return this.local ?? (this.heldAddr ? { addr: this.heldAddr, port: 0 } : undefined);
  }

  /** @internal created by the stack. */
  /**
   * UDP-Lite (RFC 3828, IPPROTO_UDPLITE) only: UDPLITE_SEND_CSCOV, the checksum coverage of sent
   * datagrams (0: all), and UDPLITE_RECV_CSCOV, the least coverage a received one must have.
   */
  sendCoverage = 0;
  recvCoverage = 0;
  /**
   * UDPLITE_RECV_CSCOV was set: from then on partially covered datagrams need at least
   * `recvCoverage` covered bytes, and none are taken while it is 0 (Linux's UDPLITE_RECV_CC).
   */
  recvCoverageSet = false;

  constructor(
    readonly family: 4 | 6,
    private readonly buffers: UdpBuffers,
    private readonly env: SocketEnv,
    private readonly ports: PortSpace<UdpSocket>,
    /** A UDP-Lite socket (its own port space and IP protocol 136). */
    readonly lite = false,
  ) {
    super();
    this.mib = env.mib ?? new NetMib();
  }

  private readonly mib: NetMib;

  /** No route to a destination of IP version `v`: OutNoRoutes, and ENETUNREACH for the caller. */
  private noRoute(dst: IpAddress): LinuxError {
    const v = dst.version;
    (v === 4 ? this.mib.ip : this.mib.ip6).OutNoRoutes++;
    return this.env.noSourceError?.(dst) ?? E.ENETUNREACH;
  }

  /** The MIB group a datagram of IP version `v` counts in (Udp, UdpLite, Udp6 or UdpLite6). */
  private mibFor(v: 4 | 6): UdpMib {
    const m = this.mib;
    return v === 4 ? (this.lite ? m.udpLite : m.udp) : this.lite ? m.udpLite6 : m.udp6;
  }

  /**
   * Implements bind(2): EINVAL when already bound or the address family differs,
   * EADDRNOTAVAIL for an address not on this stack, EADDRINUSE on conflict. Port 0 picks an
   * ephemeral port.
   */
  bind(ep: IpEndpoint): undefined | LinuxError {
    if (this.local) return E.EINVAL;
    if (ep.addr.version !== this.family) return E.EINVAL;
    // inet6_bind: an IPv4-mapped address binds the IPv4 address (EINVAL on a v6-only socket).
    const mapped = this.mapped(ep.addr);
    if (mapped === null) return E.EINVAL;
    const addr = mapped ?? ep.addr;
    if (!addr.isUnspecified() && !addr.isMulticast() && !this.nonLocalBind && !this.env.isLocalAddress(addr))
      return E.EADDRNOTAVAIL;
    const port = this.ports.claim(this, addr, ep.port, this.reuseAddr, 'random');
    if (typeof port !== 'number') return port;
    this.local = { addr, port };
    joinReuseport<UdpSocket>(this, this.ports.bound(port) ?? []);
    // The implicit binds (connect, the first send) name neither, so they lock nothing.
    this.bindAddrLock = !addr.isUnspecified();
    this.bindPortLock = ep.port !== 0;
    this.heldAddr = undefined;
    return undefined;
  }

  /**
   * inet_autobind: binds an unbound socket to an ephemeral port on the wildcard address, or on
   * the address bind(2) named if a disconnect released only its port (EADDRINUSE when no port is
   * left; the callers make it their own errno).
   */
  autobind(): undefined | LinuxError {
    return this.bind({ addr: this.heldAddr ?? unspecifiedAddress(this.family), port: 0 });
  }

  /** An AF_INET6 socket without IPV6_V6ONLY: bound to `::`, it holds the port for IPv4 too. */
  get dualStack(): boolean {
    return this.family === 6 && !this.v6only;
  }

  /**
   * The IPv4 address an IPv4-mapped address of an AF_INET6 socket stands for; undefined for
   * any other address, null when the socket is v6-only (the caller's errno).
   */
  private mapped(addr: IpAddress): IpAddress | undefined | null {
    const v4 = addr.version === 6 && this.family === 6 ? addr.v4Mapped() : undefined;
    if (!v4) return undefined;
    return this.v6only ? null : v4;
  }

  /** A peer as the stack sees it: ::ffff:a.b.c.d becomes a.b.c.d (null: v6-only socket). */
  private peer(ep: IpEndpoint): IpEndpoint | null {
    const m = this.mapped(ep.addr);
    if (m === null) return null;
    return m ? { addr: m, port: ep.port } : ep;
  }

  /**
   * Implements connect(2): fixes the peer, binds an ephemeral port if needed and picks the
   * local address from the route (ENETUNREACH without one).
   */
  connect(to: IpEndpoint): undefined | LinuxError {
    if (to.addr.version !== this.family) return E.EAFNOSUPPORT;
    const ep = this.peer(to);
    if (!ep) return E.ENETUNREACH; // udpv6 on a v6-only socket
    if (ep.port === 0) return E.ECONNREFUSED;
    const via = this.routeVia(ep.addr);
    if (isError(via)) return via;
    const src = via?.src ?? this.env.sourceAddressFor(ep.addr);
    if (!src) return this.noRoute(ep.addr); // __ip4_datagram_connect
    if (!this.local) {
      const err = this.autobind();
      // inet_autobind: a full ephemeral range is EAGAIN.
      if (err) return err === E.EADDRINUSE ? E.EAGAIN : err;
    }
    const wildcard = this.local!.addr.isUnspecified();
    if (wildcard) this.local = { addr: src, port: this.local!.port };
    this.remote = ep;
    this.errors.pending = undefined;
    // A connected socket leaves its SO_REUSEPORT group, the last member taking its slot: moved to
    // its new address (udp_lib_rehash), or, for UDP, put in the table of connections
    // (udp_lib_hash4). A UDP-Lite socket bound to an address (ip4_datagram_connect, no hash4)
    // stays a member.
    if (wildcard || !this.lite) leaveReuseport<UdpSocket>(this);
    return undefined;
  }

  /**
   * connect(2) with AF_UNSPEC (__udp_disconnect): forgets the peer and the device binding; an
   * address bind(2) did not name goes back to the wildcard, and a port it did not name is
   * released (the socket then receives nothing until a send binds it again; an address bind(2)
   * named stays, see {@link sockName}).
   */
  disconnect(): void {
    this.remote = undefined;
    this.boundDevIf = 0;
    const l = this.local;
    if (l && !this.bindAddrLock) this.local = { addr: unspecifiedAddress(this.family), port: l.port };
    if (l && !this.bindPortLock) {
      this.ports.remove(this, l.port);
      leaveReuseport<UdpSocket>(this); // udp_lib_unhash detaches it from its SO_REUSEPORT group
      this.heldAddr = this.bindAddrLock ? l.addr : undefined;
      this.local = undefined;
      // Datagrams still waiting for a link address have no source port left to leave from.
      const tx = this.buffers.tx;
      while (tx.dequeue(NO_BYTES)) continue;
    }
    this.env.touchOwner?.(this.owner);
  }

  /**
   * Implements sendto(2)/send(2): queues one datagram. An unbound socket is bound first, whatever
   * the outcome. EDESTADDRREQ without a destination on an unconnected socket, then a pending
   * error (ICMP, an abort), EMSGSIZE when too large; WOULD_BLOCK when the send queue is full.
   */
  sendto(data: Uint8Array, to?: IpEndpoint, opts?: UdpSendOptions): number | LinuxError | WouldBlock {
    if (this.closed) return E.EBADF;
    // inet_send_prepare binds an unbound socket (inet_autobind: EAGAIN when no port is left)
    // before udp_sendmsg looks at anything, so a send that fails leaves it bound too.
    if (!this.local) {
      const e = this.autobind();
      if (e) return e === E.EADDRINUSE ? E.EAGAIN : e;
    }
    const given = to ?? this.remote;
    // udp_sendmsg refuses a send without a destination before it reaches the pending error.
    if (!given) return E.EDESTADDRREQ;
    if (given.addr.version !== this.family && !(given === this.remote && this.dualStack))
      return E.EAFNOSUPPORT;
    const dst = this.peer(given);
    if (!dst) return E.ENETUNREACH; // udpv6_sendmsg to a mapped address on a v6-only socket
    if (dst.port === 0) return E.EINVAL;
    // udp_sendmsg refuses more than 0xffff bytes over IPv4; the rest of IP's limit is
    // ip_append_data's (ip6_append_data's for all of IPv6), which reports it as a local error.
    if (data.length > MAX_PAYLOAD[dst.addr.version])
      return dst.addr.version === 4 && data.length > 0xffff
        ? E.EMSGSIZE
        : this.tooBig(dst, this.env.mtuFor(dst.addr));
    if (data.length > this.buffers.tx.payloadCapacity) return E.EMSGSIZE;
    if (opts?.src && !opts.src.isUnspecified() && !this.env.isLocalAddress(opts.src)) return E.EINVAL;
    const via = this.routeVia(dst.addr);
    if (isError(via)) return via;
    // Sent where nothing answers (see SocketEnv.routeVia): gone, as far as the sender knows.
    if (via?.lost) return data.length;
    const src0 =
      opts?.src && !opts.src.isUnspecified() && opts.src.version === dst.addr.version
        ? opts.src
        : this.local && !this.local.addr.isUnspecified() && this.local.addr.version === dst.addr.version
          ? this.local.addr
          : (via?.src ?? this.env.sourceAddressFor(dst.addr));
    if (!src0) return this.noRoute(dst.addr); // udp_sendmsg
    // A source of its own does not make a route: while a link is down, look for one.
    if (this.env.linkDown === true && !this.env.sourceAddressFor(dst.addr)) return this.noRoute(dst.addr);
    const v = dst.addr.version;
    const ipHeader = v === 4 ? 20 : 40;
    const gso = opts?.gsoSize ?? 0;
    const pmtuDisc = this.pmtuDisc(v);
    // ip_sk_use_pmtu: IP_PMTUDISC_PROBE and above hold datagrams to the link's MTU.
    const mtu = this.env.mtuFor(dst.addr, pmtuDisc < PmtuDisc.PROBE);
    if (gso === 0 && this.dontFragment(v) && ipHeader + UDP_HEADER_LEN + data.length > mtu)
      return this.tooBig(dst, mtu);
    // The pending error (ICMP, an abort) comes from ip_append_data's sock_alloc_send_skb, after
    // the routing and size checks.
    const err = this.takeError();
    if (err) return err;
    if (gso > 0) {
      // udp_send_skb's checks of a UDP_SEGMENT send.
      if (ipHeader + UDP_HEADER_LEN + Math.min(data.length, gso) > mtu) return E.EMSGSIZE;
      if (data.length > gso * UDP_MAX_SEGMENTS) return E.EINVAL;
      if (v === 6 && this.noCheck6Tx) return E.EINVAL; // udp_v6_send_skb: GSO needs the checksum
      if (this.lite) return E.EIO;
    }
    // Datagrams larger than the MTU are fragmented by the interface (IPv4 and IPv6), to `mtu`.
    const meta: TxMeta = {
      src: src0,
      dst,
      hopLimit:
        opts?.hopLimit ??
        (dst.addr.isMulticast() ? (dst.addr.version === 4 ? this.mcastTtl : this.mcastHops6) : this.hopLimit),
      trafficClass: opts?.trafficClass ?? this.trafficClass,
      // One entry for the whole send: the interface cuts it into segments where it leaves the
      // host, and hands it whole to a receiver on this host (see UdpSocket.process).
      gsoSize: gso > 0 && data.length > gso ? gso : 0,
      pathMtu: mtu,
      // __ip_make_skb: DF under DO and PROBE, and WANT unless the MTU is locked (ip_dont_fragment).
      dontFragment:
        pmtuDisc === PmtuDisc.DO ||
        pmtuDisc === PmtuDisc.PROBE ||
        (pmtuDisc === PmtuDisc.WANT && this.env.mtuLocked?.(dst.addr) !== true),
    };
    if (!this.buffers.tx.enqueue(meta, data)) return WOULD_BLOCK;
    this.env.queued?.(this);
    return data.length;
  }

  /**
   * EMSGSIZE of a datagram over IP's size limit, or over the path MTU `mtu` where it may not be
   * fragmented: with IP_RECVERR (IPV6_RECVERR) also a local error on the error queue
   * (ip_local_error, ipv6_local_error) with the MTU, naming the destination with the connected
   * port for IPv4 (inet_dport, 0 when unconnected) and the datagram's for IPv6.
   */
  private tooBig(dst: IpEndpoint, mtu: number): LinuxError {
    const port = dst.addr.version === 4 ? (this.remote?.port ?? 0) : dst.port;
    if (this.errors.local(dst.addr.version, E.EMSGSIZE, { addr: dst.addr, port }, mtu))
      this.env.touchOwner?.(this.owner);
    return E.EMSGSIZE;
  }

  /**
   * The route of a device-bound socket (SocketEnv.routeVia), or of an IPv4 unicast datagram of
   * a socket with IP_UNICAST_IF (udp_sendmsg, __ip4_datagram_connect: `uc_index` is the output
   * link when no other is named); undefined when neither applies.
   */
  private routeVia(
    dst: IpAddress,
  ): { readonly src: IpAddress; readonly lost: boolean } | LinuxError | undefined {
    const oif =
      this.boundDevIf !== 0
        ? this.boundDevIf
        : dst.isMulticast()
          ? dst.version === 4
            ? this.mcastIf
            : this.mcastIf6
          : dst.version === 4 && !dst.isBroadcast()
            ? this.unicastIf
            : 0;
    if (oif === 0 || !this.env.routeVia) return undefined;
    return this.env.routeVia(dst, oif);
  }

  /**
   * Implements recvfrom(2)/recv(2): copies the next datagram into `out`. With `peek`
   * (MSG_PEEK) the datagram stays queued, and a `peekOff` >= 0 (SO_PEEK_OFF) peeks that many
   * bytes into the queue (see PacketBuffer.peekAt). WOULD_BLOCK when none is queued there.
   */
  recvfrom(out: Uint8Array, peek = false, peekOff = -1): UdpReceived | LinuxError | WouldBlock {
    if (this.closed) return E.EBADF;
    const err = this.takeError();
    if (err) return err;
    if (this.readerQueued === 0) this.readerQueued = this.buffers.rx.length;
    if (peek) {
      const p = this.buffers.rx.peekAt(peekOff, out);
      if (!p) return WOULD_BLOCK;
      // udp_recvmsg: MSG_TRUNC unless the copy reached the datagram's end from the offset.
      const truncated = out.length <= p.len - p.skip && out.length < p.len;
      return { len: p.len, from: p.meta.from, truncated, meta: p.meta, skip: p.skip };
    }
    const d = this.buffers.rx.dequeue(out);
    if (!d) return WOULD_BLOCK;
    this.readerQueued--;
    this.rxTruesize -= d.meta.truesize;
    this.releaseRmem(d.meta.truesize);
    this.mibFor(d.meta.dst.version).InDatagrams++; // udp_recvmsg counts what the application reads
    return { len: d.len, from: d.meta.from, truncated: d.truncated, meta: d.meta };
  }

  /**
   * udp_rmem_release after a read: the datagram's truesize stays charged until the memory read
   * since the last release reaches a quarter of SO_RCVBUF or the reader queue is empty, so
   * SO_MEMINFO's rmem_alloc, and the room left for arrivals, lag reads.
   */
  private releaseRmem(truesize: number): void {
    this.forwardDeficit += truesize;
    if (this.forwardDeficit < this.forwardThreshold && this.readerQueued > 0) return;
    // The pages wholly free go back; the last, partly free one stays reserved.
    const fwd = this.forwardAlloc + this.forwardDeficit;
    this.forwardAlloc = fwd - Math.floor((fwd - 1) / PAGE_SIZE) * PAGE_SIZE;
    this.forwardDeficit = 0;
  }

  /** Readiness for poll/epoll: POLLIN with a datagram or error queued, POLLOUT with room, POLLERR with an error. */
  readiness(): number {
    let ev = 0;
    if (!this.buffers.rx.isEmpty()) ev |= PollEvent.POLLIN | PollEvent.POLLRDNORM;
    if (this.buffers.tx.canEnqueue(1)) ev |= PollEvent.POLLOUT | PollEvent.POLLWRNORM | PollEvent.POLLWRBAND;
    if (this.errors.pollErr) ev |= PollEvent.POLLERR;
    return ev;
  }

  /** FIONREAD for a datagram socket: the length of the next datagram (0 when none). */
  nextDatagramLength(): number {
    if (this.readerQueued === 0) this.readerQueued = this.buffers.rx.length;
    return this.buffers.rx.peek()?.len ?? 0;
  }

  /**
   * The receive memory: the truesize of the queued datagrams and errors, and of datagrams read
   * but not given back yet (sk_rmem_alloc: SO_MEMINFO's rmem_alloc).
   */
  rmemAlloc(): number {
    return this.rxTruesize + this.forwardDeficit + this.errors.charged;
  }

  /** /proc/net/udp's rx_queue (udp_rqueue_get): the receive memory less what reads have not given back. */
  rqueue(): number {
    return this.rxTruesize + this.errors.charged;
  }

  /** SIOCOUTQ for a datagram socket: payload bytes waiting to be sent. */
  queuedBytes(): number {
    return this.buffers.tx.bytes;
  }

  /** SO_ERROR: returns and clears the pending error. */
  takeError(): LinuxError | undefined {
    return this.errors.take();
  }

  /**
   * Aborts the socket from outside the application (Linux udp_abort, behind sock_diag's
   * SOCK_DESTROY): `err` is reported once, by the next receive, send or SO_ERROR (POLLERR until
   * then), and the socket is disconnected as connect(2) with AF_UNSPEC does ({@link disconnect}).
   * Datagrams already queued stay readable after the error. Nothing happens once closed.
   */
  destroy(err: LinuxError): void {
    if (this.closed) return;
    this.errors.abort(err);
    this.disconnect();
  }

  /** Releases the port; the socket is unusable afterwards. */
  close(): void {
    if (this.local) this.ports.remove(this, this.local.port);
    leaveReuseport<UdpSocket>(this);
    this.closed = true;
  }
  /** True after close(). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** @internal how well this socket matches an incoming datagram (-1: not at all). */
  matchScore(dst: IpAddress, dstPort: number, src: IpAddress, srcPort: number): number {
    const l = this.local;
    if (this.closed || !l || l.port !== dstPort) return -1;
    // A dual-stack socket on `::` takes IPv4 too (a wildcard match, as Linux scores it).
    if (l.addr.version !== dst.version && !(dst.version === 4 && this.dualStack && l.addr.isUnspecified()))
      return -1;
    let score = 0;
    if (!l.addr.isUnspecified()) {
      if (!l.addr.equals(dst)) return -1;
      score += 2;
    }
    if (this.remote) {
      if (this.remote.port !== srcPort || !this.remote.addr.equals(src)) return -1;
      score += 4;
    }
    return score;
  }

  /** @internal delivers a datagram (dropped silently when the receive queue is full, as Linux does). */
  process(src: IpAddress, dst: IpAddress, udp: UdpRepr, ip: ReceivedIp, coverage = 0, ifindex = 1): void {
    // UDP-Lite: a partially covered datagram is dropped when UDPLITE_RECV_CSCOV asks for more.
    const partial = coverage !== 0 && coverage < UDP_HEADER_LEN + udp.payload.length;
    if (partial && this.recvCoverageSet && (this.recvCoverage === 0 || coverage < this.recvCoverage)) {
      this.mibFor(dst.version).InErrors++;
      this.drops++;
      return;
    }
    if (ip.zeroChecksum6 === true && !this.noCheck6Rx) {
      const m = this.mibFor(dst.version); // udp6_csum_zero_error
      m.InCsumErrors++;
      m.InErrors++;
      return;
    }
    const meta: Omit<UdpRxMeta, 'truesize'> = {
      from: { addr: src, port: udp.srcPort },
      dst,
      hopLimit: ip.hopLimit,
      trafficClass: ip.trafficClass,
      ifindex,
    };
    const gso = ip.gsoSize ?? 0;
    const p = udp.payload;
    const port = udp.dstPort;
    if (gso === 0 || p.length <= gso) this.enqueue(meta, p, port, coverage);
    else if (this.gro)
      this.enqueue({ ...meta, gsoSize: gso }, p, port, coverage); // read whole, with the UDP_GRO message
    // udp_rcv_segment: a socket without UDP_GRO gets the segments one by one.
    else
      for (let at = 0; at < p.length; at += gso) this.enqueue(meta, p.subarray(at, at + gso), port, coverage);
  }

  /** SO_ATTACH_FILTER's program and lock (shared with the InetSocket that owns this socket). */
  filter: SocketFilter | undefined;

  /**
   * sk_filter_trim_cap(sk, skb, sizeof(struct udphdr)) in udp_queue_rcv_one_skb: the payload
   * the socket filter keeps (never cut into the header), or undefined when it drops the datagram.
   */
  private filtered(
    meta: Omit<UdpRxMeta, 'truesize'>,
    payload: Uint8Array,
    dstPort: number,
    coverage: number,
  ): Uint8Array | undefined {
    const f = this.filter;
    if (!f?.program) return payload;
    const len = UDP_HEADER_LEN + payload.length;
    const ip = {
      src: meta.from.addr,
      dst: meta.dst,
      protocol: this.lite ? IPPROTO_UDPLITE : IPPROTO_UDP,
      hopLimit: meta.hopLimit,
      trafficClass: meta.trafficClass,
      ifindex: meta.ifindex,
    };
    const keep = f.keep(
      udpFilterPacket(ip, meta.from.port, dstPort, payload, this.lite ? coverage : len),
      UDP_HEADER_LEN,
    );
    return keep < 0 ? undefined : payload.subarray(0, keep - UDP_HEADER_LEN);
  }

  /**
   * Datagrams queued so far (each one a sk_data_ready call in Linux): signal-driven I/O tells
   * arrivals behind an unread datagram apart by it, since the readiness bits stay the same.
   */
  arrivals = 0;

  /**
   * Queues a received datagram, charged the truesize of the sk_buff it came in (the filter's
   * trimming leaves that as it is); __udp_enqueue_schedule_skb drops it when that would take the
   * receive memory over SO_RCVBUF and the memory is not empty (so one datagram always fits), or
   * the queue is full.
   */
  private enqueue(
    meta: Omit<UdpRxMeta, 'truesize'>,
    data: Uint8Array,
    dstPort: number,
    coverage: number,
  ): void {
    const payload = this.filtered(meta, data, dstPort, coverage);
    // A datagram the filter drops counts as an input error (udp_queue_rcv_one_skb's drop).
    if (!payload) {
      this.mibFor(meta.dst.version).InErrors++;
      this.drops++;
      return;
    }
    const ipHeader = meta.dst.version === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
    const truesize = datagramTruesize(ipHeader + UDP_HEADER_LEN, data.length);
    const rmem = this.rmemAlloc();
    if (
      (rmem > 0 && rmem + truesize > this.rcvLimit) ||
      !this.buffers.rx.enqueue({ ...meta, truesize }, payload)
    ) {
      const m = this.mibFor(meta.dst.version);
      m.RcvbufErrors++;
      m.InErrors++;
      this.drops++;
    } else {
      this.rxTruesize += truesize;
      const lacking = truesize - this.forwardAlloc;
      if (lacking > 0) this.forwardAlloc += Math.ceil(lacking / PAGE_SIZE) * PAGE_SIZE;
      this.forwardAlloc -= truesize;
      this.arrivals++;
      this.env.touchOwner?.(this.owner); // readable now: the owner's watchers run
    }
  }

  /** @internal an ICMP error about a datagram this socket sent to `to` (__udp4_lib_err, __udp6_lib_err). */
  icmpError(to: IpEndpoint, r: IcmpErrorReport): void {
    const e = icmpErrno(r, this.pmtuDisc(r.version), false);
    if (e && this.errors.icmp(r, e, this.remote !== undefined, to, r.quoted.subarray(UDP_HEADER_LEN)))
      this.env.touchOwner?.(this.owner);
  }

  /** @internal sends queued datagrams; true when any packet left. */
  dispatch(ctx: DispatchContext): boolean {
    let sent = false;
    const tx = this.buffers.tx;
    for (let head = tx.peek(); head && this.local; head = tx.peek()) {
      const buf = SCRATCH.subarray(0, head.len);
      const meta = head.meta;
      tx.peekInto(buf);
      const r = ctx.emit({
        kind: 'udp',
        src: meta.src,
        dst: meta.dst.addr,
        hopLimit: meta.hopLimit,
        trafficClass: meta.trafficClass,
        udp: { srcPort: this.local.port, dstPort: meta.dst.port, payload: buf },
        ...(this.noCheck6Tx && meta.dst.addr.version === 6 && !this.lite ? { noChecksum: true } : {}),
        ...(meta.gsoSize > 0 ? { gsoSize: meta.gsoSize } : {}),
        pathMtu: meta.pathMtu,
        ...(meta.dontFragment ? {} : { dontFragment: false }),
        ...(this.lite ? { liteCoverage: this.sendCoverage } : {}),
      });
      if (r === 'pending') {
        this.holdForNeighbor(ctx.now);
        break;
      }
      // udp_send_skb counts each segment of a UDP_SEGMENT send.
      if (r === 'sent')
        this.mibFor(meta.dst.addr.version).OutDatagrams +=
          meta.gsoSize > 0 ? Math.ceil(head.len / meta.gsoSize) : 1;
      tx.dequeue(buf);
      sent = true;
    }
    if (sent) this.env.touchOwner?.(this.owner); // room in the send queue again
    return sent;
  }

  /** @internal the socket wants dispatch now when it has queued datagrams. */
  wantsDispatch(): boolean {
    return !this.buffers.tx.isEmpty();
  }
}
