// The sender's silly window avoidance (RFC 9293 §3.8.6.2.1, MUST-38; Linux tcp_snd_wnd_test,
// tcp_bound_to_half_wnd and tcp_write_wakeup): with more than a segment queued, only whole
// segments go, and the few bytes left at the window's edge wait for the window to move; a
// window too small for the next segment with nothing in flight is probed with data at the
// persist timeout. The same against Linux on loopback: runtime's sender-sws.test.ts.
import { describe, expect, it } from 'vitest';
import { settle } from '../stack.test-util.js';
import { TcpFlag, seqAdd, type TcpRepr } from '../wire/tcp.js';
import { connectToRawPeer } from './tcp-peer.test-util.js';

const data = (segs: TcpRepr[]): TcpRepr[] => segs.filter((s) => s.payload.length > 0);
const lengths = (segs: TcpRepr[]): number[] => data(segs).map((s) => s.payload.length);

/** A connection to a raw peer (MSS 1000, no window scaling) whose window is `window` from SND.UNA. */
function limitedBy(window: number, synAck: Partial<TcpRepr> = {}) {
  const { sock, peer, iss } = connectToRawPeer(synAck);
  const una = seqAdd(iss, 1);
  peer.send({ flags: TcpFlag.ACK, ackNumber: una, windowLen: window });
  settle([peer.stack], 0);
  peer.drain();
  /** The peer acknowledges `acked` bytes of data and offers `window` from there. */
  const ack = (acked: number, win = window, now = 0): TcpRepr[] => {
    peer.send({ flags: TcpFlag.ACK, ackNumber: seqAdd(una, acked), windowLen: win });
    settle([peer.stack], now);
    return peer.drain();
  };
  return { sock, peer, una, ack };
}

describe("the sender's silly window avoidance", () => {
  it('sends whole segments only; the bytes left at the edge of the window wait for it to move', () => {
    const { sock, peer, ack } = limitedBy(2500);
    expect(sock.send(new Uint8Array(10_000))).toBe(10_000);
    settle([peer.stack], 0);
    // 2500 bytes of window: two segments, not a third of 500.
    expect(lengths(peer.drain())).toEqual([1000, 1000]);
    // The first acknowledged, the same window from there: 1500 usable, one segment.
    expect(lengths(ack(1000))).toEqual([1000]);
    // Everything acknowledged: two segments again.
    expect(lengths(ack(3000))).toEqual([1000, 1000]);
    expect(sock.stats.windowProbes).toBe(0);
  });

  it('sends the rest at once when all that is queued fits, whole segment or not', () => {
    const { sock, peer, ack } = limitedBy(2500);
    expect(sock.send(new Uint8Array(2300))).toBe(2300);
    settle([peer.stack], 0);
    expect(lengths(peer.drain())).toEqual([1000, 1000, 300]);
    // A small segment alone, with a window larger than it but smaller than a full one.
    expect(sock.send(new Uint8Array(400))).toBe(400);
    expect(lengths(ack(2300, 500))).toEqual([400]);
  });

  it('probes a window too small for the next segment with as much data as it takes, after the persist timeout', () => {
    const { sock, peer, una, ack } = limitedBy(600);
    expect(sock.send(new Uint8Array(5000))).toBe(5000);
    const due = settle([peer.stack], 0);
    expect(data(peer.drain())).toEqual([]);
    expect(due).toBeGreaterThanOrEqual(200); // the persist timer: the RTO, at least 200 ms
    settle([peer.stack], due!);
    const probe = data(peer.drain());
    // Data at SND.UNA, the window's 600 bytes, with PSH (not a zero-window probe below SND.UNA).
    expect(probe.map((s) => [s.seqNumber, s.payload.length, (s.flags & TcpFlag.PSH) !== 0])).toEqual([
      [una, 600, true],
    ]);
    expect(sock.stats.windowProbes).toBe(1);
    // Acknowledged with a full window: whole segments at once, the persist backoff gone.
    expect(lengths(ack(600, 3000, due!))).toEqual([1000, 1000, 1000]);
  });

  it('holds a segment to half the largest window offered, so a peer with a small buffer is not left waiting', () => {
    // The SYN-ACK offers 1200 bytes, the largest window this peer offers: a full segment (1000)
    // is more than half of it, so 600 bytes count as whole (tcp_bound_to_half_wnd).
    const { sock, peer, ack } = limitedBy(1200, { windowLen: 1200 });
    expect(sock.send(new Uint8Array(5000))).toBe(5000);
    settle([peer.stack], 0);
    expect(lengths(peer.drain())).toEqual([1000]);
    // 200 bytes of window left: less than half the largest window, so they wait.
    expect(lengths(ack(0, 1200))).toEqual([]);
    // Acknowledged with 1200 more: at once, without the persist timer.
    expect(lengths(ack(1000, 1200))).toEqual([1000]);
    expect(sock.stats.windowProbes).toBe(0);
    expect(sock.mssCache).toBe(600);
  });
});
