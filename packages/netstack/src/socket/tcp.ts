/**
 * TCP sockets per RFC 9293: the connection state machine (active and passive open,
 * simultaneous open, orderly close through FIN_WAIT/CLOSING/LAST_ACK/TIME_WAIT), send and
 * receive windows with window scaling and MSS negotiation, retransmission with the RTO of
 * RFC 6298 (Karn's rule, exponential backoff, go-back-N from SND.UNA), zero-window probing,
 * RST and SYN handling hardened per RFC 5961, and out-of-order reassembly straight into the
 * receive ring with bounded bookkeeping (at most `maxOooRanges` ranges, all inside the window).
 *
 * Loss recovery: with SACK (RFC 2018; our ACKs report the most recent block first, and
 * duplicates in a D-SACK block, RFC 2883) the sender keeps a scoreboard and recovers per
 * RFC 6675 (pipe, NextSeg, retransmitting only the holes) with losses found by RACK and tail
 * loss probes (RFC 8985, rack.ts) and the send rate set by PRR (RFC 6937, prr.ts), as Linux
 * does by default; `rack: false` keeps RFC 6675's DupThresh rules. D-SACKs undo reductions
 * that proved needless. Without SACK, fast retransmit and NewReno (RFC 6582). Congestion
 * control is pluggable (TCP_CONGESTION): CUBIC (RFC 9438 with HyStart++, the default as on
 * Linux) or Reno.
 *
 * Timestamps (RFC 7323): TSval/TSecr on every segment once negotiated, RTT samples from the
 * echoed TSecr on every ACK that acknowledges new data, and PAWS against old duplicates.
 *
 * Delayed ACK: an ACK for every second full-sized segment, else after 40 ms (Linux's
 * TCP_ATO_MIN), with Linux's quick-ACK start (the first 16 ACKs of a connection go at once)
 * and TCP_QUICKACK. TCP_CORK holds partial segments (for at most 200 ms, as tcp(7) says);
 * TCP_USER_TIMEOUT bounds how long data may stay unacknowledged.
 *
 * Keepalive (SO_KEEPALIVE with TCP_KEEPIDLE/INTVL/CNT, else the stack's tcp_keepalive_*
 * sysctls) probes an idle connection and drops it with ETIMEDOUT when the peer stays silent, as
 * Linux does; an orphaned FIN_WAIT_2 ends after TCP_LINGER2 or tcp_fin_timeout.
 *
 * Nagle's algorithm (Minshall's variant, as Linux) holds small segments unless TCP_NODELAY.
 *
 * A timeout proved spurious by timestamps (Eifel, RFC 3522) or F-RTO (RFC 5682, frto.ts) is
 * undone as Linux does; RFC 6675's rescue retransmission (rescue.ts) ends a tail loss in
 * recovery without RACK.
 *
 * Urgent data as Linux has it: a send with MSG_OOB makes its last byte urgent (URG and the
 * urgent pointer, one past that byte, on segments until it is acknowledged); a receiver keeps the
 * newest urgent byte aside for recv(MSG_OOB), reads stop at its mark and step over it unless
 * SO_OOBINLINE, and poll reports POLLPRI while it is there.
 *
 * Cost: a sandbox runs this code for every segment long before V8 optimizes it, and then a call
 * costs more than the arithmetic it wraps. So the per-segment paths (process, processAck,
 * receiveData, the send path) write some sequence arithmetic out as `(b - a) | 0` where the
 * helpers read `seqDiff(b, a)` (`seqLt(a, b)` is `((b - a) | 0) > 0`), and values derived from
 * slowly changing state (the MSS, state predicates) are kept in fields updated with that state.
 *
 * @module
 */
import { E, isError, PollEvent, type LinuxError } from '@tsvisor/abi';
import { DOUBLE_ZERO } from '../double-zero.js';
import { NEIGHBOR_RETRY, type DispatchContext } from '../iface/outgoing.js';
import { Assembler } from '../storage/assembler.js';
import type { RingBuffer, SpanCopy } from '../storage/ring-buffer.js';
import type { IpAddress, IpEndpoint } from '../wire/ip-address.js';
import { unspecifiedAddress } from '../wire/ip-address.js';
import { IPV4_MAX_MTU } from '../wire/ipv4.js';
import { Icmpv4Type, Icmpv4Unreachable } from '../wire/icmpv4.js';
import { Icmpv6Type, Icmpv6Unreachable } from '../wire/icmpv6.js';
import type { HopLimitConf, IcmpErrorReport } from '../iface/interface.js';
import { icmpErrno, SocketErrors, SoEeOrigin, type QueuedError } from './error-queue.js';
import {
  segmentAcceptable,
  seqAdd,
  seqDiff,
  seqLe,
  seqLt,
  TcpFlag,
  tcpSegmentLen,
  type SackBlock,
  type TcpRepr,
} from '../wire/tcp.js';
import { congestionControl, type CongestionAlgorithm, type CongestionControl } from './congestion.js';
import { SpuriousRtoDetector } from './frto.js';
import { Prr } from './prr.js';
import { Rack } from './rack.js';
import { RescueRetransmission } from './rescue.js';
import { DUP_THRESH, SackScoreboard } from './sack-scoreboard.js';
import { NetMib } from '../stats/mib.js';
import { PmtuDisc } from './ip-options.js';
import { LOOPBACK_IFINDEX, type PortSpace, type SocketEnv } from './socket-set.js';
import type { TcpInfo } from './tcp-info.js';
import { WOULD_BLOCK, type WouldBlock } from './would-block.js';
import { cookieTimestamp, cookieTimestampOptions, SYNCOOKIE_VALID, synCookiesOf } from './syn-cookie.js';
import type { SocketFilter } from './cbpf.js';
import { tcpFilterSegment } from './filter-packet.js';
import { joinReuseport, leaveReuseport, type ReuseportGroup } from './reuseport.js';
import {
  oowLimited,
  OOW_RATELIMIT_MS,
  pawsCheck,
  SentTimestamp,
  tcpClockMs,
  TcpTimeWait,
  timeWaitSynIsn,
  timeWaitVerdict,
  TW_ACK,
  TW_KILL,
  TW_OOW_ACK,
  TW_PAWS,
  TW_RESTART,
  TW_TS_RECENT,
  type TimeWaitHome,
} from './tcp-time-wait.js';

/** The connection states of RFC 9293 §3.3.2. */
export type TcpState =
  | 'CLOSED'
  | 'LISTEN'
  | 'SYN_SENT'
  | 'SYN_RECEIVED'
  | 'ESTABLISHED'
  | 'FIN_WAIT_1'
  | 'FIN_WAIT_2'
  | 'CLOSE_WAIT'
  | 'CLOSING'
  | 'LAST_ACK'
  | 'TIME_WAIT';

/** TCP tunables (milliseconds and counts); defaults follow Linux. */
export interface TcpConfig {
  /** Initial RTO before any RTT sample (RFC 6298 §2.1: 1 s). */
  rtoInitial: number;
  /** Lower bound of the RTO (Linux TCP_RTO_MIN: 200 ms). */
  rtoMin: number;
  /** Upper bound of the RTO (Linux TCP_RTO_MAX: 120 s). */
  rtoMax: number;
  /**
   * Linux's tcp_retries2 (15): data unacknowledged for the time this many retransmissions take
   * from the first, the RTO doubling from `rtoMin`, fails the connection with ETIMEDOUT. The
   * stack's net.ipv4.tcp_retries2, where there is one, stands for it.
   */
  maxRetries: number;
  /**
   * Linux's tcp_syn_retries (6): retransmissions of a SYN before giving up, more for a connect
   * (tcp_syn_linear_timeouts), and the time they take from the first SYN. The stack's
   * net.ipv4.tcp_syn_retries, where there is one, stands for it.
   */
  synRetries: number;
  /** Time spent in TIME_WAIT (Linux: 60 s). */
  timeWait: number;
  /** Separate out-of-order ranges kept per connection. */
  maxOooRanges: number;
  /** Offer timestamps (RFC 7323) in our SYN (Linux net.ipv4.tcp_timestamps). */
  timestamps: boolean;
  /** Offer SACK (RFC 2018) in our SYN (Linux net.ipv4.tcp_sack). */
  sack: boolean;
  /** How long an ACK may be delayed (Linux TCP_ATO_MIN: 40 ms); 0 acknowledges every segment at once. */
  delayedAck: number;
  /** The congestion control of new connections (Linux net.ipv4.tcp_congestion_control). */
  congestion: CongestionAlgorithm;
  /**
   * RACK loss detection (RFC 8985) and PRR (RFC 6937) when SACK is on, as Linux's default
   * net.ipv4.tcp_recovery=1; off, SACK recovery marks losses by RFC 6675's DupThresh rule.
   */
  rack: boolean;
  /** Tail loss probes (RFC 8985 §7) along with RACK; the stack's net.ipv4.tcp_early_retrans also decides. */
  tlp: boolean;
  /**
   * F-RTO (RFC 5682, SACK-enhanced as Linux's net.ipv4.tcp_frto=2) judges whether a timeout
   * was spurious; timestamp (Eifel) detection of spurious timeouts is on either way.
   */
  frto: boolean;
  /**
   * How far (ms) the clock of our TSvals, CLOCK_MONOTONIC in ms as Linux's tcp_clock_ms, runs
   * ahead of the poll clock; the stack sets it from StackConfig.monotonicOffset.
   */
  monotonicOffset: number;
}

const DEFAULTS: TcpConfig = {
  rtoInitial: 1000,
  rtoMin: 200,
  rtoMax: 120_000,
  maxRetries: 15,
  synRetries: 6,
  timeWait: 60_000,
  maxOooRanges: 32,
  timestamps: true,
  sack: true,
  delayedAck: 40,
  congestion: 'cubic',
  rack: true,
  tlp: true,
  frto: true,
  monotonicOffset: DOUBLE_ZERO,
};

/** What RACK's loss detection finds when there is nothing it could find. */
const NO_LOSS = { lost: 0, wait: undefined } as const;
/** The ECN field of a TOS byte or traffic class (INET_ECN_MASK). */
const ECN_MASK = 0x03;
/** Linux's tp->urg_data states: the urgent byte seen (its value in the low 8 bits), ... */
const URG_VALID = 0x100;
/** ... an urgent pointer seen but not yet its byte, ... */
const URG_NOTYET = 0x200;
/** ... the byte taken by recv(MSG_OOB) (the mark still stands in the stream until read past). */
const URG_READ = 0x400;
/** Linux TCP_TIMEWAIT_LEN: an orphan's FIN_WAIT_2 no longer than this is a timewait socket. */
const TIMEWAIT_LEN = 60_000;
/** The TTL and hop limit of a connection no stack gave a sysctl to (Linux's defaults). */
const LINUX_DEFAULT_HOPS: HopLimitConf = { hopLimit: 64 };
/** Linux TCP_DELACK_MAX: a lone segment's probe also waits out the peer's longest delayed ACK. */
const DELACK_MAX = 200;
/** Linux TCP_TIMEOUT_MIN_US (ms): the least a loss probe waits beyond its two SRTTs. */
const TIMEOUT_MIN = 2;
/**
 * Linux 6.18's default net.ipv4.tcp_syn_linear_timeouts: a connect's first timeouts that keep
 * the initial RTO, and the SYN retransmissions added to tcp_syn_retries for them.
 */
const SYN_LINEAR_TIMEOUTS = 4;

/** Linux NR_ICMP_UNREACH: the last destination-unreachable code tcp_v4_err knows. */
const NR_ICMP_UNREACH = 15;

/** Linux TCP_MAX_QUICKACKS: ACKs sent at once at the start of a connection. */
const MAX_QUICKACKS = 16;
/** ICSK_ACK_PUSHED and ICSK_ACK_PUSHED2: one, then a second, pushed segment since the last ACK. */
const PUSHED = 1;
const PUSHED2 = 2;
/** TCP_REMNANT's flags: a segment with one of them may be short of a full segment. */
const REMNANT = TcpFlag.FIN | TcpFlag.URG | TcpFlag.SYN | TcpFlag.PSH;
/** tcp(7): corked output waits at most 200 ms. */
const CORK_CEILING = 200;
/** Size of the timestamps option as sent on every segment (NOP NOP + 10). */
const TS_OPTION_LEN = 12;
/** TCP_PAWS_WINDOW: a TSval this many ticks older than TS.Recent still passes PAWS. */
const PAWS_WINDOW = 1;

/**
 * Linux's TCP_ESTABLISHED... numbering of states (include/net/tcp_states.h), as TCP_INFO and
 * /proc/net/tcp show them.
 */
export const LINUX_TCP_STATE: Readonly<Record<TcpState, number>> = {
  ESTABLISHED: 1,
  SYN_SENT: 2,
  SYN_RECEIVED: 3,
  FIN_WAIT_1: 4,
  FIN_WAIT_2: 5,
  TIME_WAIT: 6,
  CLOSED: 7,
  CLOSE_WAIT: 8,
  LAST_ACK: 9,
  LISTEN: 10,
  CLOSING: 11,
};

/** RFC 9293 §3.7.1: the MSS assumed when the peer sends none. */
const DEFAULT_MSS = { 4: 536, 6: 1220 } as const;
const EMPTY = new Uint8Array(0);
/** Staging for outgoing payloads: filled and serialised within one synchronous emit, so shared. */
const SCRATCH = new Uint8Array(65536);

/** The caller-owned rings of a TCP connection. */
export interface TcpBuffers {
  readonly rx: RingBuffer;
  readonly tx: RingBuffer;
}

/**
 * secure_tcp_seq_and_ts_off's TSval offset of a connection from `local` to `remote`: a secret
 * hash of the addresses and ports with net.ipv4.tcp_timestamps 1, else 0 (the TSval is then the
 * bare clock).
 */
function tsOffsetOf(env: SocketEnv, local: IpEndpoint, remote: IpEndpoint): number {
  return (env.sysctl?.timestamps ?? 1) === 1 ? synCookiesOf(env).tsOffset(local, remote) : 0;
}

/** What tcp_twsk_unique reads of a TIME_WAIT connection (a TcpSocket's or a TcpTimeWait's). */
interface TimeWaitFacts {
  readonly state: TcpState;
  readonly tsOk: boolean;
  readonly boundDevIf: number;
  readonly local: IpEndpoint | undefined;
  readonly remote: IpEndpoint | undefined;
  readonly tsRecent: number;
  readonly tsRecentAt: number;
  readonly sndNxt: number;
}

/**
 * Linux's tcp_model_timeout: how long `boundary` retransmissions take with the RTO starting at
 * `rtoBase` and doubling up to `rtoMax` (ms), from the first retransmission to the timeout after
 * the last.
 */
function modelTimeout(boundary: number, rtoBase: number, rtoMax: number): number {
  const linearBackoffThresh = 31 - Math.clz32(Math.max(1, Math.floor(rtoMax / rtoBase)));
  if (boundary <= linearBackoffThresh) return ((2 << boundary) - 1) * rtoBase;
  return ((2 << linearBackoffThresh) - 1) * rtoBase + (boundary - linearBackoffThresh) * rtoMax;
}

/** A TCP connection endpoint; create it with `Stack.tcpSocket` (or get it from accept). */
export class TcpSocket {
  private stateNow: TcpState = 'CLOSED';
  /** SO_ATTACH_FILTER's program and lock (shared with the InetSocket that owns this socket). */
  filter: SocketFilter | undefined;
  /**
   * Derived from the state as it changes (every segment asks): synchronized, established or
   * closing ({@link isConnected}), and a state in which data may be sent.
   */
  private connected = false;
  private sendOpen = false;
  /** The stack's counters (or the socket's own when it has no stack). */
  private readonly mib: NetMib;
  /** This connection was counted in TW or TWKilled (once, when it first began to wait). */
  private twCounted = false;

  /** The connection state (RFC 9293 names). */
  get state(): TcpState {
    return this.stateNow;
  }
  /**
   * Every state change passes here, so the MIB's opens and the CurrEstab gauge follow Linux's
   * tcp_set_state: ESTABLISHED and CLOSE_WAIT count as established; leaving them straight for
   * CLOSED is a reset (EstabResets); a listener's embryo reaching ESTABLISHED is a passive open
   * (tcp_create_openreq_child); entering SYN_SENT is an active open (tcp_connect).
   */
  set state(next: TcpState) {
    const prev = this.stateNow;
    if (prev === next) return;
    this.stateNow = next;
    if (next !== 'ESTABLISHED') this.hpOn = false; // tcp_rcv_established serves ESTABLISHED alone
    this.connected = next !== 'CLOSED' && next !== 'LISTEN' && next !== 'SYN_SENT' && next !== 'SYN_RECEIVED';
    this.sendOpen =
      next === 'ESTABLISHED' ||
      next === 'CLOSE_WAIT' ||
      next === 'FIN_WAIT_1' ||
      next === 'CLOSING' ||
      next === 'LAST_ACK';
    const tcp = this.mib.tcp;
    const was = prev === 'ESTABLISHED' || prev === 'CLOSE_WAIT';
    const is = next === 'ESTABLISHED' || next === 'CLOSE_WAIT';
    if (is && !was) {
      tcp.CurrEstab++;
      if (prev === 'SYN_RECEIVED' && this.parent) {
        tcp.PassiveOpens++;
        this.parent.arrivals++; // tcp_child_process: the listener's sk_data_ready
        // Linux makes the connection now, a copy of the listener as it is (inet_csk_clone_lock):
        // its IP_TTL and IP_TOS, changed since the SYN perhaps (TCP_DEFER_ACCEPT waits for data).
        const listener = this.parent.ipOptionsNow(this.family);
        if (listener !== undefined) {
          this.hopLimit = listener.hopLimit;
          this.trafficClass = listener.trafficClass;
        }
        // tcp_v4_syn_recv_sock, tcp_v6_syn_recv_sock: tcp_reflect_tos gives it the SYN's DSCP.
        if ((this.env.sysctl?.reflectTos ?? 0) !== 0) this.trafficClass = this.synTos & ~ECN_MASK;
      }
    } else if (was && !is) {
      tcp.CurrEstab--;
      if (next === 'CLOSED') tcp.EstabResets++;
    } else if (next === 'SYN_SENT') tcp.ActiveOpens++;
  }
  local: IpEndpoint | undefined;
  remote: IpEndpoint | undefined;
  /** SO_REUSEADDR. */
  reuseAddr = false;
  /** SO_REUSEPORT (see {@link PortBinding.reusePort}). */
  reusePort = false;
  /**
   * The SO_REUSEPORT group whose program this socket attached before it listens (see reuseport.ts):
   * the listener made from it starts with it.
   */
  reuseportGroup: ReuseportGroup<TcpListener> | undefined;
  /** IPV6_V6ONLY (AF_INET6 only): off, a binding to `::` also holds the port for IPv4. */
  v6only = true;
  /** The socket-layer object this socket serves (an InetSocket), for /proc/net; undefined once closed. */
  owner: object | undefined;
  /**
   * @internal The stack's bookkeeping (see Stack.touch): queued for the next dispatch; the time
   * the socket last said it next needs one (its place in the stack's timer heap, -1: none).
   */
  dirty = false;
  /** @internal */
  deadline: number | undefined;
  /** @internal */
  heapPos = -1;
  /** @internal */
  visit = -1;
  /** @internal in its stack's list of connections (not parked, not reaped), at `tablePos` */
  inTable = false;
  /** @internal */
  tablePos = -1;
  /** @internal filed by its ports in its stack's lookup of live connections (Stack.endpointsSet) */
  filed = false;
  /** IP_TTL / IPV6_UNICAST_HOPS; -1 while unset: the segments then take {@link hopsConf}'s. */
  hopLimit = -1;
  /**
   * The sysctl an unset {@link hopLimit} stands for (ip_default_ttl, or the hop_limit of the
   * link to the peer), which the stack hands the connection with its endpoints: read for each
   * segment, as ip_select_ttl and ip6_dst_hoplimit do, so that a change reaches the connection.
   */
  hopsConf: HopLimitConf = LINUX_DEFAULT_HOPS;
  /**
   * In TIME_WAIT a timewait sock answers, by the stack's control socket (tcp_v4_send_ack,
   * tcp_v6_send_response): with the sysctl's TTL, whatever IP_TTL the socket had or is given
   * later; all but the ACK of the FIN that ended FIN_WAIT_2, which this socket still sends with
   * its own (tcp_fin), while this is true.
   */
  private ownFinAck = false;
  /** IP_TOS / IPV6_TCLASS: the TOS byte or traffic class of the segments sent. */
  trafficClass = 0;
  /**
   * @internal For a listener's connection, the TOS or traffic class its SYN came with (for a SYN
   * cookie's, the ACK that made it), as tcp_rsk(req)->syn_tos: net.ipv4.tcp_reflect_tos gives
   * its DSCP to the SYN-ACKs and the connection (see {@link synAckTrafficClass}).
   */
  synTos = 0;
  /**
   * @internal For a listener's request (SYN_RECEIVED), the TOS or traffic class, less its ECN
   * bits, of the segment its next ACK answers: that ACK leaves by the stack's control socket
   * (tcp_v4_reqsk_send_ack, tcp_v6_reqsk_send_ack) with it and the sysctl's TTL.
   */
  requestAckTos = 0;
  /**
   * TCP_SAVE_SYN: the IP and TCP headers (and with 2, the link-layer header) of the SYN that
   * opened this connection, kept for one getsockopt(TCP_SAVED_SYN); undefined once read.
   */
  savedSyn: Uint8Array | undefined;
  /** TCP_NODELAY: send small segments at once instead of waiting for the ACK of the last one. */
  noDelay = false;
  /** SO_KEEPALIVE. */
  keepAlive = false;
  /**
   * TCP_KEEPIDLE, TCP_KEEPINTVL (ms) and TCP_KEEPCNT. Undefined follows the stack's
   * net.ipv4.tcp_keepalive_time/intvl/probes, read each time they are used (as Linux's
   * keepalive_time_when), so a sysctl change reaches every socket that set no value of its own.
   */
  keepIdle: number | undefined;
  keepIntvl: number | undefined;
  keepCnt: number | undefined;
  /**
   * TCP_LINGER2 (ms): how long a connection the application closed waits in FIN_WAIT_2 for the
   * peer's FIN; negative: not at all (it closes at once, with a RST when closed in FIN_WAIT_2);
   * undefined follows net.ipv4.tcp_fin_timeout. Never shorter than 3.5 RTO (tcp_fin_time).
   */
  linger2: number | undefined;
  /** TCP_QUICKACK: acknowledge every segment at once instead of delaying ACKs. */
  quickAck = false;
  /**
   * TCP_USER_TIMEOUT (ms): once data has stayed unacknowledged (or a zero window has been
   * probed) this long, the connection fails with ETIMEDOUT; 0 leaves it to the retry limit.
   */
  userTimeout = 0;
  /** SO_BINDTODEVICE's ifindex (0: none): the connection sends and receives on that link only. */
  boundDevIf = 0;
  /** The route of the connection loses every packet (see SocketEnv.routeVia): segments go nowhere. */
  private blackhole = false;
  /**
   * TCP_NOTSENT_LOWAT as an unsigned 32-bit count (0: net.ipv4.tcp_notsent_lowat, UINT_MAX by
   * default, so no limit): the socket is writable only while fewer bytes than this wait unsent.
   */
  notsentLowat = 0;
  /**
   * TCP_SYNCNT: retransmissions of our SYN (or SYN-ACK) before the handshake gives up;
   * undefined: the stack's `TcpConfig.synRetries` (Linux's net.ipv4.tcp_syn_retries).
   */
  synRetries: number | undefined;
  /**
   * TCP_RTO_MIN_US and TCP_RTO_MAX_MS as milliseconds: the bounds of this connection's
   * retransmission timeout (Linux icsk_rto_min, icsk_rto_max); from `TcpConfig` until set.
   */
  rtoMin: number;
  rtoMax: number;
  /**
   * TCP_THIN_LINEAR_TIMEOUTS: while fewer than 4 segments are in flight (a "thin" stream, Linux
   * tcp_stream_is_thin) the first 6 timeouts of an established connection do not back off.
   */
  thinLinearTimeouts = false;
  /**
   * TCP_WINDOW_CLAMP (bytes, 0: none): the most receive window this connection offers, in its
   * SYN and until data arrives; after that only with `windowClampLocked` (SO_RCVBUF set), as
   * Linux 6.18's receive autotuning raises the clamp with the buffer unless the buffer is
   * locked. A window already offered is never taken back.
   */
  windowClamp = 0;
  windowClampLocked = false;
  /**
   * TCP_DEFER_ACCEPT as Linux keeps it (SYN-ACK retransmission rounds; set on the listener,
   * which hands it to its connections): a handshake-completing ACK without data is dropped
   * while fewer SYN-ACK retransmissions than this went out, so accept(2) sees the connection
   * only once data arrives or the rounds are over.
   */
  deferAccept = 0;
  /** An ACK was dropped by {@link deferAccept}: the SYN-ACK keeps going out for its rounds. */
  private deferredAck = false;
  /**
   * TCP_MAXSEG as set (Linux's rx_opt.user_mss; 0: none): it caps the MSS our SYN or SYN-ACK
   * offers (so what the peer sends) and the MSS we send with. See {@link setUserMss}.
   */
  get userMss(): number {
    return this.userMssNow;
  }
  private userMssNow = 0;
  /** The listener that created this socket, until accepted. */
  parent: TcpListener | undefined;
  private readonly cfg: TcpConfig;
  private registered = false;
  /** Its port was picked by connect(2) (inet_hash_connect), so other connections may share it. */
  private connectBound = false;
  /**
   * bind(2) named an address / a port (Linux's SOCK_BINDADDR_LOCK, SOCK_BINDPORT_LOCK): a failed
   * or disconnected connection keeps them, where an automatic choice is forgotten.
   */
  private bindAddrLock = false;
  private bindPortLock = false;
  private released = false;

  /** bind(2) named the port (SOCK_BINDPORT_LOCK): a listener made from this socket keeps it when aborted. */
  get portLocked(): boolean {
    return this.bindPortLock;
  }

  /**
   * EADDRINUSE when this bound socket could not listen on its port because it has an
   * SO_REUSEPORT group of its own (a program attached before listen(2)): inet_csk_get_port checks
   * the port again at listen, and such a socket shares it with no other socket.
   */
  reuseportListenConflict(): LinuxError | undefined {
    if (!this.reuseportGroup || !this.local) return undefined;
    return this.ports.check(this, this.local, this.reuseAddr);
  }
  /**
   * shutdown(SHUT_RD) was called (Linux RCV_SHUTDOWN, which close() sets too): once our FIN is
   * out, new data is answered with a RST (see {@link abortOnData}).
   */
  readShut = false;
  private everConnected = false;
  /**
   * Urgent data received (Linux tp->urg_data): 0 none, else URG_NOTYET, URG_VALID | the byte, or
   * URG_READ; `urgSeq` is the urgent byte's sequence number (tp->urg_seq).
   */
  private urgData = 0;
  private urgSeq = DOUBLE_ZERO;
  /** Urgent data sent: `sndUp` (tp->snd_up) is one past the last byte sent with MSG_OOB. */
  private sndUrg = false;
  private sndUp = DOUBLE_ZERO;
  /**
   * SO_OOBINLINE: the urgent byte stays in the stream, read in line with the rest, and
   * recv(MSG_OOB) answers EINVAL; otherwise reads skip it and only recv(MSG_OOB) returns it.
   */
  oobInline = false;
  /** Called when a new urgent pointer arrives (Linux sk_send_sigurg: SIGURG to the owner). */
  onUrgent: (() => void) | undefined;
  /** Set when the connection failed (ECONNREFUSED, ECONNRESET, ETIMEDOUT); sticky like sk_err. */
  private error: LinuxError | undefined;
  private errorReported = false;
  /**
   * Linux's sk_err_soft: the last ICMP error of a connection that goes on trying, which a
   * timeout that gives up reports instead of ETIMEDOUT (tcp_write_err); an ACK or SO_ERROR
   * clears it.
   */
  private softError: LinuxError | undefined;
  /**
   * The socket's error queue (sk_error_queue): an ICMP error that fails the handshake is kept
   * there, IP_RECVERR or not, for recvmsg(MSG_ERRQUEUE); its `pending` is unused (sk_err is
   * {@link error}). A disconnect hands it on ({@link takeOver}).
   */
  errors = new SocketErrors();

  // send sequence space (RFC 9293 §3.3.1). Fields of sequence numbers and of times (ms) start
  // as DOUBLE_ZERO, the representation their values take (see there).
  private iss = DOUBLE_ZERO;
  private sndUna = DOUBLE_ZERO;
  private sndNxt = DOUBLE_ZERO;
  private sndWnd = 0;
  private sndWl1 = DOUBLE_ZERO;
  private sndWl2 = DOUBLE_ZERO;
  private maxSndWnd = 0;
  /** Sequence number of the first byte in the send ring. */
  private txBase = DOUBLE_ZERO;
  /** The application closed its sending side: a FIN follows the queued data. */
  private finQueued = false;
  /** End of the last segment sent smaller than the MSS (for Nagle). */
  private smallSentEnd: number | undefined;
  /** The highest sequence number sent so far (SND.NXT goes back on a timeout; this does not). */
  private sndMax = DOUBLE_ZERO;
  /**
   * Segments sent with new data or a FIN (as TCPOrigDataSent counts them) not yet counted in
   * TcpExt TCPDelivered. Linux counts each segment as its ACK or SACK arrives (tcp_clean_rtx_queue,
   * tcp_sacktag); netstack keeps no segment boundaries, so it counts them all when an ACK covers
   * everything sent: the same total once the flight drains, counted no earlier than Linux does.
   */
  private undelivered = 0;

