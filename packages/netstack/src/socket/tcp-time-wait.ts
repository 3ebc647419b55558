/**
 * A TIME_WAIT connection the application has closed, as the stack keeps it: what Linux's
 * tcp_time_wait copies into an inet_timewait_sock, a few hundred bytes, instead of the whole
 * TcpSocket (its rings, recovery and congestion state, timers and options: about 6 KB). A rate
 * of a thousand connections a second keeps 60 000 of these for the 60 s of TIME_WAIT.
 *
 * It answers the segments of its connection as the TcpSocket did in TIME_WAIT (an ACK for a
 * repeated FIN, which restarts the timer; PAWS; RST; challenge ACKs; a new connection's SYN is
 * let through to the port's listener: see {@link TcpTimeWait.synIsn}), holds the local port
 * (SO_REUSEADDR binds and connect(2)'s sharing and tcp_tw_reuse see it as a holder), is listed
 * in /proc/net/tcp and sock_diag with its timer, and ends with its timer, a RST, SOCK_DESTROY or
 * a connection that takes it over. The TcpSocket it came from, while something still holds it,
 * follows its end (CLOSED) through a weak reference, so it costs nothing once dropped.
 *
 * @module
 */
import type { LinuxError } from '@tsvisor/abi';
import type { DispatchContext } from '../iface/outgoing.js';
import type { NetMib } from '../stats/mib.js';
import type { IpAddress, IpEndpoint } from '../wire/ip-address.js';
import { TcpFlag, segmentAcceptable, type SackBlock, type TcpRepr } from '../wire/tcp.js';
import type { PortBinding } from './socket-set.js';

/** RFC 7323 §5.5: TS.Recent older than 24 days is no longer trusted for PAWS. */
const PAWS_IDLE = 24 * 24 * 3600 * 1000;
/** net.ipv4.tcp_invalid_ratelimit (ms): the least time between ACKs to out-of-window segments. */
const OOW_RATELIMIT_MS = 500;
const EMPTY = new Uint8Array(0);

/**
 * tcp_timewait_state_process's TCP_TW_SYN (RFC 1122 §4.2.2.13, RFC 6191): a SYN without ACK or
 * RST to a TIME_WAIT connection that passes PAWS and comes after it (a sequence number after
 * RCV.NXT or, when the connection had timestamps, a TSval newer than TS.Recent) starts a new
 * connection. Returns the ISN of that connection (tcp_tw_isn: past whatever the old one may
 * still have in flight, 0 skipped), else undefined. Sequence numbers and TSvals unsigned or int32.
 */
export function timeWaitSynIsn(
  now: number,
  seg: TcpRepr,
  tw: {
    readonly rcvNxt: number;
    readonly sndNxt: number;
    readonly tsOk: boolean;
    readonly tsRecent: number;
    readonly tsRecentAt: number;
  },
): number | undefined {
  if ((seg.flags & (TcpFlag.SYN | TcpFlag.RST)) !== TcpFlag.SYN || seg.ackNumber !== undefined)
    return undefined;
  // Linux reads the options of a segment to a TIME_WAIT only when the connection had timestamps.
  const ts = tw.tsOk ? seg.timestamp : undefined;
  const tsAge = ts !== undefined ? (tw.tsRecent - ts.tsVal) | 0 : 0;
  if (tsAge > 0 && now - tw.tsRecentAt < PAWS_IDLE) return undefined;
  if (((seg.seqNumber - tw.rcvNxt) | 0) <= 0 && tsAge >= 0) return undefined;
  return (tw.sndNxt + 65535 + 2) >>> 0 || 1;
}

