// The event-driven poll (Stack.poll, Stack.touch): a poll looks at the connections something
// happened to, not at every connection, so idle connections cost nothing per poll; and the audit
// (StackConfig.auditQuiet), which asks the others whether they had work, finds none.
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { LoopbackDevice } from './phy/loopback.js';
import { TimerHeap, type HeapEntry } from './socket/timer-heap.js';
import { TcpSocket } from './socket/tcp.js';
import { UdpSocket } from './socket/udp.js';
import { Stack } from './stack.js';
import { runUntil, settle } from './stack.test-util.js';
import { RingBuffer } from './storage/ring-buffer.js';
import { Ipv4Address } from './wire/ip-address.js';
import { cidr } from './iface/interface.js';

const bufs = () => ({ rx: new RingBuffer(new Uint8Array(16384)), tx: new RingBuffer(new Uint8Array(16384)) });

function loopStack(auditQuiet = true): Stack {
  return new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 7, auditQuiet });
}

/** A connected pair on `stack` (client, accepted server side). */
function pair(stack: Stack, port: number, now: number): [TcpSocket, TcpSocket] {
  const l = stack.tcpListener(4, bufs);
  l.bind({ addr: Ipv4Address.UNSPECIFIED, port });
  l.listen(8);
  const c = stack.tcpSocket(4, bufs());
  c.connect({ addr: Ipv4Address.parse('127.0.0.1')!, port });
  settle([stack], now);
  const s = l.accept();
  if (!(s instanceof TcpSocket)) throw new Error('no connection');
  l.close();
  return [c, s];
}

