// A listener's request queue, accept queue and SYN cookies, driven segment by segment by a
// hand-made peer on a link pair with an explicit clock (the Linux side of the same rules is
// compared in @tsvisor/runtime's syn-backlog.test.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import type { Device } from '../phy/device.js';
import { linkPair } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { isWireError } from '../wire/error.js';
import { Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import { IpProtocol, Ipv4Packet, Ipv4Repr } from '../wire/ipv4.js';
import { TcpFlag, TcpPacket, TcpRepr } from '../wire/tcp.js';
import { cookieTimestamp, cookieTimestampOptions, MSSTAB_V4, MSSTAB_V6, SynCookies } from './syn-cookie.js';
import type { TcpListener, TcpSocket } from './tcp.js';
import { bufs } from './tcp-transfer.test-util.js';

const US = Ipv4Address.parse('10.0.0.1')!;
const PEER = Ipv4Address.parse('10.0.0.2')!;

/** A stack listening on 10.0.0.1:80 and the device of a peer that speaks raw segments. */
class Bench {
  readonly stack: Stack;
  readonly listener: TcpListener;
  private readonly dev: Device;
  now = 0;

  constructor(backlog: number, sysctl: Partial<Stack['sysctl']> = {}) {
    const [da, db] = linkPair({ medium: 'ip', mtu: 1500 });
    this.stack = new Stack({ device: da, addresses: [cidr('10.0.0.1/24')], seed: 11 });
    Object.assign(this.stack.sysctl, sysctl);
    this.dev = db;
    this.listener = this.stack.tcpListener(4, () => bufs());
    this.listener.bind({ addr: US, port: 80 });
    this.listener.listen(backlog);
  }

  get ext(): Stack['mib']['tcpExt'] {
    return this.stack.mib.tcpExt;
  }

  /** Sends `seg` from the peer (port `port`) and returns what the stack answers at once. */
  send(port: number, seg: Partial<TcpRepr>): TcpRepr[] {
    const full: TcpRepr = {
      srcPort: port,
      dstPort: 80,
      seqNumber: 1000,
      ackNumber: undefined,
      flags: 0,
      windowLen: 0xffff,
      payload: new Uint8Array(0),
      ...seg,
    };
    const len = TcpRepr.bufferLen(full);
    const buf = new Uint8Array(20 + len);
    Ipv4Repr.emit(
      { src: PEER, dst: US, protocol: IpProtocol.TCP, payloadLen: len, ttl: 64 },
      Ipv4Packet.unchecked(buf),
    );
    TcpRepr.emit(full, TcpPacket.unchecked(buf.subarray(20)), PEER, US);
    this.dev.transmit(this.now, buf);
    return this.run(this.now);
  }

  /** A SYN from `port` with Linux's usual options (timestamps unless `ts` is false). */
  syn(port: number, opts: { mss?: number; ws?: number; sack?: boolean; ts?: boolean } = {}): TcpRepr[] {
    return this.send(port, {
      flags: TcpFlag.SYN,
      maxSegSize: opts.mss ?? 1460,
      windowScale: opts.ws ?? 7,
      sackPermitted: opts.sack === false ? undefined : true,
      timestamp: opts.ts === false ? undefined : { tsVal: 777, tsEcr: 0 },
    });
  }

  /** The ACK completing the handshake that `synAck` (the stack's SYN-ACK) started. */
  ack(synAck: TcpRepr, o: Partial<TcpRepr> = {}): TcpRepr[] {
    return this.send(synAck.dstPort, {
      seqNumber: synAck.ackNumber!,
      ackNumber: (synAck.seqNumber + 1) >>> 0,
      flags: 0, // the ACK flag goes with ackNumber
      windowLen: 0xffff,
      timestamp: synAck.timestamp ? { tsVal: 778, tsEcr: synAck.timestamp.tsVal } : undefined,
      ...o,
    });
  }

  /** Polls the stack at `now` and returns the segments it sent. */
  run(now: number): TcpRepr[] {
    this.now = now;
    settle([this.stack], now);
    const out: TcpRepr[] = [];
    for (let f = this.dev.receive(now); f; f = this.dev.receive(now)) {
      const ip = Ipv4Packet.checked(f) as Ipv4Packet;
      const r = TcpRepr.parse(TcpPacket.checked(ip.payload) as TcpPacket, US, PEER);
      if (isWireError(r)) throw new Error(`bad segment: ${String(r)}`);
      out.push(r);
    }
    return out;
  }

  accepted(): TcpSocket[] {
    const out: TcpSocket[] = [];
    for (let s = this.listener.accept(); typeof s === 'object' && 'state' in s; s = this.listener.accept())
      out.push(s);
    return out;
  }
}

/** The SYN-ACKs among `segs` (a parsed segment has the ACK flag as its ackNumber). */
const synAcks = (segs: readonly TcpRepr[]): TcpRepr[] =>
  segs.filter((s) => (s.flags & TcpFlag.SYN) !== 0 && s.ackNumber !== undefined);

describe('SYN cookie codec', () => {
  const flow4 = { src: PEER, dst: US, srcPort: 40000, dstPort: 80 };
  const flow6 = {
    src: Ipv6Address.parse('fd00::2')!,
    dst: Ipv6Address.parse('fd00::1')!,
    srcPort: 40000,
    dstPort: 443,
  };

  it('gives back the MSS table entry at or below the MSS, within two minutes', () => {
    const c = new SynCookies(Math.random);
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 1, max: 65535 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 0, max: 119_999 }),
        (v6, seq, mss, start, later) => {
          const flow = v6 ? flow6 : flow4;
          const table = v6 ? MSSTAB_V6 : MSSTAB_V4;
          const made = c.make(start, flow, seq, mss);
          const want = [...table].reverse().find((m) => m <= mss) ?? table[0];
          expect(made.mss).toBe(want);
          // Valid in the minute it was made and the next.
          const at = Math.floor(start / 60_000) * 60_000 + later;
          expect(c.check(at, flow, seq, made.isn)).toBe(made.mss);
        },
      ),
      { seed: 4987 },
    );
  });

  it('rejects a cookie that is stale, altered, for another flow or from another secret', () => {
    const c = new SynCookies(Math.random);
    const { isn } = c.make(30_000, flow4, 5, 1460);
    expect(c.check(119_999, flow4, 5, isn)).toBe(1460);
    expect(c.check(120_000, flow4, 5, isn)).toBe(0); // minute 2: too old
    expect(c.check(30_000, flow4, 5 + 0x10000, isn)).toBe(0); // another peer ISN
    expect(c.check(30_000, { ...flow4, srcPort: 40001 }, 5, isn)).toBe(0);
    expect(new SynCookies(Math.random).check(30_000, flow4, 5, isn)).toBe(0);
    // Flipping a bit breaks the hash or the age (4 of 2^24 values would match by chance). The
    // low 2 bits are the MSS index itself, as in Linux (the hash is added, not mixed): flipping
    // them gives another entry of the table, or none.
    for (let bit = 2; bit < 32; bit++) expect(c.check(30_000, flow4, 5, (isn ^ (1 << bit)) >>> 0)).toBe(0);
  });

  it('keeps window scale and SACK in the timestamp, never ahead of the clock', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.option(fc.integer({ min: 0, max: 14 }), { nil: undefined }),
        fc.boolean(),
        (now, windowScale, sack) => {
          const ts = cookieTimestamp(now, { windowScale, sack, ecn: false });
          expect(cookieTimestampOptions(ts)).toEqual({ windowScale, sack, ecn: false });
          const behind = (now - ts) >>> 0;
          expect(behind).toBeLessThan(64);
        },
      ),
    );
  });
});

