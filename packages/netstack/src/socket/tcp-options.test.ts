// SACK loss recovery, timestamps and PAWS, delayed ACK, TCP_CORK, TCP_USER_TIMEOUT, TCP_INFO
// and congestion control, each driven by a hand-made peer that decides every segment.
import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { runUntil, settle } from '../stack.test-util.js';
import { TcpFlag, seqAdd, seqDiff, type SackBlock, type TcpRepr } from '../wire/tcp.js';
import { connectToRawPeer, type RawPeer } from './tcp-peer.test-util.js';
import { transfer } from './tcp-transfer.test-util.js';

const SEG = 1000;

/**
 * The peer receives the first flight of 10 segments minus `lost`, acknowledging each arrival
 * (with SACK blocks, newest first, when `sack`); returns the flight and the ACKs it sent.
 */
function lossyFlight(
  sack: boolean,
  lost: ReadonlySet<number>,
  congestion: 'cubic' | 'reno' = 'cubic',
): { peer: RawPeer; sock: ReturnType<typeof connectToRawPeer>['sock']; flight: TcpRepr[]; base: number } {
  const { sock, peer, iss } = connectToRawPeer(
    { sackPermitted: sack ? true : undefined, windowScale: 7 },
    // RFC 6675's DupThresh marking (RACK off): rack-tlp.test.ts covers the RACK default.
    { tcp: { timestamps: false, congestion, rack: false, tlp: false } },
  );
  expect(sock.send(new Uint8Array(30 * SEG).fill(7))).toBe(30 * SEG);
  settle([peer.stack], 0);
  const flight = peer.drain();
  expect(flight.map((s) => s.payload.length)).toEqual(Array<number>(10).fill(SEG)); // IW10 (RFC 6928)
  const base = seqAdd(iss, 1);
  const got = new Set<number>();
  const recent: number[] = [];
  for (let i = 0; i < flight.length; i++) {
    if (lost.has(i)) continue;
    got.add(i);
    recent.unshift(i);
    let cum = 0;
    while (got.has(cum)) cum++;
    const blocks: SackBlock[] = [];
    for (const r of recent) {
      if (r < cum) continue;
      let lo = r;
      let hi = r + 1;
      while (got.has(lo - 1) && lo - 1 >= cum) lo--;
      while (got.has(hi)) hi++;
      const b: SackBlock = [seqAdd(base, lo * SEG), seqAdd(base, hi * SEG)];
      if (!blocks.some((x) => x[0] === b[0])) blocks.push(b);
    }
    peer.send({ ackNumber: seqAdd(base, cum * SEG), sackBlocks: sack && blocks.length ? blocks : undefined });
  }
  return { peer, sock, flight, base };
}

