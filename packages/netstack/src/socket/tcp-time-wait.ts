/**
 * A TIME_WAIT connection the application has closed, as the stack keeps it: what Linux's
 * tcp_time_wait copies into an inet_timewait_sock, a few hundred bytes, instead of the whole
 * TcpSocket (its rings, recovery and congestion state, timers and options: about 6 KB). A rate
 * of a thousand connections a second keeps 60 000 of these for the 60 s of TIME_WAIT.
 *
 * It answers the segments of its connection as Linux's tcp_timewait_state_process does (see
 * {@link timeWaitVerdict}, which a TcpSocket in TIME_WAIT follows too; a new connection's SYN is
 * let through to the port's listener: see {@link TcpTimeWait.synIsn}), holds the local port
 * (SO_REUSEADDR binds and connect(2)'s sharing and tcp_tw_reuse see it as a holder), is listed
 * in /proc/net/tcp and sock_diag with its timer, and ends with its timer, a RST, SOCK_DESTROY or
 * a connection that takes it over. The TcpSocket it came from, while something still holds it,
 * follows its end (CLOSED) through a weak reference, so it costs nothing once dropped.
 *
 * @module
 */
import type { LinuxError } from '@tsvisor/abi';
import { DOUBLE_ZERO } from '../double-zero.js';
import type { DispatchContext } from '../iface/outgoing.js';
import type { NetMib } from '../stats/mib.js';
import type { IpAddress, IpEndpoint } from '../wire/ip-address.js';
import { TcpFlag, type TcpRepr } from '../wire/tcp.js';
import type { PortBinding } from './socket-set.js';

/**
 * TCP_PAWS_WRAP (ms): TS.Recent this old is no longer trusted for PAWS, as the peer's clock may
 * have wrapped since (RFC 7323 §5.5). Linux 6.7 cut it from RFC 7323's 24 days (TCP_PAWS_24DAYS:
 * 2^31 ticks of a 1 kHz clock) to INT_MAX / USEC_PER_SEC seconds, about 36 minutes (2^31 ticks
 * of the 1 MHz clock of tcp_usec_ts), for every connection whatever its clock.
 */
const PAWS_WRAP = Math.floor(0x7fffffff / 1e6) * 1000;
/** TCP_PAWS_MSL (ms): a RST is let through PAWS once TS.Recent is this old. */
const PAWS_MSL = 60_000;
/** Linux's default net.ipv4.tcp_invalid_ratelimit (ms): the least time between out-of-window ACKs. */
export const OOW_RATELIMIT_MS = 500;
const EMPTY = new Uint8Array(0);

/**
 * tcp_paws_reject: TSval `tsVal` is older than TS.Recent (`tsRecent`, taken at `tsRecentAt`) and
 * TS.Recent is still trusted: not idle for TCP_PAWS_WRAP, not 0 (tcp_paws_check: some peers send
 * 0 in their SYN and real values after), and for a RST not older than TCP_PAWS_MSL (RFC 7323
 * would exempt RSTs; Linux lets them through only once TS.Recent is that old). TSvals unsigned or
 * int32.
 */
export function pawsReject(
  now: number,
  tsVal: number,
  tsRecent: number,
  tsRecentAt: number,
  rst: boolean,
): boolean {
  if (pawsCheck(now, tsVal, tsRecent, tsRecentAt, 0)) return false;
  return !rst || now - tsRecentAt < PAWS_MSL;
}

/**
 * tcp_clock_ms, the clock of our TSvals before a connection's offset, at time `now` of the poll
 * clock: the sandbox's CLOCK_MONOTONIC in ms, which runs `monotonicOffset` ms ahead of the poll
 * clock (see StackConfig.monotonicOffset).
 */
export function tcpClockMs(now: number, monotonicOffset: number): number {
  return Math.floor(now + monotonicOffset);
}

/**
 * The timestamps option of a segment we send. A class whose fields start as doubles
 * (double-zero.ts): TSvals take all 32 bits, below 2^30 on one connection and above on the next
 * (each has a random offset of its own), and an object literal's field whose first value was a
 * small integer would be widened, with every hidden class made after it.
 */