  // receive sequence space
  private irs = DOUBLE_ZERO;
  private rcvNxt = DOUBLE_ZERO;
  private remoteFin = false;
  private readonly assembler: Assembler;

  /**
   * Linux's header prediction (tcp_rcv_established, pred_flags) is on: a segment whose window
   * field gives SND.WND (pred_flags holds the window of the last update) may take the fast
   * path. On when a passive open completes, when an active one does without window scaling
   * (tcp_finish_connect), and again (tcp_fast_path_check) when in-order data is queued or the
   * peer's window changes with no out-of-order data held and room to receive; off on
   * out-of-order data and when we advertise a zero window (tcp_select_window). Only the TcpExt
   * TCPHPHits/TCPHPAcks/TCPPureAcks counts depend on it: netstack has a single receive path.
   */
  private hpOn = false;

  // options
  private sndShift = 0;
  private rcvShift = 0;
  private sackOk = false;
  private peerMss = 536;
  private lastAdvertised = 0;
  /**
   * The receive space SO_RCVBUF asked for after the window was first offered, while the ring
   * is still larger (0: none pending). Linux never takes back window it offered: the ring keeps
   * room for it, and shrinks towards this as the offered window is used up (see
   * {@link clampReceiveRing}).
   */
  private rcvClamp = 0;
  /**
   * The application consumed received bytes since our window was last advertised: only then
   * may the window grow enough to be worth an update of its own (Linux's tcp_cleanup_rbuf runs
   * after a read). A window that is larger than the SYN's unscaled field once the handshake is
   * done is no reason to send one: the first ACK of the peer's data carries it.
   */
  private rcvRead = false;
  /** A read took the peer's FIN (copied_seq counts it): see procRecvQueue. */
  private finTaken = false;
  /** The peer's SYN asked for window scaling / SACK (passive open). */
  private peerWs: number | undefined;

  // timers (RFC 6298)
  private rto: number;
  private srtt: number | undefined;
  private rttvar = DOUBLE_ZERO;
  private rtoAt: number | undefined;
  private retries = 0;
  /**
   * icsk_backoff of the retransmission timer: timeouts that doubled the RTO since it was last
   * worked out from the RTT, which RFC 6069's revert undoes one at a time (see revertRto).
   */
  private rtoBackoff = 0;
  /**
   * Linux's retrans_stamp: when the first SYN left, or the first retransmission since no
   * retransmitted data was outstanding; a timeout gives up once the time since passes what
   * the retry limit allows ({@link writeTimedOut}).
   */
  private retransStamp: number | undefined;
  /** The end of the highest retransmitted data: once acknowledged, none is outstanding. */
  private retransHigh = DOUBLE_ZERO;
  /** When the segment at SND.UNA last left (tcp_skb_timestamp of the retransmit queue's head). */
  private headSentAt = DOUBLE_ZERO;

  // congestion control (RFC 5681, RFC 6582, RFC 9438) and SACK loss recovery (RFC 6675)
  private cc: CongestionControl;
  private dupAcks = 0;
  private readonly scoreboard = new SackScoreboard();
  /** RFC 6675 HighRxt: the end of the highest retransmitted range in this recovery. */
  private highRxt = DOUBLE_ZERO;
  /** RFC 6675 loss recovery is running (SACK negotiated); otherwise `inRecovery` is NewReno's. */
  private sackRecovery = false;
  private inRecovery = false;
  /** NewReno's "recover": the highest sequence number sent when recovery began. */
  private recover = DOUBLE_ZERO;
  private retransmitHeadDue = false;
  /**
   * Linux's undo of a spurious reduction (RFC 2883 §5, D-SACK): `undoMarker` is SND.UNA when the
   * loss episode (recovery or timeout) began, `undoRanges` what was retransmitted since and the
   * peer has not yet reported as duplicate; when none is left every retransmission was needless
   * and the window and threshold from before the episode come back. (Linux counts D-SACKs
   * below SND.UNA without checking what they name; the ranges make that exact.)
   */
  private undoMarker: number | undefined;
  private undoRanges: [number, number][] = [];
  /** F-RTO at this timeout: the stack's net.ipv4.tcp_frto when there is a stack, else the config. */
  private frtoEnabled(): boolean {
    const frto = this.env.sysctl?.frto;
    return frto === undefined ? this.cfg.frto : frto !== 0;
  }

  /** F-RTO and Eifel detection of spurious timeouts (frto.ts); new data due by F-RTO step 2.b. */
  private readonly lossEpisode = new SpuriousRtoDetector();
  private frtoNewDue = false;
  /** RFC 6675 RescueRxt (rescue.ts), for recovery without RACK. */
  private readonly rescue = new RescueRetransmission();
  private priorCwnd = 0;
  private priorSsthresh = 0;
  /** RACK-TLP (RFC 8985) and PRR (RFC 6937), used when SACK is on and `cfg.rack`. */
  private readonly rack = new Rack();
  private readonly prr = new Prr();
  /** Bytes ACKs delivered since the sender's last turn to send (PRR credit at recovery start). */
  private deliveredThisRound = 0;
  /** RACK's reorder timer: when to look for losses again. */
  private rackTimerAt: number | undefined;
  /** The probe timeout (PTO), and the episode of the last probe: SND.MAX after it, its range. */
  private tlpAt: number | undefined;
  private tlpHighSeq: number | undefined;
  private tlpStart = DOUBLE_ZERO;
  private tlpRetrans = false;
  /** A duplicate segment arrived: the D-SACK block (RFC 2883) our next ACK reports first. */
  private dsack: readonly [number, number] | undefined;
  /** Counters for tests and TCP_INFO. */
  readonly stats = {
    segmentsSent: 0,
    segmentsReceived: 0,
    dataSegmentsSent: 0,
    dataSegmentsReceived: 0,
    retransmits: 0,
    /** Payload bytes sent again (RFC 4898 OctetsRetrans). */
    bytesRetransmitted: 0,
    fastRetransmits: 0,
    /** D-SACK blocks received (TCP_INFO tcpi_dsack_dups) and sent. */
    dsacksReceived: 0,
    dsacksSent: 0,
    /** Loss episodes undone because D-SACKs showed every retransmission needless (TCPDSACKUndo). */
    undos: 0,
    /** Timeouts undone as spurious, by timestamps or F-RTO (TCPLossUndo), and by F-RTO (TCPSpuriousRTOs). */
    lossUndos: 0,
    spuriousRtos: 0,
    /** RFC 6675 rescue retransmissions (NextSeg rule 4). */
    rescueRetransmits: 0,
    /** Tail loss probes sent (TCPLossProbes), and those that repaired a loss (TCPLossProbeRecovery). */
    tlpProbes: 0,
    tlpRecoveries: 0,
    /** Times RACK's reorder timer marked segments lost. */
    rackTimeouts: 0,
    timeouts: 0,
    windowProbes: 0,
    /** RTT samples taken (from timestamps, or one timed segment per RTT without them). */
    rttSamples: 0,
    /** Segments dropped by PAWS (RFC 7323 §5). */
    pawsRejected: 0,
    /** Out-of-order segments received. */
    outOfOrderReceived: 0,
    /** ACKs held back by the delayed-ACK timer and sent when it fired. */
    delayedAcks: 0,
    bytesSent: 0,
    bytesAcked: 0,
    bytesReceived: 0,
  };
  /** TCP_CORK: hold partial segments (see `setCork`). */
  private cork = false;
  /** The last send had MSG_MORE: a partial segment waits (see {@link send}). */
  private moreHeld = false;
  /** When corked output started waiting (tcp(7): at most 200 ms). */
  private corkedSince: number | undefined;
  /** Send what is queued now, Nagle notwithstanding (after uncorking, as Linux's TCP_NAGLE_PUSH). */
  private pushOnce = false;
  // timestamps (RFC 7323)
  private tsOk = false;
  private tsOffset = DOUBLE_ZERO;
  private tsRecent = DOUBLE_ZERO;
  private tsRecentAt = DOUBLE_ZERO;
  /** TSval of our last retransmission: echoes older than this are not timed. */
  private tsRtxFloor: number | undefined;
  /** RCV.NXT as of the last ACK we sent (Last.ACK.sent of RFC 7323 §4.3). */
  private lastAckSent = DOUBLE_ZERO;
  // delayed ACK
  private ackDelayAt: number | undefined;
  private quickAcksLeft = 0;
  private receivedAnyData = false;
  /**
   * Linux's ping-pong mode (inet_csk_in_pingpong_mode): the application answers what it
   * receives within the delayed-ACK timeout, so quick ACKs give way to delayed ones that ride
   * on the answers. Entered on such an answer or when the peer's FIN arrives after data; left
   * when the delayed-ACK timer has to send an ACK after all.
   */
  private pingpong = false;
  /** In-order bytes received since our last ACK. */
  private bytesUnacked = 0;
  /** The peer's segment size as Linux estimates it (icsk_ack.rcv_mss: tcp_measure_rcv_mss). */
  private rcvMss = 536;
  /** The size of the last small segment that looked like a smaller MSS (icsk_ack.last_seg_size). */
  private lastSegSize = 0;
  /**
   * Segments that end an application's write arrived since our last ACK (Linux's
   * ICSK_ACK_PUSHED and ICSK_ACK_PUSHED2 in icsk_ack.pending): a read that empties the queue
   * then sends the ACK (see {@link ackOnRead}).
   */
  private pushed = 0;
  // times for TCP_USER_TIMEOUT and TCP_INFO (ms, the stack's clock)
  /** When the oldest unacknowledged data was sent, or zero-window probing began. */
  private stallSince: number | undefined;
  private lastDataSent = DOUBLE_ZERO;
  private lastDataRecv = DOUBLE_ZERO;
  private lastAckRecv = DOUBLE_ZERO;
  private lastNow = DOUBLE_ZERO;
  private minRtt: number | undefined;
  private rttSample: { seq: number; at: number } | undefined;
  private probeDue = false;
  /**
   * Zero-window probes sent since the peer last acknowledged anything (icsk_probes_out), and the
   * persist timer's backoff (icsk_backoff: a probe doubles the next interval; the RTO stays).
   */
  private probesOut = 0;
  private probeBackoff = 0;
  /** When we last answered an out-of-window segment without data (tcp_oow_rate_limited). */
  private lastOowAck: number | undefined;
  /** The persist timer fired on a zero window: a probe (Linux tcp_xmit_probe_skb) goes out. */
  private windowProbeDue = false;
  private timeWaitAt: number | undefined;
  private ackDue = false;
  /** When the peer last sent us anything, and keepalive probes sent since. */
  private lastHeard = DOUBLE_ZERO;
  private keepProbes = 0;
  /** Segments wait for the next hop's link address until then (ms). */
  private holdUntil = DOUBLE_ZERO;
  /** An out-of-order or duplicate segment arrived: acknowledge at once (RFC 5681 §4.2). */
  private ackNow = false;
  private rstDue = false;
  /**
   * The poll context of this socket's last dispatch while that has tried to send nothing;
   * cleared by every attempt to send and every input (a segment, a resolved neighbor). See
   * {@link dispatch}.
   */
  private quietIn: DispatchContext | undefined;

  /** @internal created by the stack or a listener. */
  constructor(
    readonly family: 4 | 6,
    private readonly buffers: TcpBuffers,
    private readonly env: SocketEnv,
    private readonly ports: PortSpace<TcpSocket | TcpListener | TcpTimeWait>,
    config: Partial<TcpConfig> = {},
  ) {
    this.cfg = { ...DEFAULTS, ...config };
    this.mib = env.mib ?? new NetMib();
    this.rto = this.cfg.rtoInitial;
    this.rtoMin = this.cfg.rtoMin;
    this.rtoMax = this.cfg.rtoMax;
    this.assembler = new Assembler(this.cfg.maxOooRanges);
    this.cc = congestionControl(this.cfg.congestion, 0);

    this.rcvShift = windowShiftFor(buffers.rx.capacity);
    this.refreshMss();
  }

  // ---- application side ----

  /** Implements bind(2) for a TCP socket (EINVAL when bound or connected, EADDRINUSE, EADDRNOTAVAIL). */
  bind(ep: IpEndpoint): undefined | LinuxError {
    this.env.touch?.(this);
    // Linux (inet_bind) refuses only a socket that holds a port: one whose failed connection
    // released its automatic port may be bound again.
    if (this.registered || this.stateNow !== 'CLOSED') return E.EINVAL;
    if (ep.addr.version !== this.family) return E.EINVAL;
    if (!ep.addr.isUnspecified() && !this.nonLocalBind && !this.env.isLocalAddress(ep.addr))
      return E.EADDRNOTAVAIL;
    if (ep.port === 0 && this.bindAddressNoPort) {
      // IP_BIND_ADDRESS_NO_PORT: the address only; connect picks the port (inet_bind).
      this.local = { addr: ep.addr, port: 0 };
      this.bindAddrLock = !ep.addr.isUnspecified();
      return undefined;
    }
    const err = this.claimLocal(ep);
    if (err) return err;
    this.bindAddrLock = !ep.addr.isUnspecified();
    this.bindPortLock = ep.port !== 0;
    return undefined;
  }

  /** IP_FREEBIND / IP_TRANSPARENT: bind may name an address that is not this host's. */
  nonLocalBind = false;
  /** IP_BIND_ADDRESS_NO_PORT: bind(2) with port 0 takes the address only. */
  bindAddressNoPort = false;
  /** IP_MINTTL and IPV6_MINHOPCOUNT: segments arriving with fewer hops left are dropped (0: none). */
  minTtl = 0;
  minHopCount = 0;
  /** IP_LOCAL_PORT_RANGE (see {@link PortBinding.localPortRange}). */
  localPortRange = 0;
  /** IP_MTU_DISCOVER (IPv4) and IPV6_MTU_DISCOVER (IPv6) of the owning socket, by IP version. */
  pmtuDisc: (v: 4 | 6) => number = () => PmtuDisc.WANT;
  /**
   * IP_RECVERR (IPv4) and IPV6_RECVERR (IPv6) of the owning socket, by IP version: with it an
   * ICMP error reaches a synchronized connection's application at once (see {@link icmpError}).
   */
  recvErr: (v: 4 | 6) => boolean = () => false;

  /** Takes `ep`'s port (an ephemeral one for 0) and makes `ep` the local address. */
  private claimLocal(ep: IpEndpoint): undefined | LinuxError {
    const port = this.ports.claim(this, ep.addr, ep.port, this.reuseAddr, 'inet_csk');
    if (typeof port !== 'number') return port;
    this.local = { addr: ep.addr, port };
    this.registered = true;
    return undefined;
  }

  /**
   * tcp_twsk_unique: whether TIME_WAIT connection `tw`, of the addresses and ports this one would
   * use, may be taken over by it: tcp_tw_reuse allows it (2: over loopback only), `tw` had
   * timestamps, and its peer's last one came in an earlier second of CLOCK_MONOTONIC (so PAWS
   * tells the two apart).
   */
  private mayTakeOver(tw: TimeWaitFacts): boolean {
    if (tw.state !== 'TIME_WAIT' || !tw.tsOk) return false;
    const reuse = this.env.sysctl?.twReuse ?? 2;
    if (reuse === 0) return false;
    if (reuse === 2) {
      const loop = (a: IpAddress | undefined): boolean =>
        a !== undefined &&
        (a.version === 4 ? a.isLoopback() : a.isLoopback() || a.v4Mapped()?.isLoopback() === true);
      if (tw.boundDevIf !== LOOPBACK_IFINDEX && !loop(tw.remote?.addr) && !loop(tw.local?.addr)) return false;
    }
    const now = this.env.pollNow?.() ?? 0;
    const mono = this.cfg.monotonicOffset;
    return Math.floor((now + mono) / 1000) > Math.floor((tw.tsRecentAt + mono) / 1000);
  }

  /** What {@link mayTakeOver} and a connection that takes this one over read of it. */
  private get timeWaitFacts(): TimeWaitFacts {
    return {
      state: this.stateNow,
      tsOk: this.tsOk,
      boundDevIf: this.boundDevIf,
      local: this.local,
      remote: this.remote,
      tsRecent: this.tsRecent,
      tsRecentAt: this.tsRecentAt,
      sndNxt: this.sndNxt,
    };
  }

  /**
   * @internal in TIME_WAIT, the ISN of the connection SYN `seg` would start in place of this one
   * (TcpTimeWait.synIsn); undefined in other states or for a SYN that {@link process} answers.
   */
  timeWaitSynIsn(now: number, seg: TcpRepr): number | undefined {
    if (this.stateNow !== 'TIME_WAIT') return undefined;
    if ((seg.flags & TcpFlag.SYN) === 0) return undefined;
    return timeWaitSynIsn(now, seg, {
      rcvNxt: this.rcvNxt,
      sndNxt: this.sndNxt,
      tsOk: this.tsOk,
      tsRecent: this.tsRecent,
      tsRecentAt: this.tsRecentAt,
    });
  }

  /** @internal TIME_WAIT taken over by a new connection (Stack.reuseTimeWait): now CLOSED, its port let go. */
  takenOver(): void {
    this.toClosed();
  }

  /** Whether this socket holds its local port in the port space (bound, connecting or connected). */
  get holdsPort(): boolean {
    return this.registered;
  }

  /**
   * Whether connect started on this socket (or it came from accept): the socket layer's
   * "connected" once the connect call reported the outcome (see {@link takeOver}).
   */
  get connectStarted(): boolean {
    return this.everConnected;
  }

  /**
   * @internal Linux's tcp_disconnect, done by replacement: this fresh socket takes the place of
   * `old` (connect(AF_UNSPEC), or the connect call that reports a failed connection). A live
   * `old` is reset (RST to the peer, ECONNRESET pending here, as Linux sets sk_err); a
   * connection in TIME_WAIT finishes on its own. An address and a port bind(2) named stay (the
   * port moves here); automatic ones are forgotten, though getsockname still shows the old port
   * with the unspecified address, as on Linux. The error queue stays: tcp_disconnect leaves
   * sk_error_queue alone, so an error of the failed handshake is still there to read.
   */
  takeOver(old: TcpSocket): void {
    this.env.touch?.(this);
    if (this.stateNow !== 'CLOSED' || this.everConnected || this.registered)
      throw new Error('takeOver needs a fresh socket');
    const live = old.state !== 'CLOSED' && old.state !== 'TIME_WAIT' && old.state !== 'LISTEN';
    const keepPort = old.bindPortLock && old.registered && old.local !== undefined;
    if (keepPort) {
      old.ports.remove(old, old.local!.port);
      old.registered = false;
    }
    if (live) {
      old.abort(); // RST unless still in SYN_SENT
      this.error = E.ECONNRESET;
      this.errorReported = false;
    } else old.close();
    this.errors = old.errors;
    old.errors = new SocketErrors();
    this.reuseAddr = old.reuseAddr;
    this.reusePort = old.reusePort;
    this.reuseportGroup = old.reuseportGroup;
    this.v6only = old.v6only;
    this.bindAddrLock = old.bindAddrLock;
    this.bindPortLock = old.bindPortLock;
    if (old.local) {
      const addr = old.bindAddrLock ? old.local.addr : unspecifiedAddress(this.family);
      this.local = { addr, port: old.local.port };
      if (keepPort) {
        this.ports.add(this, old.local.port);
        this.registered = true;
      }
    }
  }

  /** An AF_INET6 socket whose `::` binding also holds the port for IPv4 (IPV6_V6ONLY off). */
  get dualStack(): boolean {
    return this.family === 6 && !this.v6only;
  }

  /**
   * Implements connect(2): starts the three-way handshake (the SYN leaves on the next poll).
   * EISCONN when connected, EALREADY while connecting, ENETUNREACH without a route.
   */
  connect(ep: IpEndpoint): undefined | LinuxError {
    this.env.touch?.(this);
    if (this.stateNow === 'SYN_SENT') return E.EALREADY;
    if (this.stateNow !== 'CLOSED') return E.EISCONN;
    // One connection per TcpSocket: the socket layer connects again through a fresh one (takeOver).
    if (this.everConnected) return E.EISCONN;
    if (ep.addr.version !== this.family) return E.EAFNOSUPPORT;
    if (ep.port === 0 || ep.addr.isUnspecified() || ep.addr.isMulticast() || ep.addr.isBroadcast())
      return E.ECONNREFUSED;
    let src = this.env.sourceAddressFor(ep.addr);
    if (this.boundDevIf !== 0 && this.env.routeVia) {
      // A device-bound socket's route never fails: off its device's routes Linux assumes the
      // peer is on that link (ip_route_output_key_hash_rcu), where it may never answer.
      const r = this.env.routeVia(ep.addr, this.boundDevIf);
      if (isError(r)) return r;
      src = r.src;
      this.blackhole = r.lost;
    }
    if (!src) {
      (ep.addr.version === 4 ? this.mib.ip : this.mib.ip6).OutNoRoutes++; // tcp_v4_connect
      return this.env.noSourceError?.(ep.addr) ?? E.ENETUNREACH;
    }
    let reused: TcpSocket | TcpTimeWait | undefined;
    if (!this.registered) {
      const addr = this.bindAddrLock && this.local ? this.local.addr : unspecifiedAddress(this.family);
      // inet_hash_connect: a port no bind(2) holds, shared with connections to other peers; one
      // whose connection to this peer is in TIME_WAIT only when that one may be taken over.
      const otherPeer = (l: IpEndpoint, r: IpEndpoint): boolean =>
        r.port !== ep.port || !r.addr.equals(ep.addr) || !l.addr.equals(src);
      const port = this.ports.connectPort(this, src, ep, (holders) => {
        reused = undefined;
        for (const h of holders) {
          if (h instanceof TcpSocket) {
            if (!h.connectBound || !h.local || !h.remote) return false;
            if (otherPeer(h.local, h.remote)) continue;
            if (!this.mayTakeOver(h.timeWaitFacts)) return false;
          } else if (h instanceof TcpTimeWait) {
            if (!h.connectBound) return false;
            if (otherPeer(h.local, h.remote)) continue;
            if (!this.mayTakeOver(h)) return false;
          } else return false;
          reused = h;
        }
        return true;
      });
      // No free port for the connection is EADDRNOTAVAIL.
      if (typeof port !== 'number') return E.EADDRNOTAVAIL;
      this.ports.add(this, port);
      this.local = { addr, port };
      this.registered = true;
      this.connectBound = true;
    } else {
      // inet_hash_connect from a port bind(2) named: __inet_check_established with no room for a
      // TIME_WAIT sock, so a connection of the same addresses and ports fails the connect unless
      // it is in TIME_WAIT with timestamps (tcp_twsk_unique without `twp`: neither tcp_tw_reuse
      // nor the one-second rule applies), which this connection then takes over.
      const addr = this.local!.addr.isUnspecified() ? src : this.local!.addr;
      for (const h of this.ports.bound(this.local!.port) ?? []) {
        if (h === this || h instanceof TcpListener) continue;
        const f = h instanceof TcpSocket ? h.timeWaitFacts : h;
        if (f.state === 'CLOSED' || f.state === 'LISTEN' || !f.local || !f.remote) continue;
        if (f.remote.port !== ep.port || !f.remote.addr.equals(ep.addr) || !f.local.addr.equals(addr))
          continue;
        if (f.state !== 'TIME_WAIT' || !f.tsOk) return E.EADDRNOTAVAIL;
        reused = h;
        break;
      }
    }
    if (this.local!.addr.isUnspecified()) this.local = { addr: src, port: this.local!.port };
    this.remote = ep;
    const taken = reused as TcpSocket | TcpTimeWait | undefined;
    const tw = taken instanceof TcpSocket ? taken.timeWaitFacts : taken;
    if (taken) this.mib.tcpExt.TWRecycled++;
    if (taken instanceof TcpTimeWait) taken.close();
    else if (taken) this.env.reuseTimeWait?.(taken);
    this.env.endpointsSet?.(this);
    this.mssMtu = -1;
    this.refreshMss();
    // tcp_twsk_unique: after a connection taken over, sequence numbers start past its window.
    const secrets = synCookiesOf(this.env);
    this.iss = tw
      ? seqAdd(tw.sndNxt, 65535 + 2) >>> 0 || 1
      : secrets.isn(this.env.pollNow?.() ?? 0, this.local!, ep);
    if (tw) {
      this.tsRecent = tw.tsRecent;
      this.tsRecentAt = tw.tsRecentAt;
    }
    this.tsOffset = tsOffsetOf(this.env, this.local!, ep);
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMax = this.iss;
    this.txBase = seqAdd(this.iss, 1);
    this.state = 'SYN_SENT';
    this.everConnected = true;
    return undefined;
  }

  /**
   * Implements send(2): queues bytes; returns how many fit. WOULD_BLOCK when the send ring is
   * full or the handshake has not finished; EPIPE after shutdown; the connection's error
   * (ECONNRESET...) once it failed; ENOTCONN when never connected. `more` (MSG_MORE) holds a
   * partial segment back as TCP_CORK would, until the next send without it, a FIN or an
   * incoming ACK (Linux's tcp_push with TCP_NAGLE_CORK for this call only).
   */
  send(data: Uint8Array, more = false): number | LinuxError | WouldBlock {
    this.env.touch?.(this);
    if (this.error && !this.errorReported) return this.reportError();
    switch (this.stateNow) {
      case 'SYN_SENT':
      case 'SYN_RECEIVED':
        return WOULD_BLOCK;
      case 'ESTABLISHED':
      case 'CLOSE_WAIT':
        break;
      case 'CLOSED':
      case 'LISTEN':
        return E.EPIPE; // Linux sk_stream_wait_connect: EPIPE unless connecting
      default:
        return E.EPIPE;
    }
    if (this.finQueued) return E.EPIPE;
    if (data.length === 0) return 0;
    // tcp_sendmsg takes no new bytes while sk_stream_memory_free says no: TCP_NOTSENT_LOWAT's
    // unsent bytes are reached (the ring being full is the sk_sndbuf half of that test).
    if (this.notsentBytes() >= this.notsentLimit()) return WOULD_BLOCK;
    const n = this.buffers.tx.enqueue(data);
    if (n === 0) return WOULD_BLOCK;
    this.moreHeld = more;
    return n;
  }

  /**
   * Implements recv(2): moves received bytes into `out`. 0 at end of stream (the peer sent
   * FIN, even if a RST followed), WOULD_BLOCK when no data yet, the connection's error once it
   * failed, ENOTCONN when not connected.
   */
  recv(out: Uint8Array): number | LinuxError | WouldBlock {
    this.env.touch?.(this);
    const rx = this.buffers.rx;
    if (this.urgData !== 0) out = out.subarray(0, this.urgentMax(this.urgentSkip(0, false), out.length));
    if (!rx.isEmpty()) {
      const n = rx.dequeue(out);
      if (n > 0) this.rcvRead = true;
      if (this.remoteFin && rx.isEmpty()) this.finTaken = true;
      if (this.urgData !== 0) this.urgentPassed();
      if (n > 0) this.ackOnRead();
      return n;
    }
    // Linux tcp_recvmsg: a received FIN (SOCK_DONE) reads as end of stream before any error, so
    // a RST after the FIN leaves its error (EPIPE) to SO_ERROR and the next send.
    if (this.remoteFin) {
      if (out.length > 0) this.finTaken = true;
      return 0;
    }
    if (this.error && !this.errorReported) return this.reportError();
    if (this.stateNow === 'CLOSED' || this.stateNow === 'LISTEN') return this.everConnected ? 0 : E.ENOTCONN;
    if (out.length === 0) return 0;
    return WOULD_BLOCK;
  }

  /**
   * Copies received bytes into `out` without consuming them (MSG_PEEK), from `offset` bytes in
   * (SO_PEEK_OFF); same results as recv, so nothing queued past the offset waits like an empty
   * queue (tcp_recvmsg finds no data at the peek sequence).
   */
  peek(out: Uint8Array, offset = 0): number | LinuxError | WouldBlock {
    this.env.touch?.(this);
    const rx = this.buffers.rx;
    if (this.urgData !== 0) {
      offset = this.urgentSkip(offset, true);
      out = out.subarray(0, this.urgentMax(offset, out.length));
    }
    if (rx.length > offset) return rx.read(offset, out);
    if (this.remoteFin) return 0; // before the error, as in recv
    if (this.error && !this.errorReported) return this.reportError();
    if (this.stateNow === 'CLOSED' || this.stateNow === 'LISTEN') return this.everConnected ? 0 : E.ENOTCONN;
    return out.length === 0 ? 0 : WOULD_BLOCK;
  }