describe('SACK loss recovery (RFC 2018, RFC 6675)', () => {
  it('retransmits exactly the holes, all in the first round, and nothing the peer has', () => {
    const lost = new Set([1, 4, 6]);
    const { peer, sock, base } = lossyFlight(true, lost);
    settle([peer.stack], 10);
    const round = peer.drain();
    const highest = seqAdd(base, 10 * SEG);
    const resent = round
      .filter((s) => seqDiff(s.seqNumber, highest) < 0)
      .map((s) => seqDiff(s.seqNumber, base) / SEG);
    expect(resent).toEqual([1, 4, 6]);
    expect(sock.stats.bytesRetransmitted).toBe(3 * SEG);
    expect(sock.info().caState).toBe(3); // TCP_CA_Recovery
    expect(sock.info().sacked).toBe(6); // segments 2, 3, 5, 7, 8, 9 (0 is acknowledged)
    // CUBIC's reduction: ssthresh = 0.7 of the 9 segments in flight; cwnd = ssthresh during
    // recovery, so pipe (nothing in flight but the 3 retransmissions) leaves room for 3 new ones.
    expect(sock.slowStartThreshold).toBe(Math.floor(0.7 * 9 * SEG));
    expect(round.length).toBe(6);
    // The peer acknowledges everything: recovery ends, no timeout ever fired.
    const end = round.reduce(
      (m, s) =>
        seqDiff(seqAdd(s.seqNumber, s.payload.length), m) > 0 ? seqAdd(s.seqNumber, s.payload.length) : m,
      highest,
    );
    peer.send({ ackNumber: end });
    settle([peer.stack], 20);
    expect(sock.info().caState).toBe(0);
    expect(sock.stats.timeouts).toBe(0);
    expect(sock.info().totalRetrans).toBe(3);
  });

  it('without SACK, NewReno resends one hole per round trip (the comparison)', () => {
    const { peer, base } = lossyFlight(false, new Set([1, 4, 6]));
    settle([peer.stack], 10);
    const highest = seqAdd(base, 10 * SEG);
    const resent = peer
      .drain()
      .filter((s) => seqDiff(s.seqNumber, highest) < 0)
      .map((s) => seqDiff(s.seqNumber, base) / SEG);
    expect(resent).toEqual([1]);
  });

  it('TCP_CONGESTION reno halves the flight where CUBIC keeps 0.7 of it', () => {
    const { sock, peer } = lossyFlight(true, new Set([2]), 'reno');
    settle([peer.stack], 10);
    expect(sock.congestion).toBe('reno');
    expect(sock.slowStartThreshold).toBe(4 * SEG); // half the 8 segments in flight
  });

  it('over a lossy, reordering link: the stream arrives intact with few timeouts', () => {
    const r = transfer({ drop: 0.04, reorder: 0.05, delay: 10 }, 99, 1 << 20, {
      txBuf: 1 << 20,
      rxBuf: 1 << 20,
    });
    expect(Buffer.from(r.got).equals(Buffer.from(r.sent))).toBe(true);
    expect(r.client.negotiated).toMatchObject({ sack: true, timestamps: true });
    expect(r.client.stats.fastRetransmits).toBeGreaterThan(r.client.stats.timeouts);
  });
});

describe('timestamps (RFC 7323)', () => {
  function tsConnection() {
    const c = connectToRawPeer({ timestamp: { tsVal: 100, tsEcr: 0 }, sackPermitted: true });
    return c;
  }

  it('are offered in the SYN, echoed in every segment, and time every ACK', () => {
    const { sock, peer, syn } = tsConnection();
    expect(syn.timestamp).toMatchObject({ tsEcr: 0 });
    expect(sock.negotiated.timestamps).toBe(true);
    sock.send(new Uint8Array(4000));
    settle([peer.stack], 0);
    const segs = peer.drain();
    // 10 bytes of option (12 with padding) come out of the MSS of 1000 (RFC 6691).
    expect(segs.map((s) => s.payload.length)).toEqual([988, 988, 988, 988, 48]);
    for (const s of segs) expect(s.timestamp!.tsEcr).toBe(100);
    // The peer acknowledges each segment 30 ms later, echoing its TSval: one RTT sample per ACK.
    const before = sock.stats.rttSamples;
    for (const s of segs)
      peer.send({
        ackNumber: seqAdd(s.seqNumber, s.payload.length),
        timestamp: { tsVal: 101, tsEcr: s.timestamp!.tsVal },
      });
    settle([peer.stack], 30);
    expect(sock.stats.rttSamples - before).toBe(segs.length);
    // RFC 6298 from the SYN's sample (0 ms on this instant link) and five of 30 ms.
    let srtt = 0;
    for (let i = 0; i < segs.length; i++) srtt = 0.875 * srtt + 0.125 * 30;
    expect(sock.smoothedRtt).toBeCloseTo(srtt, 9);
    expect(sock.info().options & 1).toBe(1); // TCPI_OPT_TIMESTAMPS
  });

  it('PAWS drops an old duplicate (TSval below TS.Recent) with an ACK; a RST is exempt', () => {
    const { sock, peer } = tsConnection();
    const te = new TextEncoder();
    peer.send({ payload: te.encode('new'), timestamp: { tsVal: 200, tsEcr: 0 } });
    peer.seq = seqAdd(peer.seq, 3);
    settle([peer.stack], 1);
    expect(sock.recvQueue).toBe(3);
    peer.drain();
    // An in-window segment with an older TSval: an old duplicate from a previous wrap.
    peer.send({ payload: te.encode('old'), timestamp: { tsVal: 150, tsEcr: 0 } });
    settle([peer.stack], 2);
    expect(sock.recvQueue).toBe(3);
    expect(sock.stats.pawsRejected).toBe(1);
    const ack = peer.drain();
    expect(ack.length).toBe(1);
    expect(ack[0]!.ackNumber).toBe(peer.seq); // RCV.NXT unchanged
    expect(ack[0]!.timestamp!.tsEcr).toBe(200); // TS.Recent unchanged
    peer.send({ flags: TcpFlag.RST, ackNumber: undefined, timestamp: { tsVal: 1, tsEcr: 0 } });
    settle([peer.stack], 3);
    expect(sock.state).toBe('CLOSED');
    expect(sock.recv(new Uint8Array(8))).toBe(3);
    expect(sock.recv(new Uint8Array(8))).toBe(E.ECONNRESET);
  });
});

