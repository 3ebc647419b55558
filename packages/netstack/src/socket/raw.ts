/**
 * Raw IP sockets: Linux's SOCK_RAW in AF_INET (net/ipv4/raw.c) and AF_INET6 (net/ipv6/raw.c).
 * A raw socket is bound to one IP protocol. It receives a copy of every datagram of that
 * protocol addressed to this host, beside the stack's own handling of it (an echo request is
 * still answered, a TCP segment still reaches TCP): IPv4 copies carry their IP header, IPv6
 * ones only the payload. It sends its payload inside an IP header the stack builds, or, with
 * IP_HDRINCL (on from the start for IPPROTO_RAW), the caller's own IPv4 header with the fields
 * Linux fills in (raw_send_hdrinc), or with IPV6_HDRINCL the caller's IPv6 datagram as it is
 * (rawv6_send_hdrinc). ICMP errors about what it sent reach it as they reach UDP sockets
 * (raw_err, rawv6_err; see error-queue.ts). Whether the caller may open one (CAP_NET_RAW) is the
 * kernel's decision.
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';
import type { DispatchContext } from '../iface/outgoing.js';
import { checksumVerifies, internetChecksum, pseudoHeaderSum } from '../wire/checksum.js';
import type { IpAddress, IpEndpoint } from '../wire/ip-address.js';
import { IPV4_HEADER_LEN, IPV4_MAX_MTU } from '../wire/ipv4.js';
import { IPV6_HEADER_LEN } from '../wire/ipv6.js';
import { DatagramQueues, type DatagramReceived } from './datagram-queues.js';
import type { SocketEnv } from './socket-set.js';
import { WOULD_BLOCK, type WouldBlock } from './would-block.js';
import type { SocketFilter } from './cbpf.js';
import { ipFilterPacket, transportHeaderLen, type FilterIpFields } from './filter-packet.js';
import type { IcmpErrorReport } from '../iface/interface.js';
import { rawIcmpErrno } from './error-queue.js';
import { PmtuDisc } from './ip-options.js';
import { datagramTruesize } from './skb-truesize.js';

/**
 * IPPROTO_RAW: the caller always supplies the IP header; it receives only datagrams of protocol
 * 255 (not every protocol).
 */
export const IPPROTO_RAW = 255;
const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;

/** A received datagram: its length, sender (port 0) and truncation. */
export type RawReceived = DatagramReceived;

/** The IP header fields a send needs beside the payload (the socket's IP options). */
export interface RawSendOptions {
  /** IP_TOS / IPV6_TCLASS. */
  readonly trafficClass: number;
  /**
   * Whether an IPv4 datagram that fits the path MTU carries DF (__ip_make_skb: IP_MTU_DISCOVER's
   * WANT, DO and PROBE).
   */
  readonly dontFragment: boolean;
  /** IP_PMTUDISC_DO or PROBE: a datagram larger than the path MTU is EMSGSIZE, not fragmented. */
  readonly refuseFragment: boolean;
}

