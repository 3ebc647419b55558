/**
 * The IPPROTO_TCP options of a TCP socket beyond the everyday ones (those stay in
 * inet-socket.ts): TCP_MAXSEG, TCP_SYNCNT, TCP_DEFER_ACCEPT, TCP_WINDOW_CLAMP, the thin-stream
 * options, TCP_INQ, TCP_TX_DELAY, TCP_RTO_MIN_US/TCP_RTO_MAX_MS, TCP_TIMESTAMP, TCP_SAVE_SYN,
 * the fast open family, the repair family, TCP_ULP, TCP_CC_INFO and TCP_IS_MPTCP, with the
 * checks and unit conversions of Linux 6.18's do_tcp_setsockopt/do_tcp_getsockopt.
 *
 * One {@link TcpOptions} per socket keeps what was set; {@link TcpOptions.apply} hands the
 * values with an effect to the connection (the MSS it offers and sends with, SYN retries, RTO
 * bounds, the receive window clamp, deferred accept). A listener hands them to each new
 * connection before it answers the SYN ({@link TcpOptions.apply} through
 * `TcpListener.prepareChild`), and accept copies them, as Linux's child socket starts as a copy
 * of its listener.
 *
 * Deviations, each a feature netstack lacks: repair mode (TCP_REPAIR answers EPERM as for a
 * caller without CAP_NET_ADMIN, so TCP_REPAIR_QUEUE/QUEUE_SEQ/REPAIR_WINDOW/TIMESTAMP answer what
 * Linux answers outside repair mode); upper layer protocols (TCP_ULP names none: ENOENT, what a
 * kernel without the `tls` module answers); fast open cookies (a client connects as Linux does
 * with no cookie cached; a listener's TCP_FASTOPEN queue is kept, not used); TCP_TX_DELAY is kept
 * but delays nothing (Linux's delay is carried out by the fq qdisc, absent on loopback).
 *
 * TCP_SAVE_SYN: the listener's socket layer has the interface's headers of each SYN it answers
 * kept on the new connection (`TcpSocket.savedSyn`), and TCP_SAVED_SYN hands them out once.
 *
 * @module
 */
import { E, TcpOption, type LinuxError } from '@tsvisor/abi';
import type { TcpSocket } from './tcp.js';

/** Linux's HZ on Debian's kernels: the RTO options are kept in jiffies of 4 ms. */
const HZ = 250;
const USEC_PER_JIFFY = 1_000_000 / HZ;
const MSEC_PER_JIFFY = 1000 / HZ;
/** TCP_MIN_MSS and MAX_TCP_WINDOW: the bounds of TCP_MAXSEG. */
const TCP_MIN_MSS = 88;
const MAX_TCP_WINDOW = 32767;
/** MAX_TCP_SYNCNT. */
const MAX_TCP_SYNCNT = 127;
/** TCP_RTO_MIN (HZ / 5) and TCP_TIMEOUT_MIN (2 jiffies), the bounds of TCP_RTO_MIN_US. */
const TCP_RTO_MIN_JIFFIES = HZ / 5;
const TCP_TIMEOUT_MIN_JIFFIES = 2;
/** TCP_RTO_MAX_SEC: TCP_RTO_MAX_MS is at most 120 s and at least 1 s. */
const TCP_RTO_MAX_MS = 120_000;
/** TCP_TIMEOUT_INIT and TCP_RTO_MAX in seconds, the scale of TCP_DEFER_ACCEPT's rounds. */
const TIMEOUT_INIT_S = 1;
const RTO_MAX_S = 120;
/** SOCK_MIN_RCVBUF / 2: the least TCP_WINDOW_CLAMP. */
const MIN_WINDOW_CLAMP = 1152;
/** net.core.somaxconn: the most a TCP_FASTOPEN queue holds. */
const SOMAXCONN = 4096;
/** TCP_FASTOPEN_KEY_LENGTH and its two-key form. */
const FASTOPEN_KEY_LENGTH = 16;
/** Linux's tcp_tx_delay bound: srtt_us is a u32 shifted by 3. */
const TX_DELAY_LIMIT = 1 << 28;
/** Options netstack does not list in abi's TcpOption (Linux 6.x numbers). */
export const TCP_IS_MPTCP = 43;
export const TCP_RTO_MAX_MS_OPT = 44;
export const TCP_RTO_MIN_US_OPT = 45;
/** TCP_REPAIR_OPTIONS and struct tcp_repair_window's size. */
const TCP_REPAIR_WINDOW_LEN = 20;

