// TIME_WAIT connections the application closed, as the stack parks them (TcpTimeWait): what the
// stack keeps of one, and how it answers its peer, holds its port and ends.
import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { linkPair } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { Ipv4Packet } from '../wire/ipv4.js';
import { RingBuffer } from '../storage/ring-buffer.js';
import { TcpFlag, TcpPacket, TcpRepr } from '../wire/tcp.js';
import { SackScoreboard } from './sack-scoreboard.js';
import { TcpSocket } from './tcp.js';
import { ME, RawPeer, THEM, connectToRawPeer } from './tcp-peer.test-util.js';
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
 * A connection to a raw peer (timestamps and SACK on, unless `ts` is false) that our side closes
 * first (or, with `end` 'shutdown', shuts down for writing and keeps) and the peer then closes:
 * our end waits in TIME_WAIT, parked when closed. The peer's TSval is `synTsVal` (1000) in its
 * SYN-ACK and `finTsVal` (2000) at its FIN, at time 2. `monotonicOffset`: the stack's.
 */
function parkedTimeWait({
  end = 'close',
  ts = true,
  reuseAddr = false,
  synTsVal = 1000,
  finTsVal = 2000,
  monotonicOffset = 0,
} = {}) {
  const { sock, peer } = connectToRawPeer(
    ts ? { timestamp: { tsVal: synTsVal, tsEcr: 0 }, sackPermitted: true } : {},
    { monotonicOffset },
  );
  sock.reuseAddr = reuseAddr;
  if (end === 'close') sock.close();
  else sock.shutdownWrite();
  settle([peer.stack], 1);
  const fin = peer.drain().find((s) => s.flags & TcpFlag.FIN)!;
  peer.rcvNxt = (fin.seqNumber + 1) >>> 0;
  peer.send({ flags: TcpFlag.FIN, timestamp: ts ? { tsVal: finTsVal, tsEcr: 0 } : undefined });
  peer.seq = (peer.seq + 1) >>> 0;
  settle([peer.stack], 2);
  expect(peer.drain().length).toBe(1); // the ACK of the FIN
  settle([peer.stack], 3);
  const listed = peer.stack.sockets().filter((e) => e.remote?.addr.equals(THEM));
  expect(listed.map((e) => e.state)).toEqual([6]);
  return { sock, peer, stack: peer.stack, tw: listed[0]!.tcp! };
}

/**
 * {@link parkedTimeWait} of a socket with SO_REUSEADDR, and a listener with it on the same port,
 * as a server has when a client of its own port left (the TIME_WAIT stays held by the
 * application with `end` 'shutdown').
 */