  /**
   * send(2) with the bytes copied in place: `copy` writes up to `max` bytes straight into the
   * send ring's free space (from an app's memory, say), so they are copied once. The results of
   * {@link send}; a copy that stops short queues what it moved, and its error (EFAULT) is the
   * result only when nothing moved, as tcp_sendmsg reports a fault. `queued`: bytes the same
   * send(2) call queued already (a blocking send going on); the connection's error then ends it
   * without being consumed, as tcp_sendmsg returns what it copied and leaves sk_err to the next
   * call (which reports ECONNRESET before EPIPE).
   */
  sendFrom(max: number, copy: SpanCopy, queued = 0): number | LinuxError | WouldBlock {
    this.env.touch?.(this);
    if (queued > 0 && this.error && !this.errorReported) return this.error;
    const refused = this.send(EMPTY); // the checks of send(2), which end in 0 for no bytes
    if (refused !== 0 || max === 0) return refused;
    // As in send: notsentBytes() >= notsentLimit(), written out.
    const lowat = this.notsentLowat;
    const unsent = this.buffers.tx.length - ((this.sndMax - this.txBase) | 0);
    if (unsent >= (lowat === 0 ? (this.env.sysctl?.notsentLowat ?? 0xffffffff) : lowat)) return WOULD_BLOCK;
    const n = this.buffers.tx.fillFrom(max, copy);
    if (n === 0) return WOULD_BLOCK;
    this.moreHeld = false;
    return n;
  }

  /**
   * recv(2) (or MSG_PEEK with `peek`) with the bytes copied in place: `copy` takes up to `max`
   * bytes straight from the receive ring. Only what the copies moved is consumed: a copy that
   * stops short ends the call with the count so far, and its error (EFAULT) is the result only
   * when nothing moved (tcp_recvmsg stops at the failed copy). Otherwise the results of
   * {@link recv}; a peek starts `offset` bytes in (see {@link peek}).
   */
  recvInto(max: number, copy: SpanCopy, peek = false, offset = 0): number | LinuxError | WouldBlock {
    this.env.touch?.(this);
    const rx = this.buffers.rx;
    let from = peek ? offset : 0;
    if (this.urgData !== 0) {
      from = this.urgentSkip(from, peek);
      max = this.urgentMax(from, max);
    }
    if (rx.length <= from) {
      if (this.remoteFin) {
        if (!peek && max > 0) this.finTaken = true;
        return 0; // before the error, as in recv
      }
      if (this.error && !this.errorReported) return this.reportError();
      if (this.stateNow === 'CLOSED' || this.stateNow === 'LISTEN')
        return this.everConnected ? 0 : E.ENOTCONN;
      return max === 0 ? 0 : WOULD_BLOCK;
    }
    const n = rx.drainTo(max, copy, !peek, from);
    if (!peek && typeof n === 'number' && n > 0) this.rcvRead = true;
    if (!peek && this.remoteFin && rx.isEmpty()) this.finTaken = true;
    if (this.urgData !== 0 && !peek) this.urgentPassed();
    if (!peek && typeof n === 'number' && n > 0) this.ackOnRead();
    return n;
  }

  /**
   * Implements recv(2) with MSG_OOB (Linux tcp_recv_urg): the urgent byte (0-255), once unless
   * `peek`. EINVAL when none is pending, it was taken already, or SO_OOBINLINE keeps it in the
   * stream; ENOTCONN when the connection closed without the peer's FIN; 'eof' (recv returns 0)
   * after the FIN; else EAGAIN, even on a blocking socket (the byte is announced but has not
   * arrived): recv(MSG_OOB) never waits.
   */
  recvUrgent(peek: boolean): number | 'eof' | LinuxError {
    this.env.touch?.(this);
    const u = this.urgData;
    if (this.oobInline || u === 0 || u === URG_READ) return E.EINVAL;
    if (this.stateNow === 'CLOSED' && !this.remoteFin) return E.ENOTCONN;
    if (u & URG_VALID) {
      if (!peek) this.urgData = URG_READ;
      return u & 0xff;
    }
    if (this.stateNow === 'CLOSED' || this.remoteFin) return 'eof';
    return E.EAGAIN;
  }

  /** SIOCATMARK (Linux tcp_ioctl): the next byte to read is the urgent byte (read or not). */
  get atUrgentMark(): boolean {
    return this.urgData !== 0 && ((this.urgSeq - this.copiedSeq()) | 0) === 0;
  }

  /**
   * send(2) with MSG_OOB queued bytes: the last of them is urgent (Linux tcp_mark_urg sets
   * snd_up to write_seq), so segments carry URG and the urgent pointer until the peer
   * acknowledges it, and Nagle and TCP_CORK hold nothing back meanwhile.
   */
  markUrgent(): void {
    this.env.touch?.(this);
    this.sndUp = seqAdd(this.txBase, this.buffers.tx.length);
    this.sndUrg = true;
  }

  /** Linux tp->copied_seq: the sequence number of the next byte the application reads. */
  private copiedSeq(): number {
    return (this.rcvNxt - this.buffers.rx.length - (this.remoteFin ? 1 : 0)) >>> 0;
  }

  /**
   * A read `from` bytes past the head starting at the urgent byte steps over it when it is not
   * in line (tcp_recvmsg's urg_hole): a read drops it from the ring, a peek starts after it.
   * Returns where the read starts.
   */
  private urgentSkip(from: number, peek: boolean): number {
    if (this.oobInline || this.buffers.rx.length <= from) return from;
    if (((this.urgSeq - this.copiedSeq() - from) | 0) !== 0) return from;
    if (peek) return from + 1;
    this.buffers.rx.discard(1);
    this.urgentPassed();
    return from;
  }

  /** A read from `from` bytes past the head stops before the urgent mark (tcp_recvmsg). */
  private urgentMax(from: number, max: number): number {
    if (this.urgData === 0) return max;
    const at = (this.urgSeq - this.copiedSeq() - from) | 0;
    return at > 0 && at < max ? at : max;
  }

  /** Reading past the urgent byte ends it: recv(MSG_OOB) then has nothing (tcp_recvmsg). */
  private urgentPassed(): void {
    if (((this.copiedSeq() - this.urgSeq) | 0) > 0) this.urgData = 0;
  }

  /**
   * Linux tcp_urg, before a segment's data is queued: a new urgent pointer (tcp_check_urg), and
   * the urgent byte once a segment holding it arrives (kept aside for recv(MSG_OOB); it also
   * stays in the stream, where reads skip it unless SO_OOBINLINE).
   */
  private receiveUrgent(seg: TcpRepr): void {
    if (seg.flags & TcpFlag.URG) this.checkUrgent(seg);
    if (this.urgData !== URG_NOTYET) return;
    const at = (this.urgSeq - seg.seqNumber) | 0;
    if (at >= 0 && at < seg.payload.length) this.urgData = URG_VALID | (seg.payload[at] as number);
  }

  /**
   * Linux tcp_check_urg: the pointer (one past the urgent byte, as BSD and Linux send it:
   * net.ipv4.tcp_stdurg off) names a new urgent byte unless it was read already or lies before
   * RCV.NXT or at or before the one known. A new one is announced (SIGURG), and an old urgent
   * byte still next in the stream is dropped from it, so only the last urgent byte is kept.
   */
  private checkUrgent(seg: TcpRepr): void {
    let ptr = seg.urgentPointer ?? 0;
    if (ptr !== 0) ptr--;
    ptr = seqAdd(seg.seqNumber, ptr);
    const copied = this.copiedSeq();
    if (((copied - ptr) | 0) > 0 || ((this.rcvNxt - ptr) | 0) > 0) return;
    if (this.urgData !== 0 && ((ptr - this.urgSeq) | 0) <= 0) return;
    this.onUrgent?.();
    if (
      this.urgData !== 0 &&
      ((this.urgSeq - copied) | 0) === 0 &&
      !this.oobInline &&
      ((this.rcvNxt - copied) | 0) !== 0
    )
      this.buffers.rx.discard(1);
    this.urgData = URG_NOTYET;
    this.urgSeq = ptr;
  }

  /**
   * FIONREAD (Linux tcp_ioctl SIOCINQ): the bytes waiting to be read, but only those before an
   * urgent byte that is ahead and not in line.
   */
  get readable(): number {
    if (this.urgData !== 0 && !this.oobInline) {
      const at = (this.urgSeq - this.copiedSeq()) | 0;
      if (at >= 0 && at < this.buffers.rx.length) return at;
    }
    return this.buffers.rx.length;
  }

  /**
   * TCP_INQ's count (Linux tcp_inq_hint): the bytes waiting to be read, or 1 when none are and
   * the peer's FIN arrived (so that a reader knows a read will not block).
   */
  get inqHint(): number {
    const n = this.buffers.rx.length;
    return n === 0 && this.remoteFin ? 1 : n;
  }

  /**
   * Segments that made data or a FIN readable so far (Linux's tcp_data_ready calls):
   * signal-driven I/O counts arrivals by it, since the readiness bits change only on the first.
   */
  arrivals = 0;

  /** Bytes waiting to be read, an urgent byte among them included (SIOCINQ before the FIN). */
  get recvQueue(): number {
    return this.buffers.rx.length;
  }

  /**
   * /proc/net/tcp's and sock_diag's rx_queue (rcv_nxt - copied_seq): the bytes waiting, plus the
   * FIN's sequence number until a read takes it: the read that takes the last byte (Linux merges
   * a FIN into the buffer before it, and tcp_recvmsg's found_fin_ok passes it with that buffer),
   * or one that finds only the FIN.
   */
  get procRecvQueue(): number {
    return this.buffers.rx.length + (this.remoteFin && !this.finTaken ? 1 : 0);
  }
  /** Bytes not yet acknowledged by the peer (SIOCOUTQ). */
  get sendQueue(): number {
    return this.buffers.tx.length;
  }

  /**
   * SO_SNDBUF (sk_sndbuf, in bytes): the most the send queue holds, sent or not (Linux's
   * sk_wmem_queued against sk_sndbuf, payload only here). A send takes nothing more while the
   * queue is at or above it, including when it was set below what is queued already; POLLOUT
   * then waits for free space to reach half of what is queued.
   */
  setSendBuffer(bytes: number): void {
    this.env.touch?.(this);
    this.buffers.tx.resize(bytes);
  }

  /**
   * SO_RCVBUF's receive space (what tcp_win_from_space makes of sk_rcvbuf): the most the
   * receive queue holds and the window offered. Set before the SYN, it also picks the window
   * scale (tcp_select_initial_window clamps to a locked rcvbuf). Set later, it takes back no
   * window already offered: the window stops growing until the queue fits the new size.
   */
  setReceiveSpace(bytes: number): void {
    this.env.touch?.(this);
    const rx = this.buffers.rx;
    if (this.stateNow === 'CLOSED' || this.stateNow === 'LISTEN') {
      rx.resize(bytes);
      this.rcvShift = windowShiftFor(bytes);
      this.rcvClamp = 0;
      return;
    }
    this.rcvClamp = bytes;
    if (this.connected) this.clampReceiveRing();
  }

  /**
   * Brings the receive ring towards {@link rcvClamp} without shrinking the window offered
   * (tcp_select_window keeps the right edge it advertised): its capacity is the larger of the
   * target and the queued bytes plus the window still open to the peer.
   */
  private clampReceiveRing(): void {
    const rx = this.buffers.rx;
    const open = (this.lastAckSent + this.lastAdvertised - this.rcvNxt) | 0;
    const keep = Math.min(rx.capacity, rx.length + (open > 0 ? open : 0));
    const target = this.rcvClamp;
    if (keep <= target) {
      rx.resize(target);
      this.rcvClamp = 0;
    } else if (keep !== rx.capacity) rx.resize(keep);
  }

  /**
   * Implements shutdown(SHUT_WR): a FIN follows the queued data. In SYN_SENT the connection
   * simply closes.
   */
  shutdownWrite(): void {
    this.env.touch?.(this);
    switch (this.stateNow) {
      case 'SYN_SENT':
        this.toClosed();
        return;
      case 'SYN_RECEIVED':
      case 'ESTABLISHED':
        this.finQueued = true;
        this.state = 'FIN_WAIT_1';
        return;
      case 'CLOSE_WAIT':
        this.finQueued = true;
        this.state = 'LAST_ACK';
        return;
      default:
        return;
    }
  }

  /**
   * Implements close(2) on the socket: like Linux, unread received data turns the close into
   * an abort (RST); otherwise the sending side is shut down and the connection finishes on its
   * own (through TIME_WAIT). The stack forgets the socket once it is CLOSED.
   */
  close(): void {
    this.env.touch?.(this);
    this.released = true;
    if (this.stateNow === 'LISTEN' || this.stateNow === 'CLOSED') {
      this.toClosed();
      return;
    }
    if (!this.buffers.rx.isEmpty() && this.stateNow !== 'SYN_SENT') {
      this.mib.tcpExt.TCPAbortOnClose++;
      this.abort();
      return;
    }
    if (this.stateNow === 'FIN_WAIT_2') {
      this.orphanInFinWait2(this.lastNow, true);
      return;
    }
    this.shutdownWrite();
  }

  /** Sends a RST and closes at once (SO_LINGER with a zero timeout). */
  abort(): void {
    this.env.touch?.(this);
    this.released = true;
    if (
      this.stateNow === 'CLOSED' ||
      this.stateNow === 'LISTEN' ||
      this.stateNow === 'SYN_SENT' ||
      this.stateNow === 'TIME_WAIT'
    ) {
      this.toClosed();
      return;
    }
    this.rstDue = true;
  }

  /**
   * Aborts the connection from outside (Linux tcp_abort, behind sock_diag's SOCK_DESTROY): the
   * application's next call reports `err` once, then the stream reads as closed; a peer that
   * may still hear us (ESTABLISHED, CLOSE_WAIT, FIN_WAIT_1/2, SYN_RECEIVED: tcp_need_reset)
   * gets a RST. A TIME_WAIT connection just ends. A connection the application has closed
   * (SOCK_DEAD on Linux) is left alone, as tcp_abort does.
   */
  destroy(err: LinuxError): void {
    this.env.touch?.(this);
    const state = this.stateNow;
    if (state === 'CLOSED' || state === 'LISTEN') return;
    if (state === 'TIME_WAIT') {
      this.toClosed();
      return;
    }
    if (this.released) return;
    if (
      state === 'ESTABLISHED' ||
      state === 'CLOSE_WAIT' ||
      state === 'FIN_WAIT_1' ||
      state === 'FIN_WAIT_2' ||
      state === 'SYN_RECEIVED'
    )
      this.rstDue = true; // dispatch sends it from the closed state
    this.fail(err);
  }

  /** Readiness for poll/epoll. */
  readiness(): number {
    // Follows Linux tcp_poll: a closed socket is hung up (and writable, so a failed connect wakes
    // POLLOUT waiters); a received FIN reads as end of stream; connecting sockets are neither.
    let ev = 0;
    const closed = this.stateNow === 'CLOSED';
    const rcvShut = this.remoteFin || (closed && this.everConnected);
    const sndShut = this.finQueued || (closed && this.everConnected);
    if ((this.error && !this.errorReported) || this.errors.pollErr) ev |= PollEvent.POLLERR;
    if ((rcvShut && sndShut) || closed) ev |= PollEvent.POLLHUP;
    if (rcvShut) ev |= PollEvent.POLLIN | PollEvent.POLLRDNORM | PollEvent.POLLRDHUP;
    if (this.stateNow !== 'SYN_SENT' && this.stateNow !== 'SYN_RECEIVED') {
      // An urgent byte next in the stream and not in line is no data to read (tcp_poll's target).
      const skip =
        this.urgData !== 0 && !this.oobInline && ((this.urgSeq - this.copiedSeq()) | 0) === 0 ? 1 : 0;
      if (this.buffers.rx.length > skip) ev |= PollEvent.POLLIN | PollEvent.POLLRDNORM;
      if (sndShut || this.streamWriteable()) ev |= PollEvent.POLLOUT | PollEvent.POLLWRNORM;
      if (this.urgData & URG_VALID) ev |= PollEvent.POLLPRI;
    }
    return ev;
  }

  /**
   * Linux's __sk_stream_is_writeable(sk, 1), what tcp_poll reports as POLLOUT: the free send
   * space is at least half of what is queued (sk_stream_wspace >= sk_stream_min_wspace), so a
   * writer wakes once a third of a full buffer has drained rather than for every freed byte,
   * and (tcp_stream_memory_free with wake = 1) twice the unsent bytes are below
   * TCP_NOTSENT_LOWAT. The send ring stands for sk_sndbuf and its bytes for sk_wmem_queued.
   */
  private streamWriteable(): boolean {
    const tx = this.buffers.tx;
    if (tx.length >= tx.capacity || tx.window < tx.length >> 1) return false;
    return this.notsentBytes() * 2 < this.notsentLimit();
  }

  /** Bytes queued but never sent (Linux's write_seq - snd_nxt; SIOCOUTQNSD). */
  notsentBytes(): number {
    return Math.max(0, this.buffers.tx.length - seqDiff(this.sndMax, this.txBase));
  }

  /** tcp_notsent_lowat: the socket's TCP_NOTSENT_LOWAT, or else net.ipv4.tcp_notsent_lowat. */
  private notsentLimit(): number {
    return this.notsentLowat === 0 ? (this.env.sysctl?.notsentLowat ?? 0xffffffff) : this.notsentLowat;
  }

  /**
   * SO_ERROR: the connection's error, reported once; without one, the soft error, which it
   * clears (sock_getsockopt takes sk_err_soft when sk_err is 0).
   */
  takeError(): LinuxError | undefined {
    this.env.touch?.(this);
    if (!this.error || this.errorReported) {
      const soft = this.softError;
      this.softError = undefined;
      return soft;
    }
    return this.reportError();
  }

  /**
   * RFC 6069 (tcp_ld_RTO_revert): a net or host unreachable about SND.UNA while it is being
   * retransmitted says the path is down, not congested, so the last backoff is undone: the
   * RTO is worked out again from the RTT with one doubling fewer, and the retransmission goes
   * when that much has passed since the last one (at once if it has).
   */
  private revertRto(seq: number): void {
    if (seq !== this.sndUna || this.retries === 0 || this.rtoBackoff === 0 || this.rtoAt === undefined)
      return;
    this.rtoBackoff--;
    const base = this.srtt === undefined ? this.cfg.rtoInitial : this.computedRto();
    this.rto = Math.min(base * 2 ** this.rtoBackoff, this.rtoMax);
    const now = this.env.pollNow?.() ?? this.lastNow;
    this.rtoAt = Math.max(this.headSentAt + this.rto, now);
  }

  /**
   * recvmsg(MSG_ERRQUEUE) (sock_dequeue_err_skb): the oldest queued error. An ICMP error behind
   * it becomes the connection's error; else taking an ICMP error clears it.
   */
  dequeueError(): QueuedError | undefined {
    this.env.touch?.(this);
    const e = this.errors.dequeue();
    if (e === undefined) return undefined;
    const next = this.errors.peek();
    if (next !== undefined && next.origin !== SoEeOrigin.LOCAL) {
      this.error = next.errno;
      this.errorReported = false;
    } else if (e.origin !== SoEeOrigin.LOCAL) this.errorReported = true;
    return e;
  }

  /** True once the connection is established (or was, and is closing). */
  get isConnected(): boolean {
    return this.connected;
  }

  /** Congestion window (bytes), for tests and TCP_INFO. */
  get congestionWindow(): number {
    return Math.floor(this.cc.cwnd);
  }

  /** Slow start threshold (bytes; 0x7fffffff until the first loss). */
  get slowStartThreshold(): number {
    return Math.floor(this.cc.ssthresh);
  }

  /** TCP_CONGESTION: the congestion control algorithm's name. */
  get congestion(): CongestionAlgorithm {
    return this.cc.name;
  }

  /** Sets TCP_CONGESTION; an established connection keeps its window and threshold. */
  setCongestion(name: CongestionAlgorithm): void {
    this.env.touch?.(this);
    if (name === this.cc.name) return;
    const next = congestionControl(name, this.cc.cwnd);
    next.ssthresh = this.cc.ssthresh;
    this.cc = next;
  }

  /** TCP_CORK state. */
  get corked(): boolean {
    return this.cork;
  }

  /**
   * Sets TCP_CORK: while corked only full-sized segments leave (partial ones wait at most
   * 200 ms); uncorking sends what is queued at once, Nagle notwithstanding, as Linux does.
   */
  setCork(on: boolean): void {
    this.env.touch?.(this);
    if (this.cork && !on) this.pushOnce = true;
    this.cork = on;
    this.corkedSince = undefined;
  }

  /** Smoothed RTT (ms), once measured. */
  get smoothedRtt(): number | undefined {
    return this.srtt;
  }

  /** The options the handshake settled: timestamps, SACK, window scaling. */
  get negotiated(): { timestamps: boolean; sack: boolean; windowScaling: boolean } {
    return {
      timestamps: this.tsOk,
      sack: this.sackOk,
      windowScaling: this.peerWs !== undefined && this.connected,
    };
  }

  /**
   * TCP_INFO: the connection's state and counters, as Linux's tcp_get_info fills
   * `struct tcp_info` (times in µs where Linux uses µs, windows in segments). `now` defaults
   * to the stack time this socket last saw.
   */
  info(now = this.lastNow): TcpInfo {
    this.refreshMss();
    const mss = this.sendMssNow;
    const sacked = this.scoreboard.sackedBytes();
    const flight = this.connected ? this.flightSize() : 0;
    const since = (t: number): number => (t === 0 ? 0 : Math.max(0, Math.floor(now - t)));
    const rackCounts = this.rackOn ? this.rack.counts() : undefined;
    const lost = rackCounts
      ? rackCounts.lost
      : this.sackRecovery
        ? this.scoreboard.unsackedBetween(this.sndUna, this.scoreboard.lossBoundary(this.sndUna, mss))
        : 0;
    const retrans = rackCounts
      ? rackCounts.retrans
      : this.sackRecovery
        ? this.scoreboard.unsackedBetween(this.sndUna, this.highRxt)
        : 0;
    return {
      state: LINUX_TCP_STATE[this.stateNow],
      caState: this.retries > 0 ? 4 : this.inRecovery || this.sackRecovery ? 3 : this.dupAcks > 0 ? 1 : 0,
      retransmits: this.retries,
      probes: this.probesOut,
      // icsk_backoff: the RTO's doublings (none under TCP_THIN_LINEAR_TIMEOUTS, one fewer after
      // RFC 6069's revert) while retransmitting, else the zero-window probes'.
      backoff: this.retries > 0 ? this.rtoBackoff : this.probeBackoff,
      options: (this.tsOk ? 1 : 0) | (this.sackOk ? 2 : 0) | (this.peerWs !== undefined ? 4 : 0),
      sndWscale: this.peerWs !== undefined ? this.sndShift : 0,
      rcvWscale: this.peerWs !== undefined ? this.rcvShift : 0,
      rto: Math.round(this.rto * 1000),
      // icsk_ack.ato is 0 until the first data arrives (tcp_event_data_recv sets TCP_ATO_MIN).
      ato: this.connected && this.receivedAnyData ? this.cfg.delayedAck * 1000 : 0,
      sndMss: this.mssCache,
      rcvMss: this.rcvMss,
      unacked: Math.ceil(flight / mss),
      sacked: Math.ceil(sacked / mss),
      lost: Math.ceil(lost / mss),
      retrans: Math.ceil(retrans / mss),
      lastDataSent: since(this.lastDataSent),
      lastDataRecv: since(this.lastDataRecv),
      lastAckRecv: since(this.lastAckRecv),
      pmtu: this.remote ? this.env.mtuFor(this.remote.addr) : 1500,
      rcvSsthresh: this.buffers.rx.capacity,
      rtt: Math.round((this.srtt ?? 0) * 1000),
      rttvar: Math.round(this.rttvar * 1000),
      sndSsthresh: this.cc.ssthresh >= 0x7fffffff ? 0x7fffffff : Math.floor(this.cc.ssthresh / mss),
      sndCwnd: Math.floor(this.cc.cwnd / mss),
      // Linux takes the timestamps option off tp->advmss once they are on (tcp_finish_connect).
      advmss: this.ourMssNow - (this.tsOk ? TS_OPTION_LEN : 0),
      reordering: 3,
      rcvSpace: this.buffers.rx.capacity,
      totalRetrans: this.stats.retransmits,
      bytesAcked: this.stats.bytesAcked,
      bytesReceived: this.stats.bytesReceived,
      segsOut: this.stats.segmentsSent,
      segsIn: this.stats.segmentsReceived,
      notsentBytes: Math.max(0, this.buffers.tx.length - seqDiff(this.sndMax, this.txBase)),
      minRtt: Math.round((this.minRtt ?? 0) * 1000),
      dataSegsIn: this.stats.dataSegmentsReceived,
      dataSegsOut: this.stats.dataSegmentsSent,
      bytesSent: this.stats.bytesSent,
      bytesRetrans: this.stats.bytesRetransmitted,
      rcvOoopack: this.stats.outOfOrderReceived,
      dsackDups: this.stats.dsacksReceived,
      sndWnd: this.sndWnd,
      rcvWnd: this.lastAdvertised,
      totalRto: this.stats.timeouts,
    };
  }

  /** Current retransmission timeout (ms), for tests and TCP_INFO. */
  get retransmitTimeout(): number {
    return this.rto;
  }

  // ---- stack side ----

  /** @internal the stack may forget this socket. */
  isReapable(): boolean {
    return this.released && this.stateNow === 'CLOSED';
  }

  /**
   * @internal what the stack may do with this socket after a poll: forget it ({@link
   * isReapable}), park it ({@link parkable}), or neither (undefined). One call for the two
   * questions the stack asks every socket in every poll.
   */
  housekeeping(): 'reap' | 'park' | undefined {
    const state = this.stateNow;
    if (state === 'CLOSED') return this.released ? 'reap' : undefined;
    return state === 'TIME_WAIT' && this.released && this.parkable ? 'park' : undefined;
  }

  /** @internal this socket owns the connection (local, remote) of an incoming segment. */
  matches(dst: IpAddress, dstPort: number, src: IpAddress, srcPort: number): boolean {
    const l = this.local;
    const r = this.remote;
    return (
      this.stateNow !== 'CLOSED' &&
      this.stateNow !== 'LISTEN' &&
      !!l &&
      !!r &&
      l.port === dstPort &&
      r.port === srcPort &&
      // Usually the very objects the segment carries (the sender's own endpoints, looped).
      (l.addr === dst || l.addr.equals(dst)) &&
      (r.addr === src || r.addr.equals(src))
    );
  }

  /**
   * @internal starts a passive open from a listener's SYN; the connection holds the port too.
   * `fixed`: the ISN and TSval offset a SYN cookie fixes, or the ISN a TIME_WAIT connection the
   * SYN ended does (tcp_tw_isn), instead of those of RFC 6528; with `probe` the socket only
   * builds the cookie's SYN-ACK ({@link cookieSynAck}) and holds no port.
   */
  acceptSyn(
    now: number,
    local: IpEndpoint,
    remote: IpEndpoint,
    seg: TcpRepr,
    reuseAddr: boolean,
    fixed?: { readonly iss: number; readonly tsOffset: number; readonly probe: boolean },
  ): void {
    this.lastNow = now;
    this.local = local;
    this.reuseAddr = reuseAddr;
    if (!fixed?.probe) {
      this.ports.add(this, local.port);
      this.registered = true;
    }
    this.remote = remote;
    this.env.endpointsSet?.(this);
    this.irs = seg.seqNumber;
    this.rcvNxt = seqAdd(seg.seqNumber, 1);
    this.lastAckSent = this.rcvNxt;
    if (fixed) {
      this.iss = fixed.iss;
      this.tsOffset = fixed.tsOffset;
    } else {
      const secrets = synCookiesOf(this.env);
      this.iss = secrets.isn(now, local, remote);
      this.tsOffset = tsOffsetOf(this.env, local, remote);
    }
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMax = this.iss;
    this.txBase = seqAdd(this.iss, 1);
    this.sndWnd = seg.windowLen; // unscaled in a SYN (RFC 7323 §2.2)
    this.lastHeard = now;
    this.sndWl1 = seg.seqNumber;
    this.sndWl2 = this.iss;
    this.maxSndWnd = this.sndWnd;
    this.takeSynOptions(seg);
    this.state = 'SYN_RECEIVED';
    this.everConnected = true;
  }

  /**
   * @internal A connection made from a SYN cookie's ACK: the SYN-ACK (ISN `iss`) went out
   * already, by the listener, so the ACK about to be processed completes the handshake.
   * TCP_DEFER_ACCEPT does not hold it back: Linux checks cookies outside tcp_check_req.
   */
  cookieSynAckSent(): void {
    this.sndNxt = seqAdd(this.iss, 1);
    this.sndMax = this.sndNxt;
    this.deferAccept = 0;
    this.windowField(true); // the window that SYN-ACK offered
  }

  /**
   * @internal The SYN-ACK of a SYN cookie, from a probe socket set up by {@link acceptSyn}:
   * what this connection would send, with the cookie `iss` and the cookie's TSval (`tsClock`,
   * the value before the connection's offset).
   */
  cookieSynAck(iss: number, tsClock: number): TcpRepr {
    this.iss = iss;
    return this.synRepr((tsClock + this.tsOffset) >>> 0);
  }

  /**
   * @internal The TOS or traffic class of a SYN-ACK of this request when its listener has
   * `listener`: with net.ipv4.tcp_reflect_tos, the SYN's DSCP and the listener's ECN bits
   * (tcp_v4_send_synack, tcp_v6_send_synack), else the listener's.
   */
  synAckTrafficClass(listener: number): number {
    if ((this.env.sysctl?.reflectTos ?? 0) === 0) return listener;
    return (this.synTos & ~ECN_MASK) | (listener & ECN_MASK);
  }

  /**
   * @internal Whether `seg` carries an ACK of something else than this request's SYN-ACK:
   * tcp_check_req hands such a segment to the listener (a RST, unless it is a SYN cookie's)
   * before it looks at the sequence number.
   */
  acksOtherThanSynAck(seg: TcpRepr): boolean {
    return seg.ackNumber !== undefined && seg.ackNumber !== (this.iss + 1) >>> 0;
  }