/** What a record needs of its stack. */
export interface TimeWaitHome {
  readonly mib: NetMib;
  /**
   * An object equal to address `a` that records share (the stack's own for one of its
   * addresses), or `a`: a record then keeps no copy of its own (the addresses of a segment or
   * a connect call are parsed afresh each time, some 200 bytes of heap each).
   */
  sharedAddress(a: IpAddress): IpAddress;
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
  readonly hopLimit: number;
  readonly trafficClass: number;
  readonly blackhole: boolean;
  readonly sackOk: boolean;
  readonly tsOk: boolean;
  readonly rcvNxt: number;
  readonly sndNxt: number;
  readonly maxSndWnd: number;
  /** The receive window (bytes) and the window field our ACKs carry. */
  readonly rcvWnd: number;
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
const SACK_OK = 32;
const TS_OK = 64;
const ACK_DUE = 128;
const CLOSED = 256;

/** A TIME_WAIT connection with no socket: see the module comment. */
export class TcpTimeWait implements PortBinding {
  readonly family: 4 | 6;
  readonly local: IpEndpoint;
  readonly remote: IpEndpoint;
  readonly boundDevIf: number;
  private flags: number;
  /** IP_MINTTL, IPV6_MINHOPCOUNT, the hop limit and the traffic class, a byte each. */
  private readonly hops: number;
  // Sequence numbers and TSvals are kept as int32 (`| 0`): small integers cost no heap number.
  private readonly rcvNxt: number;
  private readonly sndNxtI32: number;
  private readonly maxSndWnd: number;
  private readonly rcvWnd: number;
  private readonly windowLen: number;
  private tsRecentI32: number;
  private tsRecentStamp: number;
  private readonly tsOffset: number;
  private endAt: number;
  private readonly length: number;
  private lastOowAck: number | undefined;
  /** A duplicate of received data arrived: the D-SACK block (RFC 2883) of the next ACK. */
  private dsack: SackBlock | undefined;
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
      (init.sackOk ? SACK_OK : 0) |
      (init.tsOk ? TS_OK : 0);
    this.hops =
      (init.minTtl & 0xff) |
      ((init.minHopCount & 0xff) << 8) |
      ((init.hopLimit & 0xff) << 16) |
      ((init.trafficClass & 0xff) << 24);
    this.rcvNxt = init.rcvNxt | 0;
    this.sndNxtI32 = init.sndNxt | 0;
    this.maxSndWnd = init.maxSndWnd;
    this.rcvWnd = init.rcvWnd;
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
    return timeWaitSynIsn(now, seg, {
      rcvNxt: this.rcvNxt,
      sndNxt: this.sndNxtI32,
      tsOk: (this.flags & TS_OK) !== 0,
      tsRecent: this.tsRecentI32,
      tsRecentAt: this.tsRecentStamp,
    });
  }