export class SentTimestamp {
  tsVal = DOUBLE_ZERO;
  tsEcr = DOUBLE_ZERO;

  constructor(tsVal: number, tsEcr: number) {
    this.tsVal = tsVal;
    this.tsEcr = tsEcr;
  }
}

/**
 * __tcp_oow_rate_limited's test: an ACK to an out-of-window segment went out less than
 * net.ipv4.tcp_invalid_ratelimit (`limit`, ms) before `now` (at `last`), so this one is skipped.
 */
export function oowLimited(last: number | undefined, now: number, limit: number): boolean {
  return last !== undefined && now - last >= 0 && now - last < limit;
}

/**
 * tcp_paws_check: TSval `tsVal` passes PAWS against TS.Recent (`tsRecent`, taken at `tsRecentAt`)
 * when it is at most `window` ticks older, when TS.Recent has been idle TCP_PAWS_WRAP, or when
 * TS.Recent is 0. TIME_WAIT checks with a window of 0, a connection with TCP_PAWS_WINDOW (1).
 */
export function pawsCheck(
  now: number,
  tsVal: number,
  tsRecent: number,
  tsRecentAt: number,
  window: number,
): boolean {
  return ((tsRecent - tsVal) | 0) <= window || now - tsRecentAt >= PAWS_WRAP || (tsRecent | 0) === 0;
}

/** What a TIME_WAIT connection knows of its sequence numbers and timestamps (unsigned or int32). */
export interface TimeWaitSeqs {
  readonly rcvNxt: number;
  readonly sndNxt: number;
  readonly tsOk: boolean;
  readonly tsRecent: number;
  readonly tsRecentAt: number;
}

// The bits of timeWaitVerdict's answer.
/** Send an ACK (tcp_v4_rcv's TCP_TW_SYN with no listener: TCP_TW_ACK). */
export const TW_ACK = 1;
/** Send an ACK unless one went out less than tcp_invalid_ratelimit ago (TCP_TW_ACK_OOW). */
export const TW_OOW_ACK = 2;
/** Restart the timer: TIME_WAIT lasts its full length from now (inet_twsk_reschedule). */
export const TW_RESTART = 4;
/** The connection ends (an exact RST: TIME_WAIT assassination, with net.ipv4.tcp_rfc1337 0). */
export const TW_KILL = 8;
/** The segment's TSval becomes TS.Recent, from now. */
export const TW_TS_RECENT = 16;
/** PAWS rejected the segment (TcpExt PAWSTimewait). */
export const TW_PAWS = 32;

/**
 * tcp_timewait_state_process in TIME_WAIT proper: what a connection there does with segment
 * `seg` that {@link timeWaitSynIsn} did not hand to a listener, as TW_* bits. Only a segment
 * exactly at RCV.NXT without data, SYN or FIN (an ACK of our FIN again) or an exact RST is in
 * the window: the ACK restarts the timer silently; the RST ends the connection, unless
 * net.ipv4.tcp_rfc1337 (`rfc1337`) is set: then only its TSval is kept (RFC 1337's first remedy,
 * ignoring RSTs in TIME_WAIT, which a RST answering our ACK to an old duplicate would otherwise
 * end before an old segment of the connection has died out). Everything else
 * is out of the window: acknowledged (at most once per tcp_invalid_ratelimit unless it carries
 * data or a FIN without SYN), and the timer restarts for those with ACK or failing PAWS (a SYN without
 * ACK may be a new connection's with a random ISN). A RST out of the window, or failing PAWS, is
 * dropped. Linux sends no challenge ACK and no D-SACK from TIME_WAIT.
 */
