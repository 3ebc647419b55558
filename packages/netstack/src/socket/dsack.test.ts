// D-SACK (RFC 2883): the receiver reports duplicate segments in the first SACK block; the
// sender uses those reports to undo a loss response that proved needless (Linux's undo).
import { describe, expect, it } from 'vitest';
import { settle } from '../stack.test-util.js';
import { TcpFlag, seqAdd, type TcpRepr } from '../wire/tcp.js';
import { patternTransfer } from './loss-pattern.test-util.js';
import { connectToRawPeer } from './tcp-peer.test-util.js';

const payload = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

/** The last pure ACK our socket sent since the last drain. */
function lastAck(segs: TcpRepr[]): TcpRepr {
  const acks = segs.filter((s) => s.payload.length === 0 && (s.flags & TcpFlag.SYN) === 0);
  const a = acks.at(-1);
  if (!a) throw new Error('no ACK');
  return a;
}

describe('D-SACK receiver (RFC 2883 §4)', () => {
  it('reports a duplicate below RCV.NXT, a duplicate of out-of-order data, and a partial overlap', () => {
    const { sock, peer } = connectToRawPeer({ sackPermitted: true });
    const s0 = peer.seq;
    const stack = peer.stack;
    const deliver = (seq: number, len: number): TcpRepr => {
      peer.send({ seqNumber: seq, payload: payload(len) });
      settle([stack], 0);
      return lastAck(peer.drain());
    };
    // A segment in order, then the same again: the ACK of the copy names it in a D-SACK block.
    deliver(s0, 100);
    let ack = deliver(s0, 100);
    expect(ack.ackNumber).toBe(seqAdd(s0, 100));
    expect(ack.sackBlocks).toEqual([[s0, seqAdd(s0, 100)]]);
    // Out-of-order data, then a copy: D-SACK first, then the block that holds it (§4 rule 3).
    const ooo = seqAdd(s0, 200);
    ack = deliver(ooo, 100);
    expect(ack.sackBlocks).toEqual([[ooo, seqAdd(ooo, 100)]]);
    ack = deliver(ooo, 100);
    expect(ack.sackBlocks).toEqual([
      [ooo, seqAdd(ooo, 100)],
      [ooo, seqAdd(ooo, 100)],
    ]);
    // A segment overlapping the held block by half: only the overlap is a duplicate.
    ack = deliver(seqAdd(ooo, 50), 100);
    expect(ack.sackBlocks).toEqual([
      [seqAdd(ooo, 50), seqAdd(ooo, 100)],
      [ooo, seqAdd(ooo, 150)],
    ]);
    // A segment straddling RCV.NXT: the part below it is the duplicate.
    ack = deliver(seqAdd(s0, 50), 100);
    expect(ack.sackBlocks?.[0]).toEqual([seqAdd(s0, 50), seqAdd(s0, 100)]);
    // The D-SACK is reported once: the next fresh segment's ACK has none.
    ack = deliver(seqAdd(s0, 150), 50);
    expect(ack.ackNumber).toBe(seqAdd(ooo, 150));
    expect(ack.sackBlocks).toBeUndefined();
    expect(sock.stats.dsacksSent).toBe(4);
  });

  it('sends no D-SACK with net.ipv4.tcp_dsack 0, SACK blocks still', () => {
    const { sock, peer } = connectToRawPeer({ sackPermitted: true });
    peer.stack.sysctl.dsack = 0;
    const s0 = peer.seq;
    const deliver = (seq: number, len: number): TcpRepr => {
      peer.send({ seqNumber: seq, payload: payload(len) });
      settle([peer.stack], 0);
      return lastAck(peer.drain());
    };
    deliver(s0, 100);
    expect(deliver(s0, 100).sackBlocks).toBeUndefined();
    const ooo = seqAdd(s0, 200);
    expect(deliver(ooo, 100).sackBlocks).toEqual([[ooo, seqAdd(ooo, 100)]]);
    expect(deliver(ooo, 100).sackBlocks).toEqual([[ooo, seqAdd(ooo, 100)]]);
    expect(sock.stats.dsacksSent).toBe(0);
    expect(peer.stack.mib.tcpExt.TCPDSACKOldSent + peer.stack.mib.tcpExt.TCPDSACKOfoSent).toBe(0);
  });

  it('sends no D-SACK when SACK was not negotiated', () => {
    const { sock, peer } = connectToRawPeer();
    peer.send({ payload: payload(100) });
    peer.send({ payload: payload(100) });
    settle([peer.stack], 0);
    const ack = lastAck(peer.drain());
    expect(ack.sackBlocks).toBeUndefined();
    expect(sock.stats.dsacksSent).toBe(0);
  });
});

