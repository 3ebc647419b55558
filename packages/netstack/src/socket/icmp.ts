/**
 * ICMP echo ("ping") sockets: Linux's SOCK_DGRAM + IPPROTO_ICMP / IPPROTO_ICMPV6 sockets that
 * let unprivileged programs ping. The application writes an echo request (header and data);
 * the stack puts the socket's identifier in it (the identifier plays the port's role: bind
 * picks it, 0 means "choose one") and computes the checksum. Echo replies carrying that
 * identifier come back whole. Whether the caller may open one (net.ipv4.ping_group_range) is
 * the kernel's decision, not the stack's.
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';
import type { DispatchContext } from '../iface/outgoing.js';
import type { IpAddress, IpEndpoint } from '../wire/ip-address.js';
import { unspecifiedAddress } from '../wire/ip-address.js';
import { Icmpv4Type } from '../wire/icmpv4.js';
import { Icmpv6Type } from '../wire/icmpv6.js';
import { IPV4_HEADER_LEN, IPV4_MAX_MTU } from '../wire/ipv4.js';
import { IPV6_HEADER_LEN } from '../wire/ipv6.js';
import { DatagramQueues, type DatagramIpFields, type DatagramReceived } from './datagram-queues.js';
import type { PortSpace, SocketEnv } from './socket-set.js';
import { WOULD_BLOCK, type WouldBlock } from './would-block.js';
import type { SocketFilter } from './cbpf.js';
import { ipFilterPacket } from './filter-packet.js';
import { icmpErrno } from './error-queue.js';
import type { IcmpErrorReport } from '../iface/interface.js';
import { PmtuDisc } from './ip-options.js';
import { datagramTruesize } from './skb-truesize.js';

const ICMP_HEADER_LEN = 8;
const SCRATCH = new Uint8Array(65536);

/** A received echo reply: its length, sender (port 0) and truncation. */
export type IcmpReceived = DatagramReceived;

/** An ICMP echo socket; create it with `Stack.icmpSocket`. */
export class IcmpSocket extends DatagramQueues {
  /** The bound address and identifier (as `port`), or undefined before bind. */
  local: IpEndpoint | undefined;
  /** The connected peer (port ignored), if any. */
  remote: IpEndpoint | undefined;
  reuseAddr = false; // SO_REUSEADDR is recorded but identifiers are never shared
  /** The socket-layer object this socket serves (an InetSocket), for /proc/net; undefined once closed. */
  owner: object | undefined;
  /** IP_TTL / IPV6_UNICAST_HOPS. */
  hopLimit = 64;
  /** IP_TOS / IPV6_TCLASS of the requests. */
  trafficClass = 0;
  /** IP_MTU_DISCOVER: under IP_PMTUDISC_DONT a fragmentation-needed message is no error. */
  pmtuDisc: number = PmtuDisc.WANT;
  /**
   * A request larger than the path MTU may not be fragmented (IP_PMTUDISC_DO, IPV6_DONTFRAG...):
   * it is EMSGSIZE.
   */
  refuseFragment = false;
  /**
   * The route an IPv6 socket holds since connect(2) (its sk_dst_cache): the destination's route,
   * or the path MTU exception a packet too big had made for it; undefined once let go, or for
   * IPv4 (ping_err updates an IPv4 socket's route, see {@link routeMtu}).
   */
  private heldRoute: 'route' | 'exception' | undefined;

  /** @internal created by the stack. */
  constructor(
    readonly family: 4 | 6,
    private readonly env: SocketEnv,
    private readonly idents: PortSpace<IcmpSocket>,
    bytes = 65536,
  ) {
    super(64, bytes, ICMP_HEADER_LEN);
  }

  /** Implements bind(2): the port is the echo identifier (0 picks one). */
  bind(ep: IpEndpoint): undefined | LinuxError {
    if (this.local) return E.EINVAL;
    if (ep.addr.version !== this.family) return E.EINVAL;
    if (!ep.addr.isUnspecified() && !this.env.isLocalAddress(ep.addr)) return E.EADDRNOTAVAIL;
    const ident = this.idents.claim(this, ep.addr, ep.port, false);
    if (typeof ident !== 'number') return ident;
    this.local = { addr: ep.addr, port: ident };
    return undefined;
  }