/** A raw IP socket; create it with `Stack.rawSocket`. */
export class RawSocket extends DatagramQueues {
  /** The bound address with the protocol as `port` (what getsockname reports, as Linux's inet_sport). */
  local: IpEndpoint | undefined;
  /**
   * The connected peer, if any, with the port connect(2) named (ip4_datagram_connect keeps it as
   * inet_dport; getpeername answers ENOTCONN while it is 0).
   */
  remote: IpEndpoint | undefined;
  reuseAddr = false;
  /**
   * SO_BINDTODEVICE's ifindex (0: none): the socket takes only datagrams and ICMP errors that
   * arrive on that link (raw_v4_match, raw_v6_match).
   */
  boundDevIf = 0;
  /** The socket-layer object this socket serves (an InetSocket); undefined once closed. */
  owner: object | undefined;
  /** IP_TTL / IPV6_UNICAST_HOPS. */
  hopLimit = 64;
  /**
   * IP_HDRINCL / IPV6_HDRINCL: the caller writes the IP header (on from the start for
   * IPPROTO_RAW, as inet_create and inet6_create set it).
   */
  hdrincl: boolean;
  /**
   * ICMP_FILTER of an IPPROTO_ICMP socket: bit `t` set drops ICMP messages of type `t` (< 32)
   * (raw_v4_input's icmp_filter).
   */
  icmpFilter = 0;
  /** ICMP6_FILTER of an IPPROTO_ICMPV6 socket: 256 bits, a set bit blocks that type. */
  readonly icmp6Filter = new Uint32Array(8);
  /**
   * IPV6_CHECKSUM: the offset of the checksum the stack computes on send and verifies on
   * receive, -1 for none. ICMPv6 sockets always have 2 (and may not change it).
   */
  checksumOffset: number;
  /**
   * IP_MTU_DISCOVER / IPV6_MTU_DISCOVER: whether a fragmentation-needed or packet-too-big
   * message is a hard error.
   */
  pmtuDisc: number = PmtuDisc.WANT;
  private ipIdent: number;

  /** @internal created by the stack. */
  constructor(
    readonly family: 4 | 6,
    /** The IP protocol (1..255): what the socket receives and the header of what it sends says. */
    readonly protocol: number,
    private readonly env: SocketEnv,
    bytes = 256 * 1024,
  ) {
    super(256, bytes, 1);
    this.hdrincl = protocol === IPPROTO_RAW;
    this.checksumOffset = family === 6 && protocol === IPPROTO_ICMPV6 ? 2 : -1;
    this.ipIdent = Math.floor(env.random() * 0x10000);
  }

  /** getsockname's endpoint: the bound (or unspecified) address, the protocol as port (0 once aborted). */
  name(unspecified: IpAddress): IpEndpoint {
    return { addr: this.local?.addr ?? unspecified, port: this.hashed ? this.protocol : 0 };
  }

  private hashed = true;

  /**
   * Whether the socket is in the raw table: it receives datagrams and is listed (/proc/net/raw,
   * sock_diag). An abort takes it out for good (raw_unhash_sk; neither bind nor connect puts it
   * back).
   */
  get isHashed(): boolean {
    return this.hashed;
  }

  /**
   * Aborts the socket from outside the application (Linux raw_abort, behind sock_diag's
   * SOCK_DESTROY): `err` is reported once by the next receive or SO_ERROR (POLLERR until then),
   * and the socket is disconnected as __udp_disconnect does for it ({@link disconnect}): the peer
   * and the bound address are forgotten (raw bind(2) sets no SOCK_BINDADDR_LOCK) and, having no
   * SOCK_BINDPORT_LOCK either, it leaves the raw table: it receives nothing from then on, though
   * it may still send. Datagrams already queued stay readable. Nothing happens once closed or
   * aborted.
   */
  destroy(err: LinuxError): void {
    if (this.closed || !this.hashed) return;
    this.errors.abort(err);
    this.disconnect();
  }

  /** Implements bind(2): a local address (EADDRNOTAVAIL otherwise); the port is ignored. */
  bind(ep: IpEndpoint): undefined | LinuxError {
    if (ep.addr.version !== this.family) return E.EINVAL;
    if (!ep.addr.isUnspecified() && !this.env.isLocalAddress(ep.addr)) return E.EADDRNOTAVAIL;
    this.local = { addr: ep.addr, port: this.protocol };
    return undefined;
  }

  /** Implements connect(2): the default destination and the only sender received from. */
  connect(ep: IpEndpoint): undefined | LinuxError {
    if (ep.addr.version !== this.family) return E.EAFNOSUPPORT;
    if (!this.env.sourceAddressFor(ep.addr)) return E.ENETUNREACH;
    this.remote = { addr: ep.addr, port: ep.port };
    return undefined;
  }