export function timeWaitVerdict(now: number, seg: TcpRepr, tw: TimeWaitSeqs, rfc1337: boolean): number {
  const rst = (seg.flags & TcpFlag.RST) !== 0;
  // Linux reads the options of a segment to a TIME_WAIT only when the connection had timestamps.
  const ts = tw.tsOk ? seg.timestamp : undefined;
  const paws = ts !== undefined && pawsReject(now, ts.tsVal, tw.tsRecent, tw.tsRecentAt, rst);
  const bare = seg.payload.length === 0 && (seg.flags & (TcpFlag.SYN | TcpFlag.FIN)) === 0;
  if (!paws && ((seg.seqNumber - tw.rcvNxt) | 0) === 0 && (bare || rst)) {
    if (rst && !rfc1337) return TW_KILL;
    return (rst ? 0 : TW_RESTART) | (ts !== undefined ? TW_TS_RECENT : 0);
  }
  if (timeWaitSynIsn(now, seg, tw) !== undefined) return TW_ACK;
  const r = paws ? TW_PAWS : 0;
  if (rst) return r;
  return r | TW_OOW_ACK | (paws || seg.ackNumber !== undefined ? TW_RESTART : 0);
}

/**
 * tcp_timewait_state_process's TCP_TW_SYN (RFC 1122 §4.2.2.13, RFC 6191): a SYN without ACK or
 * RST to a TIME_WAIT connection that passes PAWS and comes after it (a sequence number after
 * RCV.NXT or, when the connection had timestamps, a TSval newer than TS.Recent) starts a new
 * connection. Returns the ISN of that connection (tcp_tw_isn: past whatever the old one may
 * still have in flight, 0 skipped), else undefined. Sequence numbers and TSvals unsigned or int32.
 */
export function timeWaitSynIsn(now: number, seg: TcpRepr, tw: TimeWaitSeqs): number | undefined {
  if ((seg.flags & (TcpFlag.SYN | TcpFlag.RST)) !== TcpFlag.SYN || seg.ackNumber !== undefined)
    return undefined;
  const ts = tw.tsOk ? seg.timestamp : undefined;
  if (ts !== undefined && pawsReject(now, ts.tsVal, tw.tsRecent, tw.tsRecentAt, false)) return undefined;
  const newer = ts !== undefined && ((tw.tsRecent - ts.tsVal) | 0) < 0;
  if (((seg.seqNumber - tw.rcvNxt) | 0) <= 0 && !newer) return undefined;
  return (tw.sndNxt + 65535 + 2) >>> 0 || 1;
}

/** What a record needs of its stack. */
export interface TimeWaitHome {
  readonly mib: NetMib;
  /**
   * net.ipv4.tcp_rfc1337, read for each segment (see {@link timeWaitVerdict}), and
   * tcp_invalid_ratelimit (ms; absent: 500), read for each out-of-window one.
   */
  readonly sysctl: { readonly rfc1337: number; readonly invalidRatelimit?: number };
  /** The TSval clock less the poll clock (ms; see {@link tcpClockMs}). */
  readonly monotonicOffset: number;
  /**
   * An object equal to address `a` that records share (the stack's own for one of its
   * addresses), or `a`: a record then keeps no copy of its own (the addresses of a segment or
   * a connect call are parsed afresh each time, some 200 bytes of heap each).
   */
  sharedAddress(a: IpAddress): IpAddress;
  /**
   * The TTL or hop limit of the ACKs to `dst`: they leave by the stack's control socket
   * (tcp_v4_send_ack, tcp_v6_send_response), which sets none, so the sysctl's at that moment.
   */
  hopLimitFor(dst: IpAddress): number;
  /** `tw` closed (timer, RST, SOCK_DESTROY, taken over): the stack lets go of it and its port. */
  timeWaitClosed(tw: TcpTimeWait): void;
}

/** The socket a record came from, as far as the record keeps it informed. */
export interface TimeWaitShell {
  readonly stats: { segmentsReceived: number; segmentsSent: number };
  /** Its TIME_WAIT ended: it is CLOSED now. */
  timeWaitOver(): void;
}