  /** @internal SYN-ACK timeouts so far (Linux's req->num_timeout) while in SYN_RECEIVED. */
  get synAckTimeouts(): number {
    return this.retries;
  }

  private takeSynOptions(seg: TcpRepr): void {
    this.peerMss =
      seg.maxSegSize !== undefined && seg.maxSegSize > 0 ? seg.maxSegSize : DEFAULT_MSS[this.family];
    this.peerWs = seg.windowScale;
    if (seg.windowScale !== undefined) this.sndShift = seg.windowScale;
    else this.rcvShift = 0; // RFC 7323 §2.2: both sides must send the option
    this.sackOk = this.cfg.sack && seg.sackPermitted === true;
    // RFC 7323 §3.2: timestamps are on when both SYNs carry the option.
    this.tsOk = this.cfg.timestamps && seg.timestamp !== undefined;
    if (seg.timestamp) {
      this.tsRecent = seg.timestamp.tsVal;
      this.tsRecentAt = this.lastNow;
    }
    this.rackOn = this.sackOk && this.cfg.rack;
    this.mssMtu = -1; // the peer's MSS and the timestamps option count in the send MSS
    this.refreshMss();
  }

  /** Our TSval clock: CLOCK_MONOTONIC's milliseconds plus the connection's random offset. */
  private tsNow(now: number): number {
    return (tcpClockMs(now, this.cfg.monotonicOffset) + this.tsOffset) >>> 0;
  }

  /**
   * Our MSS (the route MTU less IP and TCP headers) and the largest payload we send per
   * segment, as of the last {@link refreshMss}: several times per segment the
   * code below asks, so they are worked out once when the socket is entered (a segment, a
   * dispatch, a pollAt, TCP_INFO) and when what they derive from changes (the peer, its SYN's
   * options), much as Linux keeps mss_cache.
   */
  private ourMssNow = 0;
  private sendMssNow = 0;
  /** The route MTU they were worked out for (-1: work them out again, the options changed). */
  private mssMtu = -1;

  /** Works out {@link ourMssNow} and {@link sendMssNow} from the route and the negotiated options. */
  private refreshMss(): void {
    const remote = this.remote;
    let mtu = remote === undefined ? 1500 : (this.env.uniformMtu ?? this.env.mtuFor(remote.addr));
    // The uniform MTU is the device's: IPv4 routes have at most IP_MAX_MTU (as mtuFor gives).
    if (this.family === 4 && mtu > IPV4_MAX_MTU) mtu = IPV4_MAX_MTU;
    if (mtu === this.mssMtu) return;
    this.mssMtu = mtu;
    // Our MSS: the route MTU minus IP and TCP headers.
    let our = Math.max(mtu - (this.family === 4 ? 20 : 40) - 20, 64);
    // TCP_MAXSEG (tcp_advertise_mss, tcp_mss_clamp): the user's MSS when smaller.
    if (this.userMssNow !== 0 && this.userMssNow < our) our = this.userMssNow;
    this.ourMssNow = our;
    // RFC 6691: the MSS counts no options, so the timestamps on every segment come out of it.
    this.sendMssNow = Math.max(1, Math.min(this.peerMss, our) - (this.tsOk ? TS_OPTION_LEN : 0));
  }

  /**
   * @internal Whether `seq` is one the peer has not acknowledged: in [SND.UNA, SND.NXT] (tcp_v4_err's
   * between), the only ones an ICMP error may be about (RFC 5927 §4.1).
   */
  sentUnacknowledged(seq: number): boolean {
    return seqLe(this.sndUna, seq) && seqLe(seq, this.sndMax);
  }

  /**
   * @internal tcp_v4_mtu_reduced / tcp_v6_mtu_reduced: the path MTU to the peer was lowered.
   * Unless IPv4's IP_PMTUDISC_DONT, _INTERFACE or _OMIT keeps the connection off it, the MSS
   * follows at once (tcp_sync_mss), and tcp_simple_retransmit marks lost the segments in flight
   * that are longer than the new MSS (RACK's record of what was sent: a range sent at once, as
   * a TSO skb, counts as long as the MSS it was sent with; SACKed ones stay), which then go
   * again in smaller segments ({@link resendMtuLost}). With nothing lost it is done; else it
   * enters the loss state (TCP_CA_Loss: no fast recovery for what was sent before) with no
   * congestion response and nothing to undo: the units changed (the window keeps its number of
   * segments), the data in flight did not.
   * Without RACK (no SACK) netstack has no record of the segments: all the flight goes again.
   */
  mtuReduced(): void {
    const remote = this.remote;
    if (remote === undefined || this.stateNow === 'CLOSED') return;
    const p = this.pmtuDisc(remote.addr.version);
    if (remote.addr.version === 4 && (p === PmtuDisc.DONT || p === PmtuDisc.INTERFACE || p === PmtuDisc.OMIT))
      return;
    this.env.touch?.(this);
    const before = this.mssMtu;
    const oldMss = this.sendMssNow;
    this.refreshMss();
    if (before < 0 || this.mssMtu >= before || !this.connected) return;
    // Linux counts cwnd and ssthresh in segments, which tcp_sync_mss leaves alone: as many
    // segments, now smaller.
    const cc = this.cc;
    const mss = this.sendMssNow;
    cc.cwnd = Math.max(1, Math.floor(cc.cwnd / oldMss)) * mss;
    if (cc.ssthresh < 0x7fffffff) cc.ssthresh = Math.floor(cc.ssthresh / oldMss) * mss;
    if (this.sndMax === this.sndUna) return;
    if (!this.rackOn) {
      this.sndNxt = this.sndUna;
      this.rttSample = undefined; // Karn: a resent segment gives no sample
    } else if (this.rack.markLongerThan(mss)) this.mtuLossDue = true;
    else return;
    // Linux's high_seq, set on entering TCP_CA_Loss.
    if (!this.lossEpisode.inLoss) this.recover = this.sndMax;
  }

  /**
   * tcp_xmit_retransmit_queue in the loss state {@link mtuReduced} entered: the segments marked
   * lost go again, one MSS at a time, while the window has room (they left the pipe when
   * marked); later ACKs send the rest. Resending SND.UNA's segment restarts the RTO in place of
   * a pending loss probe (the two share Linux's timer). Clears {@link mtuLossDue} once none is
   * left.
   */
  private resendMtuLost(ctx: DispatchContext, mss: number): boolean {
    let sent = false;
    for (let hole = this.rack.nextLost(); hole !== undefined; hole = this.rack.nextLost()) {
      if (this.cc.cwnd - this.pipe(mss) < mss) return sent;
      if (this.retransmitAt(ctx, hole[0], hole[1]) <= 0) return sent;
      this.mib.tcpExt.TCPSlowStartRetrans++; // the loss state's count (tcp_xmit_retransmit_queue)
      if (hole[0] === this.sndUna) {
        this.tlpAt = undefined;
        this.rtoAt = ctx.now + this.rto;
      }
      sent = true;
    }
    this.mtuLossDue = false;
    return sent;
  }

  /**
   * @internal The checks tcp_v4_err / tcp_v6_err make before acting on an ICMP error about our
   * segment with sequence number `seq`: a closed or TIME_WAIT connection takes none, a
   * listener's embryo only one about its SYN-ACK (tcp_req_err), any other connection one that
   * came with hops enough for IP_MINTTL or IPV6_MINHOPCOUNT (see IcmpErrorReport.hops; else
   * TcpExt TCPMinTTLDrop) about a sequence number in [SND.UNA, SND.NXT]
   * ({@link sentUnacknowledged}). An error about another sequence number is counted (TcpExt
   * OutOfWindowIcmps).
   */
  takesIcmpError(seq: number, report: IcmpErrorReport): boolean {
    const state = this.stateNow;
    if (state === 'CLOSED' || state === 'TIME_WAIT' || state === 'LISTEN') return false;
    const request = state === 'SYN_RECEIVED' && this.parent !== undefined;
    // IP_MINTTL / IPV6_MINHOPCOUNT, after tcp_req_err took a request's and before the window.
    const min = report.version === 4 ? this.minTtl : this.minHopCount;
    if (!request && min > 0 && report.hops < min) {
      this.mib.tcpExt.TCPMinTTLDrop++;
      return false;
    }
    const ok = request ? seq === this.iss : this.sentUnacknowledged(seq);
    if (!ok) this.mib.tcpExt.OutOfWindowIcmps++;
    return ok;
  }

  /**
   * @internal tcp_v4_err / tcp_v6_err for an ICMP error other than fragmentation-needed or
   * packet-too-big, once {@link takesIcmpError} let it through. An error in the handshake
   * fails the connection at once with the error's errno (tcp_done), and is queued on the error
   * queue, IP_RECVERR or not for ICMP (ip_icmp_error), only with IPV6_RECVERR for ICMPv6
   * (ipv6_icmp_error); a listener's embryo is dropped instead, and only
   * for the errors tcp_req_err aborts on. A synchronized connection
   * goes on trying: with IP_RECVERR / IPV6_RECVERR the application hears of the error at its
   * next call (sk_err), else it is kept as the soft error SO_ERROR or a timeout that gives up
   * reports; a net or host unreachable about SND.UNA also undoes a backoff ({@link revertRto}).
   * Source quench and IPv4 errors TCP does not know are ignored.
   */
  icmpError(seq: number, report: IcmpErrorReport): void {
    const v4 = report.version === 4;
    // Net or host unreachable (IPv6: no route): RFC 6069's RTO revert, and a reason for IPv4 to
    // abort a request.
    const unreachable = v4
      ? report.type === Icmpv4Type.DEST_UNREACHABLE &&
        (report.code === Icmpv4Unreachable.NET || report.code === Icmpv4Unreachable.HOST)
      : report.type === Icmpv6Type.DEST_UNREACHABLE && report.code === Icmpv6Unreachable.NO_ROUTE;
    let errno: LinuxError;
    // tcp_req_err's abort: a parameter problem, time exceeded, net or host unreachable for IPv4;
    // icmpv6_err_convert's fatal for IPv6.
    let abortsRequest: boolean;
    if (v4) {
      if (report.type === Icmpv4Type.PARAMETER_PROBLEM) errno = E.EPROTO;
      else if (report.type === Icmpv4Type.TIME_EXCEEDED) errno = E.EHOSTUNREACH;
      else if (report.type === Icmpv4Type.DEST_UNREACHABLE && report.code <= NR_ICMP_UNREACH)
        errno = icmpErrno(report, PmtuDisc.WANT, false)!.errno;
      else return;
      abortsRequest = report.type !== Icmpv4Type.DEST_UNREACHABLE || unreachable;
    } else {
      const e = icmpErrno(report, PmtuDisc.WANT, false)!;
      errno = e.errno;
      abortsRequest = e.hard;
    }
    this.env.touch?.(this);
    const state = this.stateNow;
    // RFC 6069: tcp_v4_err for net and host unreachable, tcp_v6_err for no route once synchronized.
    if (this.connected && unreachable) this.revertRto(seq);
    if (state === 'SYN_RECEIVED' && this.parent) {
      if (abortsRequest) {
        this.mib.tcpExt.ListenDrops++; // inet_csk_reqsk_queue_drop
        this.toClosed();
      }
      return;
    }
    if (state === 'SYN_SENT' || state === 'SYN_RECEIVED') {
      // ipv6_icmp_error, unlike ip_icmp_error, looks at the option itself.
      if (v4 || this.recvErr(6)) this.errors.queueIcmp(report, errno, this.remote!, report.quoted);
      this.fail(errno);
    } else if (this.recvErr(report.version)) {
      this.error = errno;
      this.errorReported = false;
    } else this.softError = errno;
  }

  /**
   * Sets TCP_MAXSEG (0 clears it; the socket layer checks Linux's 88..32767): the MSS offered
   * in our SYN or SYN-ACK and the most we put in a segment. Set before the handshake, as
   * programs do; on a connection it takes effect for the segments sent from then on.
   */
  setUserMss(mss: number): void {
    this.env.touch?.(this);
    this.userMssNow = mss;
    this.mssMtu = -1;
    this.refreshMss();
  }

  /**
   * The MSS as Linux reports it (tp->mss_cache, for TCP_MAXSEG and tcpi_snd_mss): 536 until a
   * connection starts, then the send MSS bounded to half the largest window the peer offered
   * (tcp_bound_to_half_wnd, never below 68 less the header). The segments sent are not held to
   * that half (Linux's GSO sends whole windows on loopback too).
   */
  get mssCache(): number {
    if (!this.everConnected) return DEFAULT_MSS[4];
    this.refreshMss();
    return this.boundToHalfWindow(this.sendMssNow);
  }

  /** Linux's tcp_bound_to_half_wnd: `mss` held to half the largest window the peer offered. */
  private boundToHalfWindow(mss: number): number {
    const maxWin = this.maxSndWnd;
    const cutoff = maxWin > DEFAULT_MSS[4] ? maxWin >>> 1 : maxWin;
    if (cutoff !== 0 && mss > cutoff) return Math.max(cutoff, 68 - 20 - (this.tsOk ? TS_OPTION_LEN : 0));
    return mss;
  }

  /**
   * The sender's silly window avoidance (RFC 9293 §3.8.6.2.1, Linux tcp_snd_wnd_test): the next
   * segment of new data, a full MSS (held to half the largest window offered) or all that is
   * unsent when less, goes only when it fits whole in the peer's window. A bulk sender then
   * waits for a window update (or the ACK of what is in flight) instead of filling the last
   * bytes of the window with a small segment. `offset` is SND.NXT's place in the send ring.
   */
  private fitsWindow(offset: number, mss: number): boolean {
    const unsent = this.buffers.tx.length - offset;
    const full = this.boundToHalfWindow(mss);
    const len = unsent < full ? unsent : full;
    return len <= ((this.sndWnd - ((this.sndNxt - this.sndUna) | 0)) | 0);
  }

  /**
   * The SYN retransmissions this socket makes, before a connect's linear ones (TCP_SYNCNT's
   * value when set).
   */
  get synRetryLimit(): number {
    return this.synRetries ?? this.env.sysctl?.synRetries ?? this.cfg.synRetries;
  }

  /** net.ipv4.tcp_retries2 as tcp_write_timeout reads it, at each timeout. */
  private get retries2(): number {
    return this.env.sysctl?.retries2 ?? this.cfg.maxRetries;
  }

  /** net.ipv4.tcp_syn_linear_timeouts, read at each timeout of a connect. */
  private get synLinearTimeouts(): number {
    return this.env.sysctl?.synLinearTimeouts ?? SYN_LINEAR_TIMEOUTS;
  }

  /**
   * TCP_TIMESTAMP: our TSval clock at `now` (by default the stack's time now, as Linux reads the
   * clock for it: CLOCK_MONOTONIC's ms plus the connection's random offset, which is 0 until the
   * connection starts), with the low bit clear (Linux's bit for µs timestamps).
   */
  timestampNow(now = this.env.pollNow?.() ?? this.lastNow): number {
    return this.tsNow(now) & ~1;
  }

  /**
   * @internal processes one incoming segment (RFC 9293 §3.10.7); returns a segment to send
   * at once (a RST), if any. Everything else is sent by the next dispatch.
   */
  process(now: number, received: TcpRepr): TcpRepr | undefined {
    this.env.touch?.(this);
    // tcp_filter (tcp_v4_rcv / tcp_v6_rcv), in every state but TIME_WAIT: a dropped segment is lost.
    const f = this.filter;
    const seg =
      f?.program && this.stateNow !== 'TIME_WAIT' && this.local && this.remote
        ? tcpFilterSegment(f, received, this.remote.addr, this.local.addr, this.boundDevIf || 1)
        : received;
    if (!seg) return undefined;
    this.quietIn = undefined;
    if (this.env.uniformMtu === undefined) this.refreshMss(); // else only the options change it
    this.lastNow = now;
    this.lastHeard = now;
    this.keepProbes = 0;
    this.stats.segmentsReceived++;
    if (seg.payload.length > 0) {
      this.stats.dataSegmentsReceived++;
      this.lastDataRecv = now;
    }
    if (seg.ackNumber !== undefined) this.lastAckRecv = now;
    if (this.stateNow === 'SYN_SENT') return this.processSynSent(now, seg);
    if (this.stateNow === 'TIME_WAIT') return this.processTimeWait(now, seg);
    const rst = (seg.flags & TcpFlag.RST) !== 0;
    const syn = (seg.flags & TcpFlag.SYN) !== 0;
    const segLen = seg.payload.length + (syn ? 1 : 0) + ((seg.flags & TcpFlag.FIN) !== 0 ? 1 : 0);
    const wnd = this.buffers.rx.window;

    // 0. PAWS (RFC 7323 §5.3 R1, Linux tcp_paws_discard): a TSval older than TS.Recent marks an
    // old duplicate; it is acknowledged (data or a FIN always, anything else at most once per
    // tcp_invalid_ratelimit) and dropped. RSTs are exempt.
    const ts = seg.timestamp;
    if (this.tsOk && ts && !rst && this.stateNow !== 'SYN_RECEIVED' && this.pawsDiscard(now, seg, ts.tsVal)) {
      this.stats.pawsRejected++;
      this.mib.tcpExt.PAWSEstab++;
      if ((segLen > 0 && !syn) || !this.oowRateLimited(now)) this.ackDue = true;
      else this.mib.tcpExt.TCPACKSkippedPAWS++;
      return undefined;
    }

    // 1. sequence number check
    const off = (seg.seqNumber - this.rcvNxt) | 0;
    const acceptable = segmentAcceptable(off, segLen, wnd);
    // A zero-window probe or an ACK-only segment at RCV.NXT must still update the send side.
    if (!acceptable && !(wnd === 0 && off === 0 && !rst)) {
      // A retransmitted SYN means our SYN-ACK was lost: send it again. Anything else gets an
      // ACK (which is also how a simultaneous open completes).
      if (this.stateNow === 'SYN_RECEIVED' && syn && seg.ackNumber === undefined) this.sndNxt = this.iss;
      // tcp_validate_incoming: data or a FIN is always answered, a SYN draws a challenge ACK.
      else if (!rst && (segLen > 0 || syn || !this.oowRateLimited(now))) {
        this.ackDue = true;
        if (seg.payload.length > 0) this.noteDuplicate(seg.seqNumber, seg.payload.length);
      }
      return undefined;
    }

    // RFC 7323 §4.3: remember the TSval to echo, from segments that do not skip ahead of what we
    // acknowledged (so that the echo times the earliest unacknowledged segment).
    if (
      this.tsOk &&
      ts &&
      ((this.lastAckSent - seg.seqNumber) | 0) >= 0 && // seqLe(SEG.SEQ, Last.ACK.sent)
      ((this.tsRecent - ts.tsVal) | 0) <= 0 // TSval not before TS.Recent
    ) {
      this.tsRecent = ts.tsVal;
      this.tsRecentAt = now;
    }

    // 2. RST (RFC 5961 §3.2: only an exact match resets; others get a challenge ACK)
    if (rst) {
      if (off !== 0) {
        this.ackDue = true;
        return undefined;
      }
      if (this.stateNow === 'SYN_RECEIVED' && this.parent) {
        this.mib.tcpExt.EmbryonicRsts++;
        this.toClosed(); // back to LISTEN: the listener forgets the embryo
        return undefined;
      }
      if (this.stateNow === 'CLOSING' || this.stateNow === 'LAST_ACK') this.toClosed();
      // Linux tcp_reset: after the peer's FIN the error is EPIPE, else ECONNRESET.
      else this.fail(this.stateNow === 'CLOSE_WAIT' ? E.EPIPE : E.ECONNRESET);
      return undefined;
    }

    // 3. SYN in a synchronized state: challenge ACK (RFC 5961 §4)
    if (syn) {
      if (this.stateNow === 'SYN_RECEIVED' && seg.seqNumber === this.irs)
        this.sndNxt = this.iss; // peer lost our SYN-ACK
      else this.ackDue = true;
      return undefined;
    }

    // 4. ACK
    if (seg.ackNumber === undefined) return undefined;
    const ack = seg.ackNumber;
    let passiveOpen = false;
    if (this.stateNow === 'SYN_RECEIVED') {
      if (!(seqLt(this.sndUna, ack) && seqLe(ack, this.sndMax))) return this.resetFor(seg);
      // TCP_DEFER_ACCEPT (tcp_check_req): a bare ACK is dropped while deferral rounds remain;
      // data (or the ACK after the last SYN-ACK retransmission) completes the handshake.
      if (
        this.deferAccept > this.retries &&
        this.parent &&
        seg.payload.length === 0 &&
        !(seg.flags & TcpFlag.FIN)
      ) {
        this.deferredAck = true;
        this.mib.tcpExt.TCPDeferAcceptDrop++;
        return undefined;
      }
      // A full accept queue drops the ACK that completes the handshake (tcp_v4_syn_recv_sock);
      // the SYN-ACK is sent again and the peer's next ACK may find room. The request is marked
      // acked (tcp_check_req's listen_overflow), or with tcp_abort_on_overflow reset.
      if (this.parent?.acceptQueueFull) {
        this.parent.ackDropped();
        if (this.env.sysctl?.abortOnOverflow) {
          this.mib.tcpExt.EmbryonicRsts++;
          this.toClosed();
          return rstFor(seg);
        }
        this.deferredAck = true;
        return undefined;
      }
      this.establish();
      this.sndWnd = seg.windowLen << this.sndShift;
      this.sndWl1 = seg.seqNumber;
      this.sndWl2 = ack;
      this.maxSndWnd = Math.max(this.maxSndWnd, this.sndWnd);
      passiveOpen = true;
    }
    // RFC 5961 §5: ACKs for data never sent, or far older than the window, are dropped with an ACK.
    if (((ack - this.sndMax) | 0) > 0 || ((this.sndUna - this.maxSndWnd - ack) | 0) > 0) {
      this.ackDue = true;
      return undefined;
    }
    // tcp_rcv_established's header prediction (see hpOn) and tcp_ack's counting. The fast path
    // takes a segment of exactly ACK (PSH aside) with the predicted header (the timestamp option
    // alone when in use) and window, at RCV.NXT, acknowledging nothing unsent, with a TSval not
    // older than TS.Recent (tested against the updated TS.Recent: the same answer). A pure ACK
    // there that advances SND.UNA is a TCPHPAck; data there a TCPHPHit, and a TCPHPAck when it
    // advances SND.UNA. Off the fast path, a segment without data, SYN or FIN at or above
    // SND.UNA is a TCPPureAck. Data takes the fast path
    // only when the socket has memory charged already (sk_forward_alloc), which netstack does
    // not model; it stands in "we have sent data or a FIN, or unread data is queued": Linux
    // keeps the remainder of the pages it charged for those, and a fresh receiver that reads
    // each segment at once returns all it charged. (Cheapest tests first: this runs for every
    // segment.)
    const len = seg.payload.length;
    const acked = (ack - this.sndUna) | 0;
    if (
      this.hpOn &&
      this.urgData === 0 &&
      seg.windowLen << this.sndShift === this.sndWnd &&
      (len === 0 ? acked > 0 : ((this.sndMax - this.iss) | 0) > 1 || this.buffers.rx.length > 0) &&
      (seg.flags & ~TcpFlag.PSH) === 0 &&
      off === 0 &&
      ((ack - this.sndNxt) | 0) <= 0 &&
      seg.sackBlocks === undefined &&
      (this.tsOk ? ts !== undefined && ((ts.tsVal - this.tsRecent) | 0) >= 0 : ts === undefined)
    ) {
      if (len > 0) this.mib.tcpExt.TCPHPHits++;
      if (acked > 0) this.mib.tcpExt.TCPHPAcks++;
    } else if (segLen === 0 && acked >= 0) this.mib.tcpExt.TCPPureAcks++;
    if (passiveOpen) this.hpOn = true; // tcp_fast_path_on, for the segments after this one
    const finWait1 = this.stateNow === 'FIN_WAIT_1'; // (for abortOnData: the state the segment found)
    this.processAck(now, seg, ack);
    if (this.stateNow === 'CLOSED') return undefined;

    // Linux's step 6: the URG bit (and the urgent byte, while it is awaited).
    if ((seg.flags & TcpFlag.URG) !== 0 || this.urgData === URG_NOTYET) this.receiveUrgent(seg);

    // 5. data
    const fin = (seg.flags & TcpFlag.FIN) !== 0;
    if (
      (this.released || this.readShut) &&
      seg.payload.length > 0 &&
      (this.stateNow === 'FIN_WAIT_1' || this.stateNow === 'FIN_WAIT_2') &&
      seqLt(this.rcvNxt, seqAdd(seg.seqNumber, seg.payload.length))
    )
      return this.abortOnData(seg, finWait1);
    if (this.stateNow === 'ESTABLISHED' || this.stateNow === 'FIN_WAIT_1' || this.stateNow === 'FIN_WAIT_2') {
      const nxt = this.rcvNxt;
      if (seg.payload.length > 0) this.receiveData(seg);
      // 6. FIN, once everything before it has arrived
      if (fin && seqAdd(seg.seqNumber, seg.payload.length) === this.rcvNxt) {
        this.rcvNxt = seqAdd(this.rcvNxt, 1);
        this.remoteFin = true;
        if (this.stateNow === 'ESTABLISHED') {
          this.state = 'CLOSE_WAIT';
          // Linux tcp_fin enters ping-pong mode there, so the FIN's ACK waits for the delayed-ACK
          // timer (an application that closes at once sends it with its own FIN); the timeout
          // is 0 until data arrived (tcp_event_data_recv sets it), so then the ACK goes at once.
          this.pingpong = true;
          if (this.cfg.delayedAck > 0 && this.receivedAnyData && !this.quickAck)
            this.ackDelayAt ??= now + this.cfg.delayedAck;
          else this.ackDue = true;
        } else {
          this.ackDue = true;
          if (this.stateNow === 'FIN_WAIT_1') this.state = 'CLOSING';
          else {
            // tcp_fin's ACK leaves by this socket, with its own TTL, unless an orphan went to a
            // FIN_WAIT2 timewait sock (see abortOnData), which answers as in TIME_WAIT.
            this.ownFinAck = !this.released || finWait1 || this.finTime() > TIMEWAIT_LEN;
            this.enterTimeWait(now);
          }
        }
      }
      // tcp_data_queue calls tcp_data_ready once for a segment that brought in-order data, a
      // FIN, or both.
      if (this.rcvNxt !== nxt) this.arrivals++;
    } else if (segLen > 0) {
      this.ackDue = true; // retransmitted FIN or data after FIN: acknowledge again
    }
    if (this.bytesUnacked > 0) {
      // Delayed ACK (RFC 9293 §3.8.6.3, RFC 5681 §4.2, Linux __tcp_ack_snd_check): at once for
      // more than one full-sized segment, in quick-ACK mode (not while ping-ponging), or with
      // TCP_QUICKACK; otherwise within the delayed-ACK timeout, or at the reader's next read (see
      // ackOnRead). Linux holds the ACK for two full segments back while data is unread and the
      // window would shrink, for the read to send; netstack does not: in a sandbox the writer
      // then waits for the reader's turn, and a cold 64 MiB transfer ran 7% slower with fewer
      // segments (packages/runtime/bench/README.md, fourteenth pass).
      if (
        this.bytesUnacked > this.rcvMss ||
        this.quickAck ||
        (this.quickAcksLeft > 0 && !this.pingpong) ||
        this.cfg.delayedAck <= 0
      ) {
        this.ackNow = true;
        if (this.quickAcksLeft > 0 && !this.pingpong) this.quickAcksLeft--;
      } else this.ackDelayAt ??= now + this.cfg.delayedAck;
    }
    if (this.ackNow) return this.immediateAck(now);
    return undefined;
  }

  /**
   * tcp_cleanup_rbuf's first test, after a read took bytes: an ACK being delayed goes now when
   * more than one full segment is unacknowledged, or when the read emptied the queue and what came ended a write of the peer's (a pushed
   * segment, see {@link measureRcvMss}; two of them even in ping-pong mode, where otherwise the
   * answer the application is about to send carries the ACK): a Nagle-held sender would
   * otherwise wait out the delayed-ACK timer each window. A full segment that did not end a
   * write waits for the next, which it will not for long.
   */
  private ackOnRead(): void {
    if (this.ackDelayAt === undefined) return;
    const pushed = this.pushed;
    if (
      this.bytesUnacked > this.rcvMss ||
      (this.buffers.rx.isEmpty() && ((pushed & PUSHED2) !== 0 || ((pushed & PUSHED) !== 0 && !this.pingpong)))
    )
      this.ackDue = true;
  }

  /** An ACK sent straight back from `process` (out-of-order data, every second segment). */
  private immediateAck(now: number): TcpRepr {
    this.ackDue = false;
    this.ackSent();
    this.stats.segmentsSent++;
    return {
      srcPort: this.local!.port,
      dstPort: this.remote!.port,
      seqNumber: this.sndMax, // never below what the peer already has (see the pure ACK in dispatch)
      ackNumber: this.rcvNxt,
      flags: 0,
      windowLen: this.windowField(false),
      sackBlocks:
        this.dsack !== undefined || (this.sackOk && this.assembler.size > 0) ? this.sackBlocks() : undefined,
      // tsNow(now), written out
      timestamp: this.tsOk
        ? new SentTimestamp((tcpClockMs(now, this.cfg.monotonicOffset) + this.tsOffset) >>> 0, this.tsRecent)
        : undefined,
      payload: EMPTY,
    };
  }