describe('PAWS as Linux (tcp_paws_discard)', () => {
  const te = new TextEncoder();

  it('lets a TSval one tick older than TS.Recent through, and any TSval while TS.Recent is 0', () => {
    const { sock, peer } = connectToRawPeer({ timestamp: { tsVal: 100, tsEcr: 0 } });
    peer.send({ payload: te.encode('new'), timestamp: { tsVal: 200, tsEcr: 0 } });
    peer.seq = seqAdd(peer.seq, 3);
    settle([peer.stack], 1);
    peer.send({ payload: te.encode('abc'), timestamp: { tsVal: 199, tsEcr: 0 } }); // TCP_PAWS_WINDOW
    peer.seq = seqAdd(peer.seq, 3);
    settle([peer.stack], 2);
    peer.send({ payload: te.encode('xyz'), timestamp: { tsVal: 198, tsEcr: 0 } });
    settle([peer.stack], 3);
    expect(sock.recvQueue).toBe(6);
    expect(sock.stats.pawsRejected).toBe(1);

    // A peer whose SYN carried TSval 0: TS.Recent 0 rejects nothing, however "old" the TSval.
    const z = connectToRawPeer({ timestamp: { tsVal: 0, tsEcr: 0 } });
    z.peer.send({ payload: te.encode('late'), timestamp: { tsVal: 0x90000000, tsEcr: 0 } });
    settle([z.peer.stack], 1);
    expect(z.sock.recvQueue).toBe(4);
    expect(z.sock.stats.pawsRejected).toBe(0);
  });

  it('trusts TS.Recent for TCP_PAWS_WRAP (2147 s) of silence, not the 24 days of RFC 7323', () => {
    const { sock, peer } = connectToRawPeer({ timestamp: { tsVal: 100, tsEcr: 0 } });
    peer.send({ payload: te.encode('new'), timestamp: { tsVal: 5000, tsEcr: 0 } });
    peer.seq = seqAdd(peer.seq, 3);
    settle([peer.stack], 1); // TS.Recent 5000, from time 1
    const old = { payload: te.encode('old'), timestamp: { tsVal: 4000, tsEcr: 0 } };
    peer.send(old);
    settle([peer.stack], 1 + 2_146_999);
    expect(sock.stats.pawsRejected).toBe(1);
    // The peer's clock may have wrapped since (a 1 MHz one, Linux's tcp_usec_ts, in 36 minutes).
    peer.send(old);
    settle([peer.stack], 1 + 2_147_000);
    expect(sock.stats.pawsRejected).toBe(1);
    expect(sock.recvQueue).toBe(6);
  });

  it('takes a reordered duplicate ACK (tcp_disordered_ack) and rate-limits the ACKs of rejected pure ACKs', () => {
    const { sock, peer } = connectToRawPeer({ timestamp: { tsVal: 100, tsEcr: 0 } });
    const mib = peer.stack.mib.tcpExt;
    // A pure ACK with TSval 300 becomes TS.Recent; one sent before it (TSval 290, the same
    // sequence number, acknowledgement and window) arrives after it: reordered, not replayed.
    peer.send({ timestamp: { tsVal: 300, tsEcr: 0 } });
    settle([peer.stack], 1);
    peer.send({ timestamp: { tsVal: 290, tsEcr: 0 } });
    settle([peer.stack], 2);
    expect(sock.stats.pawsRejected).toBe(0);
    expect(peer.drain()).toEqual([]);
    // Far older than an RTO: a replay. Acknowledged once, the next within 500 ms not at all.
    peer.send({ timestamp: { tsVal: 300 - 5000, tsEcr: 0 } });
    settle([peer.stack], 3);
    peer.send({ timestamp: { tsVal: 300 - 5000, tsEcr: 0 } });
    settle([peer.stack], 4);
    expect(sock.stats.pawsRejected).toBe(2);
    expect(peer.drain().length).toBe(1);
    expect(mib.TCPACKSkippedPAWS).toBe(1);
    // An old duplicate with data is acknowledged every time.
    peer.send({ payload: te.encode('old'), timestamp: { tsVal: 290, tsEcr: 0 } });
    settle([peer.stack], 5);
    expect(sock.stats.pawsRejected).toBe(3);
    expect(peer.drain().length).toBe(1);
    expect(sock.recvQueue).toBe(0);
  });

  it('answers every rejected pure ACK with net.ipv4.tcp_invalid_ratelimit 0', () => {
    const { sock, peer } = connectToRawPeer({ timestamp: { tsVal: 100, tsEcr: 0 } });
    peer.stack.sysctl.invalidRatelimit = 0;
    peer.send({ timestamp: { tsVal: 300, tsEcr: 0 } });
    settle([peer.stack], 1);
    for (let t = 2; t < 5; t++) {
      peer.send({ timestamp: { tsVal: 300 - 5000, tsEcr: 0 } });
      settle([peer.stack], t);
    }
    expect(sock.stats.pawsRejected).toBe(3);
    expect(peer.drain().length).toBe(3);
    expect(peer.stack.mib.tcpExt.TCPACKSkippedPAWS).toBe(0);
  });
});