describe('D-SACK sender: undo of a spurious fast retransmit', () => {
  /** Our socket sends ten 1000-byte segments; the peer SACKs 1..3, so segment 0 is resent. */
  function recoveryOnReordering() {
    const { sock, peer, iss } = connectToRawPeer({ sackPermitted: true });
    peer.rcvNxt = seqAdd(iss, 1);
    const una = seqAdd(iss, 1);
    const seg = (i: number) => seqAdd(una, i * 1000);
    expect(sock.send(payload(20_000))).toBe(20_000);
    settle([peer.stack], 0);
    expect(peer.drain().filter((s) => s.payload.length > 0)).toHaveLength(10);
    const cwnd = sock.congestionWindow;
    for (let i = 1; i <= 3; i++) peer.send({ ackNumber: una, sackBlocks: [[seg(1), seg(i + 1)]] });
    settle([peer.stack], 0);
    const resent = peer.drain().filter((s) => s.payload.length > 0 && s.seqNumber === una);
    expect(resent).toHaveLength(1); // the fast retransmit of segment 0
    expect(sock.congestionWindow).toBeLessThan(cwnd);
    return { sock, peer, seg, cwnd };
  }

  it('restores cwnd and ssthresh when the retransmission is reported as a duplicate', () => {
    const { sock, peer, seg, cwnd } = recoveryOnReordering();
    // The original segment 0 was only late: the peer acknowledges everything, then reports
    // the retransmission as a duplicate.
    peer.send({ ackNumber: seg(10) });
    peer.send({ ackNumber: seg(10), sackBlocks: [[seg(0), seg(1)]] });
    settle([peer.stack], 1);
    expect(sock.stats.dsacksReceived).toBe(1);
    expect(sock.info().dsackDups).toBe(1); // TCP_INFO tcpi_dsack_dups
    expect(sock.stats.undos).toBe(1);
    expect(sock.congestionWindow).toBeGreaterThanOrEqual(cwnd);
    expect(sock.slowStartThreshold).toBe(0x7fffffff);
  });

  it('keeps the reduction without a D-SACK, or when only part of what was resent is reported', () => {
    const { sock, peer, seg, cwnd } = recoveryOnReordering();
    peer.send({ ackNumber: seg(10) });
    settle([peer.stack], 1);
    expect(sock.stats.undos).toBe(0);
    expect(sock.congestionWindow).toBeLessThan(cwnd);
    // A D-SACK naming data never resent in this episode changes nothing either.
    peer.send({ ackNumber: seg(10), sackBlocks: [[seg(5), seg(6)]] });
    settle([peer.stack], 2);
    expect(sock.stats.dsacksReceived).toBe(1);
    expect(sock.congestionWindow).toBeLessThan(cwnd);
    // Segment 0 resent twice (the first resend deemed lost): one D-SACK covers one copy only.
    const twice = recoveryOnReordering();
    twice.sock['noteRetransmitted'](twice.seg(0), 1000);
    twice.peer.send({ ackNumber: twice.seg(10), sackBlocks: [[twice.seg(0), twice.seg(1)]] });
    settle([twice.peer.stack], 1);
    expect(twice.sock.stats.undos).toBe(0);
    twice.peer.send({ ackNumber: twice.seg(10), sackBlocks: [[twice.seg(0), twice.seg(1)]] });
    settle([twice.peer.stack], 2);
    expect(twice.sock.stats.undos).toBe(1); // the second copy reported too: all needless
    const partial = recoveryOnReordering();
    partial.peer.send({
      ackNumber: partial.seg(10),
      sackBlocks: [[partial.seg(0), seqAdd(partial.seg(0), 500)]],
    });
    settle([partial.peer.stack], 1);
    expect(partial.sock.stats.undos).toBe(0);
    expect(partial.sock.congestionWindow).toBeLessThan(partial.cwnd);
  });

  it('end to end: a segment delayed past three others is resent, D-SACKed and the reduction undone', () => {
    const run = patternTransfer((s) => (s.index === 20 ? { delay: 15 } : 'pass'), 400_000);
    expect(run.gotHash).toBe(run.sentHash);
    expect(run.client.stats.fastRetransmits).toBe(1);
    expect(run.server.stats.dsacksSent).toBe(1);
    expect(run.client.stats.dsacksReceived).toBe(1);
    expect(run.client.stats.undos).toBe(1);
    expect(run.client.slowStartThreshold).toBe(0x7fffffff); // back in slow start as if no loss
  });
});
