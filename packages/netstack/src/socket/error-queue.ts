/**
 * ICMP errors as datagram sockets learn of them: which errno an ICMP error stands for and
 * whether it is hard (icmp_err_convert, icmpv6_err_convert, __udp4_lib_err, __udp6_lib_err,
 * ping_err, raw_err, rawv6_err), and the socket error queue (Linux's sk_error_queue) where a
 * socket with IP_RECVERR or IPV6_RECVERR keeps each error with what the ICMP message quoted of
 * its datagram until recvmsg(MSG_ERRQUEUE) reads it (ip_icmp_error / ipv6_icmp_error,
 * ip_recv_error / ipv6_recv_error), in the receive memory SO_RCVBUF bounds.
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';
import type { IcmpErrorReport } from '../iface/interface.js';
import type { IpAddress, IpEndpoint } from '../wire/ip-address.js';
import { Icmpv4Type, Icmpv4Unreachable } from '../wire/icmpv4.js';
import { Icmpv6Type } from '../wire/icmpv6.js';
import { PmtuDisc } from './ip-options.js';
import { IPV4_HEADER_LEN } from '../wire/ipv4.js';
import { IPV6_HEADER_LEN } from '../wire/ipv6.js';

/** sock_extended_err's ee_origin (<linux/errqueue.h>). */
export const SoEeOrigin = { NONE: 0, LOCAL: 1, ICMP: 2, ICMP6: 3 } as const;

/** One entry of a socket's error queue: struct sock_extended_err, its payload and addresses. */
export interface QueuedError {
  readonly errno: LinuxError;
  readonly origin: number;
  readonly type: number;
  readonly code: number;
  readonly info: number;
  /** The memory Linux charges the entry (its sk_buff's truesize; see {@link errorTruesize}). */
  readonly truesize: number;
  /** The sender of the ICMP message; undefined for a local error. */
  readonly offender: IpAddress | undefined;
  /**
   * The quoted payload: after the UDP header; the whole echo request for a ping socket; from the
   * transport header (the IP header with IP_HDRINCL) for a raw socket; none for a local error.
   */
  readonly payload: Uint8Array;
  /** Where the datagram went (recvmsg's msg_name); port 0 for a ping socket. */
  readonly dst: IpEndpoint;
}

/** An ICMP error as a socket takes it: the errno, and whether it is hard (fatal). */
export interface IcmpErrno {
  readonly errno: LinuxError;
  readonly hard: boolean;
}

/** icmp_err_convert[]: ICMP destination-unreachable codes 0-15 as [errno, hard]. */
const UNREACH_V4: readonly (readonly [LinuxError, boolean])[] = [
  [E.ENETUNREACH, false],
  [E.EHOSTUNREACH, false],
  [E.ENOPROTOOPT, true],
  [E.ECONNREFUSED, true],
  [E.EMSGSIZE, false],
  [E.EOPNOTSUPP, false],
  [E.ENETUNREACH, true],
  [E.EHOSTDOWN, true],
  [E.ENONET, true],
  [E.ENETUNREACH, true],
  [E.EHOSTUNREACH, true],
  [E.ENETUNREACH, false],
  [E.EHOSTUNREACH, false],
  [E.EACCES, true],
  [E.EHOSTUNREACH, true],
  [E.EHOSTUNREACH, true],
];

/** icmpv6_err_convert's tab_unreach: ICMPv6 destination-unreachable codes 0-6. */
const UNREACH_V6: readonly (readonly [LinuxError, boolean])[] = [
  [E.ENETUNREACH, false],
  [E.EACCES, true],
  [E.EHOSTUNREACH, false],
  [E.EHOSTUNREACH, false],
  [E.ECONNREFUSED, true],
  [E.EACCES, true],
  [E.EACCES, true],
];

/**
 * What an ICMP error means to a UDP socket (`ping` false) or a ping socket (`ping` true) whose
 * IP_MTU_DISCOVER / IPV6_MTU_DISCOVER is `pmtuDisc`; undefined when the socket ignores it
 * (a fragmentation-needed message under IP_PMTUDISC_DONT, a packet-too-big one under
 * IPV6_PMTUDISC_INTERFACE or _OMIT). Source quench and redirects never get here: the
 * interface does not take them.
 */