/** What {@link TcpTimeWait} copies from the connection (sequence numbers unsigned). */
export interface TimeWaitInit {
  readonly family: 4 | 6;
  readonly local: IpEndpoint;
  readonly remote: IpEndpoint;
  readonly reuseAddr: boolean;
  readonly reusePort: boolean;
  readonly dualStack: boolean;
  readonly boundDevIf: number;
  readonly connectBound: boolean;
  readonly minTtl: number;
  readonly minHopCount: number;
  readonly trafficClass: number;
  readonly blackhole: boolean;
  readonly tsOk: boolean;
  readonly rcvNxt: number;
  readonly sndNxt: number;
  /** The window field our ACKs carry. */
  readonly windowLen: number;
  readonly tsRecent: number;
  readonly tsRecentAt: number;
  readonly tsOffset: number;
  /** When TIME_WAIT ends, and its length when a segment restarts it. */
  readonly end: number;
  readonly length: number;
  readonly lastOowAck: number | undefined;
}

// The bits of TcpTimeWait.flags: a field each would cost 8 bytes of every record.
const REUSE_ADDR = 1;
const REUSE_PORT = 2;
const DUAL_STACK = 4;
const CONNECT_BOUND = 8;
const BLACKHOLE = 16;
const TS_OK = 32;
const ACK_DUE = 64;
const CLOSED = 128;

/** A TIME_WAIT connection with no socket: see the module comment. */
export class TcpTimeWait implements PortBinding {
  readonly family: 4 | 6;
  readonly local: IpEndpoint;
  readonly remote: IpEndpoint;
  readonly boundDevIf: number;
  private flags: number;
  /** IP_MINTTL, IPV6_MINHOPCOUNT and the traffic class, a byte each. */
  private readonly hops: number;
  // Sequence numbers and TSvals are kept as int32 (`| 0`): small integers cost no heap number.
  private readonly rcvNxt: number;
  private readonly sndNxtI32: number;
  private readonly windowLen: number;
  private tsRecentI32: number;
  private tsRecentStamp: number;
  private readonly tsOffset: number;
  private endAt: number;
  private readonly length: number;
  private lastOowAck: number | undefined;
  /** @internal the stack's bookkeeping: slots in its queue by end; the next record of the same ports. */
  queued = 0;
  /** @internal */
  nextSamePorts: TcpTimeWait | undefined;
  private readonly shell: WeakRef<TimeWaitShell>;
  private readonly home: TimeWaitHome;

  /** @internal made by TcpSocket when its stack parks it. */
  constructor(init: TimeWaitInit, shell: TimeWaitShell, home: TimeWaitHome) {
    this.family = init.family;
    this.local = { addr: home.sharedAddress(init.local.addr), port: init.local.port };
    this.remote = { addr: home.sharedAddress(init.remote.addr), port: init.remote.port };
    this.boundDevIf = init.boundDevIf;
    this.flags =
      (init.reuseAddr ? REUSE_ADDR : 0) |
      (init.reusePort ? REUSE_PORT : 0) |
      (init.dualStack ? DUAL_STACK : 0) |
      (init.connectBound ? CONNECT_BOUND : 0) |
      (init.blackhole ? BLACKHOLE : 0) |
      (init.tsOk ? TS_OK : 0);
    this.hops = (init.minTtl & 0xff) | ((init.minHopCount & 0xff) << 8) | ((init.trafficClass & 0xff) << 16);
    this.rcvNxt = init.rcvNxt | 0;
    this.sndNxtI32 = init.sndNxt | 0;
    this.windowLen = init.windowLen;
    this.tsRecentI32 = init.tsRecent | 0;
    this.tsRecentStamp = init.tsRecentAt;
    this.tsOffset = init.tsOffset | 0;
    this.endAt = init.end;
    this.length = init.length;
    this.lastOowAck = init.lastOowAck;
    this.shell = new WeakRef(shell);
    this.home = home;
  }

  /** TIME_WAIT until it ends, then CLOSED. */
  get state(): 'TIME_WAIT' | 'CLOSED' {
    return (this.flags & CLOSED) !== 0 ? 'CLOSED' : 'TIME_WAIT';
  }