  /** Implements connect(2): fixes the destination (its port is ignored). */
  connect(ep: IpEndpoint): undefined | LinuxError {
    if (ep.addr.version !== this.family) return E.EAFNOSUPPORT;
    if (!this.env.sourceAddressFor(ep.addr)) return E.ENETUNREACH;
    if (!this.local) {
      const err = this.bind({ addr: unspecifiedAddress(this.family), port: 0 });
      // inet_autobind: no free identifier is EAGAIN.
      if (err) return err === E.EADDRINUSE ? E.EAGAIN : err;
    }
    this.remote = { addr: ep.addr, port: 0 };
    if (this.family === 6) this.heldRoute = this.hasException(ep.addr) ? 'exception' : 'route';
    return undefined;
  }

  /** Whether a path MTU learnt from ICMP errors holds for `dst` (a route exception on Linux). */
  private hasException(dst: IpAddress): boolean {
    return this.env.mtuFor(dst) !== this.env.mtuFor(dst, false);
  }

  /**
   * IP_MTU, IPV6_MTU and IPV6_PATHMTU of a connected socket: the MTU of the route it holds, 0
   * when it holds none (ENOTCONN). An IPv6 socket that connected before a packet too big taught
   * its destination a path MTU holds the route without it, whose MTU the link's still is; the
   * next send finds that route obsolete and lets it go without storing the new one
   * (ping_v6_sendmsg looks up with ip6_sk_dst_lookup_flow, not connected). ping_err updates no
   * IPv6 socket's route, as ip6_sk_update_pmtu would.
   */
  routeMtu(): number {
    const peer = this.remote?.addr;
    if (!peer) return 0;
    if (this.family === 4) return this.env.mtuFor(peer);
    if (this.heldRoute === undefined) return 0;
    return this.env.mtuFor(peer, this.heldRoute === 'exception');
  }

  /** connect(2) with AF_UNSPEC. */
  disconnect(): void {
    this.remote = undefined;
    this.heldRoute = undefined;
  }

  /**
   * Implements sendto(2): `message` must be an echo request (type 8 / 128, code 0) of at least
   * 8 bytes, else EINVAL; its identifier and checksum are replaced. EMSGSIZE beyond 64 KiB, and
   * beyond IP's limit or (see {@link refuseFragment}) the path MTU with a local error queued
   * ({@link tooBig}).
   */
  sendto(message: Uint8Array, to?: IpEndpoint): number | LinuxError | WouldBlock {
    if (this.closed) return E.EBADF;
    const dst = to ?? this.remote;
    if (!dst) return E.EDESTADDRREQ;
    if (dst.addr.version !== this.family) return E.EAFNOSUPPORT;
    if (message.length < ICMP_HEADER_LEN) return E.EINVAL;
    const echo = this.family === 4 ? Icmpv4Type.ECHO_REQUEST : Icmpv6Type.ECHO_REQUEST;
    if (message[0] !== echo || message[1] !== 0) return E.EINVAL;
    if (message.length > this.tx.payloadCapacity) return E.EMSGSIZE;
    // ping_common_sendmsg: at most 0xffff bytes; then ip_append_data / ip6_append_data hold
    // IPv4's total length to its limit, and either to the path MTU where it may not fragment.
    if (message.length > 0xffff) return E.EMSGSIZE;
    // sk_dst_check: the held route is obsolete once an exception was made for its destination.
    if (this.heldRoute === 'route' && this.remote && this.hasException(this.remote.addr))
      this.heldRoute = undefined;
    const mtu = this.env.mtuFor(dst.addr, this.pmtuDisc < PmtuDisc.PROBE); // ip_sk_use_pmtu
    const header = this.family === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
    const limit = this.refuseFragment ? mtu : this.family === 4 ? IPV4_MAX_MTU : Infinity;
    if (header + message.length > limit) return this.tooBig(dst.addr, message, mtu);
    const src =
      this.local && !this.local.addr.isUnspecified() ? this.local.addr : this.env.sourceAddressFor(dst.addr);
    if (!src) return E.ENETUNREACH;
    if (!this.local) {
      const err = this.bind({ addr: unspecifiedAddress(this.family), port: 0 });
      // inet_autobind: no free identifier is EAGAIN.
      if (err) return err === E.EADDRINUSE ? E.EAGAIN : err;
    }
    // ip_append_data's sock_alloc_send_skb reports the pending error.
    const pending = this.errors.take();
    if (pending) return pending;
    // __ip_make_skb: DF under IP_PMTUDISC_DO and PROBE, and WANT unless the MTU is locked
    // (ip_dont_fragment); ip_append_data fragments to `mtu`.
    const dontFragment =
      this.pmtuDisc === PmtuDisc.DO ||
      this.pmtuDisc === PmtuDisc.PROBE ||
      (this.pmtuDisc === PmtuDisc.WANT && this.env.mtuLocked?.(dst.addr) !== true);
    if (!this.tx.enqueue({ src, dst: dst.addr, pathMtu: mtu, dontFragment }, message)) return WOULD_BLOCK;
    this.env.queued?.(this);
    return message.length;
  }

