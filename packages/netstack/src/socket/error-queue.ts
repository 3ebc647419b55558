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
import { checksumVerifies } from '../wire/checksum.js';
import { LINK_ROOM, skbTruesize } from './skb-truesize.js';

/** sock_extended_err's ee_origin (<linux/errqueue.h>). */
export const SoEeOrigin = { NONE: 0, LOCAL: 1, ICMP: 2, ICMP6: 3 } as const;

/** One entry of a socket's error queue: struct sock_extended_err, its payload and addresses. */
export interface QueuedError {
  readonly errno: LinuxError;
  readonly origin: number;
  readonly type: number;
  readonly code: number;
  readonly info: number;
  /** ee_data: for an ICMP error read with IP_RECVERR_RFC4884, its ee_rfc4884 (see {@link rfc4884Data}). */
  readonly data: number;
  /**
   * The memory Linux charges the entry: its sk_buff's truesize, a clone of the received ICMP
   * message's (832 bytes for a short one, 1280 up to 576 bytes), or for a local error one that
   * holds an IP header (ip_local_error, ipv6_local_error).
   */
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
  [E.EHOSTUNREACH, true],
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

/** SO_EE_RFC4884_FLAG_INVALID, in ee_rfc4884's flags byte. */
const RFC4884_INVALID = 1;

/**
 * ip_icmp_error_rfc4884: sock_extended_err's ee_rfc4884 as its ee_data reads on x86-64 (len in
 * the low 16 bits, flags in the next 8) for an ICMP error `r` whose queued payload is `payload`
 * (the end of what the message quoted): where in the payload the message's RFC 4884 extension
 * starts, 0 when it has none or the extension's 4-byte header does not fit, flagged invalid
 * when a version 2 extension fails its checksum or its objects' lengths.
 */
export function rfc4884Data(r: IcmpErrorReport, payload: Uint8Array): number {
  if (r.extension < 0) return 0;
  // The quoted headers the payload starts after (negative: it starts before the quote, at the
  // IP header of an IP_HDRINCL raw socket's datagram).
  const len = r.extension - (r.quoted.length - payload.length);
  if (len < 0 || len + 4 > payload.length) return 0;
  return validExtension(payload.subarray(len)) ? len : len | (RFC4884_INVALID << 16);
}

/** ip_icmp_error_rfc4884_validate: an extension of another version than 2 is not looked at. */
function validExtension(ext: Uint8Array): boolean {
  if (ext[0]! >>> 4 !== 2) return true;
  if ((ext[2]! | ext[3]!) !== 0 && !checksumVerifies(ext)) return false;
  for (let off = 4; off < ext.length;) {
    if (off + 4 > ext.length) return false;
    const objectLength = (ext[off]! << 8) | ext[off + 1]!;
    if (objectLength < 4) return false;
    off += objectLength;
    if (off > ext.length) return false;
  }
  return true;
}

/**
 * Entries at most, whatever SO_RCVBUF (which SO_RCVBUFFORCE may make huge) allows: the bound
 * that keeps a sandbox from growing the supervisor's memory by errors it provokes.
 */
const MAX_QUEUED = 4096;
const NO_BYTES = new Uint8Array(0);

/**
 * A datagram socket's asynchronous errors: the pending error (Linux's sk_err, which SO_ERROR and
 * the next call report) and the error queue, oldest first.
 */
export class SocketErrors {
  /** sk_err: reported (and cleared) by the next receive, send or SO_ERROR. */
  pending: LinuxError | undefined;
  /** IP_RECVERR (for ICMP errors) and IPV6_RECVERR (for ICMPv6 ones) of the owning socket. */
  recvErr: (v: 4 | 6) => boolean = () => false;
  /** IP_RECVERR_RFC4884 (ICMP) and IPV6_RECVERR_RFC4884 (ICMPv6) of the owning socket. */
  recvErrRfc4884: (v: 4 | 6) => boolean = () => false;
  /** Errors reported so far (each one a sk_error_report call in Linux, which wakes the waiters). */
  reports = 0;
  /** SO_RCVBUF (Linux's doubled sk_rcvbuf), which the error queue shares with the receive queue. */
  rcvLimit = Infinity;
  private readonly queue: QueuedError[] = [];
  private errorsTruesize = 0;