  /** Any segment carrying our current ACK resets the delayed-ACK state. */
  private ackSent(): void {
    this.ackNow = false;
    this.ackDelayAt = undefined;
    this.bytesUnacked = 0;
    this.pushed = 0;
    this.lastAckSent = this.rcvNxt;
  }

  private processSynSent(now: number, seg: TcpRepr): TcpRepr | undefined {
    const ack = seg.ackNumber;
    const ackOk = ack !== undefined && seqLt(this.iss, ack) && seqLe(ack, this.sndNxt);
    if (ack !== undefined && !ackOk) return seg.flags & TcpFlag.RST ? undefined : this.resetFor(seg);
    if (seg.flags & TcpFlag.RST) {
      if (ackOk) this.fail(E.ECONNREFUSED);
      return undefined;
    }
    if (!(seg.flags & TcpFlag.SYN)) return undefined;
    this.irs = seg.seqNumber;
    this.rcvNxt = seqAdd(seg.seqNumber, 1);
    this.lastAckSent = this.rcvNxt;
    this.takeSynOptions(seg);
    this.ackDue = true;
    if (ackOk) {
      this.sndUna = ack;
      this.sndWnd = seg.windowLen;
      this.sndWl1 = seg.seqNumber;
      this.sndWl2 = ack;
      this.maxSndWnd = this.sndWnd;
      this.sampleRtt(now, ack);
      this.rtoAt = undefined;
      this.retries = 0;
      this.rtoBackoff = 0;
      this.establish();
      // tcp_finish_connect: the fast path waits for in-order data or a window change when the
      // peer scales its window. The SYN is delivered (our only segment so far).
      this.hpOn = this.sndShift === 0;
      this.mib.tcpExt.TCPDelivered++;
      this.undelivered = 0;
    } else {
      // Simultaneous open: answer with SYN-ACK (our SYN again, now acknowledging theirs).
      this.state = 'SYN_RECEIVED';
      this.sndNxt = this.iss;
      this.sndWnd = seg.windowLen;
      this.sndWl1 = seg.seqNumber;
      this.maxSndWnd = this.sndWnd;
    }
    return undefined;
  }

  private processAck(now: number, seg: TcpRepr, ack: number): void {
    // tcp_ack: the peer answered, so a soft error is stale.
    this.probesOut = 0;
    this.softError = undefined;
    // tcp_data_snd_check pushes with the socket's own Nagle setting: MSG_MORE held only its call.
    this.moreHeld = false;
    const rackOn = this.rackOn && this.connected;
    const unaBefore = this.sndUna;
    this.latestRtt = undefined;
    const sb = this.scoreboard;
    const sackedBefore = rackOn ? sb.bytes : 0;
    // RFC 5681 §2: a duplicate ACK acknowledges nothing new, carries no data, SYN or FIN, and
    // leaves the window unchanged, while data is outstanding. RFC 6675 §2 also counts an ACK
    // at SND.UNA that SACKs new data.
    const outstanding = this.sndMax !== this.sndUna;
    let duplicate =
      ack === this.sndUna &&
      outstanding &&
      seg.payload.length === 0 &&
      (seg.flags & (TcpFlag.SYN | TcpFlag.FIN)) === 0 &&
      seg.windowLen << this.sndShift === this.sndWnd;
    // (Sequence arithmetic written out here and below: see the module comment.)
    const acked = (ack - unaBefore) | 0; // seqDiff(ack, SND.UNA)
    const advanced = acked > 0;
    let dsackBlock: SackBlock | undefined;
    let sackNews = false;
    if (advanced) {
      if (((ack - this.sndNxt) | 0) > 0) this.sndNxt = ack; // acknowledged before we resent it
      const tx = this.buffers.tx;
      const dataEnd = (this.txBase + tx.length) >>> 0;
      const dataAcked = ((((ack - dataEnd) | 0) > 0 ? dataEnd : ack) - this.txBase) | 0;
      if (dataAcked > 0) {
        tx.discard(dataAcked);
        this.txBase = (this.txBase + dataAcked) >>> 0;
        this.stats.bytesAcked += dataAcked;
      }
      // RTT: from the echoed timestamp when there is one (RFC 7323 §4), else the timed segment.
      const ts = seg.timestamp;
      // An echo older than our last retransmission may time a segment whose ACK was lost, so
      // the sample would include the timeout (and feed back into ever larger RTOs): Karn's rule
      // in timestamp form.
      if (this.tsOk && ts && ts.tsEcr !== 0) {
        const r = (this.tsNow(now) - ts.tsEcr) >>> 0;
        const stale = this.tsRtxFloor !== undefined && seqLt(ts.tsEcr, this.tsRtxFloor);
        if (r < 0x7fffffff && !stale) this.takeRttSample(r);
        this.rttSample = undefined;
      } else this.sampleRtt(now, ack);
      this.sndUna = ack;
      if (ack === this.sndMax) {
        this.mib.tcpExt.TCPDelivered += this.undelivered;
        this.undelivered = 0;
      }
      sb.advance(ack);
      if (this.retries > 0 || this.probeDue) this.rto = this.computedRto(); // new data acked: drop the backoff
      this.retries = 0;
      if (this.retransStamp !== undefined && ((ack - this.retransHigh) | 0) >= 0)
        this.retransStamp = undefined;
      this.rtoBackoff = 0;
      this.probeDue = false;
      this.probeBackoff = 0;
      // RFC 6298 §5.2/5.3: stop the timer when everything is acknowledged, else restart it.
      this.rtoAt = this.sndUna === this.sndMax ? undefined : now + this.rto;
      this.stallSince = this.sndUna === this.sndMax ? undefined : now;
      this.onNewAck(acked, ack, now);
    }
    if (this.sackOk && seg.sackBlocks && this.connected) {
      const newly = this.scoreboard.update(seg.sackBlocks, this.sndUna, this.sndMax);
      const dsack = isDsack(seg.sackBlocks, ack);
      if (newly > 0 && ack === this.sndUna && outstanding) duplicate = true;
      else if (dsack) duplicate = false; // RFC 6675 §2: reporting a duplicate is no sign of loss
      if (dsack) {
        dsackBlock = seg.sackBlocks[0]!;
        this.onDsack(dsackBlock, ack);
        if (rackOn) this.rack.onDsack(this.sndUna, this.sndMax);
      }
      sackNews = newly > 0;
    }
    if (this.lossEpisode.inLoss && this.connected)
      this.processLossAck(seg, unaBefore, duplicate, sackNews, dsackBlock !== undefined);
    if (duplicate && this.connected) this.onDuplicateAck(now);
    if (rackOn) {
      this.rack.onAck(this.sndUna, sb, now, this.minRtt ?? 0);
      // SND.UNA moved by `acked` exactly when the ACK advanced it.
      const delivered = (advanced ? acked : 0) + sb.bytes - sackedBefore;
      // rackLossCheck finds nothing while nothing is SACKed or resent (Rack.mayDetect), and then
      // outside recovery only stops the reorder timer.
      if (sb.bytes > 0 || this.rack.resentCount > 0 || this.sackRecovery)
        this.rackLossCheck(now, delivered, advanced);
      else this.rackTimerAt = undefined;
      this.deliveredThisRound += delivered;
      if (this.tlpHighSeq !== undefined) this.processTlpAck(now, ack, unaBefore, sackNews, dsackBlock);
      if (advanced) this.armTlp(now);
    } else if (this.sackOk && !this.sackRecovery && this.connected) this.maybeEnterSackRecovery(now);
    // Window update (RFC 9293 §3.10.7.4: only from a newer segment).
    const wl1 = this.sndWl1;
    if (((seg.seqNumber - wl1) | 0) > 0 || (wl1 === seg.seqNumber && ((ack - this.sndWl2) | 0) >= 0)) {
      const wnd = seg.windowLen << this.sndShift;
      // tcp_ack_update_window: a new window re-predicts (tcp_fast_path_check).
      if (!this.hpOn && wnd !== this.sndWnd && this.assembler.size === 0 && this.buffers.rx.window > 0)
        this.hpOn = true;
      this.sndWnd = wnd;
      if (wnd > 0) this.probeBackoff = 0; // tcp_ack_probe: an open window ends the backoff
      this.sndWl1 = seg.seqNumber;
      this.sndWl2 = ack;
      if (wnd > this.maxSndWnd) this.maxSndWnd = wnd;
    }
    if (!this.finQueued) return;
    const finAcked = seqLt(this.finSeqNo()!, ack);
    if (!finAcked) return;
    switch (this.stateNow) {
      case 'FIN_WAIT_1':
        this.state = 'FIN_WAIT_2';
        if (this.released) this.orphanInFinWait2(now, false);
        break;
      case 'CLOSING':
        this.enterTimeWait(now);
        break;
      case 'LAST_ACK':
        this.toClosed();
        break;
      default:
        break;
    }
  }

  /** Enters ESTABLISHED with the initial congestion state. */
  private establish(): void {
    this.state = 'ESTABLISHED';
    this.pingpong = false;
    this.cc = congestionControl(this.cc.name, this.initialWindow());
    this.lossEpisode.end(); // a reconnected socket starts with no timeout of its old connection
    this.recover = seqAdd(this.sndUna, -1); // below SND.UNA: the first loss may use fast retransmit
    this.lastAckSent = this.rcvNxt;
    this.retransStamp = undefined; // the handshake's (tcp_rcv_state_process, tcp_finish_connect)
  }

  /**
   * The initial window: 10 segments (RFC 6928's IW10, as Linux's TCP_INIT_CWND counts it, in
   * segments whatever their size: RFC 6928's cap of about 14600 bytes is not Linux's, and on
   * loopback, with 64 KiB segments, it would start a connection at 2).
   */
  private initialWindow(): number {
    return 10 * this.sendMssNow;
  }

  /** Bytes sent and not yet acknowledged (sequence space). */
  private flightSize(): number {
    return seqDiff(this.sndMax, this.sndUna);
  }

  /** Sets SND.NXT, keeping the highest sequence number sent. */
  private setNxt(seq: number): void {
    this.sndNxt = seq;
    if (seqLt(this.sndMax, seq)) this.sndMax = seq;
  }

  /**
   * The sequence number of our FIN once the application shut down sending: right after the
   * last queued byte (no byte can be queued after it, so this never moves).
   */
  private finSeqNo(): number | undefined {
    return this.finQueued ? seqAdd(this.txBase, this.buffers.tx.length) : undefined;
  }

  private onNewAck(acked: number, ack: number, now: number): void {
    const mss = this.sendMssNow;
    this.dupAcks = 0;
    if (this.sackRecovery) {
      // RFC 6675 §5: recovery ends when the ACK covers RecoveryPoint; partial ACKs just let
      // the recovery loop (pipe, NextSeg) go on.
      if (seqLe(this.recover, ack)) {
        this.sackRecovery = false;
        this.cc.cwnd = this.cc.ssthresh;
        if (this.rackOn) this.rack.onRecoveryEnd();
      }
      return;
    }
    if (this.inRecovery) {
      if (seqLe(this.recover, ack)) {
        // Full acknowledgment: leave recovery with the reduced window (RFC 6582 §3.2 step 3).
        this.inRecovery = false;
        this.cc.cwnd = this.cc.ssthresh;
      } else {
        // Partial acknowledgment: the next hole is lost too; resend it and deflate.
        this.retransmitHeadDue = true;
        this.cc.cwnd = Math.max(this.cc.cwnd - acked + mss, mss);
      }
    } else {
      this.cc.onRoundAck?.(this.latestRtt, ack, this.sndMax);
      this.cc.onAck(acked, mss, now, this.srtt);
    }
  }

  private onDuplicateAck(now: number): void {
    const mss = this.sendMssNow;
    this.dupAcks++;
    if (this.sackOk) return; // SACK: maybeEnterSackRecovery decides, and recovery never inflates cwnd
    if (this.inRecovery) {
      this.cc.cwnd += mss; // each duplicate means a segment left the network
      return;
    }
    // Three duplicates: fast retransmit, unless this loss window was already recovered.
    if (this.dupAcks === 3 && seqLt(this.recover, this.sndUna)) {
      this.startUndo();
      this.cc.onLoss(this.flightSize(), mss, now);
      this.recover = this.sndNxt;
      this.inRecovery = true;
      this.mib.tcpExt.TCPRenoRecovery++;
      this.retransmitHeadDue = true;
      this.cc.cwnd = this.cc.ssthresh + 3 * mss;
    }
  }

  /**
   * RFC 6675 §5 step 4: DupThresh duplicate ACKs, or the scoreboard says SND.UNA is lost,
   * start loss recovery (once per window of data: not again until SND.UNA passes
   * RecoveryPoint).
   */
  private maybeEnterSackRecovery(now: number): void {
    if (this.sndUna === this.sndMax || !seqLt(this.recover, this.sndUna)) return;
    const mss = this.sendMssNow;
    const lost = seqLt(this.sndUna, this.scoreboard.lossBoundary(this.sndUna, mss));
    if (this.dupAcks < DUP_THRESH && !lost) return;
    this.startUndo();
    this.cc.onLoss(this.flightSize(), mss, now);
    this.cc.cwnd = this.cc.ssthresh;
    this.recover = this.sndMax;
    this.sackRecovery = true;
    this.mib.tcpExt.TCPSackRecovery++;
    this.highRxt = this.sndUna;
    this.retransmitHeadDue = true; // step 4.3: the first hole goes at once, whatever the pipe
  }

  /** RACK-TLP and PRR are on: SACK was negotiated and the configuration asks for them. */
  private rackOn = false;
  /** Segments a lower path MTU made too long are marked lost and wait to go again (mtuReduced). */
  private mtuLossDue = false;

  /**
   * Loss recovery's bookkeeping of payload [seq, seq + n) just sent (`resend`: again) in
   * segments of `mss`: the undo ranges, PRR's prr_out, RACK's transmit times.
   */
  private noteSent(seq: number, n: number, now: number, resend: boolean, mss: number): void {
    if (n === 0) return;
    if (resend && this.undoMarker !== undefined) this.noteRetransmitted(seq, n);
    if (resend && this.lossEpisode.inLoss)
      this.lossEpisode.retransmitted(seq, seqAdd(seq, n), this.tsNow(now));
    if (!this.rackOn) return;
    if (this.sackRecovery) this.prr.sent(n);
    const end = (seq + n) >>> 0;
    if (resend && seqLe(end, this.sndMax)) this.rack.resent(seq, end, now, mss);
    else this.rack.sent(seq, end, now, mss);
  }

  /**
   * RACK's loss detection after an ACK (or when its reorder timer fires): marks what is lost,
   * starts fast recovery on the first loss (RFC 6675 §5 with RACK's losses, Linux's
   * tcp_time_to_recover) and, in recovery, sets cwnd by PRR from the bytes this ACK delivered.
   */
  private rackLossCheck(now: number, delivered: number, unaAdvanced: boolean): void {
    const mss = this.sendMssNow;
    const check = this.rack.mayDetect(this.scoreboard.bytes > 0);
    const reo = check ? this.rack.reorderWindow(this.minRtt ?? 0, this.srtt ?? 0, this.sackRecovery) : 0;
    const { lost, wait } = check ? this.rack.detectLoss(now, reo) : NO_LOSS;
    this.rackTimerAt = wait === undefined ? undefined : now + wait;
    if (lost > 0 && !this.sackRecovery && this.sndUna !== this.sndMax && seqLt(this.recover, this.sndUna)) {
      this.startUndo();
      const prior = this.cc.cwnd;
      // The window, not the flight (as Linux's CUBIC and Reno): ACKs handled in one batch before
      // the sender's turn would make the flight look as if the sender had been idle.
      this.cc.onLoss(Math.max(this.flightSize(), prior), mss, now);
      this.prr.start(prior, this.deliveredThisRound);
      this.recover = this.sndMax;
      this.sackRecovery = true;
      this.highRxt = this.sndUna;
      this.retransmitHeadDue = true;
      this.tlpAt = undefined;
      this.tlpHighSeq = undefined;
    }
    if (this.sackRecovery)
      this.cc.cwnd = this.prr.cwnd(delivered, this.pipe(mss), this.cc.ssthresh, mss, unaAdvanced, lost > 0);
  }

  /**
   * Schedules the tail loss probe (RFC 8985 §7.2, Linux tcp_schedule_loss_probe): two SRTTs
   * after the last transmission or ACK while data is outstanding outside recovery (a lone
   * segment also waits for a delayed ACK), never later than the RTO.
   */
  private armTlp(now: number): void {
    this.tlpAt = undefined;
    if (!this.rackOn || !this.cfg.tlp || this.srtt === undefined || this.tlpHighSeq !== undefined) return;
    const early = this.env.sysctl?.earlyRetrans;
    if (early !== undefined && early !== 3 && early !== 4) return;
    // Not in a timeout's loss state either (Linux: only in Open or CWR), which outlives `retries`.
    if (this.sackRecovery || this.retries > 0 || this.lossEpisode.inLoss) return;
    const una = this.sndUna;
    const max = this.sndMax;
    if (una === max || !this.sendOpen) return;
    const srtt = this.srtt;
    // Two SRTTs and the timers' least timeout (Linux 6.18 adds TCP_TIMEOUT_MIN_US to them, where
    // RFC 8985 takes the larger of the two: on loopback, where an SRTT is microseconds, a reader
    // that lags 2 ms would otherwise draw a probe). One segment out (a FIN riding on it aside):
    // the peer may hold its ACK for the delayed-ACK timeout, so the probe waits for that too
    // (Linux: packets_out == 1). (finSeqNo(), flightSize() and the Math.max/min of the timeouts
    // written out: this runs per ACK.)
    let pto = 2 * srtt + TIMEOUT_MIN;
    const finOut = this.finQueued && ((max - this.txBase - this.buffers.tx.length) | 0) > 0 ? 1 : 0; // FIN below SND.MAX
    const lone = ((max - una) | 0) - finOut <= this.sendMssNow;
    if (lone && 1.5 * srtt + DELACK_MAX > pto) pto = 1.5 * srtt + DELACK_MAX;
    const rtoAt = this.rtoAt;
    if (rtoAt !== undefined && rtoAt - now < pto) pto = rtoAt - now;
    this.tlpAt = now + (pto > 0 ? pto : 0);
  }

  /**
   * The probe timeout fired (RFC 8985 §7.3): send one new segment if the peer's window takes
   * it, else the last segment again, so that its ACK (or SACK) lets RACK find a tail loss
   * without waiting for the RTO; then the RTO runs from now.
   */
  private sendLossProbe(ctx: DispatchContext): boolean {
    const mss = this.sendMssNow;
    const before = this.sndMax;
    let retrans = false;
    let start = this.sndNxt;
    if (this.sendable(false) > 0 && this.sndNxt === this.sndMax) {
      const r = this.sendNewSegment(ctx, mss, false);
      if (r === 'pending') return false;
    }
    if (this.sndMax === before) {
      // The last MSS of payload (and the FIN after it, if sent).
      const fin = this.finSeqNo();
      const dataEnd = fin !== undefined && seqLt(fin, this.sndMax) ? fin : this.sndMax;
      const last = seqAdd(dataEnd, -mss);
      start = seqLt(last, this.sndUna) ? this.sndUna : last;
      if (this.retransmitAt(ctx, start, this.sndMax, true) <= 0) return false;
      retrans = true;
    }
    this.tlpRetrans = retrans;
    this.tlpStart = start;
    this.tlpHighSeq = this.sndMax;
    this.stats.tlpProbes++;
    this.mib.tcpExt.TCPLossProbes++;
    this.rtoAt = ctx.now + this.rto;
    return true;
  }

  /**
   * The ACKs of a probe episode (Linux tcp_process_tlp_ack, RFC 8985 §7.4): a D-SACK of the
   * probe means nothing was lost; an ACK beyond it without one means the probe repaired a
   * loss, which gets the congestion response (cwnd down to the new ssthresh).
   */
  private processTlpAck(
    now: number,
    ack: number,
    unaBefore: number,
    sackNews: boolean,
    dsack: SackBlock | undefined,
  ): void {
    const high = this.tlpHighSeq!;
    if (seqLt(ack, high)) return;
    const probeDsacked = dsack !== undefined && seqLt(dsack[0], high) && seqLt(this.tlpStart, dsack[1]);
    if (!this.tlpRetrans || probeDsacked) this.tlpHighSeq = undefined;
    else if (seqLt(high, ack)) {
      const mss = this.sendMssNow;
      this.cc.onLoss(this.flightSize(), mss, now);
      this.cc.cwnd = Math.min(this.cc.cwnd, this.cc.ssthresh);
      this.tlpHighSeq = undefined;
      this.stats.tlpRecoveries++;
      this.mib.tcpExt.TCPLossProbeRecovery++;
    } else if (ack === unaBefore && !sackNews) this.tlpHighSeq = undefined; // both copies arrived
  }

  /**
   * An ACK during a timeout's loss episode (Linux tcp_process_loss): the detector (frto.ts) may
   * find the timeout spurious by timestamps or F-RTO, or ask for new data (F-RTO step 2.b).
   */
  private processLossAck(
    seg: TcpRepr,
    unaBefore: number,
    duplicate: boolean,
    sackNews: boolean,
    dsack: boolean,
  ): void {
    const ts = seg.timestamp;
    const fin = this.finSeqNo();
    const verdict = this.lossEpisode.onAck({
      unaBefore,
      una: this.sndUna,
      sndMax: this.sndMax,
      dataEnd: fin !== undefined && seqLt(fin, this.sndMax) ? fin : this.sndMax,
      tsEcr: this.tsOk && ts && ts.tsEcr !== 0 ? ts.tsEcr : undefined,
      sackBlocks: this.sackOk ? seg.sackBlocks : undefined,
      dsack,
      duplicate,
      sackNews,
      newDataQueued: this.buffers.tx.length > seqDiff(this.sndMax, this.txBase),
      undoArmed: this.undoMarker !== undefined,
    });
    switch (verdict) {
      case 'undo-spurious':
        this.stats.spuriousRtos++;
        this.mib.tcpExt.TCPSpuriousRTOs++;
        this.undoTimeout();
        break;
      case 'undo-delayed':
        this.undoTimeout();
        break;
      case 'send-new':
        // New data instead of resends: the old data may still be in flight (RFC 5682 step 2.b).
        this.sndNxt = this.sndMax;
        this.recover = this.sndMax; // the episode's high mark moved (Linux's high_seq)
        this.frtoNewDue = true;
        break;
      case 'probe-failed':
        this.sndNxt = this.sndUna; // the loss is real: resend from SND.UNA after all
        break;
      default:
        break;
    }
  }

  /**
   * The timeout was spurious (Linux tcp_try_undo_loss): cwnd and ssthresh from before it come
   * back, nothing is deemed lost, what was SACKed is known again, and sending resumes after
   * SND.MAX instead of going back to SND.UNA.
   */
  private undoTimeout(): void {
    this.cc.cwnd = Math.max(this.cc.cwnd, this.priorCwnd);
    this.cc.ssthresh = Math.max(this.cc.ssthresh, this.priorSsthresh);
    this.undoMarker = undefined;
    this.frtoNewDue = false;
    this.sndNxt = this.sndMax;
    this.recover = seqAdd(this.sndUna, -1); // no loss episode holds back the next recovery
    this.scoreboard.update(this.lossEpisode.sackedAtTimeout(), this.sndUna, this.sndMax);
    this.rack.undoTimeout();
    this.stats.lossUndos++;
    this.mib.tcpExt.TCPLossUndo++;
  }

  /**
   * F-RTO step 2.b: up to two new segments, the receiver's window permitting (not cwnd, and
   * with Nagle off, as Linux's REXMIT_NEW). When none can go, recovery goes on conventionally.
   */
  private sendFrtoProbe(ctx: DispatchContext, mss: number): boolean {
    this.frtoNewDue = false;
    const push = this.pushOnce;
    this.pushOnce = true;
    let n = 0;
    let pending = false;
    while (n < 2) {
      const r = this.sendNewSegment(ctx, mss, false);
      if (r !== 'sent') {
        pending = r === 'pending';
        break;
      }
      n++;
    }
    this.pushOnce = push;
    if (pending && n === 0) this.frtoNewDue = true;
    else if (n === 0) {
      this.lossEpisode.probeAbandoned();
      this.sndNxt = this.sndUna;
    }
    return n > 0;
  }

  /** RFC 6675 NextSeg rule 4 (rescue.ts) in recovery by RFC 6675's rules; RACK has loss probes instead. */
  private rescueSegment(mss: number): readonly [number, number] | undefined {
    if (this.rackOn || !this.sackRecovery) return undefined;
    const fin = this.finSeqNo();
    const dataEnd = fin !== undefined && seqLt(fin, this.sndMax) ? fin : this.sndMax;
    return this.rescue.candidate(this.recover, this.sndUna, this.sndMax, dataEnd, this.scoreboard, mss);
  }

  /**
   * Records a retransmission of [seq, seq + n) for the undo check. Past 64 separate ranges the
   * episode can no longer be proven spurious (undo is off for it), which errs on the safe side.
   */
  private noteRetransmitted(seq: number, n: number): void {
    if (n === 0) return;
    const rs = this.undoRanges;
    const last = rs[rs.length - 1];
    if (last && last[1] === seq) last[1] = seqAdd(seq, n);
    else if (rs.length < 64) rs.push([seq, seqAdd(seq, n)]);
    else this.undoMarker = undefined;
  }

  /** A loss episode begins: remember what to restore should it prove spurious (tcp_init_undo). */
  private startUndo(): void {
    this.undoMarker = this.sndUna;
    this.undoRanges = [];
    this.priorCwnd = this.cc.cwnd;
    // Linux's tcp_current_ssthresh: at least three quarters of the window.
    this.priorSsthresh = Math.max(this.cc.ssthresh, this.cc.cwnd * 0.75);
  }

  /**
   * A D-SACK block arrived (RFC 2883 §5, Linux tcp_sacktag_write_queue and tcp_try_undo_dsack):
   * one of our retransmissions below the cumulative ACK was a duplicate. Once every byte
   * retransmitted in the episode is so reported, the reduction is undone: cwnd and ssthresh
   * go back to where they were and recovery ends.
   */
  private onDsack(block: SackBlock, ack: number): void {
    this.stats.dsacksReceived++;
    this.mib.tcpExt.TCPDSACKRecv++;
    const rs = this.undoRanges;
    if (this.undoMarker === undefined || rs.length === 0 || !seqLe(block[1], ack)) return;
    // Take the reported bytes out of the retransmitted ranges, once: a range resent twice
    // (a resend deemed lost, then resent again) needs a duplicate report for each copy.
    let report: [number, number][] = [[block[0], block[1]]];
    const left: [number, number][] = [];
    for (const [s, e] of rs) {
      let pieces: [number, number][] = [[s, e]];
      const unused: [number, number][] = [];
      for (const [ds, de] of report) {
        const next: [number, number][] = [];
        let hit = false;
        for (const [ps, pe] of pieces) {
          if (hit || !seqLt(ds, pe) || !seqLt(ps, de)) {
            next.push([ps, pe]);
            continue;
          }
          hit = true;
          if (seqLt(ps, ds)) next.push([ps, ds]);
          if (seqLt(de, pe)) next.push([de, pe]);
          // What of the report lies outside this piece may still match a later copy.
          if (seqLt(ds, ps)) unused.push([ds, ps]);
          if (seqLt(pe, de)) unused.push([pe, de]);
        }
        pieces = next;
        if (!hit) unused.push([ds, de]);
      }
      report = unused;
      left.push(...pieces);
    }
    this.undoRanges = left;
    if (left.length > 0) return;
    this.cc.cwnd = Math.max(this.cc.cwnd, this.priorCwnd);
    this.cc.ssthresh = Math.max(this.cc.ssthresh, this.priorSsthresh);
    this.undoMarker = undefined;
    this.inRecovery = false;
    this.sackRecovery = false;
    this.retransmitHeadDue = false;
    this.lossEpisode.end(); // a timeout's episode too is over: nothing left to judge
    this.stats.undos++;
    this.mib.tcpExt.TCPDSACKUndo++;
  }

  /**
   * RFC 6675 SetPipe: bytes believed in the network. Each unSACKed byte counts once unless
   * lost, and once more if retransmitted in this recovery (below HighRxt).
   */
  private pipe(mss: number): number {
    if (this.rackOn) return this.rack.pipe();
    const sb = this.scoreboard;
    const una = this.sndUna;
    const high = this.sndMax;
    const boundary = sb.lossBoundary(una, mss);
    const lostEnd = seqLt(high, boundary) ? high : boundary;
    const rxtEnd = seqLt(high, this.highRxt) ? high : this.highRxt;
    return sb.unsackedBetween(una, high) - sb.unsackedBetween(una, lostEnd) + sb.unsackedBetween(una, rxtEnd);
  }

  /**
   * RFC 6675 NextSeg for retransmissions: rule 1 (the first lost hole above HighRxt), else
   * rule 3 (a hole above HighRxt with SACKed data beyond it) when no new data can go (rule 2,
   * `newDataReady`). The range is [seq, limit), at most one MSS is sent from it.
   */
  private nextRetransmission(mss: number, newDataReady: boolean): readonly [number, number] | undefined {
    if (this.rackOn) return this.rack.nextLost(); // RACK: exactly the segments it marked lost
    const sb = this.scoreboard;
    const from = seqLt(this.highRxt, this.sndUna) ? this.sndUna : this.highRxt;
    const hole = sb.nextHole(from, this.sndMax);
    if (!hole) return undefined;
    if (seqLt(hole[0], sb.lossBoundary(this.sndUna, mss))) return hole;
    if (newDataReady) return undefined;
    const top = sb.highest();
    return top !== undefined && seqLt(hole[0], top) ? hole : undefined;
  }