  /**
   * @internal a segment of the connection, as TcpSocket.process takes one in TIME_WAIT: PAWS
   * and out-of-window segments are acknowledged (the latter at most once per
   * {@link OOW_RATELIMIT_MS} without data or SYN), a repeated FIN also restarts the timer; an
   * exact RST ends the connection, another RST or a SYN (one {@link synIsn} does not let
   * through) draws a challenge ACK (RFC 5961); an ACK of what was never sent, or far older than
   * the window, draws an ACK; new data or a FIN in the window is acknowledged and restarts the
   * timer. See {@link ackDue} and {@link end}.
   */
  process(now: number, seg: TcpRepr): void {
    const shell = this.shell.deref();
    if (shell !== undefined) shell.stats.segmentsReceived++;
    const rst = (seg.flags & TcpFlag.RST) !== 0;
    const syn = (seg.flags & TcpFlag.SYN) !== 0;
    const fin = (seg.flags & TcpFlag.FIN) !== 0;
    const segLen = seg.payload.length + (syn ? 1 : 0) + (fin ? 1 : 0);
    const wnd = this.rcvWnd;
    const ts = seg.timestamp;
    // PAWS (RFC 7323 §5.3 R1): an old duplicate, acknowledged and dropped.
    const tsOk = (this.flags & TS_OK) !== 0;
    if (
      tsOk &&
      ts &&
      !rst &&
      ((this.tsRecentI32 - ts.tsVal) | 0) > 0 &&
      now - this.tsRecentStamp < PAWS_IDLE
    ) {
      this.home.mib.tcpExt.PAWSEstab++;
      this.flags |= ACK_DUE;
      return;
    }
    const off = (seg.seqNumber - this.rcvNxt) | 0;
    const acceptable = segmentAcceptable(off, segLen, wnd);
    if (!acceptable && !(wnd === 0 && off === 0 && !rst)) {
      if (!rst && !this.oowRateLimited(now, segLen, syn)) {
        this.flags |= ACK_DUE;
        if ((this.flags & SACK_OK) !== 0 && seg.payload.length > 0 && off < 0) {
          const seq = seg.seqNumber;
          this.dsack = [seq, (seq + Math.min(seg.payload.length, -off)) >>> 0];
          this.home.mib.tcpExt.TCPDSACKOldSent++; // tcp_dsack_set, below RCV.NXT
        }
      }
      if (fin) this.endAt = now + this.length;
      return;
    }
    // RFC 7323 §4.3: TS.Recent from a segment at or before RCV.NXT (what our last ACK acknowledged).
    if (tsOk && ts && off <= 0 && ((this.tsRecentI32 - ts.tsVal) | 0) <= 0) {
      this.tsRecentI32 = ts.tsVal | 0;
      this.tsRecentStamp = now;
    }
    if (rst) {
      if (off !== 0) this.flags |= ACK_DUE;
      else this.close();
      return;
    }
    if (syn) {
      this.flags |= ACK_DUE;
      return;
    }
    const ack = seg.ackNumber;
    if (ack === undefined) return;
    if (((ack - this.sndNxtI32) | 0) > 0 || ((this.sndNxtI32 - this.maxSndWnd - ack) | 0) > 0) {
      this.flags |= ACK_DUE;
      return;
    }
    if (segLen > 0) {
      this.flags |= ACK_DUE; // retransmitted FIN or data after FIN: acknowledge again
      this.endAt = now + this.length;
    }
  }

  /** tcp_oow_rate_limited: true when this out-of-window segment goes unanswered. */
  private oowRateLimited(now: number, segLen: number, syn: boolean): boolean {
    if (segLen > 0 || syn) return false;
    const last = this.lastOowAck;
    if (last !== undefined && now - last >= 0 && now - last < OOW_RATELIMIT_MS) return true;
    this.lastOowAck = now;
    return false;
  }

  /**
   * @internal sends the ACK {@link process} found due, as the TcpSocket's bare ACK: SND.NXT,
   * RCV.NXT, the window it last offered, its timestamps and a D-SACK block if one is pending.
   * 'pending' when the next hop's address is not known yet: it stays due.
   */
  sendAck(ctx: DispatchContext): 'sent' | 'pending' | 'none' {
    if ((this.flags & (ACK_DUE | CLOSED)) !== ACK_DUE) return 'none';
    const dsack = this.dsack;
    const tcp: TcpRepr = {
      srcPort: this.local.port,
      dstPort: this.remote.port,
      seqNumber: this.sndNxtI32 >>> 0,
      ackNumber: this.rcvNxt >>> 0,
      flags: 0,
      windowLen: this.windowLen,
      sackBlocks: dsack !== undefined ? [dsack] : undefined,
      timestamp:
        (this.flags & TS_OK) !== 0
          ? { tsVal: (Math.floor(ctx.now) + this.tsOffset) >>> 0, tsEcr: this.tsRecentI32 >>> 0 }
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
            hopLimit: (this.hops >>> 16) & 0xff,
            trafficClass: this.hops >>> 24,
            tcp,
            payloadHeld: false,
          });
    if (r === 'pending') return r;
    this.flags &= ~ACK_DUE;
    this.dsack = undefined;
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