function timeWaitUnderListener(opts: { end?: 'close' | 'shutdown'; ts?: boolean } = {}) {
  const p = parkedTimeWait({ ...opts, reuseAddr: true });
  const listener = p.stack.tcpListener(4, () => bufs());
  listener.reuseAddr = true;
  expect(listener.bind({ addr: ME, port: 40000 })).toBeUndefined();
  listener.listen(8);
  // What the record sent last: SND.NXT is its FIN's sequence number plus one.
  const sndNxt = p.peer.rcvNxt;
  const tcpStates = (): number[] =>
    p.stack
      .sockets()
      .filter((e) => e.protocol === 'tcp')
      .map((e) => e.state)
      .sort((x, y) => x - y);
  return { ...p, listener, sndNxt, tcpStates };
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

  it('acknowledges an old timestamp (PAWS) and a SYN, drops an inexact RST, and ends on an exact RST', () => {
    const p = parkedTimeWait();
    const paws = p.stack.mib.tcpExt.PAWSTimewait;
    const ack = (r: TcpRepr[]): unknown[] => r.map((s) => [s.flags, s.seqNumber, s.ackNumber]);
    const ours = p.peer.rcvNxt;
    const expected = [[0, ours, p.peer.seq]]; // a bare ACK (the ACK bit is the ack number)
    expect(ack(exchange(p, 4, { flags: 0, timestamp: { tsVal: 1500, tsEcr: 0 } }))).toEqual(expected);
    expect(p.stack.mib.tcpExt.PAWSTimewait).toBe(paws + 1);
    // A new connection's SYN with no listener to take it (TCP_TW_SYN): acknowledged, and never
    // rate limited.
    const syn = { flags: TcpFlag.SYN, seqNumber: (p.peer.seq + 100) >>> 0, ackNumber: undefined };
    expect(ack(exchange(p, 5, { ...syn, timestamp: { tsVal: 3000, tsEcr: 0 } }))).toEqual(expected);
    // No challenge ACK from TIME_WAIT: the RST is dropped.
    const off = { flags: TcpFlag.RST, seqNumber: (p.peer.seq + 1) >>> 0 };
    expect(ack(exchange(p, 6, off))).toEqual([]);
    expect(p.sock.state).toBe('TIME_WAIT');
    // The ACKs came at once: the record is still parked (next deadline: its end, restarted by
    // the segment PAWS rejected).
    expect(settle([p.stack], 7)).toBe(4 + 60_000);
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

describe('TIME_WAIT answers as tcp_timewait_state_process', () => {
  const SYN = { flags: TcpFlag.SYN, ackNumber: undefined } as const;
  const timerEnd = (p: ReturnType<typeof parkedTimeWait>): number | undefined => p.tw.pendingTimer?.at;

  // A parked record, and a socket the application still holds, answer alike.
  for (const end of ['close', 'shutdown'] as const) {
    it(`restarts its timer for an ACK of its FIN again (silently), and for segments out of the window with ACK or failing PAWS (after ${end})`, () => {
      const p = parkedTimeWait({ end });
      // At RCV.NXT without data, SYN or FIN: the only segment in the window.
      expect(exchange(p, 1000, {})).toEqual([]);
      expect(timerEnd(p)).toBe(1000 + 60_000);
      expect(exchange(p, 2000, { seqNumber: (p.peer.seq + 1000) >>> 0 })).toHaveLength(1);
      expect(timerEnd(p)).toBe(2000 + 60_000);
      const paws = p.stack.mib.tcpExt.PAWSTimewait;
      expect(exchange(p, 3000, { ackNumber: undefined, timestamp: { tsVal: 1500, tsEcr: 0 } })).toHaveLength(
        1,
      );
      expect(p.stack.mib.tcpExt.PAWSTimewait).toBe(paws + 1);
      expect(timerEnd(p)).toBe(3000 + 60_000);
      // A SYN without ACK may be a new connection's with a random ISN: answered, no restart.
      const oldSyn = { ...SYN, seqNumber: (p.peer.seq - 1000) >>> 0, timestamp: { tsVal: 2000, tsEcr: 0 } };
      expect(exchange(p, 4000, oldSyn)).toHaveLength(1);
      // Neither for a RST out of the window, which is dropped.
      expect(exchange(p, 5000, { flags: TcpFlag.RST, seqNumber: (p.peer.seq + 1) >>> 0 })).toEqual([]);
      expect(timerEnd(p)).toBe(3000 + 60_000);
      settle([p.stack], 3000 + 60_000);
      expect(p.sock.state).toBe('CLOSED');
    });

    it(`answers SYNs out of the window at most once per 500 ms, as other segments without data (after ${end})`, () => {
      const p = parkedTimeWait({ end });
      const skipped = p.stack.mib.tcpExt.TCPACKSkippedTimeWait;
      const oldSyn = { ...SYN, seqNumber: (p.peer.seq - 1000) >>> 0, timestamp: { tsVal: 2000, tsEcr: 0 } };
      expect(exchange(p, 1000, oldSyn)).toHaveLength(1);
      expect(exchange(p, 1100, oldSyn)).toEqual([]);
      expect(exchange(p, 1200, { seqNumber: (p.peer.seq + 1000) >>> 0 })).toEqual([]);
      expect(p.stack.mib.tcpExt.TCPACKSkippedTimeWait).toBe(skipped + 2);
      // A FIN (or data) cannot be part of an ACK loop: always answered.
      expect(exchange(p, 1300, { flags: TcpFlag.FIN, seqNumber: (p.peer.seq - 1) >>> 0 })).toHaveLength(1);
      expect(exchange(p, 1500, oldSyn)).toHaveLength(1);
      expect(p.stack.mib.tcpExt.TCPACKSkippedTimeWait).toBe(skipped + 2);
    });

    it(`takes the interval from net.ipv4.tcp_invalid_ratelimit (after ${end})`, () => {
      const p = parkedTimeWait({ end });
      p.stack.sysctl.invalidRatelimit = 100;
      const oldSyn = { ...SYN, seqNumber: (p.peer.seq - 1000) >>> 0, timestamp: { tsVal: 2000, tsEcr: 0 } };
      expect(exchange(p, 1000, oldSyn)).toHaveLength(1);
      expect(exchange(p, 1050, oldSyn)).toEqual([]);
      expect(exchange(p, 1100, oldSyn)).toHaveLength(1);
      p.stack.sysctl.invalidRatelimit = 0;
      expect(exchange(p, 1101, oldSyn)).toHaveLength(1);
    });

    it(`lets every TSval through PAWS while TS.Recent is 0 (tcp_paws_check; after ${end})`, () => {
      const p = parkedTimeWait({ end, synTsVal: 0, finTsVal: 0 });
      const paws = p.stack.mib.tcpExt.PAWSTimewait;
      // Before 0 in TSval order, yet in the window: taken silently, and its TSval as TS.Recent.
      expect(exchange(p, 1000, { timestamp: { tsVal: 0xffff0000, tsEcr: 0 } })).toEqual([]);
      expect(p.stack.mib.tcpExt.PAWSTimewait).toBe(paws);
      const got = exchange(p, 2000, {
        seqNumber: (p.peer.seq + 1000) >>> 0,
        timestamp: { tsVal: 0xffff0001, tsEcr: 0 },
      });
      expect(got.map((s) => s.timestamp?.tsEcr)).toEqual([0xffff0000]);
    });

    it(`holds PAWS against an exact RST until TS.Recent is 60 s old (tcp_paws_reject; after ${end})`, () => {
      const p = parkedTimeWait({ end }); // TS.Recent 2000, taken at time 2
      const paws = p.stack.mib.tcpExt.PAWSTimewait;
      const rst = { flags: TcpFlag.RST, ackNumber: undefined, timestamp: { tsVal: 1500, tsEcr: 0 } };
      expect(exchange(p, 1000, rst)).toEqual([]);
      expect(p.sock.state).toBe('TIME_WAIT');
      expect(p.stack.mib.tcpExt.PAWSTimewait).toBe(paws + 1);
      // An ACK without timestamps keeps the connection waiting, and TS.Recent as it was.
      expect(exchange(p, 30_000, {})).toEqual([]);
      expect(exchange(p, 2 + 60_000, rst)).toEqual([]);
      expect(p.sock.state).toBe('CLOSED');
      expect(p.stack.mib.tcpExt.PAWSTimewait).toBe(paws + 1);
    });

    it(`with net.ipv4.tcp_rfc1337 1 outlives an exact RST, keeping only its TSval (after ${end})`, () => {
      const p = parkedTimeWait({ end }); // TS.Recent 2000; the timer ends at 2 + 60 s
      const rst = (tsVal: number): Partial<TcpRepr> => ({
        flags: TcpFlag.RST,
        ackNumber: undefined,
        timestamp: { tsVal, tsEcr: 0 },
      });
      p.stack.sysctl.rfc1337 = 1;
      expect(exchange(p, 1000, rst(2500))).toEqual([]);
      expect(p.sock.state).toBe('TIME_WAIT');
      expect(timerEnd(p)).toBe(2 + 60_000); // a RST does not restart it
      // The next ACK (to a segment out of the window) echoes the RST's TSval.
      const got = exchange(p, 2000, { seqNumber: (p.peer.seq + 1000) >>> 0 });
      expect(got.map((s) => s.timestamp?.tsEcr)).toEqual([2500]);
      // Read for each segment: back at 0, the same RST ends the connection.
      p.stack.sysctl.rfc1337 = 0;
      expect(exchange(p, 3000, rst(2600))).toEqual([]);
      expect(p.sock.state).toBe('CLOSED');
    });
  }
});

describe('a SYN for a TIME_WAIT connection (TCP_TW_SYN)', () => {
  const SYN = { flags: TcpFlag.SYN, ackNumber: undefined } as const;
  type Bench = ReturnType<typeof timeWaitUnderListener>;
  /** The SYN-ACK of a new connection, or the bare ACK of the old one, as [flags, SEQ, ACK]. */
  const answer = (r: TcpRepr[]): unknown[] => r.map((s) => [s.flags, s.seqNumber, s.ackNumber]);
  const newConnection = (b: Bench, seq: number): unknown[] => [
    [TcpFlag.SYN, (b.sndNxt + 65535 + 2) >>> 0, (seq + 1) >>> 0],
  ];
  const oldAck = (b: Bench): unknown[] => [[0, b.peer.rcvNxt, b.peer.seq]];

  for (const end of ['close', 'shutdown'] as const) {
    it(`starts a new connection when it comes after RCV.NXT (TIME_WAIT after ${end})`, () => {
      const b = timeWaitUnderListener({ end });
      expect(b.tcpStates()).toEqual([6, 10]);
      const seq = (b.peer.seq + 100) >>> 0;
      // TSval as TS.Recent: neither newer nor older; the sequence number decides.
      const got = exchange(b, 10, { ...SYN, seqNumber: seq, timestamp: { tsVal: 2000, tsEcr: 0 } });
      expect(answer(got)).toEqual(newConnection(b, seq));
      expect(b.sock.state).toBe('CLOSED');
      expect(b.tcpStates()).toEqual([3, 10]);
    });
  }

  it('starts a new connection when its TSval is newer, even below RCV.NXT', () => {
    const b = timeWaitUnderListener();
    const seq = (b.peer.seq - 1000) >>> 0;
    const got = exchange(b, 10, { ...SYN, seqNumber: seq, timestamp: { tsVal: 2001, tsEcr: 0 } });
    expect(answer(got)).toEqual(newConnection(b, seq));
    expect(b.tw.state).toBe('CLOSED');
  });

  it('acknowledges an old SYN: no newer sequence number or TSval, or failing PAWS', () => {
    const b = timeWaitUnderListener();
    const old = (b.peer.seq - 1000) >>> 0;
    // Each 500 ms after the last (tcp_invalid_ratelimit).
    expect(answer(exchange(b, 10, { ...SYN, seqNumber: old, timestamp: { tsVal: 2000, tsEcr: 0 } }))).toEqual(
      oldAck(b),
    );
    expect(answer(exchange(b, 1000, { ...SYN, seqNumber: b.peer.seq }))).toEqual(oldAck(b));
    const paws = b.stack.mib.tcpExt.PAWSTimewait;
    const after = (b.peer.seq + 100) >>> 0;
    expect(
      answer(exchange(b, 2000, { ...SYN, seqNumber: after, timestamp: { tsVal: 1999, tsEcr: 0 } })),
    ).toEqual(oldAck(b));
    expect(b.stack.mib.tcpExt.PAWSTimewait).toBe(paws + 1);
    expect(b.tw.state).toBe('TIME_WAIT');
    expect(b.tcpStates()).toEqual([6, 10]);
  });

  it('never takes a SYN with ACK or RST for a new connection (one with RST out of the window is dropped)', () => {
    const b = timeWaitUnderListener();
    const after = (b.peer.seq + 100) >>> 0;
    const ts = { tsVal: 3000, tsEcr: 0 };
    expect(answer(exchange(b, 10, { flags: TcpFlag.SYN, seqNumber: after, timestamp: ts }))).toEqual(
      oldAck(b),
    );
    expect(
      answer(exchange(b, 11, { ...SYN, flags: TcpFlag.SYN | TcpFlag.RST, seqNumber: after, timestamp: ts })),
    ).toEqual([]);
    expect(b.tw.state).toBe('TIME_WAIT');
    expect(b.tcpStates()).toEqual([6, 10]);
  });

  it('without timestamps, a sequence number after RCV.NXT still opens one', () => {
    const b = timeWaitUnderListener({ ts: false });
    // A newer TSval counts only when the connection had timestamps: this SYN is old.
    const old = (b.peer.seq - 1) >>> 0;
    expect(answer(exchange(b, 10, { ...SYN, seqNumber: old, timestamp: { tsVal: 5, tsEcr: 0 } }))).toEqual(
      oldAck(b),
    );
    const seq = (b.peer.seq + 1) >>> 0;
    expect(answer(exchange(b, 11, { ...SYN, seqNumber: seq }))).toEqual(newConnection(b, seq));
  });
});

describe('the ISN and TSval offset of a new connection (RFC 6528, as Linux)', () => {
  /** The SYN a fresh socket of `stack` sends at `now` from ME:`port` to THEM:80. */
  function synAt(stack: Stack, now: number, port: number): TcpRepr {
    settle([stack], now);
    const s = stack.tcpSocket(4, bufs());
    s.reuseAddr = true;
    expect(s.bind({ addr: ME, port })).toBeUndefined();
    s.connect({ addr: THEM, port: 80 });
    settle([stack], now);
    const syn = drainSyns(stack);
    s.close();
    return syn;
  }
  const links = new Map<Stack, ReturnType<typeof linkPair>[1]>();
  function drainSyns(stack: Stack): TcpRepr {
    const dev = links.get(stack)!;
    const out: TcpRepr[] = [];
    for (let f = dev.receive(0); f; f = dev.receive(0)) {
      const ip = Ipv4Packet.checked(f) as Ipv4Packet;
      out.push(TcpRepr.parse(TcpPacket.checked(ip.payload) as TcpPacket, ME, THEM) as TcpRepr);
    }
    expect(out.map((s) => s.flags)).toEqual([TcpFlag.SYN]);
    return out[0]!;
  }
  function stackOf(seed: number, monotonicOffset?: number): Stack {
    const [dev, peerDev] = linkPair();
    const stack = new Stack({
      device: dev,
      addresses: [cidr('10.0.0.1/24')],
      seed,
      ...(monotonicOffset !== undefined ? { monotonicOffset } : {}),
    });
    links.set(stack, peerDev);
    return stack;
  }

  it('increase with the clock for the same addresses and ports; both differ for other ports', () => {
    const stack = stackOf(17);
    const first = synAt(stack, 1000, 40000);
    const again = synAt(stack, 3000, 40000);
    // secure_tcp_seq's clock: 64 ns ticks; TSvals go on from the same offset.
    expect((again.seqNumber - first.seqNumber) >>> 0).toBe(2000 * 15625);
    expect((again.timestamp!.tsVal - first.timestamp!.tsVal) >>> 0).toBe(2000);
    // secure_tcp_seq_and_ts_off: one hash of the addresses and ports gives both.
    const other = synAt(stack, 3000, 40001);
    expect(other.seqNumber).not.toBe(again.seqNumber);
    expect(other.timestamp!.tsVal).not.toBe(again.timestamp!.tsVal);
    // The secret is the stack's own.
    const elsewhere = synAt(stackOf(18), 3000, 40000);
    expect(elsewhere.seqNumber).not.toBe(again.seqNumber);
    expect(elsewhere.timestamp!.tsVal).not.toBe(again.timestamp!.tsVal);
  });

  it('have no TSval offset with net.ipv4.tcp_timestamps 2, in a SYN and in a SYN-ACK', () => {
    const stack = stackOf(17);
    expect(synAt(stack, 3000, 40000).timestamp!.tsVal).not.toBe(3000);
    stack.sysctl.timestamps = 2;
    expect(synAt(stack, 4000, 40001).timestamp!.tsVal).toBe(4000);
    const listener = stack.tcpListener(4, () => bufs());
    expect(listener.bind({ addr: ME, port: 40000 })).toBeUndefined();
    listener.listen(8);
    const peer = new RawPeer(stack, links.get(stack)!);
    peer.send({ flags: TcpFlag.SYN, ackNumber: undefined, timestamp: { tsVal: 1, tsEcr: 0 } });
    settle([stack], 5000);
    expect(peer.drain().map((s) => [s.flags, s.timestamp?.tsVal])).toEqual([[TcpFlag.SYN, 5000]]);
  });

  it('differ between the SYN-ACKs of a listener to two ports of one peer', () => {
    const stack = stackOf(17);
    const listener = stack.tcpListener(4, () => bufs());
    expect(listener.bind({ addr: ME, port: 40000 })).toBeUndefined();
    listener.listen(8);
    const peer = new RawPeer(stack, links.get(stack)!);
    const synAck = (port: number): number => {
      peer.send({
        flags: TcpFlag.SYN,
        srcPort: port,
        ackNumber: undefined,
        timestamp: { tsVal: 1, tsEcr: 0 },
      });
      settle([stack], 1000);
      return peer.drain()[0]!.timestamp!.tsVal;
    };
    expect(synAck(50000)).not.toBe(synAck(50001));
  });

  it('count CLOCK_MONOTONIC milliseconds: the poll clock plus StackConfig.monotonicOffset', () => {
    // tcp_timestamps 2: no offset, the TSval is the clock itself.
    const offset = 86_400_000.75;
    const stack = stackOf(17, offset);
    stack.sysctl.timestamps = 2;
    expect(synAt(stack, 4000.5, 40001).timestamp!.tsVal).toBe(Math.floor(4000.5 + offset));
    const listener = stack.tcpListener(4, () => bufs());
    expect(listener.bind({ addr: ME, port: 40000 })).toBeUndefined();
    listener.listen(8);
    const peer = new RawPeer(stack, links.get(stack)!);
    peer.send({ flags: TcpFlag.SYN, ackNumber: undefined, timestamp: { tsVal: 1, tsEcr: 0 } });
    settle([stack], 5000.25);
    expect(peer.drain().map((s) => s.timestamp?.tsVal)).toEqual([86_405_001]);
    // TCP_TIMESTAMP of a socket not yet connected, read now (Linux clears the low bit, its µs flag).
    expect(stack.tcpSocket(4, bufs()).timestampNow()).toBe(86_405_001 & ~1);
    // A TIME_WAIT record's ACK: the same connection, one stack's clock a million ms ahead.
    const ackTsVal = (monotonicOffset: number): number => {
      const p = parkedTimeWait({ monotonicOffset });
      return exchange(p, 8000.5, { seqNumber: (p.peer.seq + 1000) >>> 0 })[0]!.timestamp!.tsVal;
    };
    expect((ackTsVal(1_000_000) - ackTsVal(0)) >>> 0).toBe(1_000_000);
  });
});
