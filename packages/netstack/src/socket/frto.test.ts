// Spurious retransmission timeouts: Eifel (timestamps) and F-RTO (RFC 5682) undo a timeout the
// network's delay caused, a real loss keeps its reduction. A hand-driven peer shows each step;
// transfers through a delay spike (every frame of the path held, then released in order, as a
// stalled link does) or an outage show the whole and stay byte-exact (SHA-256).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { settle } from '../stack.test-util.js';
import { TcpFlag, seqAdd, seqLt, type TcpRepr } from '../wire/tcp.js';
import { SpuriousRtoDetector, type LossAck } from './frto.js';
import { patternTransfer, type DataSegment, type Fate } from './loss-pattern.test-util.js';
import type { TcpConfig } from './tcp.js';
import { connectToRawPeer } from './tcp-peer.test-util.js';

/** The raw peer's MSS, less the timestamps option when it is on. */
const mssOf = (ts: boolean) => (ts ? 988 : 1000);
const data = (s: TcpRepr[]) => s.filter((x) => x.payload.length > 0 || (x.flags & TcpFlag.FIN) !== 0);

/**
 * A socket with `segments` segments sent (and `queued` more waiting) whose first RTO fired at
 * 250 ms and resent the head; the peer acknowledged nothing.
 */
function afterTimeout(opts: {
  ts: boolean;
  sack?: boolean;
  segments?: number;
  queued?: number;
  tcp?: Partial<TcpConfig>;
  /** net.ipv4.tcp_frto of the stack, set after the handshake and before the timeout. */
  sysctlFrto?: number;
}) {
  const segments = opts.segments ?? 10;
  const { sock, peer, iss } = connectToRawPeer(
    {
      ...(opts.sack === false ? {} : { sackPermitted: true }),
      ...(opts.ts ? { timestamp: { tsVal: 1, tsEcr: 0 } } : {}),
    },
    opts.tcp ? { tcp: opts.tcp } : {},
  );
  if (opts.sysctlFrto !== undefined) peer.stack.sysctl.frto = opts.sysctlFrto;
  const mss = mssOf(opts.ts);
  const una = seqAdd(iss, 1);
  const seg = (i: number) => seqAdd(una, i * mss);
  const total = (segments + (opts.queued ?? 0)) * mss;
  expect(sock.send(new Uint8Array(total).fill(7))).toBe(total);
  settle([peer.stack], 0);
  const sent = data(peer.drain());
  expect(sent).toHaveLength(segments);
  const cwnd = sock.congestionWindow;
  settle([peer.stack], 250);
  const resent = data(peer.drain());
  expect(sock.stats.timeouts).toBe(1);
  expect(resent.map((s) => s.seqNumber)).toEqual([una]); // one segment: cwnd is one MSS
  expect(sock.congestionWindow).toBe(mss);
  const ack = (n: number, o: Partial<TcpRepr> = {}, at = 260) => {
    peer.send({ ackNumber: seg(n), ...o });
    settle([peer.stack], at);
    return data(peer.drain());
  };
  const mib = peer.stack.mib.tcpExt;
  return { sock, seg, cwnd, sent, resent, ack, mib };
}

describe('Eifel: timestamps show a timeout spurious (Linux tcp_packet_delayed)', () => {
  it('an ACK echoing the original TSval undoes the timeout: cwnd back, nothing more resent', () => {
    const { sock, seg, cwnd, sent, resent, ack, mib } = afterTimeout({ ts: true, queued: 20 });
    expect(seqLt(sent[0]!.timestamp!.tsVal, resent[0]!.timestamp!.tsVal)).toBe(true);
    // The originals were only late: the ACK of all ten echoes the first one's timestamp.
    const out = ack(10, { timestamp: { tsVal: 2, tsEcr: sent[0]!.timestamp!.tsVal } });
    expect(sock.stats.lossUndos).toBe(1);
    expect(sock.stats.spuriousRtos).toBe(0); // Linux counts TCPSpuriousRTOs for F-RTO only
    expect([mib.TCPLossUndo, mib.TCPSpuriousRTOs]).toEqual([1, 0]);
    expect(sock.congestionWindow).toBeGreaterThanOrEqual(cwnd);
    expect(sock.slowStartThreshold).toBe(0x7fffffff);
    // What goes out next is new data, a full window of it, not go-back-N.
    expect(out.length).toBeGreaterThanOrEqual(10);
    for (const s of out) expect(seqLt(s.seqNumber, seg(10))).toBe(false);
  });

  it('an ACK echoing the retransmission is no sign: the timeout stands', () => {
    const { sock, resent, ack } = afterTimeout({ ts: true, segments: 1 });
    ack(1, { timestamp: { tsVal: 2, tsEcr: resent[0]!.timestamp!.tsVal } });
    expect(sock.stats.lossUndos).toBe(0);
    expect(sock.congestionWindow).toBeLessThan(10 * 988);
    expect(sock.slowStartThreshold).toBeLessThan(0x7fffffff);
  });
});