describe('timestamps and lost ACKs (found by the transfer property)', () => {
  it('an echo of a segment sent before a retransmission is not timed, so the RTO cannot run away', () => {
    const r = transfer({ drop: 0.12339500267989935, delay: 0 }, 13129727, 176129, {
      mtu: 576 + (13129727 % 1000),
      back: 1,
      rxBuf: 1024,
      readChunk: 1000,
      tcp: { sack: false, timestamps: true },
    });
    expect(Buffer.from(r.got).equals(Buffer.from(r.sent))).toBe(true);
    expect(r.client.smoothedRtt!).toBeLessThan(100); // the delayed-ACK timer dominates; no timeouts inside
    expect(r.elapsed).toBeLessThan(60_000);
  });
});

describe('delayed ACK', () => {
  const small = new Uint8Array(100);
  it('quick ACKs at the start, then an ACK per two full segments or after 40 ms; TCP_QUICKACK acks at once', () => {
    const { sock, peer } = connectToRawPeer({}, { tcp: { timestamps: false } });
    let t = 0;
    const deliver = (payload: Uint8Array): TcpRepr[] => {
      peer.send({ payload });
      peer.seq = seqAdd(peer.seq, payload.length);
      settle([peer.stack], t);
      return peer.drain();
    };
    // Linux's quick-ACK mode: the first 16 segments are acknowledged at once.
    for (let i = 0; i < 16; i++) expect(deliver(small).length).toBe(1);
    t = 100;
    expect(deliver(small)).toEqual([]); // delayed
    const next = settle([peer.stack], t);
    expect(next).toBe(140);
    settle([peer.stack], 140);
    const late = peer.drain();
    expect(late.length).toBe(1);
    expect(late[0]!.ackNumber).toBe(peer.seq);
    expect(sock.stats.delayedAcks).toBe(1);
    // Two full-sized segments: the second is acknowledged at once (RFC 5681 §4.2).
    t = 200;
    const full = new Uint8Array(1000);
    expect(deliver(full)).toEqual([]);
    expect(deliver(full).length).toBe(1);
    sock.quickAck = true;
    t = 300;
    expect(deliver(small).length).toBe(1);
  });

  it('a read that empties the queue acknowledges a lone segment that ended a write (PSH) or was short, not a full one without PSH (tcp_measure_rcv_mss)', () => {
    const { sock, peer } = connectToRawPeer({}, { tcp: { timestamps: false } });
    let t = 0;
    const buf = new Uint8Array(4000);
    const full = new Uint8Array(1000);
    /** One segment from the peer, read at once; the ACKs sent before the read and at it. */
    const readOne = (payload: Uint8Array, flags: number): [number, number[]] => {
      t += 100; // past the delayed-ACK timer of the segment before
      settle([peer.stack], t);
      peer.drain();
      peer.send({ payload, flags });
      peer.seq = seqAdd(peer.seq, payload.length);
      settle([peer.stack], t);
      const before = peer.drain().length;
      expect(sock.recv(buf)).toBe(payload.length);
      settle([peer.stack], t);
      return [before, peer.drain().map((a) => a.ackNumber!)];
    };
    // Past the quick ACKs of the start.
    for (let i = 0; i < 16; i++) readOne(full, TcpFlag.PSH);
    expect(readOne(full, 0)).toEqual([0, []]);
    expect(readOne(full, TcpFlag.PSH)).toEqual([0, [peer.seq]]);
    expect(readOne(new Uint8Array(300), 0)).toEqual([0, [peer.seq]]);
  });

  it('out-of-order data is acknowledged at once, with the newest SACK block first (RFC 2018 §4)', () => {
    const { peer } = connectToRawPeer({ sackPermitted: true }, { tcp: { timestamps: false } });
    const start = peer.seq;
    for (const k of [2, 6, 4]) {
      peer.send({ seqNumber: seqAdd(start, k * 100), payload: new Uint8Array(100) });
      settle([peer.stack], 0);
    }
    const acks = peer.drain();
    expect(acks.length).toBe(3);
    const last = acks[2]!;
    expect(last.ackNumber).toBe(start);
    expect(last.sackBlocks![0]).toEqual([seqAdd(start, 400), seqAdd(start, 500)]);
    expect(last.sackBlocks!.length).toBe(3);
  });
});