  /** Loss recovery's sending (RFC 6675 §5 steps 4.3-4.4 and C): while cwnd - pipe >= 1 MSS. */
  private sendRecovery(ctx: DispatchContext): boolean {
    const sent = this.sendRecoveryRound(ctx);
    this.prr.roundDone();
    return sent;
  }

  private sendRecoveryRound(ctx: DispatchContext): boolean {
    const mss = this.sendMssNow;
    let sent = false;
    for (let guard = 0; guard < 4096; guard++) {
      const forced = this.retransmitHeadDue;
      if (!forced && this.cc.cwnd - this.pipe(mss) < mss) break;
      const count = this.sendable(false);
      const offset = this.unsentOffset();
      const newReady = count > 0 && this.fitsWindow(offset, mss) && !this.sendHolds(offset, mss, ctx.now);
      const hole = forced
        ? ((this.rackOn ? this.rack.nextLost() : undefined) ??
          this.scoreboard.nextHole(this.sndUna, this.sndMax))
        : this.nextRetransmission(mss, newReady);
      const rescue = hole || forced || newReady ? undefined : this.rescueSegment(mss);
      this.retransmitHeadDue = false;
      if (hole) {
        const n = this.retransmitAt(ctx, hole[0], hole[1]);
        if (n < 0) {
          if (forced) this.retransmitHeadDue = true;
          return sent;
        }
        if (n === 0) break;
        const end = seqAdd(hole[0], n);
        if (seqLt(this.highRxt, end)) this.highRxt = end;
        if (forced) this.rescue.start(this.recover, end); // step 4.3 sets RescueRxt as well
        this.stats.fastRetransmits++;
        this.mib.tcpExt.TCPFastRetrans++;
        sent = true;
        continue;
      }
      if (rescue) {
        const n = this.retransmitAt(ctx, rescue[0], rescue[1]);
        if (n < 0) return sent;
        if (n === 0) break;
        this.rescue.used(this.recover); // HighRxt stays where it is (rule 4)
        this.stats.rescueRetransmits++;
        this.mib.tcpExt.TCPFastRetrans++; // a resend during recovery, as Linux counts those
        sent = true;
        continue;
      }
      if (!newReady) break;
      const r = this.sendNewSegment(ctx, mss, false);
      if (r === 'pending') return sent;
      if (r === 'none') break;
      sent = true;
    }
    return sent;
  }

  /**
   * Resends up to one MSS from `seq`, not beyond `limit` (the FIN too when it lies there).
   * Returns the sequence space sent, 0 when there was nothing, -1 when the next hop is pending.
   */
  private retransmitAt(ctx: DispatchContext, seq: number, limit: number, probe = false): number {
    const offset = seqDiff(seq, this.txBase);
    const n = Math.max(0, Math.min(this.buffers.tx.length - offset, this.sendMssNow, seqDiff(limit, seq)));
    const finSeq = this.finSeqNo();
    const finSent = finSeq !== undefined && seqLt(finSeq, this.sndMax);
    const withFin = finSent && seqAdd(seq, n) === finSeq && seqLt(finSeq, limit);
    if (n === 0 && !withFin) return 0;
    const payload = SCRATCH.subarray(0, n);
    if (n > 0) this.buffers.tx.read(offset, payload);
    const flags = (n > 0 ? TcpFlag.PSH : 0) | (withFin ? TcpFlag.FIN : 0);
    if (this.emit(ctx, flags, seq, payload, false) === 'pending') return -1;
    this.rttSample = undefined; // Karn
    this.tsRtxFloor = this.tsNow(ctx.now);
    this.stats.retransmits++;
    this.stats.bytesRetransmitted += n;
    this.noteSent(seq, n, ctx.now, true, this.sendMssNow);
    if (!probe) this.stampRetransmit(seqAdd(seq, n + (withFin ? 1 : 0)), ctx.now);
    return n + (withFin ? 1 : 0);
  }

  /**
   * tcp_retransmit_skb's retrans_stamp: the first retransmission while none is outstanding
   * stamps it; `end` is where the resent data ends. (A loss probe resends by
   * __tcp_retransmit_skb, which stamps nothing.)
   */
  private stampRetransmit(end: number, now: number): void {
    if (this.retransStamp === undefined) {
      this.retransStamp = now;
      this.retransHigh = end;
    } else if (((end - this.retransHigh) | 0) > 0) this.retransHigh = end;
  }

  /** Resends one segment from SND.UNA (fast retransmit, NewReno partial ACK). */
  private retransmitHead(ctx: DispatchContext): boolean {
    if (this.retransmitAt(ctx, this.sndUna, this.sndMax) <= 0) return false;
    this.stats.fastRetransmits++;
    this.mib.tcpExt.TCPFastRetrans++;
    return true;
  }

  /** RFC 6298 §2: update SRTT/RTTVAR/RTO from the timed segment, if `ack` covers it (Karn: never a retransmission). */
  private sampleRtt(now: number, ack: number): void {
    const s = this.rttSample;
    if (!s || !seqLt(s.seq, ack)) return;
    this.rttSample = undefined;
    this.takeRttSample(Math.max(now - s.at, 0));
  }

  /** The RTT sample of the ACK being processed (for HyStart++), if it gave one. */
  private latestRtt: number | undefined;

  private takeRttSample(r: number): void {
    this.latestRtt = r;
    this.stats.rttSamples++;
    if (this.minRtt === undefined || r < this.minRtt) this.minRtt = r;
    if (this.srtt === undefined) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = this.computedRto();
  }

  /**
   * Linux's tcp_measure_rcv_mss for in-order data: a segment at least as large as the estimate
   * raises it (to our MSS at most) and, with PSH (the end of a write), counts as pushed; a
   * smaller one counts as pushed (twice: PUSHED2) unless it looks like the peer's segments got
   * smaller, when two in a row of one size without remnant flags (PSH, URG, FIN) become the
   * estimate. Sizes are of the segment with its TCP header less the header every segment has
   * (20 bytes and the timestamps), so that SACK blocks do not make a full segment look short.
   */
  private measureRcvMss(seg: TcpRepr): void {
    const lss = this.lastSegSize;
    this.lastSegSize = 0;
    const len = seg.payload.length;
    if (len >= this.rcvMss) {
      this.rcvMss = Math.min(len, this.ourMssNow);
      if ((seg.flags & TcpFlag.PSH) !== 0) this.pushed |= PUSHED;
      return;
    }
    const sack = seg.sackBlocks;
    const options = (seg.timestamp ? TS_OPTION_LEN : 0) + (sack && sack.length > 0 ? 4 + 8 * sack.length : 0);
    const withHeader = len + 20 + options;
    if (withHeader >= 536 + 20 || (withHeader >= 48 + 20 && (seg.flags & REMNANT) === 0)) {
      const size = withHeader - 20 - (this.tsOk ? TS_OPTION_LEN : 0);
      this.lastSegSize = size;
      if (size === lss) {
        this.rcvMss = size;
        return;
      }
    }
    this.pushed |= (this.pushed & PUSHED) !== 0 ? PUSHED | PUSHED2 : PUSHED;
  }

  /** RFC 6298 §2.3: SRTT + max(G, 4 RTTVAR), clamped; the current RTO before any sample. */
  private computedRto(): number {
    if (this.srtt === undefined) return this.rto;
    const clockGranularity = 1;
    return Math.min(
      Math.max(this.srtt + Math.max(clockGranularity, 4 * this.rttvar), this.rtoMin),
      this.rtoMax,
    );
  }

  /** Places payload bytes at their offset in the receive ring; in-order bytes become readable. */
  private receiveData(seg: TcpRepr): void {
    const seq = seg.seqNumber;
    const payload = seg.payload;
    let off = (seq - this.rcvNxt) | 0;
    // noteDuplicate finds a duplicate only below RCV.NXT or among out-of-order data.
    if (this.sackOk && (off < 0 || this.assembler.size > 0)) this.noteDuplicate(seq, payload.length);
    let data = payload;
    if (off < 0) {
      data = data.subarray(-off);
      off = 0;
    }
    if (data.length === 0 || off > 0) this.ackNow = true; // duplicate or out of order: ACK at once
    if (data.length === 0) return;
    if (off === 0) this.measureRcvMss(seg);
    if (!this.receivedAnyData) {
      // Linux tcp_event_data_recv: the first data of a connection starts quick-ACK mode.
      this.receivedAnyData = true;
      this.quickAcksLeft = Math.max(
        2,
        Math.min(MAX_QUICKACKS, Math.floor(this.buffers.rx.capacity / (2 * this.rcvMss))),
      );
    }
    const rx = this.buffers.rx;
    const n = rx.writeUnallocated(off, data);
    if (n === 0) {
      this.ackNow = true; // no room: tell the sender our window
      return;
    }
    if (off === 0) {
      let extra = 0;
      if (this.assembler.size > 0) {
        this.ackNow = true; // filling a hole: tell the sender at once
        extra = this.assembler.advance(n);
      }
      rx.commit(n + extra);
      this.rcvNxt = (this.rcvNxt + n + extra) >>> 0;
      this.bytesUnacked += n + extra;
      this.stats.bytesReceived += n + extra;
      // tcp_data_queue's tcp_fast_path_check
      if (!this.hpOn && this.assembler.size === 0 && rx.window > 0) this.hpOn = true;
    } else {
      this.hpOn = false; // tcp_data_queue_ofo
      this.stats.outOfOrderReceived++;
      this.mib.tcpExt.TCPOFOQueue++;
      // Refused when too fragmented: the bytes are simply not kept, and the sender resends them.
      if (this.assembler.add(off, n)) this.noteSackArrival(seqAdd(this.rcvNxt, off));
    }
  }

  /**
   * RFC 2883 §4 (Linux tcp_dsack_set/extend): with SACK and net.ipv4.tcp_dsack on, a segment
   * that brings bytes we already have is reported in a D-SACK block: its part below RCV.NXT,
   * else its first overlap with the out-of-order queue.
   */
  private noteDuplicate(seq: number, len: number): void {
    if (!this.sackOk || len === 0 || this.env.sysctl?.dsack === 0) return;
    const off = seqDiff(seq, this.rcvNxt);
    if (off < 0) {
      this.dsack = [seq, seqAdd(seq, Math.min(len, -off))];
      this.mib.tcpExt.TCPDSACKOldSent++; // tcp_dsack_set, below RCV.NXT
      return;
    }
    if (this.assembler.isEmpty()) return; // nothing out of order for it to overlap
    for (const [s, e] of this.assembler.held()) {
      const lo = Math.max(s, off);
      const hi = Math.min(e, off + len);
      if (lo < hi) {
        this.dsack = [seqAdd(this.rcvNxt, lo), seqAdd(this.rcvNxt, hi)];
        this.mib.tcpExt.TCPDSACKOfoSent++;
        return;
      }
    }
  }

  /** The most recent out-of-order arrivals, newest first (RFC 2018 §4 orders our SACK blocks so). */
  private recentOoo: number[] = [];
  private noteSackArrival(seq: number): void {
    const r = this.recentOoo;
    r.unshift(seq);
    if (r.length > 4) r.length = 4;
  }

  /** Whether a segment sent now in TIME_WAIT is the ACK {@link ownFinAck} stands for (once). */
  private takeOwnFinAck(): boolean {
    const own = this.ownFinAck;
    this.ownFinAck = false;
    return own;
  }

  private enterTimeWait(now: number): void {
    this.state = 'TIME_WAIT';
    this.timeWaitAt = now + this.cfg.timeWait;
    this.lastOowAck = undefined; // tcp_time_wait: the timewait sock rate-limits on its own
    this.rtoAt = undefined;
    this.countTimeWait(this.cfg.timeWait);
  }

  /**
   * __inet_twsk_schedule counts a connection when it starts to wait out its end (TIME_WAIT, or an
   * orphan in FIN_WAIT_2): TW, or TWKilled when the wait is 4 s or shorter.
   */
  private countTimeWait(ms: number): void {
    if (this.twCounted) return;
    this.twCounted = true;
    if (ms <= 4000) this.mib.tcpExt.TWKilled++;
    else this.mib.tcpExt.TW++;
  }

  private fail(err: LinuxError): void {
    // tcp_done counts a failed handshake.
    if (this.stateNow === 'SYN_SENT' || this.stateNow === 'SYN_RECEIVED') this.mib.tcp.AttemptFails++;
    this.error = err;
    this.errorReported = false;
    this.toClosed();
  }

  /** tcp_write_err: gives up after timeouts, with the last soft error if any, else ETIMEDOUT. */
  private timedOut(): void {
    this.mib.tcpExt.TCPAbortOnTimeout++;
    this.fail(this.softError ?? E.ETIMEDOUT);
  }

  private reportError(): LinuxError {
    this.errorReported = true;
    return this.error!;
  }

  private toClosed(): void {
    // A parked TIME_WAIT ends with its record, which then calls timeWaitOver.
    if (this.timeWaitRecord !== undefined) {
      this.timeWaitRecord.close();
      return;
    }
    this.state = 'CLOSED';
    this.rtoAt = undefined;
    this.timeWaitAt = undefined;
    this.ackDue = false;
    // A port bind(2) named stays held while the application keeps the socket (as Linux's
    // SOCK_BINDPORT_LOCK), so a failed connection can be tried again from it.
    if (this.registered && this.local && !(this.bindPortLock && !this.released)) {
      this.ports.remove(this, this.local.port);
      this.registered = false;
    }
    if (this.parent) this.parent.childClosed(this);
  }

  /**
   * New data, in FIN_WAIT_1/2, for a connection the application has closed or shut down for
   * reading: nobody can ever read it, so (RFC 1122 §4.2.2.13, Linux tcp_rcv_state_process,
   * which tests RCV_SHUTDOWN) the connection is reset and the RST tells the sender,
   * whose next send then fails (EPIPE after our FIN, else ECONNRESET). Linux counts
   * TCPAbortOnData for a full socket (also when the segment found FIN_WAIT_1 and its ACK of
   * our FIN moved us on: `finWait1`); an orphan already handed to a FIN_WAIT_2 timewait socket
   * (tcp_fin_time at most TCP_TIMEWAIT_LEN, the default) answers the same RST uncounted.
   */
  private abortOnData(seg: TcpRepr, finWait1: boolean): TcpRepr {
    if (!this.released || finWait1 || this.finTime() > TIMEWAIT_LEN) this.mib.tcpExt.TCPAbortOnData++;
    this.fail(E.ECONNRESET);
    return this.resetFor(seg);
  }

  /**
   * A segment in TIME_WAIT, answered as a parked {@link TcpTimeWait} answers it (the two are
   * Linux's one timewait sock): see {@link timeWaitVerdict}.
   */
  private processTimeWait(now: number, seg: TcpRepr): undefined {
    const v = timeWaitVerdict(
      now,
      seg,
      {
        rcvNxt: this.rcvNxt,
        sndNxt: this.sndNxt,
        tsOk: this.tsOk,
        tsRecent: this.tsRecent,
        tsRecentAt: this.tsRecentAt,
      },
      (this.env.sysctl?.rfc1337 ?? 0) !== 0,
    );
    if ((v & TW_PAWS) !== 0) {
      this.stats.pawsRejected++;
      this.mib.tcpExt.PAWSTimewait++;
    }
    if ((v & TW_KILL) !== 0) {
      this.toClosed();
      return undefined;
    }
    if ((v & TW_TS_RECENT) !== 0) {
      this.tsRecent = seg.timestamp!.tsVal;
      this.tsRecentAt = now;
    }
    if ((v & TW_RESTART) !== 0) this.timeWaitAt = now + this.cfg.timeWait;
    if ((v & TW_ACK) !== 0) this.ackDue = true;
    else if ((v & TW_OOW_ACK) !== 0) {
      // tcp_timewait_check_oow_rate_limit: data or a FIN is always answered, a SYN is not.
      const occupies = seg.payload.length > 0 || (seg.flags & TcpFlag.FIN) !== 0;
      if ((occupies && (seg.flags & TcpFlag.SYN) === 0) || !this.oowRateLimited(now)) this.ackDue = true;
      else this.mib.tcpExt.TCPACKSkippedTimeWait++;
    }
    return undefined;
  }

  /**
   * __tcp_oow_rate_limited: an out-of-window segment that could be part of an ACK loop (a
   * zero-window or keepalive probe, a stray ACK) is answered at most once per
   * net.ipv4.tcp_invalid_ratelimit (500 ms), read each time; true when this one goes unanswered.
   */
  private oowRateLimited(now: number): boolean {
    if (oowLimited(this.lastOowAck, now, this.env.sysctl?.invalidRatelimit ?? OOW_RATELIMIT_MS)) return true;
    this.lastOowAck = now;
    return false;
  }

  /**
   * tcp_paws_discard: whether PAWS rejects a segment with TSval `tsVal`. It passes when the TSval
   * is at most one tick older than TS.Recent (TCP_PAWS_WINDOW), when TS.Recent is 0 (stacks that
   * send TSval 0 in their SYN), when TS.Recent has been idle 24 days, and when the segment is a
   * reordered duplicate ACK (tcp_disordered_ack: a pure ACK at RCV.NXT of SND.UNA that would not
   * move the window, its TSval within an RTO of TS.Recent).
   */
  private pawsDiscard(now: number, seg: TcpRepr, tsVal: number): boolean {
    if (pawsCheck(now, tsVal, this.tsRecent, this.tsRecentAt, PAWS_WINDOW)) return false;
    const ack = seg.ackNumber;
    if (ack === undefined || seg.payload.length > 0 || (seg.flags & (TcpFlag.SYN | TcpFlag.FIN)) !== 0)
      return true;
    if (((seg.seqNumber - this.rcvNxt) | 0) !== 0 || ((ack - this.sndUna) | 0) !== 0) return true;
    // tcp_may_update_window, for an ACK of SND.UNA.
    const wl1 = (seg.seqNumber - this.sndWl1) | 0;
    const nwin = seg.windowLen << this.sndShift;
    if (wl1 > 0 || (wl1 === 0 && (nwin > this.sndWnd || nwin === 0))) return true;
    // An RTO in TSval ticks: Linux's icsk_rto * 1024 / HZ.
    return ((this.tsRecent - tsVal) | 0) > Math.floor((this.rto * 1024) / 1000);
  }

  /** A RST answering an unacceptable segment (RFC 9293 §3.10.7.3, SYN-RECEIVED/SYN-SENT). */
  private resetFor(seg: TcpRepr): TcpRepr {
    return {
      srcPort: seg.dstPort,
      dstPort: seg.srcPort,
      seqNumber: seg.ackNumber ?? 0,
      ackNumber: undefined,
      flags: TcpFlag.RST,
      windowLen: 0,
      payload: EMPTY,
    };
  }

  // ---- output ----

  /**
   * The urgent pointer of a segment starting at `seq` (Linux __tcp_transmit_skb): in urgent mode
   * (SND.UP after SND.UNA) a segment before SND.UP points at it, or as far as the 16-bit field
   * reaches (0xffff) while SND.NXT is within that reach; undefined when the segment has no URG.
   */
  private urgentPointerAt(seq: number): number | undefined {
    if (((this.sndUp - this.sndUna) | 0) <= 0) {
      this.sndUrg = false; // the peer acknowledged the urgent byte: urgent mode is over
      return undefined;
    }
    const up = (this.sndUp - seq) | 0;
    if (up <= 0) return undefined;
    if (up < 0x10000) return up;
    return ((seq + 0xffff - this.sndNxt) | 0) > 0 ? 0xffff : undefined;
  }

  private windowField(syn: boolean): number {
    if (this.rcvClamp !== 0 && !syn) this.clampReceiveRing();
    const free = this.buffers.rx.window;
    // TCP_WINDOW_CLAMP: no more window than the clamp, but never less than what was offered.
    const w = this.clampNow() ? Math.min(free, Math.max(this.windowClamp, this.offeredAhead())) : free;
    this.rcvRead = false;
    if (syn) {
      this.lastAdvertised = Math.min(w, 0xffff);
      return this.lastAdvertised;
    }
    const field = Math.min(w >>> this.rcvShift, 0xffff);
    this.lastAdvertised = field << this.rcvShift;
    if (field === 0) this.hpOn = false; // tcp_select_window: no fast path behind a zero window
    return field;
  }

  /** TCP_WINDOW_CLAMP bounds the window now (see {@link windowClamp}). */
  private clampNow(): boolean {
    return this.windowClamp !== 0 && (this.windowClampLocked || !this.receivedAnyData);
  }

  /** Window we offered that the peer has not used yet (RCV.WND left of the last advertisement). */
  private offeredAhead(): number {
    return Math.max(0, (this.lastAckSent + this.lastAdvertised - this.rcvNxt) | 0);
  }

  private windowUpdateDue(): boolean {
    if (!this.rcvRead || !this.connected || this.remoteFin) return false;
    if (this.rcvClamp !== 0) this.clampReceiveRing();
    const rx = this.buffers.rx;
    const capacity = rx.capacity;
    // Linux's tcp_cleanup_rbuf: no window update while the peer still has more than half the
    // buffer of window left (the ACKs of its data carry the window anyway); a reader that keeps
    // up with a bulk sender then costs no extra segment per read. (Sequence arithmetic written
    // out: this runs for every socket in every poll.)
    const left = (this.lastAckSent + this.lastAdvertised - this.rcvNxt) | 0;
    if (2 * left > capacity) return false;
    // Then an update when the window would be at least twice what the peer has left, and its
    // right edge moves by a segment or half the buffer at least (RFC 1122's receiver-side
    // silly window avoidance, which Linux's __tcp_select_window gets by offering nothing below
    // an MSS once the buffer is half full).
    const remaining = left > 0 ? left : 0;
    const threshold = Math.min(this.ourMssNow, capacity >>> 1);
    const window = this.clampNow() ? Math.min(rx.window, this.windowClamp) : rx.window;
    return window >= 2 * remaining && window - remaining >= Math.max(threshold, 1 << this.rcvShift);
  }

  /**
   * RFC 2018 §4: the first block holds the most recently received segment, then the blocks of
   * the other recent arrivals, then the rest (highest first); the wire format keeps what fits.
   */
  private sackBlocks(): SackBlock[] | undefined {
    const dsack = this.dsack;
    if (dsack) {
      // RFC 2883: the D-SACK block goes first, once; the other blocks follow as usual (the one
      // holding a duplicate of out-of-order data is the newest arrival, so it comes second).
      this.dsack = undefined;
      this.stats.dsacksSent++;
      const rest = this.sackOk && !this.assembler.isEmpty() ? this.sackBlocksHeld() : [];
      return [dsack, ...rest.slice(0, 3)];
    }
    if (!this.sackOk || this.assembler.isEmpty()) return undefined;
    return this.sackBlocksHeld();
  }

  private sackBlocksHeld(): SackBlock[] {
    const held = this.assembler.held();
    const order: number[] = [];
    for (const seq of this.recentOoo) {
      const off = seqDiff(seq, this.rcvNxt);
      const i = held.findIndex(([s, e]) => off >= s && off < e);
      if (i >= 0 && !order.includes(i)) order.push(i);
    }
    for (let i = held.length - 1; i >= 0 && order.length < 4; i--) if (!order.includes(i)) order.push(i);
    return order
      .slice(0, 4)
      .map((i) => [seqAdd(this.rcvNxt, held[i]![0]), seqAdd(this.rcvNxt, held[i]![1])] as const);
  }

  /**
   * Whether a partial segment waits: MSG_MORE and TCP_CORK hold it (the latter up to 200 ms),
   * and Nagle's algorithm in Minshall's form, as Linux has it, holds it while another segment
   * smaller than the MSS is unacknowledged (unless TCP_NODELAY). Full segments, the FIN,
   * resends and an uncork push never wait.
   */
  private sendHolds(offset: number, mss: number, now: number): boolean {
    // tcp_nagle_test: neither Nagle nor TCP_CORK holds anything back in urgent mode.
    if (this.sndUrg && ((this.sndUp - this.sndUna) | 0) > 0) return false;
    const unsent = this.buffers.tx.length - offset;
    if (unsent >= mss || this.finQueued || this.pushOnce) return false;
    // Resending after a timeout (below SND.MAX) is never held: the small segment Nagle waits
    // for may be this very one.
    if (seqLt(this.sndNxt, this.sndMax)) return false;
    if (this.moreHeld) return true;
    if (this.cork) {
      this.corkedSince ??= now;
      return now < this.corkedSince + CORK_CEILING;
    }
    if (this.noDelay) return false;
    return this.smallSentEnd !== undefined && seqLt(this.sndUna, this.smallSentEnd);
  }

  /**
   * How many bytes of the send ring not yet sent (from {@link unsentOffset}) the windows let
   * out now: the peer's, and cwnd too unless in SACK recovery, where pipe rules.
   */
  private sendable(useCwnd: boolean): number {
    const avail = this.buffers.tx.length - ((this.sndNxt - this.txBase) | 0);
    const wnd = this.sndWnd;
    const cwnd = this.cc.cwnd;
    // cwnd may be fractional (CUBIC): whole bytes only (the peer's window is whole already).
    const win = (useCwnd && cwnd < wnd ? Math.floor(cwnd) : wnd) - ((this.sndNxt - this.sndUna) | 0);
    const n = avail < win ? avail : win;
    return n > 0 ? n : 0;
  }

  /** Where SND.NXT is in the send ring: the offset of the first byte not (or no longer) sent. */
  private unsentOffset(): number {
    return seqDiff(this.sndNxt, this.txBase);
  }

  private finDue(): boolean {
    return this.finQueued && this.sndNxt === this.finSeqNo();
  }

  /** @internal the neighbor answered: try again at once. */
  clearHold(): void {
    this.env.touch?.(this);
    this.holdUntil = 0;
    this.quietIn = undefined;
  }

  /**
   * When the next keepalive probe (or the verdict after the last one) is due: only on an idle
   * synchronized connection with nothing outstanding, like Linux's tcp_keepalive_timer.
   */
  private keepAliveAt(): number | undefined {
    if (
      !this.keepAlive ||
      !(this.stateNow === 'ESTABLISHED' || this.stateNow === 'CLOSE_WAIT' || this.stateNow === 'FIN_WAIT_2')
    )
      return undefined;
    if (this.sndMax !== this.sndUna || !this.buffers.tx.isEmpty()) return undefined;
    return this.lastHeard + this.keepIdleMs() + this.keepProbes * this.keepIntvlMs();
  }

  /** The keepalive idle time (ms): TCP_KEEPIDLE, else net.ipv4.tcp_keepalive_time. */
  keepIdleMs(): number {
    return this.keepIdle ?? Math.max(0, (this.env.sysctl?.keepaliveTime ?? 7200) * 1000);
  }

  /** The keepalive probe interval (ms): TCP_KEEPINTVL, else net.ipv4.tcp_keepalive_intvl. */
  keepIntvlMs(): number {
    return this.keepIntvl ?? Math.max(0, (this.env.sysctl?.keepaliveIntvl ?? 75) * 1000);
  }

  /** The keepalive probe count: TCP_KEEPCNT, else net.ipv4.tcp_keepalive_probes. */
  keepProbeLimit(): number {
    return this.keepCnt ?? this.env.sysctl?.keepaliveProbes ?? 9;
  }

  /**
   * Linux's tcp_fin_time: how long an orphaned connection waits in FIN_WAIT_2, TCP_LINGER2 or
   * net.ipv4.tcp_fin_timeout, but at least 3.5 RTO.
   */
  private finTime(): number {
    const l2 = this.linger2 !== undefined && this.linger2 > 0 ? this.linger2 : undefined;
    return Math.max(l2 ?? (this.env.sysctl?.finTimeout ?? 60) * 1000, 3.5 * this.rto);
  }

  /**
   * An orphaned connection (the application closed it) is in FIN_WAIT_2: the peer gets
   * tcp_fin_time to send its FIN, then the connection goes silently (Linux hands it to a
   * FIN_WAIT2 timewait socket). TCP_LINGER2 < 0 ends it at once: a RST when the close itself
   * found FIN_WAIT_2 (`closing`), silently when our FIN's ACK arrived after the close.
   * `timeWaitAt` is the timer, as for TIME_WAIT: a FIN moves the connection on to TIME_WAIT.
   */
  private orphanInFinWait2(now: number, closing: boolean): void {
    if (this.linger2 !== undefined && this.linger2 < 0) {
      if (closing) {
        this.mib.tcpExt.TCPAbortOnLinger++;
        this.abort();
      } else this.toClosed();
      return;
    }
    this.timeWaitAt = now + this.finTime();
    this.countTimeWait(this.finTime());
  }

  /**
   * @internal true for a TIME_WAIT connection that needs no dispatch before {@link timeWaitEnd}
   * unless a segment arrives for it (the stack then keeps it off its per-poll loops).
   */
  get parkable(): boolean {
    return this.stateNow === 'TIME_WAIT' && !this.rstDue && this.quietTimeWait();
  }

  /**
   * The record that holds this connection's TIME_WAIT once the stack parked it ({@link
   * toTimeWait}); undefined before and after.
   */
  private timeWaitRecord: TcpTimeWait | undefined;