/**
 * secs_to_retrans: TCP_DEFER_ACCEPT's seconds as the SYN-ACK retransmission rounds that cover
 * them (1 s, then doubling up to 120 s per round), at most 255.
 */
export function deferSecondsToRounds(seconds: number): number {
  if (seconds <= 0) return 0;
  let timeout = TIMEOUT_INIT_S;
  let period = timeout;
  let rounds = 1;
  while (seconds > period && rounds < 255) {
    rounds++;
    timeout = Math.min(timeout * 2, RTO_MAX_S);
    period += timeout;
  }
  return rounds;
}

/** retrans_to_secs: the seconds `rounds` SYN-ACK retransmission rounds last (what getsockopt reports). */
export function deferRoundsToSeconds(rounds: number): number {
  if (rounds <= 0) return 0;
  let timeout = TIMEOUT_INIT_S;
  let period = timeout;
  for (let r = rounds - 1; r > 0; r--) {
    timeout = Math.min(timeout * 2, RTO_MAX_S);
    period += timeout;
  }
  return period;
}

/** What the options need to know of their socket. */
export interface TcpOptionsView {
  /** The connection (undefined for a listener). */
  readonly conn: TcpSocket | undefined;
  /** The socket listens. */
  readonly listening: boolean;
  /** The receive window the socket can offer (what a connected socket reports as its clamp). */
  readonly receiveSpace: number;
  /** The network namespace (the stack): its fast open key, made by the first TCP_FASTOPEN, is shared. */
  readonly netns: { random(): number };
  /** The TSval clock now (tcp_clock_ms: CLOCK_MONOTONIC's ms), before any connection's offset. */
  clockMs(): number;
}

/** Each network namespace's fast open key (tcp_fastopen_init_key_once), by stack. */
const NET_FASTOPEN_KEYS = new WeakMap<object, Uint8Array>();

/** A socket's TCP-level options of this module, as Linux keeps them. */
export class TcpOptions {
  /** TCP_MAXSEG (rx_opt.user_mss; 0: not set). */
  userMss = 0;
  /** TCP_SYNCNT (icsk_syn_retries; undefined: net.ipv4.tcp_syn_retries). */
  synCnt: number | undefined;
  /** TCP_DEFER_ACCEPT in SYN-ACK rounds (rskq_defer_accept). */
  deferRounds = 0;
  /** TCP_WINDOW_CLAMP (bytes; 0: none). */
  windowClamp = 0;
  /** TCP_THIN_LINEAR_TIMEOUTS. */
  thinLto = false;
  /** TCP_INQ: recvmsg adds a TCP_CM_INQ control message. */
  inq = false;
  /** TCP_TX_DELAY (µs). */
  txDelay = 0;
  /** TCP_RTO_MIN_US and TCP_RTO_MAX_MS in jiffies (icsk_rto_min, icsk_rto_max). */
  rtoMinJiffies = TCP_RTO_MIN_JIFFIES;
  rtoMaxJiffies = TCP_RTO_MAX_MS / MSEC_PER_JIFFY;
  /** TCP_SAVE_SYN (0, 1, or 2 for the link-layer header too). */
  saveSyn = 0;
  /** TCP_FASTOPEN (the listener's fast open queue length), TCP_FASTOPEN_CONNECT, TCP_FASTOPEN_NO_COOKIE. */
  fastopenQlen = 0;
  fastopenConnect = 0;
  fastopenNoCookie = 0;
  /** TCP_FASTOPEN_KEY set on this socket (one or two 16-byte keys). */
  fastopenKey: Uint8Array | undefined;