  /**
   * EMSGSIZE with, under IP_RECVERR (IPV6_RECVERR), a local error holding the MTU (ip_local_error,
   * ipv6_local_error); the port it names is 0 for IPv4 (no inet_dport), and for IPv6 the
   * request's type and code, which fl6_icmp_type and fl6_icmp_code overlay on fl6_dport.
   */
  private tooBig(dst: IpAddress, message: Uint8Array, mtu: number): LinuxError {
    const port = this.family === 4 ? 0 : (message[0]! << 8) | message[1]!;
    if (this.errors.local(this.family, E.EMSGSIZE, { addr: dst, port }, mtu))
      this.env.touchOwner?.(this.owner);
    return E.EMSGSIZE;
  }

  /** Releases the identifier. */
  override close(): void {
    if (this.local) this.idents.remove(this, this.local.port);
    super.close();
  }

  /** @internal an echo reply for `ident` to `dst`. */
  matches(dst: IpAddress, ident: number, src: IpAddress): boolean {
    const l = this.local;
    if (this.closed || !l || l.port !== ident || l.addr.version !== dst.version) return false;
    if (!l.addr.isUnspecified() && !l.addr.equals(dst)) return false;
    void src; // Linux ping_lookup matches identifier and bound address only
    return true;
  }

  /** SO_ATTACH_FILTER's program and lock (shared with the InetSocket that owns this socket). */
  filter: SocketFilter | undefined;

  /** @internal ping_err: an ICMP error about an echo request this socket sent to `to`. */
  icmpError(to: IpAddress, r: IcmpErrorReport): void {
    const e = icmpErrno(r, this.pmtuDisc, true);
    if (e && this.errors.icmp(r, e, this.remote !== undefined, { addr: to, port: 0 }, r.quoted))
      this.env.touchOwner?.(this.owner);
  }

  /**
   * @internal queues a reply (ping_queue_rcv_skb: dropped once the receive memory has reached
   * SO_RCVBUF, or the queue is full), charged the truesize of the reply as icmp_reply built it.
   * The filter runs first (cap 1) with skb->data at the ICMP header; `dst` is the reply's
   * destination.
   */
  process(src: IpAddress, message: Uint8Array, dst?: IpAddress, ip?: DatagramIpFields): void {
    let m = message;
    const f = this.filter;
    if (f?.program) {
      const to = dst ?? (this.local && !this.local.addr.isUnspecified() ? this.local.addr : src);
      const protocol = src.version === 4 ? 1 : 58;
      const keep = f.keep(
        ipFilterPacket(
          {
            src,
            dst: to,
            protocol,
            hopLimit: ip?.hopLimit ?? 64,
            trafficClass: ip?.trafficClass ?? 0,
            ifindex: ip?.ifindex ?? 1,
          },
          m,
        ),
        1,
      );
      if (keep < 0) return;
      m = m.subarray(0, keep);
    }
    const ipHeader = src.version === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
    const truesize = datagramTruesize(ipHeader + ICMP_HEADER_LEN, message.length - ICMP_HEADER_LEN);
    this.queueReceived({ addr: src, port: 0 }, m, truesize, ip);
  }

  /** @internal sends queued requests. */
  dispatch(ctx: DispatchContext): boolean {
    const ident = this.local?.port;
    if (ident === undefined) return false;
    return this.dispatchQueued(
      ctx,
      (len) => SCRATCH.subarray(0, len),
      (m, msg) => {
        const echo = {
          type: 'echoRequest' as const,
          ident,
          seqNo: (msg[6]! << 8) | msg[7]!,
          data: msg.subarray(ICMP_HEADER_LEN),
        };
        const path = m.pathMtu === undefined ? {} : { pathMtu: m.pathMtu };
        return m.src.version === 4 && m.dst.version === 4
          ? ctx.emit({
              kind: 'icmpv4',
              src: m.src,
              dst: m.dst,
              hopLimit: this.hopLimit,
              trafficClass: this.trafficClass,
              icmp: echo,
              dontFragment: m.dontFragment !== false,
              ...path,
            })
          : m.src.version === 6 && m.dst.version === 6
            ? ctx.emit({
                kind: 'icmpv6',
                src: m.src,
                dst: m.dst,
                hopLimit: this.hopLimit,
                trafficClass: this.trafficClass,
                icmp: echo,
                ...path,
              })
            : 'unroutable';
      },
    );
  }
}