  /**
   * connect(2) with AF_UNSPEC, which is __udp_disconnect for raw sockets too: the peer and the
   * bound address are forgotten, and the socket leaves the raw table for good (see
   * {@link isHashed}).
   */
  disconnect(): void {
    this.remote = undefined;
    this.local = undefined;
    this.boundDevIf = 0;
    this.hashed = false;
  }

  /**
   * Implements sendto(2): `message` is the payload (or, with IP_HDRINCL / IPV6_HDRINCL, the
   * whole datagram). EDESTADDRREQ without a destination, EMSGSIZE beyond 64 KiB (IPv4), the
   * device's MTU (a header included) or the path MTU (IP_PMTUDISC_DO, or a header included:
   * IPv4 with DF, IPv6 always), EINVAL for an IP_HDRINCL header shorter than 20 bytes or than
   * its IHL, an IPV6_HDRINCL datagram shorter than 40, an IPv6 destination port that names
   * another protocol than the socket's (any is allowed to IPPROTO_RAW) or one above 255, or an
   * IPV6_CHECKSUM offset past the payload. An EMSGSIZE for IP's limit or the device's MTU, or
   * the path MTU under IP_PMTUDISC_DO, is also a local error on the error queue
   * ({@link tooBig}); one for the 64 KiB an IPv4 send may be is not, and one refused on the way
   * out gets an ICMP error to its source instead. With a header included a pending error fails
   * the send (sock_alloc_send_skb); without, it does not, as ip_append_data with no transport
   * header allocates no socket buffer.
   */
  sendto(message: Uint8Array, to?: IpEndpoint, opts?: RawSendOptions): number | LinuxError | WouldBlock {
    if (this.closed) return E.EBADF;
    const dst = to ?? this.remote;
    if (!dst) return E.EDESTADDRREQ;
    if (dst.addr.version !== this.family) return E.EAFNOSUPPORT;
    // rawv6_sendmsg: the port, when given, names the next header.
    const next = this.family === 6 ? to?.port || this.protocol : this.protocol;
    if (this.family === 6 && ((next !== this.protocol && this.protocol !== IPPROTO_RAW) || next > 255))
      return E.EINVAL;
    // raw_sendmsg: more than 64 KiB is no datagram at all (rawv6_sendmsg has no such check).
    if (this.family === 4 && message.length > 0xffff) return E.EMSGSIZE;
    const bound = this.local && !this.local.addr.isUnspecified() ? this.local.addr : undefined;
    const src = bound ?? this.env.sourceAddressFor(dst.addr);
    if (!src) return E.ENETUNREACH;
    // ip_sk_use_pmtu: the path MTU below IP_PMTUDISC_PROBE, else the device's; ip_append_data
    // fragments to it, and the output path a datagram with its header included
    // (ip_skb_dst_mtu, ip6_skb_dst_mtu).
    const pathMtu = this.env.mtuFor(dst.addr, this.pmtuDisc < PmtuDisc.PROBE);
    // raw_send_hdrinc and rawv6_send_hdrinc hold the datagram to the device's MTU.
    const mtu = this.hdrincl ? this.env.mtuFor(dst.addr, false) : pathMtu;
    let packet: Uint8Array;
    let refused = false;
    if (this.family === 4 && this.hdrincl) {
      // raw_send_hdrinc: the datagram must fit the device; the header is checked, then filled.
      if (message.length > mtu) return this.tooBig(dst, message, mtu);
      const pending = this.errors.take();
      if (pending) return pending;
      if (message.length < IPV4_HEADER_LEN) return E.EINVAL;
      const ihl = (message[0]! & 0x0f) * 4;
      if (ihl < IPV4_HEADER_LEN || ihl > message.length) return E.EINVAL;
      packet = message.slice();
      if (packet.subarray(12, 16).every((b) => b === 0)) packet.set(src.bytes, 12);
      packet[2] = packet.length >>> 8;
      packet[3] = packet.length & 0xff;
      if (packet[4] === 0 && packet[5] === 0 && (packet[6]! & 0x40) === 0) {
        // ip_select_ident: a datagram that may be fragmented needs an identification.
        this.ipIdent = (this.ipIdent + 1) & 0xffff || 1;
        packet[4] = this.ipIdent >>> 8;
        packet[5] = this.ipIdent & 0xff;
      }
      packet[10] = 0;
      packet[11] = 0;
      const sum = internetChecksum(packet, 0, ihl);
      packet[10] = sum >>> 8;
      packet[11] = sum & 0xff;
      // ip_fragment: with DF, one larger than the path MTU is not sent, EMSGSIZE; the interface
      // answers its source with fragmentation needed.
      refused = (packet[6]! & 0x40) !== 0 && packet.length > pathMtu;
    } else if (this.family === 4) {
      // __ip_append_data: within IP's limit, or the path MTU where it may not be fragmented.
      if (IPV4_HEADER_LEN + message.length > (opts?.refuseFragment === true ? mtu : IPV4_MAX_MTU))
        return this.tooBig(dst, message, mtu);
      // __ip_make_skb: DF only on a datagram that fits the path; one that does not is fragmented.
      // Under WANT a locked MTU takes it away too (ip_dont_fragment).
      const df =
        (opts?.dontFragment ?? true) &&
        IPV4_HEADER_LEN + message.length <= mtu &&
        !(this.pmtuDisc === PmtuDisc.WANT && this.env.mtuLocked?.(dst.addr) === true);
      packet = new Uint8Array(IPV4_HEADER_LEN + message.length);
      packet[0] = 0x45;
      packet[1] = opts?.trafficClass ?? 0;
      packet[2] = packet.length >>> 8;
      packet[3] = packet.length & 0xff;
      if (!df) {
        this.ipIdent = (this.ipIdent + 1) & 0xffff || 1;
        packet[4] = this.ipIdent >>> 8;
        packet[5] = this.ipIdent & 0xff;
      }
      packet[6] = df ? 0x40 : 0;
      packet[8] = this.hopLimit;
      packet[9] = this.protocol;
      packet.set(src.bytes, 12);
      packet.set(dst.addr.bytes, 16);
      const sum = internetChecksum(packet, 0, IPV4_HEADER_LEN);
      packet[10] = sum >>> 8;
      packet[11] = sum & 0xff;
      packet.set(message, IPV4_HEADER_LEN);
    } else if (this.hdrincl) {
      // rawv6_send_hdrinc: the datagram leaves as written, nothing in its header filled in.
      if (message.length > mtu) return this.tooBig(dst, message, mtu);
      if (message.length < IPV6_HEADER_LEN) return E.EINVAL;
      const pending = this.errors.take();
      if (pending) return pending;
      packet = message.slice();
      // ip6_fragment: not fragmented (no ignore_df), one larger than the path MTU is not sent,
      // EMSGSIZE; the interface answers its source with packet too big.
      refused = packet.length > pathMtu;
    } else {
      // __ip6_append_data: within IPv6's payload limit, or the path MTU where it may not be fragmented.
      if (message.length > (opts?.refuseFragment === true ? mtu - IPV6_HEADER_LEN : 0xffff))
        return this.tooBig(dst, message, mtu);
      const off = this.checksumOffset;
      if (off >= 0 && off + 2 > message.length) return E.EINVAL;
      packet = new Uint8Array(IPV6_HEADER_LEN + message.length);
      const tc = opts?.trafficClass ?? 0;
      packet[0] = 0x60 | (tc >>> 4);
      packet[1] = (tc & 0x0f) << 4;
      packet[4] = message.length >>> 8;
      packet[5] = message.length & 0xff;
      packet[6] = next;
      packet[7] = this.hopLimit;
      packet.set(src.bytes, 8);
      packet.set(dst.addr.bytes, 24);
      packet.set(message, IPV6_HEADER_LEN);
      if (off >= 0) {
        // rawv6_push_pending_frames: the checksum over the pseudo-header and the payload.
        const at = IPV6_HEADER_LEN + off;
        packet[at] = 0;
        packet[at + 1] = 0;
        const pseudo = pseudoHeaderSum(src, dst.addr, next, message.length);
        let sum = internetChecksum(packet, IPV6_HEADER_LEN, packet.length, pseudo);
        if (sum === 0 && next === 17) sum = 0xffff;
        packet[at] = sum >>> 8;
        packet[at + 1] = sum & 0xff;
      }
    }
    if (packet.length > this.tx.payloadCapacity) return E.EMSGSIZE;
    const meta = { src, dst: dst.addr, pathMtu, headerIncluded: this.hdrincl };
    if (!this.tx.enqueue(meta, packet)) return WOULD_BLOCK;
    this.env.queued?.(this);
    return refused ? E.EMSGSIZE : message.length;
  }