describe('event-driven poll', () => {
  it('dispatches only the connections something happened to, however many are idle', () => {
    const stack = loopStack();
    for (let i = 0; i < 150; i++) pair(stack, 2000 + i, 0);
    const [c, s] = pair(stack, 9000, 0);
    settle([stack], 1000); // past the rescan interval: everything looked at once more
    const dispatch = vi.spyOn(TcpSocket.prototype, 'dispatch');
    try {
      const out = new Uint8Array(5);
      for (let round = 0; round < 20; round++) {
        const now = 1001 + round * 0.01; // within one rescan interval
        expect(c.send(new TextEncoder().encode('hello'))).toBe(5);
        settle([stack], now);
        expect(s.recv(out)).toBe(5);
        settle([stack], now);
      }
      // 300 idle connections; each round moves one segment and its ACK between two.
      expect(dispatch.mock.calls.length).toBeLessThan(20 * 12);
    } finally {
      dispatch.mockRestore();
    }
    expect(stack.quietViolations).toEqual([]);
  });

  it('runs the readiness watchers of touched sockets only', () => {
    const stack = loopStack(false); // the audit reads every watcher
    const owners: object[] = [];
    let reads = 0;
    const conns: TcpSocket[] = [];
    for (let i = 0; i < 50; i++) {
      const [c, s] = pair(stack, 3000 + i, 0);
      for (const sock of [c, s]) {
        const owner = {};
        sock.owner = owner;
        owners.push(owner);
        stack.watch(
          owner,
          () => {
            reads++;
            return sock.readiness();
          },
          () => {},
          owner,
        );
        conns.push(sock);
      }
    }
    settle([stack], 1000);
    reads = 0;
    const [a, b] = [conns[0]!, conns[1]!];
    let woke = 0;
    stack.watch(
      {},
      () => b.readiness(),
      () => woke++,
      b.owner,
    );
    a.send(new Uint8Array([1, 2, 3]));
    settle([stack], 1000.5);
    expect(woke).toBeGreaterThan(0); // b became readable and its watcher ran
    expect(reads).toBeLessThan(20); // not 100 watchers per poll
  });

  it('a paused watcher reads no readiness; resumed, it reports only what changes after', () => {
    for (const auditQuiet of [true, false]) {
      const stack = loopStack(auditQuiet);
      const [c, s] = pair(stack, 3500, 0);
      c.owner = {};
      s.owner = {};
      const heard: number[] = [];
      let reads = 0;
      const key = {};
      const readiness = (): number => {
        reads++;
        return c.readiness();
      };
      stack.watch(key, readiness, (ev) => heard.push(ev), c.owner);
      stack.followWatcher(key, false);
      s.send(new Uint8Array([1]));
      settle([stack], 1);
      expect([reads, heard]).toEqual([0, []]); // paused: not even the first report
      stack.followWatcher(key, true);
      expect(reads).toBe(1); // the bits now, taken as known
      settle([stack], 2);
      expect(heard).toEqual([]);
      s.send(new Uint8Array([2]));
      c.recv(new Uint8Array(2));
      s.close();
      settle([stack], 3);
      expect(heard.length).toBe(1); // the peer's FIN: readable (end of file) again
      expect(heard[0]).toBe(c.readiness());
    }
  });

  it('keeps every timer of a connection it does not look at (keepalive, TIME_WAIT, retransmission)', () => {
    const stack = loopStack();
    const [c, s] = pair(stack, 4000, 0);
    c.keepAlive = true;
    c.keepIdle = 10;
    c.keepIntvl = 1;
    stack.touch(c); // a field set directly: the caller says so
    stack.sysctl.finTimeout = 60;
    const before = c.stats.segmentsSent;
    runUntil([stack], 1, () => c.stats.segmentsSent >= before + 1, 20_000);
    expect(c.stats.segmentsSent).toBeGreaterThan(before); // the keepalive probe left at 10 s
    c.close();
    s.close();
    const t = runUntil([stack], 20_000, () => c.state === 'CLOSED' && s.state === 'CLOSED', 200_000);
    expect(c.state).toBe('CLOSED'); // TIME_WAIT ended by its own timer
    expect(t).toBeGreaterThan(60_000);
    expect(stack.quietViolations).toEqual([]);
  });

  it('the audit finds a field changed without touch, and touch is what it wants', () => {
    for (const told of [false, true]) {
      const stack = loopStack();
      const [c] = pair(stack, 5000, 0);
      settle([stack], 10);
      c.keepAlive = true;
      c.keepIdle = 5;
      if (told) stack.touch(c);
      settle([stack], 20);
      expect(stack.quietViolations.length > 0).toBe(!told);
    }
  });

  it('finds a connection by its ports: a segment costs no scan of the others, parked ones too', () => {
    const stack = loopStack();
    const l = stack.tcpListener(4, bufs);
    l.bind({ addr: Ipv4Address.UNSPECIFIED, port: 7000 });
    l.listen(4096);
    const clients: TcpSocket[] = [];
    const servers: TcpSocket[] = [];
    for (let batch = 0; batch < 3; batch++) {
      for (let i = 0; i < 500; i++) {
        const c = stack.tcpSocket(4, bufs());
        c.connect({ addr: Ipv4Address.parse('127.0.0.1')!, port: 7000 });
        clients.push(c);
      }
      settle([stack], 0);
      for (let s = l.accept(); s instanceof TcpSocket; s = l.accept()) servers.push(s);
    }
    expect(servers).toHaveLength(1500);
    // The first 500 close first: their ends wait in TIME_WAIT, parked.
    for (let i = 0; i < 500; i++) clients[i]!.close();
    settle([stack], 1);
    for (let i = 0; i < 500; i++) servers[i]!.close();
    settle([stack], 2);
    expect(clients[0]!.state).toBe('TIME_WAIT');
    const matches = vi.spyOn(TcpSocket.prototype, 'matches');
    try {
      // A new connection (SYN, SYN-ACK, ACK), then data both ways on an old one.
      const c = stack.tcpSocket(4, bufs());
      c.connect({ addr: Ipv4Address.parse('127.0.0.1')!, port: 7000 });
      settle([stack], 3);
      expect(c.state).toBe('ESTABLISHED');
      expect(clients[1200]!.send(new Uint8Array([1, 2, 3]))).toBe(3);
      settle([stack], 4);
      expect(servers[1200]!.recv(new Uint8Array(8))).toBe(3);
      // A segment for a parked connection finds it (and it answers as TIME_WAIT does).
      const parked = clients[10]!;
      const peer = parked.remote!;
      const got = parked.stats.segmentsReceived;
      stack.tcpInput(5, peer.addr, parked.local!.addr, {
        srcPort: peer.port,
        dstPort: parked.local!.port,
        seqNumber: 12345,
        ackNumber: 1,
        flags: 0x10,
        windowLen: 100,
        payload: new Uint8Array(0),
      } as never);
      expect(parked.stats.segmentsReceived).toBe(got + 1); // found (not a RST from the listener)
      expect(matches.mock.calls.length).toBeLessThan(20); // not thousands
    } finally {
      matches.mockRestore();
    }
    expect(stack.quietViolations).toEqual([]); // the audit checks the lookup after every poll
  });

  it('retires connections that close together without a scan of the others', () => {
    const stack = loopStack();
    const pairs = Array.from({ length: 300 }, (_, i) => pair(stack, 12_000 + i, 0));
    settle([stack], 1000);
    // Arrays longer than this that a poll searched or spliced: each retired connection's own
    // list position is known, so none (the bucket of its ports holds one or two).
    const long = (spy: { mock: { contexts: unknown[] } }): number =>
      spy.mock.contexts.filter((a) => Array.isArray(a) && a.length > 64).length;
    const indexOf = vi.spyOn(Array.prototype, 'indexOf');
    const splice = vi.spyOn(Array.prototype, 'splice');
    try {
      for (const [c] of pairs.slice(0, 200)) c.close();
      settle([stack], 1001);
      for (const [, s] of pairs.slice(0, 200)) s.close();
      settle([stack], 1002);
      expect(long(indexOf)).toBe(0);
      expect(long(splice)).toBe(0);
    } finally {
      indexOf.mockRestore();
      splice.mockRestore();
    }
    const states = stack.sockets().map((e) => e.state);
    expect(states.filter((s) => s === 6)).toHaveLength(200); // the clients' ends, parked
    expect(states.filter((s) => s === 1)).toHaveLength(200); // the 100 pairs left
    // The others go on as before.
    const [c, s] = pairs[250]!;
    expect(c.send(new Uint8Array([1, 2, 3]))).toBe(3);
    settle([stack], 1003);
    expect(s.recv(new Uint8Array(8))).toBe(3);
    expect(stack.quietViolations).toEqual([]); // the audit checks every position after each poll
  });

  it('looks at idle connections in turn, a slice per interval, and at all after touchAll', () => {
    const stack = loopStack(false);
    for (let i = 0; i < 300; i++) pair(stack, 10_000 + i, 0); // 600 connections
    settle([stack], 1000);
    const dispatch = vi.spyOn(TcpSocket.prototype, 'dispatch');
    try {
      stack.poll(1200); // one interval later: the next slice, not all 600
      expect(dispatch.mock.calls.length).toBeGreaterThan(100);
      expect(dispatch.mock.calls.length).toBeLessThan(400);
      // Three more intervals have looked at every connection.
      for (const t of [1300, 1400, 1500]) stack.poll(t);
      expect(new Set(dispatch.mock.contexts).size).toBe(600);
      dispatch.mockClear();
      stack.touchAll();
      stack.poll(1501);
      expect(dispatch.mock.calls.length).toBe(600);
    } finally {
      dispatch.mockRestore();
    }
  });

  it('delivers a datagram among the sockets of its port only, and dispatches only those with some queued', () => {
    const stack = loopStack();
    const lo = Ipv4Address.parse('127.0.0.1')!;
    for (let i = 0; i < 1000; i++) stack.udpSocket(4).bind({ addr: lo, port: 20_000 + i });
    // Two on one port with SO_REUSEADDR: the first made takes it, though it bound last.
    const [first, second] = [stack.udpSocket(4), stack.udpSocket(4)];
    first.reuseAddr = second.reuseAddr = true;
    expect(second.bind({ addr: lo, port: 6000 })).toBeUndefined();
    expect(first.bind({ addr: lo, port: 6000 })).toBeUndefined();
    const sender = stack.udpSocket(4);
    settle([stack], 0);
    const score = vi.spyOn(UdpSocket.prototype, 'matchScore');
    const wants = vi.spyOn(UdpSocket.prototype, 'wantsDispatch');
    try {
      expect(sender.sendto(new Uint8Array([1, 2, 3]), { addr: lo, port: 6000 })).toBe(3);
      settle([stack], 1);
      expect(first.rmemAlloc()).toBe(832); // the truesize of a 3-byte datagram
      expect(second.rmemAlloc()).toBe(0);
      expect(score.mock.calls.length).toBeLessThanOrEqual(2); // the two on port 6000
      expect(new Set(wants.mock.contexts)).toEqual(new Set([sender])); // not 1003 sockets
      wants.mockClear();
      settle([stack], 2);
      expect(wants.mock.calls.length).toBe(0);
    } finally {
      score.mockRestore();
      wants.mockRestore();
    }
  });

  it('TimerHeap pops deadlines in order through sets, moves and removals (fast-check)', () => {
    type E = HeapEntry & { id: number };
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('set' as const), id: fc.nat(15), at: fc.option(fc.nat(100)) }),
            fc.record({ op: fc.constant('pop' as const), now: fc.nat(100) }),
          ),
          { maxLength: 200 },
        ),
        (ops) => {
          const heap = new TimerHeap<E>();
          const entries = Array.from({ length: 16 }, (_, id): E => ({
            id,
            deadline: undefined,
            heapPos: -1,
          }));
          const model = new Map<number, number>();
          for (const o of ops) {
            if (o.op === 'set') {
              heap.set(entries[o.id]!, o.at ?? undefined);
              if (o.at === null) model.delete(o.id);
              else model.set(o.id, o.at);
            } else {
              const got = heap.popDue(o.now);
              const min = Math.min(...model.values());
              if (model.size === 0 || min > o.now) expect(got).toBeUndefined();
              else {
                expect(got).toBeDefined();
                expect(model.get(got!.id)).toBe(min);
                model.delete(got!.id);
                expect(got!.heapPos).toBe(-1);
              }
            }
            expect(heap.size).toBe(model.size);
            expect(heap.peek()).toBe(model.size ? Math.min(...model.values()) : undefined);
          }
        },
      ),
    );
  });
});