  /**
   * How many bytes of a setsockopt(2) value an option reads: a name of up to 15 bytes for
   * TCP_ULP (TCP_ULP_NAME_MAX less its NUL), one or two fast open keys (and one byte more, so
   * that a longer value is refused as Linux refuses it), an int for the rest.
   */
  static valueLength(name: number): number {
    if (name === TcpOption.TCP_ULP) return 15;
    if (name === TcpOption.TCP_FASTOPEN_KEY) return 2 * FASTOPEN_KEY_LENGTH + 1;
    return 4;
  }

  /** Copies every option (accept: the new socket starts with its listener's). */
  copyFrom(o: TcpOptions): void {
    this.userMss = o.userMss;
    this.synCnt = o.synCnt;
    this.deferRounds = o.deferRounds;
    this.windowClamp = o.windowClamp;
    this.thinLto = o.thinLto;
    this.inq = o.inq;
    this.txDelay = o.txDelay;
    this.rtoMinJiffies = o.rtoMinJiffies;
    this.rtoMaxJiffies = o.rtoMaxJiffies;
    this.saveSyn = o.saveSyn;
    this.fastopenConnect = o.fastopenConnect;
    this.fastopenNoCookie = o.fastopenNoCookie;
  }

  /**
   * Hands the options with an effect to a connection (or a listener's new connection);
   * `rcvBufLocked`: SO_RCVBUF was set, so TCP_WINDOW_CLAMP holds for the whole connection.
   */
  apply(conn: TcpSocket, rcvBufLocked = false): void {
    if (conn.userMss !== this.userMss) conn.setUserMss(this.userMss);
    conn.synRetries = this.synCnt;
    conn.deferAccept = this.deferRounds;
    conn.windowClamp = this.windowClamp;
    conn.windowClampLocked = rcvBufLocked;
    conn.thinLinearTimeouts = this.thinLto;
    conn.rtoMin = this.rtoMinJiffies * MSEC_PER_JIFFY;
    conn.rtoMax = this.rtoMaxJiffies * MSEC_PER_JIFFY;
  }

  /**
   * do_tcp_getsockopt for the integer options of this module; undefined for an option it does
   * not hold (the caller answers ENOPROTOOPT).
   */
  get(name: number, v: TcpOptionsView): number | LinuxError | undefined {
    const conn = v.conn;
    const closedOrListening = v.listening || !conn || conn.state === 'CLOSED';
    switch (name) {
      case TcpOption.TCP_MAXSEG:
        if (this.userMss !== 0 && closedOrListening) return this.userMss;
        return conn ? conn.mssCache : 536;
      case TcpOption.TCP_SYNCNT:
        return this.synCnt ?? conn?.synRetryLimit ?? 6;
      case TcpOption.TCP_DEFER_ACCEPT:
        return deferRoundsToSeconds(this.deferRounds);
      case TcpOption.TCP_WINDOW_CLAMP:
        // Linux sets a connection's clamp from its buffer when it connects; netstack's is the
        // most window its receive ring offers.
        if (this.windowClamp !== 0 || closedOrListening) return this.windowClamp;
        return v.receiveSpace;
      case TcpOption.TCP_THIN_LINEAR_TIMEOUTS:
        return this.thinLto ? 1 : 0;
      case TcpOption.TCP_THIN_DUPACK: // gone from Linux since 4.15: always 0
        return 0;
      case TcpOption.TCP_REPAIR:
        return 0;
      case TcpOption.TCP_REPAIR_QUEUE: // only in repair mode
      case TcpOption.TCP_QUEUE_SEQ: // no repair queue selected
        return E.EINVAL;
      case TcpOption.TCP_FASTOPEN:
        return this.fastopenQlen;
      case TcpOption.TCP_FASTOPEN_CONNECT:
        return this.fastopenConnect;
      case TcpOption.TCP_FASTOPEN_NO_COOKIE:
        return this.fastopenNoCookie;
      case TcpOption.TCP_TIMESTAMP:
        // A listener's offset is 0: the bare clock, its low bit clear as for ms timestamps.
        return conn ? conn.timestampNow() | 0 : v.clockMs() & ~1;
      case TcpOption.TCP_INQ:
        return this.inq ? 1 : 0;
      case TcpOption.TCP_SAVE_SYN:
        return this.saveSyn;
      case TcpOption.TCP_TX_DELAY:
        return this.txDelay;
      case TCP_IS_MPTCP:
        return 0;
      case TCP_RTO_MAX_MS_OPT:
        return this.rtoMaxJiffies * MSEC_PER_JIFFY;
      case TCP_RTO_MIN_US_OPT:
        return this.rtoMinJiffies * USEC_PER_JIFFY;
      default:
        return undefined;
    }
  }