  /**
   * EMSGSIZE of a datagram over IP's size limit or the path MTU `mtu`: with IP_RECVERR
   * (IPV6_RECVERR) also a local error with the MTU (ip_local_error, ipv6_local_error), naming
   * the destination with connect(2)'s port for IPv4 (inet_dport) and, for IPv6, the flow's
   * ports, which for ICMPv6 hold the message's type and code (fl6_icmp_type overlays fl6_dport).
   */
  private tooBig(dst: IpEndpoint, message: Uint8Array, mtu: number): LinuxError {
    const port =
      this.family === 4
        ? (this.remote?.port ?? 0)
        : this.protocol === IPPROTO_ICMPV6 && !this.hdrincl && message.length >= 2
          ? (message[0]! << 8) | message[1]!
          : 0;
    if (this.errors.local(this.family, E.EMSGSIZE, { addr: dst.addr, port }, mtu))
      this.env.touchOwner?.(this.owner);
    return E.EMSGSIZE;
  }

  /**
   * raw_v4_match / raw_v6_match: whether a datagram between this host's `local` and `remote`
   * that arrived on link `iif` (-1: no socket is bound to a link) is this socket's: bound to
   * another address, connected to another peer or bound to another link, it is not.
   */
  private matches(local: IpAddress, remote: IpAddress, iif: number): boolean {
    if (this.closed || !this.hashed) return false;
    if (this.local && !this.local.addr.isUnspecified() && !this.local.addr.equals(local)) return false;
    if (this.remote && !this.remote.addr.equals(remote)) return false;
    return iif < 0 || this.boundDevIf === 0 || this.boundDevIf === iif;
  }