  /** SO_REUSEADDR, SO_REUSEPORT and a dual-stack `::` binding, as the socket had them. */
  get reuseAddr(): boolean {
    return (this.flags & REUSE_ADDR) !== 0;
  }
  get reusePort(): boolean {
    return (this.flags & REUSE_PORT) !== 0;
  }
  get dualStack(): boolean {
    return (this.flags & DUAL_STACK) !== 0;
  }

  /** Its port was picked by connect(2): connections to other peers may share it. */
  get connectBound(): boolean {
    return (this.flags & CONNECT_BOUND) !== 0;
  }

  /** The connection has timestamps (RFC 7323). */
  get tsOk(): boolean {
    return (this.flags & TS_OK) !== 0;
  }

  /** An ACK is owed to the peer (see {@link sendAck}). */
  get ackDue(): boolean {
    return (this.flags & ACK_DUE) !== 0;
  }

  /** IP_MINTTL and IPV6_MINHOPCOUNT (see Stack.tcpInput). */
  get minTtl(): number {
    return this.hops & 0xff;
  }
  get minHopCount(): number {
    return (this.hops >>> 8) & 0xff;
  }

  /** When TIME_WAIT ends (the poll clock, ms). */
  get end(): number {
    return this.endAt;
  }

  /** SND.NXT (everything we sent, our FIN included, is acknowledged in TIME_WAIT). */
  get sndNxt(): number {
    return this.sndNxtI32 >>> 0;
  }

  /** The peer's last TSval we keep (TS.Recent), and when it came (the poll clock). */
  get tsRecent(): number {
    return this.tsRecentI32 >>> 0;
  }
  get tsRecentAt(): number {
    return this.tsRecentStamp;
  }

  /** Never a listener: SO_REUSEADDR lets other sockets bind its port (inet_bind_conflict). */
  get isListening(): false {
    return false;
  }

  /** The timer /proc/net/tcp and sock_diag show: 3, the end of TIME_WAIT. */
  get pendingTimer(): { readonly kind: 3; readonly at: number } | undefined {
    return (this.flags & CLOSED) !== 0 ? undefined : { kind: 3, at: this.endAt };
  }

  /** /proc/net/tcp's figures past the timer: a timewait sock has none. */
  get procFigures(): {
    readonly retransmits: 0;
    readonly probes: 0;
    readonly quickAcks: 0;
    readonly pingpong: false;
  } {
    return TIME_WAIT_FIGURES;
  }

  /** @internal this record holds the connection (local, remote) of an incoming segment. */
  matches(dst: IpAddress, dstPort: number, src: IpAddress, srcPort: number): boolean {
    const l = this.local;
    const r = this.remote;
    return (
      (this.flags & CLOSED) === 0 &&
      l.port === dstPort &&
      r.port === srcPort &&
      (l.addr === dst || l.addr.equals(dst)) &&
      (r.addr === src || r.addr.equals(src))
    );
  }

  /**
   * @internal the ISN of the connection SYN `seg` would start in place of this one (see
   * {@link timeWaitSynIsn}); undefined: the SYN is the old connection's, {@link process} answers it.
   */
  synIsn(now: number, seg: TcpRepr): number | undefined {
    if ((seg.flags & TcpFlag.SYN) === 0 || (this.flags & CLOSED) !== 0) return undefined;
    return timeWaitSynIsn(now, seg, this.seqs());
  }

  /**
   * @internal a segment of the connection that no listener took (see {@link synIsn}), answered
   * as {@link timeWaitVerdict} says. See {@link ackDue} and {@link end}.
   */
  process(now: number, seg: TcpRepr): void {
    const shell = this.shell.deref();
    if (shell !== undefined) shell.stats.segmentsReceived++;
    const v = timeWaitVerdict(now, seg, this.seqs(), this.home.sysctl.rfc1337 !== 0);
    if ((v & TW_PAWS) !== 0) this.home.mib.tcpExt.PAWSTimewait++;
    if ((v & TW_KILL) !== 0) return this.close();
    if ((v & TW_TS_RECENT) !== 0) {
      this.tsRecentI32 = seg.timestamp!.tsVal | 0;
      this.tsRecentStamp = now;
    }
    if ((v & TW_RESTART) !== 0) this.endAt = now + this.length;
    if ((v & TW_ACK) !== 0 || ((v & TW_OOW_ACK) !== 0 && !this.oowRateLimited(now, seg)))
      this.flags |= ACK_DUE;
  }