describe('TcpListener request queue and SYN cookies', () => {
  it('answers a SYN with a cookie when told to (tcp_syncookies=2) and keeps nothing', () => {
    const b = new Bench(8, { syncookies: 2 });
    const [sa] = synAcks(b.syn(40000, { mss: 1400, ws: 5 }));
    expect(sa).toBeDefined();
    expect(b.listener.requestCount).toBe(0);
    expect([b.ext.SyncookiesSent, b.ext.TCPReqQFullDoCookies]).toEqual([1, 1]);
    expect(sa!.ackNumber).toBe(1001);
    expect(sa!.maxSegSize).toBe(1460); // ours, as a normal SYN-ACK
    expect(sa!.sackPermitted).toBe(true);
    expect(sa!.windowScale).toBeDefined();
    // A SYN sent again gets the same cookie: no state, same hash.
    const [again] = synAcks(b.syn(40000, { mss: 1400, ws: 5 }));
    expect(again!.seqNumber).toBe(sa!.seqNumber);
    expect(b.ack(sa!)).toEqual([]);
    expect(b.ext.SyncookiesRecv).toBe(1);
    const [conn] = b.accepted();
    expect(conn?.state).toBe('ESTABLISHED');
    const info = conn!.info(b.now);
    // msstab: 1400 keeps 1300; less the timestamp option.
    expect(info.sndMss).toBe(1300 - 12);
    expect(info.sndWscale).toBe(5);
    expect(info.options & 0x7).toBe(0x7); // TCPI_OPT_TIMESTAMPS | SACK | WSCALE
    expect(b.stack.mib.tcp.PassiveOpens).toBe(1);
  });

  it('without timestamps the cookie carries no window scale or SACK', () => {
    const b = new Bench(8, { syncookies: 2 });
    const [sa] = synAcks(b.syn(40000, { mss: 1000, ts: false }));
    expect(sa!.timestamp).toBeUndefined();
    expect(sa!.windowScale).toBeUndefined();
    expect(sa!.sackPermitted).toBeUndefined();
    b.ack(sa!);
    const [conn] = b.accepted();
    const info = conn!.info(b.now);
    expect(info.sndMss).toBe(536);
    expect(info.options & 0x7).toBe(0);
  });

  it('answers a forged or stale cookie with a RST and counts it', () => {
    const b = new Bench(8, { syncookies: 2 });
    const [sa] = synAcks(b.syn(40000));
    const forged = b.ack(sa!, { ackNumber: (sa!.seqNumber + 2) >>> 0 });
    expect(forged.map((s) => s.flags & TcpFlag.RST)).toEqual([TcpFlag.RST]);
    expect(b.ext.SyncookiesFailed).toBe(1);
    // Two minutes on, with another cookie sent meanwhile (so ACKs are still checked), the
    // first cookie is stale.
    b.now = 100_000;
    synAcks(b.syn(40001));
    b.now = 125_000;
    const stale = b.ack(sa!);
    expect(stale.map((s) => s.flags & TcpFlag.RST)).toEqual([TcpFlag.RST]);
    expect([b.ext.SyncookiesFailed, b.ext.SyncookiesRecv]).toEqual([2, 0]);
    expect(b.accepted()).toEqual([]);
    // Long after the last cookie, ACKs are not checked at all: just a RST.
    b.now = 400_000;
    b.ack(sa!);
    expect(b.ext.SyncookiesFailed).toBe(2);
  });

  it('fills the request queue to backlog + 1, then answers with cookies (tcp_syncookies=1)', () => {
    const b = new Bench(1);
    expect(synAcks(b.syn(40001))).toHaveLength(1);
    expect(synAcks(b.syn(40002))).toHaveLength(1);
    expect(b.listener.requestCount).toBe(2);
    expect(b.ext.SyncookiesSent).toBe(0);
    const [cookie] = synAcks(b.syn(40003));
    expect(cookie).toBeDefined();
    expect(b.listener.requestCount).toBe(2);
    expect([b.ext.SyncookiesSent, b.ext.TCPReqQFullDoCookies]).toEqual([1, 1]);
    // The cookie's ACK makes a connection straight into the accept queue.
    b.ack(cookie!);
    expect([b.listener.requestCount, b.listener.pendingCount]).toEqual([2, 1]);
    expect(b.accepted().map((s) => s.remote?.port)).toEqual([40003]);
  });

  it('drops SYNs past the request queue without cookies (tcp_syncookies=0)', () => {
    const b = new Bench(1, { syncookies: 0 });
    b.syn(40001);
    b.syn(40002);
    expect(b.syn(40003)).toEqual([]);
    expect([b.ext.TCPReqQFullDrop, b.ext.ListenDrops, b.ext.SyncookiesSent]).toEqual([1, 1, 0]);
    expect(b.listener.requestCount).toBe(2);
  });

  it('without cookies keeps the last quarter of tcp_max_syn_backlog', () => {
    const b = new Bench(16, { syncookies: 0, maxSynBacklog: 4 });
    for (let p = 40001; p <= 40004; p++) expect(synAcks(b.syn(p))).toHaveLength(1);
    expect(b.syn(40005)).toEqual([]);
    expect([b.ext.ListenDrops, b.ext.TCPReqQFullDrop]).toEqual([1, 0]);
    // With cookies on the same queue takes more.
    b.stack.sysctl.syncookies = 1;
    expect(synAcks(b.syn(40006))).toHaveLength(1);
    expect(b.listener.requestCount).toBe(5);
  });

  /** backlog 1: A and B complete (2 wait: full), C's request is left with a full accept queue. */
  function fullAcceptQueue(sysctl: Partial<Stack['sysctl']>): { b: Bench; c: TcpRepr } {
    const b = new Bench(1, sysctl);
    const [a] = synAcks(b.syn(40001));
    const [bb] = synAcks(b.syn(40002));
    b.ack(a!);
    const [c] = synAcks(b.syn(40003));
    b.ack(bb!);
    expect(b.ext.ListenOverflows).toBe(0);
    return { b, c: c! };
  }

  it('drops the ACK that finds the accept queue full; the request stays and completes later', () => {
    const { b, c } = fullAcceptQueue({});
    expect(b.ack(c)).toEqual([]);
    expect([b.ext.ListenOverflows, b.ext.ListenDrops]).toEqual([1, 1]);
    expect([b.listener.requestCount, b.listener.pendingCount]).toEqual([1, 2]);
    // A SYN now finds the accept queue full too.
    expect(b.syn(40004)).toEqual([]);
    expect(b.ext.ListenOverflows).toBe(2);
    expect(b.accepted().map((s) => s.remote?.port)).toEqual([40001, 40002]);
    b.ack(c); // the peer's ACK again (or its data) finds room
    expect(b.accepted().map((s) => s.remote?.port)).toEqual([40003]);
  });

  it('drops a bare ACK for TCP_DEFER_ACCEPT before it looks at the accept queue', () => {
    const b = new Bench(1);
    b.listener.prepareChild = (child) => {
      child.deferAccept = 3;
    };
    const data = new TextEncoder().encode('x');
    const [sa] = synAcks(b.syn(40001));
    const [sb] = synAcks(b.syn(40002));
    b.ack(sa!, { payload: data });
    const [sc] = synAcks(b.syn(40003));
    b.ack(sb!, { payload: data }); // 2 wait for accept: full
    expect([b.ext.TCPDeferAcceptDrop, b.ext.ListenOverflows]).toEqual([0, 0]);
    expect(b.ack(sc!)).toEqual([]);
    expect([b.ext.TCPDeferAcceptDrop, b.ext.ListenOverflows]).toEqual([1, 0]);
    expect(b.ack(sc!, { payload: data })).toEqual([]);
    expect([b.ext.TCPDeferAcceptDrop, b.ext.ListenOverflows]).toEqual([1, 1]);
  });

  it('resets the handshake instead with tcp_abort_on_overflow=1', () => {
    const { b, c } = fullAcceptQueue({ abortOnOverflow: 1 });
    const out = b.ack(c);
    expect(out.map((s) => [s.flags, s.seqNumber])).toEqual([[TcpFlag.RST, (c.seqNumber + 1) >>> 0]]);
    expect([b.ext.ListenOverflows, b.ext.EmbryonicRsts]).toEqual([1, 1]);
    expect([b.listener.requestCount, b.listener.pendingCount]).toEqual([0, 2]);
  });

  it('retransmits a SYN-ACK tcp_synack_retries times, then forgets the request', () => {
    const b = new Bench(8, { synackRetries: 2 });
    expect(synAcks(b.syn(40001))).toHaveLength(1);
    let sent = 0;
    for (let t = 0; t <= 10_000; t += 100) sent += synAcks(b.run(t)).length;
    expect(sent).toBe(2); // at 1 s and 3 s; at 7 s the request is dropped
    expect(b.listener.requestCount).toBe(0);
  });

  it('gives old requests fewer retransmissions while they crowd the queue', () => {
    // 9 requests (backlog 8 takes 9), more than half of max(8, backlog): once none is young (all
    // timed out once), a request gets 2 retransmissions instead of 5, so at the third timeout
    // (7 s) requests are dropped until 4 are left, no longer crowding the queue (reqsk_timer_handler
    // works the limit out per request, with the queue as it is then).
    const crowded = new Bench(8);
    for (let p = 40001; p <= 40009; p++) crowded.syn(p);
    expect(crowded.listener.requestCount).toBe(9);
    for (let t = 0; t <= 6_900; t += 100) crowded.run(t);
    expect(crowded.listener.requestCount).toBe(9);
    for (let t = 7_000; t <= 7_500; t += 100) crowded.run(t);
    expect(crowded.listener.requestCount).toBe(4);
    // 4 requests do not crowd it: they keep Linux's 5 (63 s).
    const calm = new Bench(16);
    for (let p = 40001; p <= 40004; p++) calm.syn(p);
    for (let t = 0; t <= 62_000; t += 500) calm.run(t);
    expect(calm.listener.requestCount).toBe(4);
    for (let t = 62_000; t <= 64_000; t += 500) calm.run(t);
    expect(calm.listener.requestCount).toBe(0);
  });
});