  /**
   * @internal raw_err / rawv6_err: an ICMP error `r`, arrived on link `iif`, about a datagram of
   * this socket's protocol sent from `local` to `remote`, `datagram` what the message quoted of
   * it from the IP header on. A socket that matches it ({@link matches}) queues it with
   * IP_RECVERR (IPV6_RECVERR), from the transport header on, or from the IP header with
   * IP_HDRINCL. True when it matched.
   */
  icmpError(
    local: IpAddress,
    remote: IpAddress,
    datagram: Uint8Array,
    r: IcmpErrorReport,
    iif = -1,
  ): boolean {
    if (!this.matches(local, remote, iif)) return false;
    const e = rawIcmpErrno(r, this.pmtuDisc);
    const payload = this.hdrincl ? datagram : r.quoted;
    if (this.errors.icmp(r, e, this.remote !== undefined, { addr: remote, port: 0 }, payload))
      this.env.touchOwner?.(this.owner);
    return true;
  }

  /**
   * @internal Offers a received datagram that arrived on link `iif` (raw_v4_input /
   * ipv6_raw_deliver): `packet` is the whole IP datagram, `payload` what follows the IP header,
   * `arrival` the link IP_PKTINFO reports (inet_iif).
   * True when the socket matches it ({@link matches}): Linux then counts it delivered, whatever
   * the socket's filters and receive queue make of it.
   */
  input(
    src: IpAddress,
    dst: IpAddress,
    packet: Uint8Array,
    payload: Uint8Array,
    iif = -1,
    arrival = 1,
  ): boolean {
    // IPPROTO_RAW sockets see only datagrams of protocol 255, as any other protocol's.
    if (!this.matches(dst, src, iif)) return false;
    this.receive(src, dst, packet, payload, arrival);
    return true;
  }