  private seqs(): TimeWaitSeqs {
    return {
      rcvNxt: this.rcvNxt,
      sndNxt: this.sndNxtI32,
      tsOk: (this.flags & TS_OK) !== 0,
      tsRecent: this.tsRecentI32,
      tsRecentAt: this.tsRecentStamp,
    };
  }

  /**
   * tcp_timewait_check_oow_rate_limit: true when the ACK to out-of-window segment `seg` is
   * skipped (TcpExt TCPACKSkippedTimeWait). Data or a FIN without SYN is always answered: it
   * cannot be part of an ACK loop.
   */
  private oowRateLimited(now: number, seg: TcpRepr): boolean {
    const occupies = seg.payload.length > 0 || (seg.flags & TcpFlag.FIN) !== 0;
    if (occupies && (seg.flags & TcpFlag.SYN) === 0) return false;
    if (oowLimited(this.lastOowAck, now, this.home.sysctl.invalidRatelimit ?? OOW_RATELIMIT_MS)) {
      this.home.mib.tcpExt.TCPACKSkippedTimeWait++;
      return true;
    }
    this.lastOowAck = now;
    return false;
  }

  /**
   * @internal sends the ACK {@link process} found due, as tcp_v4_timewait_ack: SND.NXT,
   * RCV.NXT, the window the socket last offered and its timestamps (no SACK blocks). 'pending' when the next hop's address is not known yet: it stays due.
   */
  sendAck(ctx: DispatchContext): 'sent' | 'pending' | 'none' {
    if ((this.flags & (ACK_DUE | CLOSED)) !== ACK_DUE) return 'none';
    const tcp: TcpRepr = {
      srcPort: this.local.port,
      dstPort: this.remote.port,
      seqNumber: this.sndNxtI32 >>> 0,
      ackNumber: this.rcvNxt >>> 0,
      flags: 0,
      windowLen: this.windowLen,
      timestamp:
        (this.flags & TS_OK) !== 0
          ? new SentTimestamp(
              (tcpClockMs(ctx.now, this.home.monotonicOffset) + this.tsOffset) >>> 0,
              this.tsRecentI32 >>> 0,
            )
          : undefined,
      payload: EMPTY,
    };
    // A blackholed segment leaves, to where nothing answers.
    const r =
      (this.flags & BLACKHOLE) !== 0
        ? 'sent'
        : ctx.emit({
            kind: 'tcp',
            src: this.local.addr,
            dst: this.remote.addr,
            hopLimit: this.home.hopLimitFor(this.remote.addr),
            trafficClass: this.hops >>> 16,
            tcp,
            payloadHeld: false,
          });
    if (r === 'pending') return r;
    this.flags &= ~ACK_DUE;
    if (r !== 'sent') return 'none';
    this.home.mib.tcp.OutSegs++;
    const shell = this.shell.deref();
    if (shell !== undefined) shell.stats.segmentsSent++;
    return r;
  }

  /**
   * Ends the connection (SOCK_DESTROY's tcp_abort, as for every TIME_WAIT connection: `err` is
   * nobody's to see).
   */
  destroy(_err: LinuxError): void {
    this.close();
  }

  /** @internal ends TIME_WAIT: the stack forgets the record, the socket (if held) is CLOSED. */
  close(): void {
    if ((this.flags & CLOSED) !== 0) return;
    this.flags = (this.flags | CLOSED) & ~ACK_DUE;
    this.home.timeWaitClosed(this);
    this.shell.deref()?.timeWaitOver();
  }
}

const TIME_WAIT_FIGURES = { retransmits: 0, probes: 0, quickAcks: 0, pingpong: false } as const;