  /**
   * @internal Linux's tcp_time_wait: this {@link parkable} connection, which the application
   * closed, goes on as a {@link TcpTimeWait} of what TIME_WAIT needs, which takes its port; the
   * stack keeps that instead of this socket. This socket stays in TIME_WAIT for whoever still
   * holds it and becomes CLOSED when the record ends.
   */
  toTimeWait(home: TimeWaitHome): TcpTimeWait {
    const tw = new TcpTimeWait(
      {
        family: this.family,
        local: this.local!,
        remote: this.remote!,
        reuseAddr: this.reuseAddr,
        reusePort: this.reusePort,
        dualStack: this.dualStack,
        boundDevIf: this.boundDevIf,
        connectBound: this.connectBound,
        minTtl: this.minTtl,
        minHopCount: this.minHopCount,
        trafficClass: this.trafficClass,
        blackhole: this.blackhole,
        tsOk: this.tsOk,
        rcvNxt: this.rcvNxt,
        sndNxt: this.sndMax,
        // What the last ACK offered: nothing is read or received in TIME_WAIT, so it stays.
        windowLen: Math.min(this.lastAdvertised >>> this.rcvShift, 0xffff),
        tsRecent: this.tsRecent,
        tsRecentAt: this.tsRecentAt,
        tsOffset: this.tsOffset,
        end: this.timeWaitAt!,
        length: this.cfg.timeWait,
        lastOowAck: this.lastOowAck,
      },
      this,
      home,
    );
    if (this.registered) {
      this.ports.remove(this, this.local!.port);
      this.ports.add(tw, this.local!.port);
      this.registered = false;
    }
    this.timeWaitRecord = tw;
    return tw;
  }

  /** @internal the record of {@link toTimeWait} ended: the connection is CLOSED. */
  timeWaitOver(): void {
    this.timeWaitRecord = undefined;
    this.toClosed();
  }

  /** @internal when TIME_WAIT ends (undefined in other states). */
  get timeWaitEnd(): number | undefined {
    return this.timeWaitAt;
  }

  /**
   * The timer /proc/net/tcp and sock_diag show for this connection (get_tcp4_sock's
   * timer_active), with when it fires on the stack's clock (ms): 1 retransmission (a loss probe
   * or RACK's reordering timer too), 4 the zero window probe (the retransmission timer with
   * nothing in flight), 2 keepalive, 3 the end of TIME_WAIT; undefined when none is pending.
   */
  get pendingTimer(): { readonly kind: 1 | 2 | 3 | 4; readonly at: number } | undefined {
    if (this.timeWaitRecord !== undefined) return this.timeWaitRecord.pendingTimer;
    if (this.stateNow === 'TIME_WAIT')
      return this.timeWaitAt === undefined ? undefined : { kind: 3, at: this.timeWaitAt };
    const rto = this.rtoAt;
    if (rto !== undefined && this.connected && this.sndMax === this.sndUna) return { kind: 4, at: rto };
    let at = rto;
    for (const t of [this.tlpAt, this.rackTimerAt])
      if (t !== undefined && (at === undefined || t < at)) at = t;
    if (at !== undefined) return { kind: 1, at };
    const keep = this.keepAliveAt();
    return keep === undefined ? undefined : { kind: 2, at: keep };
  }

  /**
   * What /proc/net/tcp shows past the timer (get_tcp4_sock): the retransmissions and probes
   * (icsk_retransmits, icsk_probes_out) and the delayed-ACK state (icsk_ack.quick, pingpong).
   */
  get procFigures(): {
    readonly retransmits: number;
    readonly probes: number;
    readonly quickAcks: number;
    readonly pingpong: boolean;
  } {
    return {
      retransmits: this.retries,
      probes: this.probesOut > 0 ? this.probesOut : this.keepProbes,
      quickAcks: this.quickAcksLeft,
      pingpong: this.pingpong,
    };
  }

  /** A TIME_WAIT connection with nothing to send and no timer but its own end. */
  private quietTimeWait(): boolean {
    return (
      !this.ackDue &&
      this.rtoAt === undefined &&
      this.ackDelayAt === undefined &&
      !this.retransmitHeadDue &&
      this.remoteFin
    );
  }

  /** @internal the earliest time this socket needs dispatch. */
  pollAt(now: number): number | undefined {
    if (this.env.uniformMtu === undefined) this.refreshMss(); // else only the options change it
    const hold = this.holdUntil;
    const due = hold > now ? hold : now; // while the next hop is resolved, wait
    if (this.rstDue) return due;
    const state = this.stateNow;
    if (state === 'CLOSED' || state === 'LISTEN') return undefined;
    if (state === 'TIME_WAIT' && this.quietTimeWait()) return this.timeWaitAt;
    let t: number | undefined = this.rtoAt;
    // Work to do: at `due`, or at the RTO should that come first.
    const work = t !== undefined && t < due ? t : due;
    if (this.ackDue || ((this.retransmitHeadDue || this.frtoNewDue) && this.sendOpen)) return work;
    if ((state === 'SYN_SENT' || state === 'SYN_RECEIVED') && this.sndNxt === this.iss) return work;
    if (this.sendOpen) {
      const recovery = this.sackRecovery;
      // Nothing unsent (the usual answer) needs no look at the windows.
      const count =
        this.buffers.tx.length - ((this.sndNxt - this.txBase) | 0) > 0 ? this.sendable(!recovery) : 0;
      let ready: boolean;
      if (recovery) {
        const mss = this.sendMssNow;
        const offset = this.unsentOffset();
        const newReady = count > 0 && this.fitsWindow(offset, mss) && !this.sendHolds(offset, mss, now);
        ready =
          this.cc.cwnd - this.pipe(mss) >= mss &&
          (newReady ||
            this.nextRetransmission(mss, false) !== undefined ||
            this.rescueSegment(mss) !== undefined);
      } else {
        const offset = this.unsentOffset();
        const mss = this.sendMssNow;
        ready =
          (count > 0 && this.fitsWindow(offset, mss) && !this.sendHolds(offset, mss, now)) ||
          (this.mtuLossDue && this.cc.cwnd - this.pipe(mss) >= mss && this.rack.nextLost() !== undefined);
      }
      if (ready || (this.finQueued && this.finDue())) return work;
      if (count > 0 && this.cork && this.corkedSince !== undefined) {
        const c = this.corkedSince + CORK_CEILING;
        t = t === undefined || c < t ? c : t;
      }
    }
    // (The first tests of windowUpdateDue written out: most polls end there without a call.)
    const advertised = (this.lastAckSent + this.lastAdvertised - this.rcvNxt) | 0;
    const mayUpdate = this.connected && !this.remoteFin && 2 * advertised <= this.buffers.rx.capacity;
    if (mayUpdate && this.windowUpdateDue()) return work;
    // The timers: the earliest of them.
    let at = this.ackDelayAt;
    if (at !== undefined && (t === undefined || at < t)) t = at;
    at = this.timeWaitAt;
    if (at !== undefined && (t === undefined || at < t)) t = at;
    at = this.keepAlive ? this.keepAliveAt() : undefined;
    if (at !== undefined && (t === undefined || at < t)) t = at;
    at = this.rackTimerAt;
    if (at !== undefined && (t === undefined || at < t)) t = at;
    at = this.tlpAt;
    if (at !== undefined && (t === undefined || at < t)) t = at;
    return t;
  }

  /**
   * @internal sends what is due at `ctx.now`; true when a packet left. A later round of the
   * same poll (the same context) that finds this socket quiet, its last dispatch having tried
   * to send nothing and no segment or neighbor news having come since, returns at once: the
   * answer could only be the same.
   */
  dispatch(ctx: DispatchContext): boolean {
    if (ctx === this.quietIn) return false;
    this.quietIn = ctx; // until something is tried (see transmitSegment) or comes in
    if (this.env.uniformMtu === undefined) this.refreshMss(); // else only the options change it
    const now = ctx.now;
    this.lastNow = now;
    if (this.rstDue) {
      this.rstDue = false;
      this.emit(ctx, TcpFlag.RST, this.sndMax, EMPTY, true);
      this.toClosed();
      return true;
    }
    const state = this.stateNow;
    if (state === 'CLOSED' || state === 'LISTEN') return false;
    if (this.timeWaitAt !== undefined && now >= this.timeWaitAt) {
      this.toClosed();
      return false;
    }
    // TIME_WAIT only ever answers (an ACK for a repeated FIN): skip the rest while nothing is
    // due, since a busy connection rate keeps thousands of these around for 60 s.
    if (state === 'TIME_WAIT' && this.quietTimeWait()) return false;
    if (this.rtoAt !== undefined && now >= this.rtoAt) {
      this.onRetransmitTimeout(now);
      if ((this.stateNow as TcpState) === 'CLOSED') return false;
    }
    if (now < this.holdUntil) return false;
    if (this.rackTimerAt !== undefined && now >= this.rackTimerAt) {
      this.rackTimerAt = undefined;
      this.stats.rackTimeouts++;
      this.rackLossCheck(now, 0, false);
    }
    if (this.ackDelayAt !== undefined && now >= this.ackDelayAt) this.ackDue = true; // delayed ACK timer
    const ka = this.keepAlive ? this.keepAliveAt() : undefined;
    if (ka !== undefined && now >= ka) {
      if (this.keepProbes >= this.keepProbeLimit()) {
        // The peer never answered: reset and report ETIMEDOUT (Linux tcp_keepalive_timer).
        this.emit(ctx, TcpFlag.RST, this.sndMax, EMPTY, true);
        this.timedOut();
        return true;
      }
      // A probe one byte before SND.UNA: out of the peer's window, so it must answer with an ACK.
      if (this.emit(ctx, 0, seqAdd(this.sndUna, -1), EMPTY, false) === 'pending') return false;
      this.keepProbes++;
      this.mib.tcpExt.TCPKeepAlive++;
      return true;
    }
    let sent = false;
    if (this.stateNow === 'SYN_SENT' || this.stateNow === 'SYN_RECEIVED') {
      if (this.sndNxt === this.iss) {
        const r = this.emitSyn(ctx);
        if (r === 'pending') return false;
        this.setNxt(seqAdd(this.iss, 1));
        this.stallSince ??= now;
        this.stampRetransmit(seqAdd(this.iss, 1), now); // tcp_connect's retrans_stamp: the first SYN
        if (this.retries === 0 && !this.rttSample) this.rttSample = { seq: this.iss, at: now };
        this.rtoAt ??= now + this.rto;
        this.ackDue = false;
        return true;
      }
      if (this.stateNow === 'SYN_SENT') return false;
    }
    const maxBefore = this.sndMax;
    if (this.tlpAt !== undefined && now >= this.tlpAt) {
      this.tlpAt = undefined;
      if (this.sendOpen && this.sendLossProbe(ctx)) sent = true;
    }
    if (this.sendOpen) {
      const mss = this.sendMssNow;
      const tx = this.buffers.tx;
      // Bytes queued from SND.NXT on, worked out again whenever a segment left (sequence numbers
      // are doubles, and each read of one costs an allocation in unoptimized code).
      let unsent: number;
      this.deliveredThisRound = 0;
      if (this.sackRecovery) {
        if (this.sendRecovery(ctx)) sent = true;
        if (now < this.holdUntil) return sent;
        unsent = tx.length - ((this.sndNxt - this.txBase) | 0);
      } else {
        if (this.retransmitHeadDue) {
          this.retransmitHeadDue = false;
          if (this.retransmitHead(ctx)) sent = true;
          else if (now < this.holdUntil) this.retransmitHeadDue = true; // try again after the neighbor answers
        }
        if (this.mtuLossDue && this.resendMtuLost(ctx, mss)) sent = true;
        if (this.frtoNewDue && this.sendFrtoProbe(ctx, mss)) sent = true;
        // Most dispatches find no byte unsent (SND.NXT at the end of the ring), which needs no
        // look at the windows.
        unsent = tx.length - ((this.sndNxt - this.txBase) | 0);
        while (unsent > 0) {
          const r = this.sendNewSegment(ctx, mss, true);
          if (r === 'pending') return sent;
          if (r === 'none') break;
          sent = true;
          unsent = tx.length - ((this.sndNxt - this.txBase) | 0);
        }
      }
      if (this.pushOnce && unsent <= 0) this.pushOnce = false;
      // (A FIN goes only with nothing unsent, and leaves nothing unsent: `unsent` stays right.)
      if (this.finQueued && this.finDue()) {
        if (this.emit(ctx, TcpFlag.FIN, this.sndNxt, EMPTY, false) === 'pending') return sent;
        this.setNxt(seqAdd(this.sndNxt, 1));
        this.rtoAt ??= now + this.rto;
        sent = true;
      }
      // A window that takes no segment (zero, or too small for the next) with data waiting and
      // nothing in flight: the persist timer.
      let waiting = unsent > 0;
      if (this.windowProbeDue && waiting && this.sndNxt === this.sndUna && this.sndWnd > 0) {
        // tcp_write_wakeup: a window too small for the next segment is probed with as much
        // data as it takes; once that is in flight, the RTO runs as for any data
        // (tcp_send_probe0 drops the probe backoff).
        const r = this.sendNewSegment(ctx, mss, false, true);
        if (r === 'pending') return sent;
        if (r === 'sent') {
          sent = true;
          this.probesOut = 0;
          this.probeBackoff = 0;
          this.rtoAt = now + this.rto;
          waiting = tx.length - ((this.sndNxt - this.txBase) | 0) > 0;
        }
      }
      if (this.windowProbeDue && waiting && this.sndNxt === this.sndUna) {
        // Linux's zero-window probe carries no new data: a segment one byte before SND.UNA, out
        // of the peer's window, so that it answers with an ACK that shows its window. (A probe
        // byte the peer took would free one byte of our send buffer, and a writer would see
        // a stream of one-byte sends that Linux never gives.)
        if (this.emit(ctx, 0, seqAdd(this.sndUna, -1), EMPTY, false) === 'pending') return sent;
        this.mib.tcpExt.TCPWinProbe++;
        sent = true;
      }
      this.windowProbeDue = false;
      if (waiting && this.sndNxt === this.sndUna && this.rtoAt === undefined) this.rtoAt = now + this.rto;
    }
    if (this.sndMax !== maxBefore) this.armTlp(now); // new data: the probe timeout starts again
    let ackOnly = !sent && this.ackDue;
    if (!sent && !ackOnly && this.connected && !this.remoteFin) {
      // (The first test of windowUpdateDue written out, as in pollAt.)
      const advertised = (this.lastAckSent + this.lastAdvertised - this.rcvNxt) | 0;
      ackOnly = 2 * advertised <= this.buffers.rx.capacity && this.windowUpdateDue();
    }
    if (ackOnly) {
      // SEG.SEQ of a bare ACK is the highest sequence number sent: after a timeout rewinds SND.NXT,
      // a lower one would fall below the peer's RCV.NXT and be dropped as unacceptable.
      if (this.emit(ctx, 0, this.sndMax, EMPTY, true) === 'pending') return false;
      sent = true;
    }
    if (sent) this.ackDue = false;
    return sent;
  }

  /**
   * Sends one new segment from SND.NXT if the windows (and Nagle, TCP_CORK) allow: 'none' when
   * nothing may go, 'pending' when the next hop is not resolved yet.
   */
  private sendNewSegment(
    ctx: DispatchContext,
    mss: number,
    useCwnd: boolean,
    probe = false,
  ): 'sent' | 'none' | 'pending' {
    const now = ctx.now;
    const count = this.sendable(useCwnd);
    const n = count < mss ? count : mss;
    if (n <= 0) return 'none';
    const offset = (this.sndNxt - this.txBase) | 0; // unsentOffset()
    const queued = this.buffers.tx.length;
    // Full segments never wait (the first test of sendHolds).
    if (queued - offset < mss && this.sendHolds(offset, mss, now)) return 'none';
    // A window probe (tcp_write_wakeup) sends what the window takes, and so does a resend after
    // a timeout (Linux's tcp_retransmit_skb trims a segment to the window, where only new data
    // waits for a segment to fit whole): a probe that was lost must go again.
    const resend = ((this.sndMax - this.sndNxt) | 0) > 0;
    if (!probe && !resend && !this.fitsWindow(offset, mss)) return 'none';
    // The payload: a view of the ring when the bytes do not wrap (the interface copies it into
    // a frame at once, or keeps the view for a segment that stays on the host, which the ring
    // allows: nothing writes over sent bytes before the poll ends), else a copy in the shared
    // scratch buffer, which the next segment overwrites.
    const tx = this.buffers.tx;
    const span = tx.readableSpan(offset);
    const held = span.length >= n;
    let payload: Uint8Array;
    if (held) payload = span.length === n ? span : span.subarray(0, n);
    else tx.read(offset, (payload = SCRATCH.subarray(0, n)));
    const last = offset + n === queued;
    // PSH marks the end of what the application wrote, not with MSG_MORE (tcp_push's
    // tcp_mark_push): the peer's read of a pushed segment sends its ACK (see measureRcvMss).
    let flags = (last && !this.moreHeld) || probe ? TcpFlag.PSH : 0;
    const withFin = last && this.finQueued;
    if (withFin) flags |= TcpFlag.FIN;
    if (this.sndUna === this.sndMax) this.stallSince = now;
    if (this.emit(ctx, flags, this.sndNxt, payload, false, held) === 'pending') return 'pending';
    this.noteSent(this.sndNxt, n, now, resend, mss);
    if (this.sndNxt === this.sndUna) this.headSentAt = now;
    if (!this.rttSample && this.retries === 0) this.rttSample = { seq: this.sndNxt, at: now };
    if (resend) {
      this.stampRetransmit((this.sndNxt + n + (withFin ? 1 : 0)) >>> 0, now);
      this.tsRtxFloor = this.tsNow(now);
      this.stats.retransmits++;
      this.stats.bytesRetransmitted += n;
      this.mib.tcpExt.TCPSlowStartRetrans++;
    }
    // setNxt, written out.
    const nxt = (this.sndNxt + n + (withFin ? 1 : 0)) >>> 0;
    this.sndNxt = nxt;
    if (((nxt - this.sndMax) | 0) > 0) this.sndMax = nxt;
    if (n < mss) this.smallSentEnd = nxt;
    this.corkedSince = undefined;
    this.probeDue = false;
    this.rtoAt ??= now + this.rto;
    return 'sent';
  }

  private onRetransmitTimeout(now: number): void {
    const inFlight = this.sndMax !== this.sndUna;
    const request = this.stateNow === 'SYN_RECEIVED' && this.parent !== undefined;
    const persist = !inFlight || (this.sndWnd === 0 && this.connected);
    // TCP_USER_TIMEOUT: a zero window probed (tcp_probe_timer) or a request's SYN-ACK unanswered
    // for that long fails it, whatever the count; retransmissions time out in writeTimedOut.
    if (
      (persist || request) &&
      this.userTimeout > 0 &&
      this.stallSince !== undefined &&
      now - this.stallSince >= this.userTimeout
    ) {
      if (request) this.toClosed();
      else this.timedOut();
      return;
    }
    if (persist) {
      // Persist timer: probe the zero window (dispatch sends the probe); probes answered by ACKs
      // never time out.
      this.stallSince ??= now;
      this.probeDue = true;
      this.windowProbeDue = true;
      this.stats.windowProbes++;
      this.rttSample = undefined; // a probe's ACK may wait for the window: never time it
      this.sndNxt = this.sndUna;
      // tcp_send_probe0: the probe counts in icsk_probes_out and backs off icsk_backoff (up to
      // tcp_retries2); the next probe waits tcp_probe0_when, the RTO doubled per backoff, while
      // the RTO itself (/proc's rto column, tcpi_rto) stays.
      this.probesOut++;
      if (this.probeBackoff < this.retries2) this.probeBackoff++;
      this.rtoAt = now + Math.min(Math.max(this.rto, this.cfg.rtoMin) * 2 ** this.probeBackoff, this.rtoMax);
      return;
    }
    // A listener's request: TCP_SYNCNT, else tcp_synack_retries, fewer while the request queue
    // is crowded with old requests (reqsk_timer_handler); worked out before this one ages.
    const handshake = request
      ? this.parent!.synAckRetryLimit(this.synRetries)
      : this.stateNow === 'SYN_SENT'
        ? this.synRetryLimit + this.synLinearTimeouts
        : this.stateNow === 'SYN_RECEIVED'
          ? this.synRetryLimit
          : -1;
    const limit =
      handshake >= 0 ? (this.deferredAck ? Math.max(handshake, this.deferAccept) : handshake) : this.retries2;
    if (
      request ? this.retries >= limit : this.writeTimedOut(now, limit, handshake >= 0, this.synRetryLimit)
    ) {
      if (request) this.toClosed();
      else this.timedOut();
      return;
    }
    this.retries++;
    // The retransmission about to go from SND.UNA (Linux sends it here, before the clamp below).
    this.stampRetransmit(seqAdd(this.sndUna, 1), now);
    // RFC 5681 §3.1: after a timeout, one segment at a time and half the flight as threshold.
    this.stats.timeouts++;
    this.mib.tcpExt.TCPTimeouts++;
    if (this.connected) {
      const mss = this.sendMssNow;
      if (this.retries === 1) {
        // Linux tcp_enter_loss: a timeout during recovery continues that episode's undo state.
        if (!(this.inRecovery || this.sackRecovery) || this.undoMarker === undefined) this.startUndo();
        this.cc.onTimeout(this.flightSize(), mss, now);
      }
      // F-RTO applies unless the timeout cut a fast recovery short (Linux tcp_enter_loss).
      const probe =
        this.tlpRetrans && this.tlpHighSeq !== undefined ? [[this.tlpStart, this.tlpHighSeq] as const] : [];
      this.lossEpisode.onTimeout(
        this.sndMax,
        this.frtoEnabled() && (!(this.inRecovery || this.sackRecovery) || this.retries > 1),
        this.scoreboard.held(),
        this.undoMarker === undefined ? probe : [...this.undoRanges, ...probe],
      );
      this.frtoNewDue = false;
      this.mtuLossDue = false; // all of the flight goes again now
      this.cc.cwnd = mss;
      this.inRecovery = false;
      this.sackRecovery = false;
      this.scoreboard.clear(); // RFC 2018 §8: the peer may have reneged
      this.rack.onTimeout();
      this.rackTimerAt = undefined;
      this.tlpAt = undefined;
      this.tlpHighSeq = undefined;
      this.dupAcks = 0;
      this.retransmitHeadDue = false;
      // RFC 6582 §4 / Linux's high_seq: the highest sequence number sent, even when a repeated
      // timeout finds SND.NXT rewound; no fast recovery starts inside the timeout's episode.
      this.recover = this.sndMax;
    }
    // RFC 6298 §5.4-5.6: back off, retransmit from SND.UNA, restart the timer. Karn: no sample.
    // A thin stream with TCP_THIN_LINEAR_TIMEOUTS keeps its RTO for the first 6 timeouts
    // (Linux tcp_retransmit_timer, TCP_THIN_LINEAR_RETRIES), a connect for its first
    // tcp_syn_linear_timeouts (tp->total_rto).
    const thin =
      this.thinLinearTimeouts &&
      this.stateNow === 'ESTABLISHED' &&
      this.retries <= 6 &&
      this.flightSize() < 4 * this.sendMssNow;
    if (thin) {
      this.rto = Math.min(Math.max(this.computedRto(), this.rtoMin), this.rtoMax);
      this.rtoBackoff = 0;
    } else if (this.stateNow !== 'SYN_SENT' || this.stats.timeouts > this.synLinearTimeouts) {
      this.rto = Math.min(this.rto * 2, this.rtoMax);
      this.rtoBackoff++;
    }
    this.rttSample = undefined;
    if (this.stateNow === 'SYN_SENT' || this.stateNow === 'SYN_RECEIVED') {
      // A deferred accept's SYN-ACK goes again only for its last round (syn_ack_recalc).
      if (!(this.deferredAck && this.retries < this.deferAccept)) this.sndNxt = this.iss;
    } else {
      this.sndNxt = this.sndUna;
    }
    this.rtoAt = now + this.rto;
    // Linux tcp_clamp_rto_to_user_timeout: wake up when the user timeout expires, not later.
    const since = request ? this.stallSince : this.retransStamp;
    if (this.userTimeout > 0 && since !== undefined)
      this.rtoAt = Math.min(this.rtoAt, since + this.userTimeout);
  }

  /**
   * tcp_write_timeout: whether the retransmission timer gives up instead of sending again. A
   * handshake gives up after `limit` retransmissions of its SYN (`handshake`); any connection
   * once the time since {@link retransStamp} reaches TCP_USER_TIMEOUT, or else what `limit`
   * retransmissions (`synRetries` in the handshake, without the linear ones) would take with
   * the RTO doubling from TCP_RTO_MIN (the initial RTO in the handshake) up to the RTO's
   * maximum (retransmits_timed_out, tcp_model_timeout). The time
   * counts, not the number: a connection whose RTO is above TCP_RTO_MIN retransmits fewer
   * times, one whose RTO stays low (TCP_THIN_LINEAR_TIMEOUTS, RFC 6069's revert) more. An
   * orphan is held to tcp_orphan_retries instead, 0 meaning 8 while the RTO is below its
   * maximum, and none left once it is there after an ICMP error (tcp_orphan_retries).
   */
  private writeTimedOut(now: number, limit: number, handshake: boolean, synRetries: number): boolean {
    if (handshake && this.retries >= limit) return true;
    if (this.retries === 0 || this.retransStamp === undefined) return false;
    let timeout = this.userTimeout;
    if (timeout === 0) {
      const boundary = handshake ? synRetries : this.released ? this.orphanRetries() : limit;
      timeout = modelTimeout(boundary, handshake ? this.cfg.rtoInitial : this.cfg.rtoMin, this.rtoMax);
    }
    return now - this.retransStamp >= timeout;
  }

  /** Linux's tcp_orphan_retries: the retransmissions an orphan's data may take. */
  private orphanRetries(): number {
    const alive = this.rto < this.rtoMax;
    const retries = !alive && this.softError !== undefined ? 0 : (this.env.sysctl?.orphanRetries ?? 0);
    return retries === 0 && alive ? 8 : retries;
  }

  /**
   * Hands a segment to the interface and counts it once it left; a 'pending' neighbor holds
   * this socket back for a while. `held`: see {@link emit}.
   */
  private transmitSegment(
    ctx: DispatchContext,
    tcp: TcpRepr,
    held = false,
  ): 'sent' | 'pending' | 'unroutable' {
    this.quietIn = undefined; // a dispatch that tries to send is asked again (see dispatch)
    let hops = this.hopLimit;
    let trafficClass = this.trafficClass;
    // A request's SYN-ACK leaves by its listener, with the IP_TTL and IP_TOS the listener has
    // when it leaves (tcp_v4_send_synack, tcp_v6_send_synack). Those the connection took when
    // the SYN came are the listener's for the first SYN-ACK, sent in the same poll; a
    // retransmission (its end not past SND.MAX) asks again.
    const request = this.stateNow === 'SYN_RECEIVED' && this.parent !== undefined;
    if (request && tcp.flags & TcpFlag.SYN) {
      if (((tcp.seqNumber + 1 - this.sndMax) | 0) <= 0) {
        const listener = this.parent!.ipOptionsNow(this.family);
        if (listener !== undefined) {
          hops = listener.hopLimit;
          trafficClass = listener.trafficClass;
        }
      }
      trafficClass = this.synAckTrafficClass(trafficClass);
    } else if (request) {
      hops = -1;
      trafficClass = this.requestAckTos;
    }
    // A blackholed segment leaves, to where nothing answers.
    const r = this.blackhole
      ? 'sent'
      : ctx.emit({
          kind: 'tcp',
          src: this.local!.addr,
          dst: this.remote!.addr,
          hopLimit:
            (this.stateNow === 'TIME_WAIT' && !this.takeOwnFinAck()) || hops < 0
              ? this.hopsConf.hopLimit
              : hops,
          trafficClass,
          tcp,
          payloadHeld: held,
        });
    if (r === 'pending') {
      this.holdUntil = ctx.now + NEIGHBOR_RETRY;
      return r;
    }
    if (r !== 'sent') return r;
    // __tcp_transmit_skb's counting: a segment that resends sequence space already sent (SND.MAX)
    // is a retransmission (RetransSegs; a SYN also TCPSynRetrans), anything else, pure ACKs and
    // probes included, counts in OutSegs.
    const m = this.mib.tcp;
    const f = tcp.flags;
    if (f & TcpFlag.RST) m.OutRsts++;
    const len = tcp.payload.length + (f & TcpFlag.SYN ? 1 : 0) + (f & TcpFlag.FIN ? 1 : 0);
    // Its end not past SND.MAX: !seqLt(SND.MAX, SEG.SEQ + len), written out.
    if (len > 0 && ((tcp.seqNumber + len - this.sndMax) | 0) <= 0) {
      m.RetransSegs++;
      if (f & TcpFlag.SYN) this.mib.tcpExt.TCPSynRetrans++;
    } else {
      m.OutSegs++;
      // tcp_event_new_data_sent: new data or a FIN (a SYN goes out by tcp_connect, uncounted).
      if (len > 0 && !(f & TcpFlag.SYN)) {
        this.mib.tcpExt.TCPOrigDataSent++;
        this.undelivered++;
      }
    }
    return r;
  }

  private emitSyn(ctx: DispatchContext): 'sent' | 'pending' | 'unroutable' {
    return this.transmitSegment(ctx, this.synRepr(this.tsNow(ctx.now)));
  }