  /**
   * do_tcp_setsockopt for the integer options of this module: 0 or Linux's errno; undefined for
   * an option it does not hold. The caller applies the result ({@link apply}).
   */
  set(name: number, value: number, v: TcpOptionsView): 0 | LinuxError | undefined {
    const conn = v.conn;
    const closed = !v.listening && (!conn || conn.state === 'CLOSED');
    const closedOrListening = closed || v.listening;
    switch (name) {
      case TcpOption.TCP_MAXSEG:
        if (value !== 0 && (value < TCP_MIN_MSS || value > MAX_TCP_WINDOW)) return E.EINVAL;
        this.userMss = value;
        return 0;
      case TcpOption.TCP_SYNCNT:
        if (value < 1 || value > MAX_TCP_SYNCNT) return E.EINVAL;
        this.synCnt = value;
        return 0;
      case TcpOption.TCP_DEFER_ACCEPT:
        this.deferRounds = deferSecondsToRounds(value);
        return 0;
      case TcpOption.TCP_WINDOW_CLAMP: // tcp_set_window_clamp
        if (value === 0) {
          if (!closed) return E.EINVAL;
          this.windowClamp = 0;
          return 0;
        }
        this.windowClamp = Math.max(MIN_WINDOW_CLAMP, value);
        return 0;
      case TcpOption.TCP_THIN_LINEAR_TIMEOUTS:
        if (value < 0 || value > 1) return E.EINVAL;
        this.thinLto = value === 1;
        return 0;
      case TcpOption.TCP_THIN_DUPACK:
        return value < 0 || value > 1 ? E.EINVAL : 0;
      case TcpOption.TCP_REPAIR: // no repair mode: as for a caller without CAP_NET_ADMIN
        return E.EPERM;
      case TcpOption.TCP_REPAIR_QUEUE:
        return E.EPERM; // not in repair mode
      case TcpOption.TCP_QUEUE_SEQ:
        return closed ? E.EINVAL : E.EPERM; // no repair queue selected
      case TcpOption.TCP_REPAIR_OPTIONS:
        return E.EINVAL; // not in repair mode
      case TcpOption.TCP_REPAIR_WINDOW:
      case TcpOption.TCP_TIMESTAMP:
        return E.EPERM; // repair mode only
      case TcpOption.TCP_SAVE_SYN:
        if (value < 0 || value > 2) return E.EINVAL;
        this.saveSyn = value;
        return 0;
      case TcpOption.TCP_FASTOPEN:
        if (value < 0 || !closedOrListening) return E.EINVAL;
        if (!NET_FASTOPEN_KEYS.has(v.netns)) NET_FASTOPEN_KEYS.set(v.netns, randomKey(v.netns));
        this.fastopenQlen = Math.min(value, SOMAXCONN);
        return 0;
      case TcpOption.TCP_FASTOPEN_CONNECT: // net.ipv4.tcp_fastopen has the client bit (1)
        if (value < 0 || value > 1 || !closed) return E.EINVAL;
        this.fastopenConnect = value;
        return 0;
      case TcpOption.TCP_FASTOPEN_NO_COOKIE:
        if (value < 0 || value > 1 || !closedOrListening) return E.EINVAL;
        this.fastopenNoCookie = value;
        return 0;
      case TcpOption.TCP_INQ:
        if (value < 0 || value > 1) return E.EINVAL;
        this.inq = value === 1;
        return 0;
      case TcpOption.TCP_TX_DELAY:
        if (value < 0 || value >= TX_DELAY_LIMIT) return E.EINVAL;
        this.txDelay = value;
        return 0;
      case TCP_RTO_MAX_MS_OPT:
        if (value < 1000 || value > TCP_RTO_MAX_MS) return E.EINVAL;
        this.rtoMaxJiffies = Math.ceil(value / MSEC_PER_JIFFY); // msecs_to_jiffies rounds up
        return 0;
      case TCP_RTO_MIN_US_OPT: {
        // usecs_to_jiffies of the value read as unsigned (a negative one is huge), rounded up.
        const j = Math.ceil((value >>> 0) / USEC_PER_JIFFY);
        if (j > TCP_RTO_MIN_JIFFIES || j < TCP_TIMEOUT_MIN_JIFFIES) return E.EINVAL;
        this.rtoMinJiffies = j;
        return 0;
      }
      default:
        return undefined;
    }
  }