describe('TCP_CORK', () => {
  it('holds partial segments up to 200 ms, sends full ones, and uncorking pushes the rest', () => {
    const { sock, peer } = connectToRawPeer({}, { tcp: { timestamps: false } });
    sock.setCork(true);
    sock.send(new Uint8Array(500));
    settle([peer.stack], 0);
    expect(peer.drain()).toEqual([]);
    expect(settle([peer.stack], 150)).toBe(200);
    settle([peer.stack], 200);
    const first = peer.drain();
    expect(first.map((s) => s.payload.length)).toEqual([500]);
    peer.send({ ackNumber: seqAdd(first[0]!.seqNumber, 500) });
    sock.send(new Uint8Array(1500));
    settle([peer.stack], 210);
    expect(peer.drain().map((s) => s.payload.length)).toEqual([1000]);
    sock.setCork(false);
    settle([peer.stack], 211);
    expect(peer.drain().map((s) => s.payload.length)).toEqual([500]);
  });
});

describe('TCP_USER_TIMEOUT', () => {
  it('fails a connection that long after its first retransmission, long before the retry limit', () => {
    for (const userTimeout of [0, 3000]) {
      const { sock, peer } = connectToRawPeer({}, { tcp: { timestamps: false } });
      sock.userTimeout = userTimeout;
      sock.send(new Uint8Array(100));
      const t = runUntil([peer.stack], 0, () => sock.state === 'CLOSED', 20_000);
      if (userTimeout === 0) {
        expect(sock.state).toBe('ESTABLISHED'); // 15 retries with backoff take many minutes
      } else {
        expect(sock.state).toBe('CLOSED');
        // Linux counts the user timeout from the first retransmission (retrans_stamp), here at
        // the first RTO (200 ms); the RTO is clamped to that deadline.
        expect(t).toBe(3200);
        expect(sock.recv(new Uint8Array(1))).toBe(E.ETIMEDOUT);
      }
    }
  });
});