  /** Our SYN, or SYN-ACK in SYN_RECEIVED, with the TSval `tsVal`. */
  private synRepr(tsVal: number): TcpRepr {
    const passive = this.stateNow === 'SYN_RECEIVED';
    const offerWs = !passive || this.peerWs !== undefined;
    const tcp: TcpRepr = {
      srcPort: this.local!.port,
      dstPort: this.remote!.port,
      seqNumber: this.iss,
      ackNumber: passive ? this.rcvNxt : undefined,
      flags: TcpFlag.SYN,
      windowLen: this.windowField(true),
      maxSegSize: this.ourMssNow,
      windowScale: offerWs ? this.rcvShift : undefined,
      sackPermitted: this.cfg.sack && (!passive || this.sackOk) ? true : undefined,
      timestamp:
        this.cfg.timestamps && (!passive || this.tsOk)
          ? new SentTimestamp(tsVal, passive ? this.tsRecent : 0)
          : undefined,
      payload: EMPTY,
    };
    return tcp;
  }

  /**
   * Sends a segment carrying our ACK, window and timestamp (a RST: neither ACK nor window).
   * `held`: the payload is a view of the send ring, which nothing changes before the poll ends
   * (see Outgoing.payloadHeld).
   */
  private emit(
    ctx: DispatchContext,
    flags: number,
    seq: number,
    payload: Uint8Array,
    pureAck: boolean,
    held = false,
  ): 'sent' | 'pending' | 'unroutable' {
    const rst = (flags & TcpFlag.RST) !== 0;
    const now = ctx.now; // (read once: a double, whose every read allocates in unoptimized code)
    const urgentPointer = this.sndUrg ? this.urgentPointerAt(seq) : undefined;
    if (urgentPointer !== undefined) flags |= TcpFlag.URG;
    const ackNumber = rst && !this.connected && this.stateNow !== 'SYN_RECEIVED' ? undefined : this.rcvNxt;
    const tcp: TcpRepr = {
      srcPort: this.local!.port,
      dstPort: this.remote!.port,
      seqNumber: seq,
      ackNumber,
      flags,
      windowLen: rst ? 0 : this.windowField(false),
      // (sackBlocks() has none without a D-SACK or out-of-order data: no call then)
      sackBlocks:
        pureAck && (this.dsack !== undefined || (this.sackOk && this.assembler.size > 0))
          ? this.sackBlocks()
          : undefined,
      // tsNow(now), written out (every segment)
      timestamp:
        this.tsOk && !rst
          ? new SentTimestamp(
              (tcpClockMs(now, this.cfg.monotonicOffset) + this.tsOffset) >>> 0,
              this.tsRecent,
            )
          : undefined,
      urgentPointer,
      payload,
    };
    const r = this.transmitSegment(ctx, tcp, held);
    if (r === 'pending') return r;
    this.stats.segmentsSent++;
    if (payload.length > 0) {
      this.stats.dataSegmentsSent++;
      this.stats.bytesSent += payload.length;
      this.lastDataSent = now;
      // tcp_event_data_sent: data sent within the delayed-ACK timeout of the last data received
      // is a reply, and enters ping-pong mode (its ACKs ride on the replies).
      if (this.receivedAnyData && now - this.lastDataRecv < this.cfg.delayedAck) this.pingpong = true;
    }
    if (ackNumber !== undefined) {
      if (this.ackDelayAt !== undefined && now >= this.ackDelayAt && pureAck) {
        this.stats.delayedAcks++;
        this.mib.tcpExt.DelayedACKs++;
        this.pingpong = false; // tcp_delack_timer_handler: the reply did not come in time
      }
      // ackSent(), written out (every segment carries our ACK)
      this.ackNow = false;
      this.ackDelayAt = undefined;
      this.bytesUnacked = 0;
      this.pushed = 0;
      this.lastAckSent = this.rcvNxt;
    }
    return r;
  }
}

/**
 * A listening TCP socket, with Linux's two queues: the request queue of connections still in
 * SYN_RECEIVED (Linux's request socks) and the accept queue of established ones not yet
 * accepted. A SYN that finds more than `backlog` requests is answered with a SYN cookie
 * (net.ipv4.tcp_syncookies 1, or always with 2) or dropped (0); a SYN, or the ACK completing a
 * handshake, that finds more than `backlog` connections waiting for accept is dropped (or with
 * tcp_abort_on_overflow the handshake is reset). See tcp_conn_request, tcp_check_req and
 * cookie_v4_check.
 */
export class TcpListener {
  local: IpEndpoint | undefined;
  /** SO_REUSEADDR. */
  reuseAddr = false;
  /** SO_REUSEPORT (see {@link PortBinding.reusePort}). */
  reusePort = false;
  /** The SO_REUSEPORT group this listener is in, or whose program it attached before listening. */
  reuseportGroup: ReuseportGroup<TcpListener> | undefined;
  /**
   * IPV6_V6ONLY (AF_INET6 only): off, a listener on `::` also takes IPv4 connections, which are
   * IPv4 connections underneath (their owner shows the addresses as ::ffff:a.b.c.d).
   */
  v6only = true;
  /** The socket-layer object this socket serves (an InetSocket), for /proc/net; undefined once closed. */
  owner: object | undefined;
  /** SO_BINDTODEVICE's ifindex (0: none): only connections arriving on that link; children inherit it. */
  boundDevIf = 0;
  backlog = 0;
  /**
   * Connections that completed their handshake here so far (each one a sk_data_ready call of the
   * listener in Linux), so that signal-driven I/O sees those queued behind an unaccepted one.
   */
  arrivals = 0;
  /**
   * Called with each new connection before it answers the SYN: the socket layer gives it the
   * listener's options that shape the handshake (TCP_MAXSEG, TCP_SYNCNT, TCP_DEFER_ACCEPT,
   * TCP_WINDOW_CLAMP...), as Linux's child socket starts as a copy of its listener.
   */
  prepareChild: ((child: TcpSocket) => void) | undefined;
  /** SO_ATTACH_FILTER's program and lock (shared with the InetSocket that owns this listener). */
  filter: SocketFilter | undefined;
  private listening = false;
  private closed = false;
  /** Aborted by {@link destroy}: shut down both ways (tcp_done) until it listens again. */
  private aborted = false;
  /** The error of an abort, reported once by SO_ERROR (Linux's sk_err). */
  private pendingError: LinuxError | undefined;
  /**
   * bind(2) named the port (SOCK_BINDPORT_LOCK; the socket layer sets it from the socket that
   * listens): an aborted listener keeps the port bound, as tcp_set_state(TCP_CLOSE) releases only
   * an automatically picked one.
   */
  bindPortLock = false;
  /**
   * An abort gave the automatically picked port back (inet_put_port): getsockname still shows
   * it (inet_sport stays), but nothing holds it, and a new listen(2) picks another.
   */
  private portReleased = false;
  private readonly queue: TcpSocket[] = [];
  /**
   * When this listener last sent a SYN cookie (Linux's tcp_synq_overflow, updated at most once
   * a second); ACKs are checked as cookies for {@link SYNCOOKIE_VALID} after it.
   */
  private lastOverflow: number | undefined;
  /**
   * @internal The TTL or hop limit of the segment {@link process} last answered with, which the
   * stack sends it with: a cookie's SYN-ACK leaves by the listener, with its IP_TTL or
   * IPV6_UNICAST_HOPS (tcp_v4_send_synack's ip_build_and_send_pkt, tcp_v6_send_synack's
   * ip6_xmit), the first answer of a cookie's connection by that connection; -1 for a RST (the
   * control socket's) or when unset: the sysctl's.
   */
  replyHops = -1;
  /** @internal The TOS or traffic class of that segment (see {@link replyHops}); 0 for a RST. */
  replyTrafficClass = 0;
  /**
   * @internal Set by the socket layer that listens: its IP_TTL or IPV6_UNICAST_HOPS (-1: unset)
   * and IP_TOS or IPV6_TCLASS as they are now, for a connection of `family` (see
   * {@link ipOptionsNow}).
   */
  ipOptionsOf: ((family: 4 | 6) => { readonly hopLimit: number; readonly trafficClass: number }) | undefined;

  /** @internal created by the stack. */
  constructor(
    readonly family: 4 | 6,
    private readonly makeBuffers: () => TcpBuffers,
    private readonly env: SocketEnv,
    private readonly ports: PortSpace<TcpSocket | TcpListener | TcpTimeWait>,
    private readonly adopt: (child: TcpSocket) => void,
    private readonly config: Partial<TcpConfig>,
  ) {}

  /** Implements bind(2) (EINVAL when bound, EADDRINUSE, EADDRNOTAVAIL). */
  bind(ep: IpEndpoint): undefined | LinuxError {
    if (this.local) return E.EINVAL;
    if (ep.addr.version !== this.family) return E.EINVAL;
    if (!ep.addr.isUnspecified() && !this.nonLocalBind && !this.env.isLocalAddress(ep.addr))
      return E.EADDRNOTAVAIL;
    const port = this.ports.claim(this, ep.addr, ep.port, this.reuseAddr, 'inet_csk');
    if (typeof port !== 'number') return port;
    this.local = { addr: ep.addr, port };
    return undefined;
  }

  /** IP_FREEBIND / IP_TRANSPARENT of the socket that listens. */
  nonLocalBind = false;
  /** IP_MINTTL and IPV6_MINHOPCOUNT (see TcpSocket.minTtl); connections made here inherit them. */
  minTtl = 0;
  minHopCount = 0;
  /** IP_LOCAL_PORT_RANGE (see {@link PortBinding.localPortRange}). */
  localPortRange = 0;

  /** True while listening (for the port space's conflict rule). */
  get isListening(): boolean {
    return this.listening;
  }

  /**
   * Connections waiting for accept: the accept queue, what /proc/net/tcp shows as a listener's
   * rx_queue (Linux's sk_ack_backlog). Handshakes still in progress are not counted.
   */
  get pendingCount(): number {
    return this.readyCount();
  }

  /** Handshakes in progress: the request queue (Linux's inet_csk_reqsk_queue_len). */
  get requestCount(): number {
    return this.queue.length - this.readyCount();
  }

  /**
   * @internal The accept queue is full: more established connections wait than the backlog
   * (Linux's sk_acceptq_is_full, so backlog + 1 fit). A SYN is then dropped, and so is the ACK
   * that would complete a handshake (the peer sends it again).
   */
  get acceptQueueFull(): boolean {
    return this.readyCount() > this.backlog;
  }

  /**
   * @internal SYN-ACK retransmissions a request of this listener makes (reqsk_timer_handler):
   * TCP_SYNCNT (`own`) or net.ipv4.tcp_synack_retries; while requests fill more than half of
   * max(8, backlog), fewer, so that old requests that nobody answers make room for young ones
   * (those whose SYN-ACK has not timed out yet). Never fewer than 2 by this rule.
   */
  synAckRetryLimit(own: number | undefined): number {
    let max = own ?? this.env.sysctl?.synackRetries ?? 5;
    let requests = 0;
    let young = 0;
    for (const s of this.queue)
      if (s.state === 'SYN_RECEIVED') {
        requests++;
        if (s.synAckTimeouts === 0) young++;
      }
    if (requests << 1 > Math.max(8, this.backlog)) {
      young <<= 1;
      while (max > 2 && requests >= young) {
        max--;
        young <<= 1;
      }
    }
    return max;
  }

  /**
   * @internal The IP_TTL or IPV6_UNICAST_HOPS (-1: unset) and IP_TOS or IPV6_TCLASS that the
   * socket that listens has now, for a connection of `family`; undefined when no socket layer
   * hands options down ({@link prepareChild}). Linux reads them on the listener each time a
   * SYN-ACK leaves, a retransmitted one or a SYN cookie's too (tcp_v4_send_synack's
   * ip_build_and_send_pkt, tcp_v6_send_synack's ip6_xmit), and a connection copies them when its
   * handshake completes (inet_csk_clone_lock).
   */
  ipOptionsNow(family: 4 | 6): { readonly hopLimit: number; readonly trafficClass: number } | undefined {
    return this.ipOptionsOf?.(family);
  }

  /** Established connections waiting for accept. */
  private readyCount(): number {
    let ready = 0;
    for (const s of this.queue) if (s.state !== 'SYN_RECEIVED') ready++;
    return ready;
  }

  /** Counts a connection refused for a full queue (TcpExt ListenOverflows and ListenDrops). */
  private overflow(): void {
    const m = this.env.mib;
    if (m) {
      m.tcpExt.ListenOverflows++;
      m.tcpExt.ListenDrops++;
    }
  }

  /** @internal The ACK of a handshake found the accept queue full: it is dropped. */
  ackDropped(): void {
    this.overflow();
  }

  /** An AF_INET6 listener that also takes IPv4 (see {@link PortBinding.dualStack}). */
  get dualStack(): boolean {
    return this.family === 6 && !this.v6only;
  }

  /** Implements listen(2): an unbound socket gets an ephemeral port, as on Linux. */
  listen(backlog: number): undefined | LinuxError {
    this.env.touchOwner?.(this.owner);
    if (this.closed) return E.EBADF;
    if (this.portReleased) {
      this.portReleased = false;
      this.local = undefined;
    }
    if (!this.local) {
      const err = this.bind({ addr: unspecifiedAddress(this.family), port: 0 });
      if (err) return err;
    }
    // Linux clamps to somaxconn (4096) and treats negative as the maximum; 0 stays 0 (one
    // connection may still wait: the queue is full only above the backlog).
    this.backlog = backlog < 0 || backlog > 4096 ? 4096 : backlog;
    this.listening = true;
    this.aborted = false;
    // inet_hash: a listener with SO_REUSEPORT joins the group of its port's listeners.
    if (this.reusePort) joinReuseport<TcpListener>(this, this.listenersOnPort());
    return undefined;
  }

  /** The listeners bound to this one's port: the candidates for its SO_REUSEPORT group. */
  private *listenersOnPort(): Generator<TcpListener> {
    for (const o of this.ports.bound(this.local!.port) ?? [])
      if (o instanceof TcpListener && o.listening) yield o;
  }

  /** Implements accept(2): the oldest established connection, or WOULD_BLOCK. */
  accept(): TcpSocket | LinuxError | WouldBlock {
    this.env.touchOwner?.(this.owner);
    if (!this.listening) return E.EINVAL;
    const i = this.queue.findIndex((s) => s.state !== 'SYN_RECEIVED');
    if (i < 0) return WOULD_BLOCK;
    const s = this.queue.splice(i, 1)[0]!;
    s.parent = undefined;
    return s;
  }

  /**
   * Readiness: POLLIN when a connection is ready to accept. An aborted listener is a closed
   * socket shut down both ways to tcp_poll: POLLIN, POLLOUT, POLLRDHUP and POLLHUP, with
   * POLLERR until its error is read.
   */
  readiness(): number {
    if (this.aborted) {
      const ev =
        PollEvent.POLLIN |
        PollEvent.POLLRDNORM |
        PollEvent.POLLRDHUP |
        PollEvent.POLLOUT |
        PollEvent.POLLWRNORM |
        PollEvent.POLLHUP;
      return this.pendingError ? ev | PollEvent.POLLERR : ev;
    }
    return this.queue.some((s) => s.state !== 'SYN_RECEIVED') ? PollEvent.POLLIN | PollEvent.POLLRDNORM : 0;
  }

  /** SO_ERROR: returns and clears the error of an abort. */
  takeError(): LinuxError | undefined {
    const e = this.pendingError;
    this.pendingError = undefined;
    return e;
  }

  /**
   * Aborts the listener from outside the application (Linux tcp_abort of a TCP_LISTEN socket,
   * behind sock_diag's SOCK_DESTROY): it stops listening (accept(2) answers EINVAL, a blocked one
   * wakes), the connections waiting for accept are reset (inet_csk_listen_stop), `err` is
   * reported once by SO_ERROR, and a port bind(2) did not name is released (getsockname
   * still shows it, as Linux keeps inet_sport). The socket may listen(2) again. Nothing happens unless it is listening.
   */
  destroy(err: LinuxError): void {
    this.env.touchOwner?.(this.owner);
    if (this.closed || !this.listening) return;
    this.listening = false;
    this.aborted = true;
    this.pendingError = err;
    for (const s of this.queue.splice(0)) {
      s.parent = undefined;
      s.abort();
    }
    leaveReuseport<TcpListener>(this); // inet_unhash detaches it from its SO_REUSEPORT group
    if (this.local && !this.bindPortLock) {
      this.ports.remove(this, this.local.port);
      this.portReleased = true;
    }
  }

  /** Closes the listener; connections not yet accepted are reset. */
  close(): void {
    this.env.touchOwner?.(this.owner);
    if (this.local && !this.portReleased) this.ports.remove(this, this.local.port);
    leaveReuseport<TcpListener>(this);
    this.closed = true;
    this.listening = false;
    for (const s of this.queue.splice(0)) {
      s.parent = undefined;
      s.abort();
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** @internal */
  matches(dst: IpAddress, port: number): boolean {
    const l = this.local;
    return (
      this.listening &&
      !!l &&
      l.port === port &&
      (l.addr.version === dst.version
        ? l.addr.isUnspecified() || l.addr.equals(dst)
        : dst.version === 4 && this.dualStack && l.addr.isUnspecified())
    );
  }

  /** @internal a connection left SYN_RECEIVED for CLOSED before being accepted. */
  childClosed(child: TcpSocket): void {
    const i = this.queue.indexOf(child);
    if (i >= 0 && child.state === 'CLOSED') {
      this.queue.splice(i, 1);
      child.close();
    }
  }

  /**
   * @internal a segment for the listening port with no connection (RFC 9293 §3.10.7.2).
   * `twIsn`: the SYN ended a TIME_WAIT connection of its addresses and ports (TCP_TW_SYN), and
   * the new connection's ISN is this one (tcp_tw_isn) unless a cookie answers it. `synTos`: the
   * TOS or traffic class the segment came with (see {@link TcpSocket.synTos}).
   */
  process(
    now: number,
    src: IpAddress,
    dst: IpAddress,
    received: TcpRepr,
    twIsn?: number,
    synTos = 0,
  ): TcpRepr | undefined {
    this.env.touchOwner?.(this.owner);
    this.replyHops = -1;
    this.replyTrafficClass = 0;
    // tcp_filter on what reaches the listener (SYNs, cookie ACKs): a dropped one is lost.
    const f = this.filter;
    const seg = f?.program ? tcpFilterSegment(f, received, src, dst, this.boundDevIf || 1) : received;
    if (!seg) return undefined;
    if (seg.flags & TcpFlag.RST) return undefined;
    if (seg.ackNumber !== undefined) {
      // tcp_v4_cookie_check: an ACK may carry a cookie; otherwise (and when the cookie is bad)
      // it is answered as if no socket existed.
      if (!(seg.flags & TcpFlag.SYN)) {
        const r = this.cookieAck(now, src, dst, seg, synTos);
        if (r !== false) return r;
      }
      return rstFor(seg);
    }
    if (!(seg.flags & TcpFlag.SYN) || seg.flags & TcpFlag.FIN) return undefined;
    const ext = this.env.mib?.tcpExt;
    const syncookies = this.env.sysctl?.syncookies ?? 1;
    const ready = this.readyCount();
    const requests = this.queue.length - ready;
    // tcp_conn_request: a full request queue (inet_csk_reqsk_queue_is_full) calls for a cookie,
    // or drops the SYN without them (tcp_syn_flood_action).
    let wantCookie = false;
    if (syncookies === 2 || requests > this.backlog) {
      if (syncookies === 0) {
        if (ext) {
          ext.TCPReqQFullDrop++;
          ext.ListenDrops++;
        }
        return undefined;
      }
      wantCookie = true;
      if (ext) ext.TCPReqQFullDoCookies++;
    }
    if (ready > this.backlog) {
      // Accept queue full: drop, the peer retries (tcp_conn_request counts both).
      this.overflow();
      return undefined;
    }
    if (wantCookie) return this.cookieSyn(now, src, dst, seg, synTos);
    // Without cookies the last quarter of tcp_max_syn_backlog is kept for peers proven alive
    // (tcp_peer_is_proven, by the TCP metrics cache, which netstack does not keep: none is).
    // A TIME_WAIT's successor is let through (tcp_conn_request checks only when it has no ISN).
    const maxSynBacklog = this.env.sysctl?.maxSynBacklog ?? 128;
    if (twIsn === undefined && syncookies === 0 && maxSynBacklog - requests < maxSynBacklog >> 2) {
      if (ext) ext.ListenDrops++;
      return undefined;
    }
    const fixed =
      twIsn === undefined
        ? undefined
        : { iss: twIsn, tsOffset: this.tsOffsetFor(src, dst, seg), probe: false };
    const child = this.newChild(now, src, dst, seg, synTos, fixed);
    this.queue.push(child);
    this.adopt(child);
    return undefined;
  }

  /**
   * A connection for this listener, set up from `seg` (a SYN, or for a cookie its stand-in) that
   * came with TOS or traffic class `synTos`.
   */
  private newChild(
    now: number,
    src: IpAddress,
    dst: IpAddress,
    seg: TcpRepr,
    synTos: number,
    fixed?: { readonly iss: number; readonly tsOffset: number; readonly probe: boolean },
  ): TcpSocket {
    // An IPv4 connection to a dual-stack listener is an IPv4 connection.
    const child = new TcpSocket(dst.version, this.makeBuffers(), this.env, this.ports, this.config);
    if (!fixed?.probe) child.parent = this;
    child.boundDevIf = this.boundDevIf;
    // sk_clone_lock copies sk_reuseport: the connection (and its TIME_WAIT) shares the port with
    // the group as its listener does, so another member may still bind there.
    child.reusePort = this.reusePort;
    child.minTtl = this.minTtl;
    child.minHopCount = this.minHopCount;
    child.synTos = synTos;
    this.prepareChild?.(child);
    child.acceptSyn(
      now,
      { addr: dst, port: seg.dstPort },
      { addr: src, port: seg.srcPort },
      seg,
      this.reuseAddr,
      fixed,
    );
    return child;
  }

  /** The TSval offset of the connection segment `seg` from `src` to `dst` is of. */
  private tsOffsetFor(src: IpAddress, dst: IpAddress, seg: TcpRepr): number {
    return tsOffsetOf(this.env, { addr: dst, port: seg.dstPort }, { addr: src, port: seg.srcPort });
  }

  /**
   * Answers a SYN with a SYN cookie and keeps nothing (cookie_init_sequence, tcp_make_synack):
   * the SYN-ACK is what a connection would send, with the cookie as ISN. Without the peer's
   * timestamps there is nowhere to keep its window scale and SACK, so the SYN-ACK offers
   * neither (tcp_clear_options).
   */
  private cookieSyn(now: number, src: IpAddress, dst: IpAddress, seg: TcpRepr, synTos: number): TcpRepr {
    const cookies = synCookiesOf(this.env);
    const ts = seg.timestamp !== undefined && this.config.timestamps !== false;
    const syn: TcpRepr = ts
      ? seg
      : { ...seg, windowScale: undefined, sackPermitted: undefined, timestamp: undefined };
    const tsOffset = this.tsOffsetFor(src, dst, seg);
    // A connection never kept: it has the listener's options, so it builds the SYN-ACK.
    const probe = this.newChild(now, src, dst, syn, synTos, { iss: 0, tsOffset, probe: true });
    // The MSS clamp of tcp_parse_options: the peer's option (else the family's default), at
    // most the listener's TCP_MAXSEG.
    const userMss = probe.userMss;
    let mss: number = DEFAULT_MSS[dst.version];
    if (seg.maxSegSize !== undefined && seg.maxSegSize > 0)
      mss = userMss !== 0 && userMss < seg.maxSegSize ? userMss : seg.maxSegSize;
    const made = cookies.make(
      now,
      { src, dst, srcPort: seg.srcPort, dstPort: seg.dstPort },
      seg.seqNumber,
      mss,
    );
    if (this.lastOverflow === undefined || now < this.lastOverflow || now > this.lastOverflow + 1000)
      this.lastOverflow = now;
    const ext = this.env.mib?.tcpExt;
    if (ext) ext.SyncookiesSent++;
    const sack = seg.sackPermitted === true && this.config.sack !== false;
    const tsClock = cookieTimestamp(tcpClockMs(now, this.config.monotonicOffset ?? 0) >>> 0, {
      windowScale: seg.windowScale,
      sack,
      ecn: false,
    });
    // The listener's own (prepareChild): its IP_TTL (-1 when unset) and IP_TOS, the SYN's
    // DSCP with tcp_reflect_tos (tcp_conn_request keeps syn_tos before it picks a cookie).
    this.replyHops = probe.hopLimit;
    this.replyTrafficClass = probe.synAckTrafficClass(probe.trafficClass);
    return probe.cookieSynAck(made.isn, tsClock);
  }

  /**
   * An ACK to the listener while its cookies are recent (tcp_synq_no_recent_overflow): a valid
   * cookie makes the connection (cookie_v4_check, tcp_get_cookie_sock) unless the accept queue
   * is full, when the ACK is dropped; false when the ACK is no cookie's (it gets a RST).
   */
  private cookieAck(
    now: number,
    src: IpAddress,
    dst: IpAddress,
    seg: TcpRepr,
    synTos: number,
  ): TcpRepr | undefined | false {
    if ((this.env.sysctl?.syncookies ?? 1) === 0) return false;
    const last = this.lastOverflow;
    if (last === undefined || now < last || now > last + SYNCOOKIE_VALID) return false;
    const ext = this.env.mib?.tcpExt;
    const cookies = synCookiesOf(this.env);
    const flow = { src, dst, srcPort: seg.srcPort, dstPort: seg.dstPort };
    const seq = (seg.seqNumber - 1) >>> 0;
    const iss = (seg.ackNumber! - 1) >>> 0;
    const mss = cookies.check(now, flow, seq, iss);
    if (mss === 0) {
      if (ext) ext.SyncookiesFailed++;
      return false;
    }
    if (ext) ext.SyncookiesRecv++;
    // cookie_timestamp_decode: the echo of our TSval carries the peer's window scale and SACK.
    const tsOffset = this.tsOffsetFor(src, dst, seg);
    const ts = this.config.timestamps !== false ? seg.timestamp : undefined;
    let windowScale: number | undefined;
    let sack = false;
    if (ts) {
      const options = cookieTimestampOptions(ts.tsEcr !== 0 ? (ts.tsEcr - tsOffset) >>> 0 : 0);
      sack = options.sack;
      if (sack && this.config.sack === false) return false;
      windowScale = options.windowScale;
    }
    if (this.readyCount() > this.backlog) {
      this.overflow(); // tcp_v4_syn_recv_sock's exit_overflow; the ACK is dropped
      return undefined;
    }
    const syn: TcpRepr = {
      srcPort: seg.srcPort,
      dstPort: seg.dstPort,
      seqNumber: seq,
      ackNumber: undefined,
      flags: TcpFlag.SYN,
      windowLen: seg.windowLen,
      maxSegSize: mss,
      windowScale,
      sackPermitted: sack ? true : undefined,
      timestamp: ts ? { tsVal: ts.tsVal, tsEcr: 0 } : undefined,
      payload: EMPTY,
    };
    const child = this.newChild(now, src, dst, syn, synTos, { iss, tsOffset, probe: false });
    child.savedSyn = undefined; // no SYN was kept (cookie_tcp_reqsk_alloc): TCP_SAVED_SYN has none
    child.cookieSynAckSent();
    this.queue.push(child);
    this.adopt(child);
    const reply = child.process(now, seg);
    if (reply !== undefined && (reply.flags & TcpFlag.RST) === 0) {
      this.replyHops = child.hopLimit;
      this.replyTrafficClass = child.trafficClass;
    }
    return reply;
  }
}

/**
 * RFC 2883 §4 as Linux's tcp_check_dsack reads it: the first SACK block of an ACK is a D-SACK
 * when it starts below the cumulative ACK, or lies inside the second block.
 */
function isDsack(blocks: readonly SackBlock[], ack: number): boolean {
  const first = blocks[0];
  if (!first) return false;
  if (seqLt(first[0], ack)) return true;
  const second = blocks[1];
  return second !== undefined && seqLe(second[0], first[0]) && seqLe(first[1], second[1]);
}

/**
 * The window scale a SYN offers for a receive ring of `capacity` bytes: the least that lets the
 * 16-bit window field cover it (at most 14, RFC 7323 §2.3).
 */
function windowShiftFor(capacity: number): number {
  let shift = 0;
  while (capacity >>> shift > 0xffff && shift < 14) shift++;
  return shift;
}

/** The RST answering a segment for which no socket exists (RFC 9293 §3.10.7.1). */
export function rstFor(seg: TcpRepr): TcpRepr | undefined {
  if (seg.flags & TcpFlag.RST) return undefined;
  if (seg.ackNumber !== undefined)
    return {
      srcPort: seg.dstPort,
      dstPort: seg.srcPort,
      seqNumber: seg.ackNumber,
      ackNumber: undefined,
      flags: TcpFlag.RST,
      windowLen: 0,
      payload: EMPTY,
    };
  return {
    srcPort: seg.dstPort,
    dstPort: seg.srcPort,
    seqNumber: 0,
    ackNumber: (seg.seqNumber + tcpSegmentLen(seg)) >>> 0,
    flags: TcpFlag.RST,
    windowLen: 0,
    payload: EMPTY,
  };
}