  /** Queues a datagram that matched, unless a filter drops it or the receive queue is full. */
  private receive(
    src: IpAddress,
    dst: IpAddress,
    packet: Uint8Array,
    payload: Uint8Array,
    ifindex: number,
  ): void {
    if (this.family === 4) {
      if (this.protocol === IPPROTO_ICMP && payload.length > 0) {
        const type = payload[0]!;
        if (type < 32 && (this.icmpFilter >>> type) & 1) return;
      }
    } else {
      if (this.protocol === IPPROTO_ICMPV6 && payload.length > 0) {
        const type = payload[0]!;
        if ((this.icmp6Filter[type >>> 5]! >>> (type & 31)) & 1) return;
      }
      // rawv6_rcv: with a checksum offset the datagram must verify (ICMPv6 did already).
      const off = this.checksumOffset;
      if (off >= 0 && this.protocol !== IPPROTO_ICMPV6) {
        if (off + 2 > payload.length) return;
        const pseudo = pseudoHeaderSum(src, dst, this.protocol, payload.length);
        if (!checksumVerifies(payload, 0, payload.length, pseudo)) return;
      }
    }
    let data = this.family === 4 ? packet : payload;
    // sock_queue_rcv_skb runs the filter first (sk_filter: cap 1) on the datagram as received:
    // IPv4 from the IP header, IPv6 from the payload with the header before it. A drop counts nowhere.
    const f = this.filter;
    if (f?.program) {
      const at = this.family === 4 ? 0 : packet.length - payload.length;
      const ip = this.filterIp(src, dst, packet);
      const payOffset = packet.length - payload.length - at + transportHeaderLen(this.protocol, payload);
      const keep = f.keep({ ...ipFilterPacket(ip, payload), bytes: packet, data: at, payOffset }, 1);
      if (keep < 0) return;
      data = data.subarray(0, keep);
    }
    // The copy is a clone of the datagram as it arrived: its truesize is the original's.
    const truesize = datagramTruesize(packet.length - payload.length, payload.length);
    const { hopLimit, trafficClass } = this.filterIp(src, dst, packet);
    this.queueReceived({ addr: src, port: 0 }, data, truesize, { dst, hopLimit, trafficClass, ifindex });
  }

  /** SO_ATTACH_FILTER's program and lock (shared with the InetSocket that owns this socket). */
  filter: SocketFilter | undefined;

  /** The IP header fields of a received datagram, for its filter (the arrival link is not known here: lo). */
  private filterIp(src: IpAddress, dst: IpAddress, packet: Uint8Array): FilterIpFields {
    const v4 = this.family === 4;
    return {
      src,
      dst,
      protocol: this.protocol,
      hopLimit: packet[v4 ? 8 : 7] ?? 0,
      trafficClass: v4 ? (packet[1] ?? 0) : (((packet[0] ?? 0) & 0xf) << 4) | ((packet[1] ?? 0) >> 4),
      ifindex: 1,
    };
  }

  /** @internal sends queued datagrams. */
  dispatch(ctx: DispatchContext): boolean {
    return this.dispatchQueued(
      ctx,
      (len) => new Uint8Array(len),
      (m, packet) =>
        ctx.emit({
          kind: 'ip',
          src: m.src,
          dst: m.dst,
          packet,
          ...(m.pathMtu === undefined ? {} : { pathMtu: m.pathMtu }),
          ...(m.headerIncluded === true ? { headerIncluded: true } : {}),
        }),
    );
  }
}