describe('F-RTO (RFC 5682 §3, SACK-enhanced)', () => {
  it('step 3.b: new data is sent (2.b), then an ACK of never-resent data undoes the timeout', () => {
    const { sock, seg, cwnd, ack, mib } = afterTimeout({ ts: false, queued: 20 });
    // The ACK covers the resent head only: two new segments go out instead of more resends.
    let out = ack(1);
    expect(out.map((s) => s.seqNumber)).toEqual([seg(10), seg(11)]);
    expect(sock.stats.lossUndos).toBe(0);
    // The originals arrive after all: the next ACK acknowledges data never resent.
    out = ack(6, {}, 270);
    expect(sock.stats.spuriousRtos).toBe(1);
    expect(sock.stats.lossUndos).toBe(1);
    expect([mib.TCPLossUndo, mib.TCPSpuriousRTOs]).toEqual([1, 1]);
    expect(sock.congestionWindow).toBeGreaterThanOrEqual(cwnd);
    expect(sock.slowStartThreshold).toBe(0x7fffffff);
    for (const s of out) expect(seqLt(s.seqNumber, seg(12))).toBe(false); // still no resend
    expect(sock.stats.retransmits).toBe(1);
  });

  it('a SACK of never-resent data is as good as an ACK of it', () => {
    const { sock, seg, ack } = afterTimeout({ ts: false, queued: 20 });
    ack(1);
    ack(1, { sackBlocks: [[seg(3), seg(5)]] }, 270);
    expect(sock.stats.spuriousRtos).toBe(1);
  });

  it('step 3.a: an ACK that SACKs only the new data shows a real loss; resending resumes', () => {
    const { sock, seg, ack } = afterTimeout({ ts: false, queued: 20 });
    ack(1);
    const out = ack(1, { sackBlocks: [[seg(10), seg(12)]] }, 270);
    expect(sock.stats.lossUndos).toBe(0);
    expect(sock.congestionWindow).toBeLessThan(4 * 1000);
    expect(out.length).toBeGreaterThan(0);
    expect(out[0]!.seqNumber).toBe(seg(1)); // go-back-N from SND.UNA after all
    // Later ACKs of resent data undo nothing.
    ack(3, {}, 280);
    expect(sock.stats.lossUndos).toBe(0);
  });

  it('without SACK a duplicate ACK after the new data shows the loss', () => {
    const { sock, seg, ack } = afterTimeout({ ts: false, sack: false, queued: 20 });
    expect(ack(1).map((s) => s.seqNumber)).toEqual([seg(10), seg(11)]);
    const out = ack(1, {}, 270);
    expect(out[0]?.seqNumber).toBe(seg(1));
    expect(sock.stats.lossUndos).toBe(0);
  });

  it('with no new data to send, F-RTO gives way to conventional recovery at once', () => {
    const { sock, seg, ack } = afterTimeout({ ts: false });
    const out = ack(1);
    expect(out.map((s) => s.seqNumber)).toEqual([seg(1), seg(2)]); // slow start from one MSS
    ack(10, {}, 270);
    expect(sock.stats.lossUndos).toBe(0);
  });

  it('SACKs held before the timeout are no evidence (they were known already)', () => {
    const { sock, peer, iss } = connectToRawPeer({ sackPermitted: true });
    const una = seqAdd(iss, 1);
    const seg = (i: number) => seqAdd(una, i * 1000);
    sock.send(new Uint8Array(30 * 1000));
    settle([peer.stack], 0);
    peer.drain();
    // Segments 8 and 9 are SACKed (too few for recovery), then the timer fires.
    peer.send({ ackNumber: una, sackBlocks: [[seg(8), seg(10)]] });
    settle([peer.stack], 5);
    settle([peer.stack], 300);
    expect(sock.stats.timeouts).toBe(1);
    peer.drain();
    // The resent head fills the hole below 1..7 that is lost too: the ACK covers only the head;
    // the repeated SACK of 8..9 proves nothing.
    peer.send({ ackNumber: seg(1), sackBlocks: [[seg(8), seg(10)]] });
    settle([peer.stack], 310);
    expect(sock.stats.lossUndos).toBe(0);
  });

  it('is off with frto: false (net.ipv4.tcp_frto=0): the same ACKs undo nothing', () => {
    const { sock, ack } = afterTimeout({ ts: false, queued: 20, tcp: { frto: false } });
    ack(1);
    ack(6, {}, 270);
    expect(sock.stats.lossUndos).toBe(0);
    expect(sock.slowStartThreshold).toBeLessThan(0x7fffffff);
  });

  it('follows net.ipv4.tcp_frto at the timeout, also for a connection made before the change', () => {
    const off = afterTimeout({ ts: false, queued: 20, sysctlFrto: 0 });
    off.ack(1);
    off.ack(6, {}, 270);
    expect(off.sock.stats.lossUndos).toBe(0);
    // The stack's config sets the sysctl's first value only: a later 2 turns F-RTO back on.
    const on = afterTimeout({ ts: false, queued: 20, tcp: { frto: false }, sysctlFrto: 2 });
    expect(on.ack(1).map((s) => s.seqNumber)).toEqual([on.seg(10), on.seg(11)]); // step 2.b
    on.ack(6, {}, 270);
    expect(on.sock.stats.lossUndos).toBe(1);
    expect(on.sock.stats.spuriousRtos).toBe(1);
  });
});