  /**
   * do_tcp_getsockopt for the options with byte values of this module (TCP_ULP, TCP_SAVED_SYN,
   * TCP_FASTOPEN_KEY, TCP_CC_INFO, TCP_REPAIR_WINDOW): the bytes to copy (the reported length
   * is theirs, cut to `optlen` by the caller) or Linux's errno; undefined for other options.
   * TCP_SAVED_SYN into fewer than its bytes is EINVAL with the length needed written back
   * through `storeLen` (whose EFAULT wins), the SYN still kept; read whole, it is gone.
   */
  getBytes(
    name: number,
    optlen: number,
    v: TcpOptionsView,
    storeLen?: (n: number) => LinuxError | undefined,
  ): Uint8Array | LinuxError | undefined {
    switch (name) {
      case TcpOption.TCP_SAVED_SYN: {
        const conn = v.conn;
        const syn = conn?.savedSyn;
        if (!conn || !syn) return new Uint8Array(0); // none saved (or read already): length 0
        if (optlen < syn.length) return storeLen?.(syn.length) ?? E.EINVAL;
        conn.savedSyn = undefined; // tcp_saved_syn_free
        return syn;
      }
      case TcpOption.TCP_ULP: // no upper layer protocol attached: length 0
      case TcpOption.TCP_CC_INFO: // cubic and reno have no get_info: length 0
        return new Uint8Array(0);
      case TcpOption.TCP_FASTOPEN_KEY:
        return (this.fastopenKey ?? NET_FASTOPEN_KEYS.get(v.netns) ?? new Uint8Array(0)).slice();
      case TcpOption.TCP_REPAIR_WINDOW:
        return optlen !== TCP_REPAIR_WINDOW_LEN ? E.EINVAL : E.EPERM;
      default:
        return undefined;
    }
  }

  /**
   * do_tcp_setsockopt for the options with byte values of this module (TCP_ULP,
   * TCP_FASTOPEN_KEY); undefined for other options.
   */
  setBytes(name: number, optval: Uint8Array): 0 | LinuxError | undefined {
    switch (name) {
      case TcpOption.TCP_ULP:
        // tcp_set_ulp: no module provides a ULP here ("tls" and the rest answer ENOENT).
        return optval.length < 1 ? E.EINVAL : E.ENOENT;
      case TcpOption.TCP_FASTOPEN_KEY:
        if (optval.length !== FASTOPEN_KEY_LENGTH && optval.length !== 2 * FASTOPEN_KEY_LENGTH)
          return E.EINVAL;
        this.fastopenKey = optval.slice();
        return 0;
      default:
        return undefined;
    }
  }
}

function randomKey(netns: { random(): number }): Uint8Array {
  const key = new Uint8Array(FASTOPEN_KEY_LENGTH);
  for (let i = 0; i < key.length; i++) key[i] = Math.floor(netns.random() * 256);
  return key;
}
