// TIME_WAIT connections the application closed, as the stack parks them (TcpTimeWait): what the
// stack keeps of one, and how it answers its peer, holds its port and ends.
import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { settle } from '../stack.test-util.js';
import { RingBuffer } from '../storage/ring-buffer.js';
import { TcpFlag, type TcpRepr } from '../wire/tcp.js';
import { SackScoreboard } from './sack-scoreboard.js';
import { TcpSocket } from './tcp.js';
import { ME, THEM, connectToRawPeer } from './tcp-peer.test-util.js';
import { TcpTimeWait } from './tcp-time-wait.js';
import { bufs } from './tcp-transfer.test-util.js';

/** Everything reachable from `root` by strong references the language lets a test see. */
function reachable(root: object, stopAt: readonly object[] = []): Set<unknown> {
  const seen = new Set<unknown>();
  const todo: unknown[] = [root];
  const next = (v: unknown): void => {
    if ((typeof v === 'object' && v !== null) || typeof v === 'function') todo.push(v);
  };
  while (todo.length > 0) {
    const o = todo.pop() as object;
    if (seen.has(o) || stopAt.includes(o)) continue;
    seen.add(o);
    if (o instanceof WeakRef || ArrayBuffer.isView(o)) continue; // a weak target, or bytes
    if (o instanceof Map) o.forEach((v, k) => (next(k), next(v)));
    else if (o instanceof Set) o.forEach(next);
    for (const k of Object.getOwnPropertyNames(o)) {
      const d = Object.getOwnPropertyDescriptor(o, k);
      if (d && 'value' in d) next(d.value);
    }
  }
  return seen;
}

/**
 * A connection to a raw peer (timestamps and SACK on) that our side closes first and the peer
 * then closes: our end waits in TIME_WAIT, parked. The peer's TSval is 2000 at its FIN.
 */
function parkedTimeWait() {
  const { sock, peer } = connectToRawPeer({ timestamp: { tsVal: 1000, tsEcr: 0 }, sackPermitted: true });
  sock.close();
  settle([peer.stack], 1);
  const fin = peer.drain().find((s) => s.flags & TcpFlag.FIN)!;
  peer.rcvNxt = (fin.seqNumber + 1) >>> 0;
  peer.send({ flags: TcpFlag.FIN, timestamp: { tsVal: 2000, tsEcr: 0 } });
  peer.seq = (peer.seq + 1) >>> 0;
  settle([peer.stack], 2);
  expect(peer.drain().length).toBe(1); // the ACK of the FIN
  settle([peer.stack], 3);
  const listed = peer.stack.sockets().filter((e) => e.remote?.addr.equals(THEM));
  expect(listed.map((e) => e.state)).toEqual([6]);
  return { sock, peer, stack: peer.stack, tw: listed[0]!.tcp! };
}

/** Sends `seg` from the peer at time `now`; returns what our side sent back. */
function exchange(p: ReturnType<typeof parkedTimeWait>, now: number, seg: Partial<TcpRepr>): TcpRepr[] {
  p.peer.send(seg);
  settle([p.stack], now);
  return p.peer.drain();
}

describe('a parked TIME_WAIT connection', () => {
  it('is a record of what TIME_WAIT needs: the stack holds neither the socket nor its state', () => {
    const { sock, stack, tw } = parkedTimeWait();
    expect(tw).toBeInstanceOf(TcpTimeWait);
    // Of the record, apart from the stack it belongs to: a few small objects, no rings, no
    // scoreboard, no socket.
    const kept = reachable(tw, [stack, Object.getPrototypeOf(tw) as object]);
    expect(
      [...kept].some((o) => o instanceof RingBuffer || o instanceof SackScoreboard || o instanceof TcpSocket),
    ).toBe(false);
    expect(kept.size).toBeLessThan(12);
    // Nothing of the stack leads to the socket any more: once the application drops it, it is
    // garbage (the record follows it by a weak reference only).
    expect(reachable(stack).has(sock)).toBe(false);
    expect(sock.state).toBe('TIME_WAIT'); // for whoever still holds it
    expect(tw.pendingTimer).toEqual({ kind: 3, at: 2 + 60_000 });
  });

  it('acknowledges an old timestamp (PAWS), a SYN and an inexact RST, and ends on an exact RST', () => {
    const p = parkedTimeWait();
    const paws = p.stack.mib.tcpExt.PAWSEstab;
    const ack = (r: TcpRepr[]): unknown[] => r.map((s) => [s.flags, s.seqNumber, s.ackNumber]);
    const ours = p.peer.rcvNxt;
    const expected = [[0, ours, p.peer.seq]]; // a bare ACK (the ACK bit is the ack number)
    expect(ack(exchange(p, 4, { flags: 0, timestamp: { tsVal: 1500, tsEcr: 0 } }))).toEqual(expected);
    expect(p.stack.mib.tcpExt.PAWSEstab).toBe(paws + 1);
    const syn = { flags: TcpFlag.SYN, seqNumber: (p.peer.seq + 100) >>> 0, ackNumber: undefined };
    expect(ack(exchange(p, 5, { ...syn, timestamp: { tsVal: 3000, tsEcr: 0 } }))).toEqual(expected);
    const off = { flags: TcpFlag.RST, seqNumber: (p.peer.seq + 1) >>> 0 };
    expect(ack(exchange(p, 6, off))).toEqual(expected);
    expect(p.sock.state).toBe('TIME_WAIT');
    // The ACKs came at once: the record is still parked (next deadline: its end).
    expect(settle([p.stack], 7)).toBe(2 + 60_000);
    expect(exchange(p, 8, { flags: TcpFlag.RST })).toEqual([]);
    expect(p.sock.state).toBe('CLOSED');
    expect(p.tw.state).toBe('CLOSED');
    expect(p.stack.sockets().filter((e) => e.protocol === 'tcp')).toEqual([]);
    expect(settle([p.stack], 9)).toBeUndefined(); // nothing left to wait for
  });

  it('holds its port until it ends (here by SOCK_DESTROY), as the socket did', () => {
    const p = parkedTimeWait();
    const bind = (): unknown => p.stack.tcpSocket(4, bufs()).bind({ addr: ME, port: 40000 });
    expect(bind()).toBe(E.EADDRINUSE);
    p.tw.destroy(E.ECONNABORTED);
    expect(p.sock.state).toBe('CLOSED');
    expect(p.stack.sockets().filter((e) => e.protocol === 'tcp')).toEqual([]);
    expect(bind()).toBeUndefined();
  });

  it('acknowledges a repeated FIN again each time, restarting its timer', () => {
    const p = parkedTimeWait();
    const fin = {
      flags: TcpFlag.FIN,
      seqNumber: (p.peer.seq - 1) >>> 0,
      timestamp: { tsVal: 2500, tsEcr: 0 },
    };
    for (const now of [1000, 2000]) {
      const got = exchange(p, now, fin);
      expect(got.map((s) => [s.ackNumber, s.timestamp?.tsEcr])).toEqual([[p.peer.seq, 2000]]);
      expect(p.tw.pendingTimer).toEqual({ kind: 3, at: now + 60_000 });
      expect(settle([p.stack], now + 1)).toBe(now + 60_000);
    }
    settle([p.stack], 2000 + 60_000);
    expect(p.sock.state).toBe('CLOSED');
  });
});