describe('SpuriousRtoDetector on its own', () => {
  const base: LossAck = {
    unaBefore: 1000,
    una: 1000,
    sndMax: 11_000,
    dataEnd: 11_000,
    tsEcr: undefined,
    sackBlocks: undefined,
    dsack: false,
    duplicate: false,
    sackNews: false,
    newDataQueued: true,
    undoArmed: true,
  };

  it('ignores a D-SACK block, and a FIN resent with the data is not original data', () => {
    const d = new SpuriousRtoDetector();
    d.onTimeout(11_000, true, [], []);
    d.retransmitted(1000, 2000, 500);
    // A D-SACK of the resent head is no proof of anything.
    expect(d.onAck({ ...base, sackBlocks: [[1000, 2000]], dsack: true, duplicate: false })).toBe('none');
    // The last segment carried the FIN (sequence 11000): the ACK of data and FIN resent is none.
    const e = new SpuriousRtoDetector();
    e.onTimeout(11_001, true, [], []);
    e.retransmitted(10_000, 11_000, 500);
    expect(e.onAck({ ...base, unaBefore: 10_000, una: 11_001, sndMax: 11_001, dataEnd: 11_000 })).toBe(
      'recovered',
    );
    expect(e.inLoss).toBe(false);
  });

  it('Eifel needs an armed undo and an echo older than the first retransmission, across wrap', () => {
    const d = new SpuriousRtoDetector();
    d.onTimeout(11_000, false, [], []);
    d.retransmitted(1000, 2000, 5); // TSval 5, just past a wrap
    d.retransmitted(2000, 3000, 90); // a later resend does not move the episode's stamp
    expect(d.onAck({ ...base, una: 2000, tsEcr: 5, undoArmed: true })).toBe('none');
    expect(d.onAck({ ...base, una: 2000, tsEcr: 0xfffffff0, undoArmed: false })).toBe('none');
    expect(d.onAck({ ...base, unaBefore: 2000, una: 3000, tsEcr: 0xfffffff0, undoArmed: true })).toBe(
      'undo-delayed',
    );
    expect(d.inLoss).toBe(false);
  });
});

