/**
 * ICMP errors as datagram sockets learn of them: which errno an ICMP error stands for and
 * whether it is hard (icmp_err_convert, icmpv6_err_convert, __udp4_lib_err, __udp6_lib_err,
 * ping_err), and the socket error queue (Linux's sk_error_queue) where a socket with IP_RECVERR
 * or IPV6_RECVERR keeps each error with what the ICMP message quoted of its datagram until
 * recvmsg(MSG_ERRQUEUE) reads it (ip_icmp_error / ipv6_icmp_error, ip_recv_error /
 * ipv6_recv_error).
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';
import type { IcmpErrorReport } from '../iface/interface.js';
import type { IpAddress, IpEndpoint } from '../wire/ip-address.js';
import { Icmpv4Type, Icmpv4Unreachable } from '../wire/icmpv4.js';
import { Icmpv6Type } from '../wire/icmpv6.js';
import { PmtuDisc } from './ip-options.js';

/** sock_extended_err's ee_origin (<linux/errqueue.h>). */
export const SoEeOrigin = { NONE: 0, LOCAL: 1, ICMP: 2, ICMP6: 3 } as const;

/** One entry of a socket's error queue: struct sock_extended_err, its payload and addresses. */
export interface QueuedError {
  readonly errno: LinuxError;
  readonly origin: number;
  readonly type: number;
  readonly code: number;
  readonly info: number;
  /** The sender of the ICMP message; undefined for a local error. */
  readonly offender: IpAddress | undefined;
  /** The quoted payload (after the UDP header; the whole echo request for a ping socket; none for a local error). */
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
 * sock_queue_err_skb refuses an error once the receive memory passes SO_RCVBUF, counting each
 * queued skb's truesize; netstack bounds the queue by entries instead.
 */
const MAX_QUEUED = 64;
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
  private readonly queue: QueuedError[] = [];

  /**
   * The end of __udp4_lib_err, __udp6_lib_err and ping_err: with IP_RECVERR (IPV6_RECVERR) the
   * error `e` about a datagram to `dst` is queued with the quoted payload from `skip` bytes on,
   * and becomes the pending error; without, only a hard error on a connected socket does. True
   * when the socket's state changed.
   */
  icmp(r: IcmpErrorReport, e: IcmpErrno, connected: boolean, dst: IpEndpoint, skip: number): boolean {
    if (this.recvErr(r.version)) {
      if (this.queue.length < MAX_QUEUED) this.queue.push(queuedIcmpError(r, e.errno, dst, skip));
    } else if (!e.hard || !connected) return false;
    this.pending = e.errno;
    return true;
  }

  /**
   * ip_local_error / ipv6_local_error: with the option for IP version `v`, queues an error the
   * stack found itself about a datagram to `dst` (no payload, no offender, the pending error
   * unchanged); true when queued.
   */
  local(v: 4 | 6, errno: LinuxError, dst: IpEndpoint, info: number): boolean {
    if (!this.recvErr(v) || this.queue.length >= MAX_QUEUED) return false;
    this.queue.push({
      errno,
      origin: SoEeOrigin.LOCAL,
      type: 0,
      code: 0,
      info,
      offender: undefined,
      payload: NO_BYTES,
      dst,
    });
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
  }
}

/**
 * ip_icmp_error / ipv6_icmp_error: the queue entry for an error `r` about a datagram sent to
 * `dst`, whose payload starts `skip` bytes into what the ICMP message quoted.
 */
function queuedIcmpError(r: IcmpErrorReport, errno: LinuxError, dst: IpEndpoint, skip: number): QueuedError {
  return {
    errno,
    origin: r.version === 4 ? SoEeOrigin.ICMP : SoEeOrigin.ICMP6,
    type: r.type,
    code: r.code,
    info: r.info,
    offender: r.offender,
    payload: r.quoted.slice(Math.min(skip, r.quoted.length)),
    dst,
  };
}