  constructor(
    /** The truesize of the owning socket's receive queue, which SO_RCVBUF bounds with this one's. */
    private readonly received: () => number = () => 0,
  ) {}

  /** The truesize of the queued errors: their part of the socket's sk_rmem_alloc. */
  get charged(): number {
    return this.errorsTruesize;
  }

  /**
   * The end of __udp4_lib_err, __udp6_lib_err, ping_err, raw_err and rawv6_err: with
   * IP_RECVERR (IPV6_RECVERR) the error `e` about a datagram to `dst` is queued with `payload`
   * (what the ICMP message quoted, from where the socket reads it) while the receive memory has
   * room, and becomes the pending error (queued or not); without the option, only a hard error
   * on a connected socket does. True when the socket's state changed.
   */
  icmp(r: IcmpErrorReport, e: IcmpErrno, connected: boolean, dst: IpEndpoint, payload: Uint8Array): boolean {
    if (this.recvErr(r.version)) this.queueIcmp(r, e.errno, dst, payload);
    else if (!e.hard || !connected) return false;
    this.pending = e.errno;
    this.reports++;
    return true;
  }

  /**
   * ip_icmp_error / ipv6_icmp_error: queues the ICMP error `errno` about a datagram to `dst`
   * with `payload` while the receive memory has room, whatever IP_RECVERR says (TCP calls
   * them so for an error in its handshake); the pending error is the caller's.
   */
  queueIcmp(r: IcmpErrorReport, errno: LinuxError, dst: IpEndpoint, payload: Uint8Array): boolean {
    // The ICMP message: its IP header, 8 bytes of ICMP header, the quoted IP header and the rest.
    const ip = r.version === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
    return this.push({
      errno,
      origin: r.version === 4 ? SoEeOrigin.ICMP : SoEeOrigin.ICMP6,
      type: r.type,
      code: r.code,
      info: r.info,
      data: this.recvErrRfc4884(r.version) ? rfc4884Data(r, payload) : 0,
      truesize: skbTruesize(LINK_ROOM + 2 * ip + 8 + r.quoted.length),
      offender: r.offender,
      payload: payload.slice(),
      dst,
    });
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
      data: 0,
      truesize: skbTruesize(v === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN),
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
    this.errorsTruesize += e.truesize;
    return true;
  }

  /** An abort from outside (udp_abort, raw_abort): `err` becomes the pending error and is reported. */
  abort(err: LinuxError): void {
    this.pending = err;
    this.reports++;
  }

  /** sock_error: the pending error, cleared. */
  take(): LinuxError | undefined {
    const e = this.pending;
    this.pending = undefined;
    return e;
  }

  /**
   * sock_dequeue_err_skb: the oldest queued error. An ICMP error behind it becomes the pending
   * error and is reported (the waiters wake again); else taking an ICMP error clears the
   * pending one.
   */
  dequeue(): QueuedError | undefined {
    const e = this.queue.shift();
    if (!e) return undefined;
    this.errorsTruesize -= e.truesize;
    const next = this.queue[0];
    if (next && next.origin !== SoEeOrigin.LOCAL) {
      this.pending = next.errno;
      this.reports++;
    } else if (e.origin !== SoEeOrigin.LOCAL) this.pending = undefined;
    return e;
  }

  /** The oldest queued error, left in the queue. */
  peek(): QueuedError | undefined {
    return this.queue[0];
  }

  /** datagram_poll's EPOLLERR: an error pending or queued. */
  get pollErr(): boolean {
    return this.pending !== undefined || this.queue.length > 0;
  }

  /** skb_errqueue_purge: IP_RECVERR or IPV6_RECVERR turned off. */
  purge(): void {
    this.queue.length = 0;
    this.errorsTruesize = 0;
  }
}