describe('end to end', () => {
  const MSS_E2E = 1448;
  /** From the 60th data segment on, every one sent for 400 ms is held, then all go in order. */
  const spike = (action: 'hold' | 'drop') => {
    let t0: number | undefined;
    return (s: DataSegment): Fate => {
      if (t0 === undefined && s.index === 60) t0 = s.at;
      if (t0 === undefined || s.at >= t0 + 400) return 'pass';
      return action === 'drop' ? 'drop' : { delay: t0 + 400 - s.at };
    };
  };
  const total = 400 * MSS_E2E;

  // The receiver acknowledges every segment (no delayed ACK) in the two tests below, so that the
  // held segments are acknowledged one by one as they arrive: with delayed ACKs, the read of the
  // whole burst acknowledges it at once, and the D-SACK of the resent segment undoes the timeout
  // before timestamps or F-RTO can tell (the same end state, by the D-SACK undo).
  it('a delay spike longer than the RTO: undone by timestamps (Eifel), one segment resent', () => {
    const run = patternTransfer(spike('hold'), total, { tcp: { delayedAck: 0 } });
    expect(run.gotHash).toBe(run.sentHash);
    expect(run.client.stats.timeouts).toBe(1);
    expect(run.client.stats.lossUndos).toBe(1);
    expect(run.client.stats.spuriousRtos).toBe(0);
    expect(run.client.stats.retransmits).toBe(1);
    expect(run.client.slowStartThreshold).toBe(0x7fffffff); // as if no loss happened
  });

  it('the same spike without timestamps: undone by F-RTO', () => {
    const run = patternTransfer(spike('hold'), total, { tcp: { timestamps: false, delayedAck: 0 } });
    expect(run.gotHash).toBe(run.sentHash);
    expect(run.client.stats.timeouts).toBe(1);
    expect(run.client.stats.spuriousRtos).toBe(1);
    expect(run.client.stats.lossUndos).toBe(1);
    expect(run.client.stats.retransmits).toBe(1);
    expect(run.client.slowStartThreshold).toBe(0x7fffffff);
  });

  it('without SACK, F-RTO alone tells; with it off too, the window stays cut', () => {
    const tcp = { timestamps: false, sack: false };
    const undone = patternTransfer(spike('hold'), total, { tcp });
    expect(undone.gotHash).toBe(undone.sentHash);
    expect(undone.client.stats.spuriousRtos).toBe(1);
    expect(undone.client.slowStartThreshold).toBe(0x7fffffff);
    const run = patternTransfer(spike('hold'), total, { tcp: { ...tcp, frto: false } });
    expect(run.gotHash).toBe(run.sentHash);
    expect(run.client.stats.timeouts).toBe(1);
    expect(run.client.stats.lossUndos).toBe(0);
    expect(run.client.slowStartThreshold).toBeLessThan(0x7fffffff);
    expect(run.elapsed).toBeGreaterThan(undone.elapsed);
  });

  it('an outage of the same length is a real loss and is not undone', () => {
    for (const timestamps of [true, false]) {
      const run = patternTransfer(spike('drop'), total, { tcp: { timestamps } });
      expect(run.gotHash).toBe(run.sentHash);
      expect(run.client.stats.timeouts).toBeGreaterThanOrEqual(1);
      expect(run.client.stats.lossUndos).toBe(0);
      expect(run.client.stats.spuriousRtos).toBe(0);
    }
  });
});

describe('random drops and delay spikes (fast-check, replayable seeds)', () => {
  it('every byte arrives, and a run with drops alone never undoes a timeout', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 119 }), { maxLength: 12 }),
        fc.option(
          fc.record({ at: fc.integer({ min: 5, max: 100 }), len: fc.integer({ min: 150, max: 600 }) }),
        ),
        fc.boolean(),
        (drops, spikeAt, timestamps) => {
          let t0: number | undefined;
          const fate = (s: DataSegment): Fate => {
            if (drops.includes(s.index)) return 'drop';
            if (!spikeAt) return 'pass';
            if (t0 === undefined && s.index === spikeAt.at) t0 = s.at;
            return t0 !== undefined && s.at < t0 + spikeAt.len ? { delay: t0 + spikeAt.len - s.at } : 'pass';
          };
          const run = patternTransfer(fate, 120 * 1448, { tcp: { timestamps } });
          expect(run.gotHash).toBe(run.sentHash);
          if (!spikeAt) expect(run.client.stats.lossUndos).toBe(0);
        },
      ),
      { numRuns: 25, seed: 4711 },
    );
  });
});