export function icmpErrno(r: IcmpErrorReport, pmtuDisc: number, ping: boolean): IcmpErrno | undefined {
  if (r.version === 6) {
    if (r.type === Icmpv6Type.DEST_UNREACHABLE) {
      const [errno, hard] = UNREACH_V6[r.code] ?? [E.EPROTO, true];
      return { errno, hard };
    }
    if (r.type === Icmpv6Type.PACKET_TOO_BIG) {
      // ping_err takes icmpv6_err_convert's soft EMSGSIZE as it is; __udp6_lib_err ignores the
      // message where ip6_sk_accept_pmtu refuses it and makes it hard unless IPV6_PMTUDISC_DONT.
      if (ping) return { errno: E.EMSGSIZE, hard: false };
      if (pmtuDisc === PmtuDisc.INTERFACE || pmtuDisc === PmtuDisc.OMIT) return undefined;
      return { errno: E.EMSGSIZE, hard: pmtuDisc !== PmtuDisc.DONT };
    }
    if (r.type === Icmpv6Type.TIME_EXCEEDED) return { errno: E.EHOSTUNREACH, hard: false };
    return { errno: E.EPROTO, hard: r.type === Icmpv6Type.PARAM_PROBLEM };
  }
  switch (r.type) {
    case Icmpv4Type.PARAMETER_PROBLEM:
      return { errno: E.EPROTO, hard: true };
    case Icmpv4Type.DEST_UNREACHABLE: {
      if (r.code === Icmpv4Unreachable.FRAG_NEEDED)
        return pmtuDisc === PmtuDisc.DONT ? undefined : { errno: E.EMSGSIZE, hard: true };
      const [errno, hard] = UNREACH_V4[r.code] ?? [E.EHOSTUNREACH, false];
      return { errno, hard };
    }
    default:
      return { errno: E.EHOSTUNREACH, hard: false }; // time exceeded, and the rest
  }
}

/**
 * What an ICMP error means to a raw socket (raw_err, rawv6_err) whose IP_MTU_DISCOVER /
 * IPV6_MTU_DISCOVER is `pmtuDisc`: as to a UDP socket, but a fragmentation-needed message is
 * always an EMSGSIZE, hard unless IP_PMTUDISC_DONT, and a packet-too-big one is hard only under
 * IPV6_PMTUDISC_DO.
 */
export function rawIcmpErrno(r: IcmpErrorReport, pmtuDisc: number): IcmpErrno {
  if (r.version === 6 && r.type === Icmpv6Type.PACKET_TOO_BIG)
    return { errno: E.EMSGSIZE, hard: pmtuDisc === PmtuDisc.DO };
  if (r.version === 4 && r.type === Icmpv4Type.DEST_UNREACHABLE && r.code === Icmpv4Unreachable.FRAG_NEEDED)
    return { errno: E.EMSGSIZE, hard: pmtuDisc !== PmtuDisc.DONT };
  // The two cases above are the only ones icmpErrno ignores.
  return icmpErrno(r, pmtuDisc, false)!;
}

/**
 * Entries at most, whatever SO_RCVBUF (which SO_RCVBUFFORCE may make huge) allows: the bound
 * that keeps a sandbox from growing the supervisor's memory by errors it provokes.
 */
const MAX_QUEUED = 4096;
const NO_BYTES = new Uint8Array(0);
/** Link-header room and alignment slack in front of a received ICMP message (16 + 15). */
const LINK_ROOM = 31;

/**
 * The truesize of a queued error's sk_buff, for an skb head of `len` bytes: the head, aligned
 * to 64 bytes, with skb_shared_info (320) after it comes from the 576-byte small-head cache or,
 * larger, from kmalloc's power-of-two sizes, and the sk_buff adds 256. An ICMP error's head
 * holds the ICMP message behind 31 bytes of link-header room and slack (it is a clone of the
 * received skb); a local error's, only an IP header (ip_local_error, ipv6_local_error).
 * Measured on Linux 6.18's loopback: 832 bytes for an ICMP error about a UDP datagram of up to
 * 168 bytes, 1280 beyond (the message capped at 576 bytes); 2304 for an ICMPv6 error about a
 * 1000-byte one.
 */
function errorTruesize(len: number): number {
  const head = Math.ceil(len / 64) * 64 + 320;
  return (head <= 576 ? 576 : 2 ** Math.ceil(Math.log2(head))) + 256;
}

/**
 * A datagram socket's asynchronous errors: the pending error (Linux's sk_err, which SO_ERROR and
 * the next call report) and the error queue, oldest first.
 */
export class SocketErrors {
  /** sk_err: reported (and cleared) by the next receive, send or SO_ERROR. */
  pending: LinuxError | undefined;
  /** IP_RECVERR (for ICMP errors) and IPV6_RECVERR (for ICMPv6 ones) of the owning socket. */
  recvErr: (v: 4 | 6) => boolean = () => false;
  /** Errors reported so far (each one a sk_error_report call in Linux, which wakes the waiters). */
  reports = 0;
  /** SO_RCVBUF (Linux's doubled sk_rcvbuf), which the error queue shares with the receive queue. */
  rcvLimit = Infinity;
  private readonly queue: QueuedError[] = [];
  /** The truesize of the queued errors. */
  private charged = 0;

  constructor(
    /** Bytes in the owning socket's receive queue, as it counts them against SO_RCVBUF. */
    private readonly received: () => number = () => 0,
  ) {}

  /**
   * The end of __udp4_lib_err, __udp6_lib_err, ping_err, raw_err and rawv6_err: with
   * IP_RECVERR (IPV6_RECVERR) the error `e` about a datagram to `dst` is queued with `payload`
   * (what the ICMP message quoted, from where the socket reads it) while the receive memory has
   * room, and becomes the pending error (queued or not); without the option, only a hard error
   * on a connected socket does. True when the socket's state changed.
   */
  icmp(r: IcmpErrorReport, e: IcmpErrno, connected: boolean, dst: IpEndpoint, payload: Uint8Array): boolean {
    if (this.recvErr(r.version)) {
      // The ICMP message: its IP header, 8 bytes of ICMP header, the quoted IP header and the rest.
      const ip = r.version === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
      this.push({
        errno: e.errno,
        origin: r.version === 4 ? SoEeOrigin.ICMP : SoEeOrigin.ICMP6,
        type: r.type,
        code: r.code,
        info: r.info,
        truesize: errorTruesize(LINK_ROOM + 2 * ip + 8 + r.quoted.length),
        offender: r.offender,
        payload: payload.slice(),
        dst,
      });
    } else if (!e.hard || !connected) return false;
    this.pending = e.errno;
    this.reports++;
    return true;
  }

  /**
   * ip_local_error / ipv6_local_error: with the option for IP version `v`, queues an error the
   * stack found itself about a datagram to `dst` (no payload, no offender, the pending error
   * unchanged) while the receive memory has room; true when queued.
   */
  local(v: 4 | 6, errno: LinuxError, dst: IpEndpoint, info: number): boolean {
    if (!this.recvErr(v)) return false;
    const queued = this.push({
      errno,
      origin: SoEeOrigin.LOCAL,
      type: 0,
      code: 0,
      info,
      truesize: errorTruesize(v === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN),
      offender: undefined,
      payload: NO_BYTES,
      dst,
    });
    if (queued) this.reports++;
    return queued;
  }

  /** sock_queue_err_skb: ENOMEM (the error dropped) once the receive memory would reach SO_RCVBUF. */
  private push(e: QueuedError): boolean {
    if (this.received() + this.charged + e.truesize >= this.rcvLimit || this.queue.length >= MAX_QUEUED)
      return false;
    this.queue.push(e);
    this.charged += e.truesize;
    return true;
  }

  /** sock_error: the pending error, cleared. */
  take(): LinuxError | undefined {
    const e = this.pending;
    this.pending = undefined;
    return e;
  }

  /**
   * sock_dequeue_err_skb: the oldest queued error. An ICMP error behind it becomes the pending
   * error; else taking an ICMP error clears the pending one.
   */
  dequeue(): QueuedError | undefined {
    const e = this.queue.shift();
    if (!e) return undefined;
    this.charged -= e.truesize;
    const next = this.queue[0];
    if (next && next.origin !== SoEeOrigin.LOCAL) this.pending = next.errno;
    else if (e.origin !== SoEeOrigin.LOCAL) this.pending = undefined;
    return e;
  }

  /** datagram_poll's EPOLLERR: an error pending or queued. */
  get pollErr(): boolean {
    return this.pending !== undefined || this.queue.length > 0;
  }

  /** skb_errqueue_purge: IP_RECVERR or IPV6_RECVERR turned off. */
  purge(): void {
    this.queue.length = 0;
    this.charged = 0;
  }
}
