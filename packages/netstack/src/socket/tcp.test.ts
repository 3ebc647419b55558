import { E, isError } from '@tsvisor/abi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import type { Device } from '../phy/device.js';
import { FaultInjector } from '../phy/fault-injector.js';
import { LoopbackDevice, linkPair } from '../phy/loopback.js';
import { runUntil, settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { isWireError } from '../wire/error.js';
import { Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import { IpProtocol, Ipv4Packet, Ipv4Repr } from '../wire/ipv4.js';
import { TcpFlag, TcpPacket, TcpRepr, seqAdd } from '../wire/tcp.js';
import type { TcpSocket } from './tcp.js';
import { bufs, transfer } from './tcp-transfer.test-util.js';
import { WOULD_BLOCK } from './would-block.js';

const te = new TextEncoder();
const td = new TextDecoder();

function accepted(x: TcpSocket | unknown): TcpSocket {
  if (x === WOULD_BLOCK || isError(x)) throw new Error(`accept gave ${String(x)}`);
  return x as TcpSocket;
}

describe('TCP on loopback', () => {
  it('handshake, data both ways, orderly close through TIME_WAIT (IPv4 and IPv6)', () => {
    for (const addr of [Ipv4Address.LOOPBACK, Ipv6Address.LOOPBACK]) {
      const family = addr.version;
      const stack = new Stack({
        device: new LoopbackDevice(),
        addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
        seed: 11,
      });
      const l = stack.tcpListener(family, () => bufs());
      expect(l.bind({ addr, port: 80 })).toBeUndefined();
      expect(l.listen(8)).toBeUndefined();
      expect(l.accept()).toBe(WOULD_BLOCK);
      const c = stack.tcpSocket(family, bufs());
      expect(c.connect({ addr, port: 80 })).toBeUndefined();
      expect(c.state).toBe('SYN_SENT');
      expect(c.send(te.encode('early'))).toBe(WOULD_BLOCK);
      settle([stack], 0);
      expect(c.state).toBe('ESTABLISHED');
      const s = accepted(l.accept());
      expect(s.state).toBe('ESTABLISHED');
      expect(s.remote!.port).toBe(c.local!.port);
      expect(c.send(te.encode('GET / HTTP/1.0\r\n\r\n'))).toBe(18);
      settle([stack], 1);
      const out = new Uint8Array(100);
      expect(s.recv(out)).toBe(18);
      expect(td.decode(out.subarray(0, 18))).toBe('GET / HTTP/1.0\r\n\r\n');
      expect(s.send(te.encode('HTTP/1.0 200 OK\r\n\r\nhi'))).toBe(21);
      s.close(); // server closes first: FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT
      settle([stack], 2);
      expect(c.recv(out)).toBe(21);
      expect(c.recv(out)).toBe(0); // EOF
      expect(c.state).toBe('CLOSE_WAIT');
      // The ACK of data and FIN waits for the delayed-ACK timer, as on Linux (tcp_fin enters
      // ping-pong mode): the server leaves FIN_WAIT_1 40 ms later.
      expect(s.state).toBe('FIN_WAIT_1');
      settle([stack], 42);
      expect(s.state).toBe('FIN_WAIT_2');
      // (Data now would reset the connection: the server closed, nobody can read it.)
      c.close();
      settle([stack], 43);
      expect(c.state).toBe('CLOSED');
      expect(s.state).toBe('TIME_WAIT');
      const t = settle([stack], 44);
      expect(t).toBe(43 + 60_000); // TIME_WAIT lasts 60 s from the FIN that entered it
      settle([stack], t!);
      expect(s.state).toBe('CLOSED');
    }
  });

  it('connect to a port without listener: RST -> ECONNREFUSED', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 2 });
    const c = stack.tcpSocket(4, bufs());
    c.connect({ addr: Ipv4Address.LOOPBACK, port: 1 });
    settle([stack], 0);
    expect(c.state).toBe('CLOSED');
    expect(c.recv(new Uint8Array(1))).toBe(E.ECONNREFUSED);
    expect(stack.iface.stats.tcpResets).toBe(1);
  });

  it('simultaneous close goes through CLOSING', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 5 });
    const l = stack.tcpListener(4, () => bufs());
    l.bind({ addr: Ipv4Address.LOOPBACK, port: 7 });
    l.listen(1);
    const c = stack.tcpSocket(4, bufs());
    c.connect({ addr: Ipv4Address.LOOPBACK, port: 7 });
    settle([stack], 0);
    const s = accepted(l.accept());
    c.shutdownWrite();
    s.shutdownWrite();
    // Both FINs leave in the same poll round, before either is acknowledged.
    settle([stack], 1);
    expect(c.state).toBe('TIME_WAIT');
    expect(s.state).toBe('TIME_WAIT');
  });

  it('the backlog bounds connections waiting for accept: backlog + 1 fit, as on Linux', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 6 });
    const l = stack.tcpListener(4, () => bufs());
    l.bind({ addr: Ipv4Address.LOOPBACK, port: 8080 });
    l.listen(1);
    const [a, b, c] = [0, 1, 2].map(() => stack.tcpSocket(4, bufs()));
    const d = stack.tcpSocket(4, bufs());
    a!.connect({ addr: Ipv4Address.LOOPBACK, port: 8080 });
    b!.connect({ addr: Ipv4Address.LOOPBACK, port: 8080 });
    settle([stack], 0);
    expect([a!.state, b!.state]).toEqual(['ESTABLISHED', 'ESTABLISHED']);
    // The queue holds two now: a new SYN is dropped (the client stays in SYN_SENT).
    c!.connect({ addr: Ipv4Address.LOOPBACK, port: 8080 });
    settle([stack], 0);
    expect(c!.state).toBe('SYN_SENT');
    accepted(l.accept());
    accepted(l.accept());
    expect(l.accept()).toBe(WOULD_BLOCK);
    // c's SYN is retransmitted after the initial RTO (1 s) and now finds room.
    runUntil([stack], 1, () => c!.state === 'ESTABLISHED', 5000);
    expect(accepted(l.accept()).remote!.port).toBe(c!.local!.port);
    // SYNs that arrive together all get an answer (Linux: SYN cookies past the backlog), but the
    // ACK that would complete a handshake beyond backlog + 1 is dropped until accept makes room.
    const more = [0, 1, 2].map(() => stack.tcpSocket(4, bufs()));
    for (const s of [d, ...more]) s.connect({ addr: Ipv4Address.LOOPBACK, port: 8080 });
    settle([stack], 0);
    const waiting = (): number => {
      let n = 0;
      while (l.accept() !== WOULD_BLOCK) n++;
      return n;
    };
    expect(waiting()).toBe(2);
    runUntil([stack], 1, () => l.readiness() !== 0, 5000);
    expect(waiting()).toBe(2);
  });
});

describe('simultaneous open', () => {
  it('two active opens meet in SYN_RECEIVED and both become ESTABLISHED', () => {
    const [da, db] = linkPair();
    // 1 ms of wire delay: both SYNs are in flight at once.
    const a = new Stack({
      device: new FaultInjector(da, { delay: 1 }),
      addresses: [cidr('10.0.0.1/24')],
      seed: 31,
    });
    const b = new Stack({
      device: new FaultInjector(db, { delay: 1 }),
      addresses: [cidr('10.0.0.2/24')],
      seed: 32,
    });
    const sa = a.tcpSocket(4, bufs());
    const sb = b.tcpSocket(4, bufs());
    sa.bind({ addr: Ipv4Address.parse('10.0.0.1')!, port: 1111 });
    sb.bind({ addr: Ipv4Address.parse('10.0.0.2')!, port: 2222 });
    sa.connect({ addr: Ipv4Address.parse('10.0.0.2')!, port: 2222 });
    sb.connect({ addr: Ipv4Address.parse('10.0.0.1')!, port: 1111 });
    // Both SYNs are sent before either stack sees the other's.
    a.poll(0);
    b.poll(0);
    expect([sa.state, sb.state]).toEqual(['SYN_SENT', 'SYN_SENT']);
    runUntil([a, b], 1, () => sa.state === 'ESTABLISHED' && sb.state === 'ESTABLISHED', 100);
    expect([sa.state, sb.state]).toEqual(['ESTABLISHED', 'ESTABLISHED']);
    expect(sa.send(te.encode('ping'))).toBe(4);
    runUntil([a, b], 10, () => sb.recvQueue > 0, 100);
    const out = new Uint8Array(8);
    expect(sb.recv(out)).toBe(4);
  });
});

describe('Nagle', () => {
  it('holds a small segment while another is unacknowledged, unless TCP_NODELAY', () => {
    for (const noDelay of [false, true]) {
      const [da, db] = linkPair();
      const a = new Stack({
        device: new FaultInjector(da, { delay: 10 }),
        addresses: [cidr('10.0.0.1/24')],
        seed: 51,
      });
      const b = new Stack({
        device: new FaultInjector(db, { delay: 10 }),
        addresses: [cidr('10.0.0.2/24')],
        seed: 52,
      });
      const l = b.tcpListener(4, () => bufs());
      l.bind({ addr: Ipv4Address.UNSPECIFIED, port: 23 });
      l.listen(1);
      const c = a.tcpSocket(4, bufs());
      c.noDelay = noDelay;
      c.connect({ addr: Ipv4Address.parse('10.0.0.2')!, port: 23 });
      const t = runUntil([a, b], 0, () => c.state === 'ESTABLISHED');
      const before = c.stats.segmentsSent;
      c.send(te.encode('a'));
      settle([a, b], t);
      c.send(te.encode('b'));
      settle([a, b], t);
      expect(c.stats.segmentsSent - before).toBe(noDelay ? 2 : 1);
      runUntil([a, b], t + 1, () => c.sendQueue === 0, 1000); // the ACK releases the held byte
      expect(c.stats.segmentsSent - before).toBe(2);
      const server = accepted(l.accept());
      const out = new Uint8Array(4);
      expect(td.decode(out.subarray(0, server.recv(out) as number))).toBe('ab');
    }
  });
});

describe('keepalive', () => {
  it('probes an idle connection, keeps it while the peer answers, drops it with ETIMEDOUT when silent', () => {
    const [da, db] = linkPair();
    const cut = { drop: 0 };
    const a = new Stack({ device: new FaultInjector(da, cut), addresses: [cidr('10.0.0.1/24')], seed: 41 });
    const b = new Stack({ device: new FaultInjector(db, cut), addresses: [cidr('10.0.0.2/24')], seed: 42 });
    const l = b.tcpListener(4, () => bufs());
    l.bind({ addr: Ipv4Address.UNSPECIFIED, port: 22 });
    l.listen(1);
    const c = a.tcpSocket(4, bufs());
    c.keepAlive = true;
    c.keepIdle = 10_000;
    c.keepIntvl = 1_000;
    c.keepCnt = 3;
    c.connect({ addr: Ipv4Address.parse('10.0.0.2')!, port: 22 });
    settle([a, b], 0);
    const server = accepted(l.accept());
    const before = c.stats.segmentsSent;
    const t = runUntil([a, b], 1, () => false, 35_000);
    expect(c.state).toBe('ESTABLISHED');
    expect(server.state).toBe('ESTABLISHED');
    expect(c.stats.segmentsSent - before).toBe(3); // one probe per idle period of 10 s, each answered
    cut.drop = 1; // the peer vanishes
    runUntil([a, b], t, () => c.state === 'CLOSED', 60_000);
    expect(c.state).toBe('CLOSED');
    expect(c.recv(new Uint8Array(1))).toBe(E.ETIMEDOUT);
  });
});

describe('RFC 5961 and RST rules, against a hand-driven peer', () => {
  const me = Ipv4Address.parse('10.0.0.1')!;
  const them = Ipv4Address.parse('10.0.0.2')!;
  function send(peer: Device, seg: TcpRepr): void {
    const len = TcpRepr.bufferLen(seg);
    const buf = new Uint8Array(20 + len);
    Ipv4Repr.emit(
      { src: them, dst: me, protocol: IpProtocol.TCP, payloadLen: len, ttl: 64 },
      Ipv4Packet.unchecked(buf),
    );
    TcpRepr.emit(seg, TcpPacket.unchecked(buf.subarray(20)), them, me);
    peer.transmit(0, buf);
  }
  function recvSeg(peer: Device): TcpRepr | undefined {
    const f = peer.receive(0);
    if (!f) return undefined;
    const ip = Ipv4Packet.checked(f) as Ipv4Packet;
    const r = TcpRepr.parse(TcpPacket.checked(ip.payload) as TcpPacket, me, them);
    if (isWireError(r)) throw r;
    return r;
  }
  const seg = (o: Partial<TcpRepr>): TcpRepr => ({
    srcPort: 40000,
    dstPort: 80,
    seqNumber: 0,
    ackNumber: undefined,
    flags: 0,
    windowLen: 1000,
    payload: new Uint8Array(0),
    ...o,
  });

  function established(): { stack: Stack; peer: Device; sock: () => TcpSocket; iss: number; ourSeq: number } {
    const [dev, peer] = linkPair();
    const stack = new Stack({ device: dev, addresses: [cidr('10.0.0.1/24')], seed: 9 });
    const l = stack.tcpListener(4, () => bufs());
    l.bind({ addr: me, port: 80 });
    l.listen(4);
    send(peer, seg({ seqNumber: 1000, flags: TcpFlag.SYN, maxSegSize: 1460, windowScale: 0 }));
    settle([stack], 0);
    const synAck = recvSeg(peer)!;
    expect(synAck.flags).toBe(TcpFlag.SYN);
    expect(synAck.ackNumber).toBe(1001);
    expect(synAck.maxSegSize).toBe(1460);
    expect(synAck.windowScale).toBe(1); // a 64 KiB ring needs shift 1
    send(peer, seg({ seqNumber: 1001, ackNumber: seqAdd(synAck.seqNumber, 1) }));
    settle([stack], 0);
    const s = accepted(l.accept());
    expect(s.state).toBe('ESTABLISHED');
    return { stack, peer, sock: () => s, iss: synAck.seqNumber, ourSeq: 1001 };
  }

  it('an in-window RST with an inexact sequence number draws a challenge ACK; an exact one resets', () => {
    const { stack, peer, sock, iss } = established();
    send(peer, seg({ seqNumber: 1005, flags: TcpFlag.RST }));
    settle([stack], 0);
    expect(sock().state).toBe('ESTABLISHED');
    const challenge = recvSeg(peer)!;
    expect(challenge.flags & TcpFlag.RST).toBe(0);
    expect(challenge.ackNumber).toBe(1001);
    expect(challenge.seqNumber).toBe(seqAdd(iss, 1));
    // Out of window: silently dropped.
    send(peer, seg({ seqNumber: 1001 + 1_000_000, flags: TcpFlag.RST }));
    settle([stack], 0);
    expect(recvSeg(peer)).toBeUndefined();
    send(peer, seg({ seqNumber: 1001, flags: TcpFlag.RST }));
    settle([stack], 0);
    expect(sock().state).toBe('CLOSED');
    expect(sock().recv(new Uint8Array(4))).toBe(E.ECONNRESET);
  });

  it('a SYN on an established connection draws a challenge ACK, not a reset', () => {
    const { stack, peer, sock } = established();
    send(peer, seg({ seqNumber: 5000, flags: TcpFlag.SYN }));
    settle([stack], 0);
    expect(sock().state).toBe('ESTABLISHED');
    const ack = recvSeg(peer)!;
    expect(ack.flags).toBe(0);
    expect(ack.ackNumber).toBe(1001);
  });

  it('an ACK for data never sent is answered with an ACK and dropped; data is accepted and acknowledged', () => {
    const { stack, peer, sock, iss } = established();
    send(peer, seg({ seqNumber: 1001, ackNumber: seqAdd(iss, 500), payload: te.encode('bogus') }));
    settle([stack], 0);
    expect(recvSeg(peer)!.ackNumber).toBe(1001); // nothing accepted
    expect(sock().recvQueue).toBe(0);
    // Out of order, then the hole: both delivered in order, SACK not negotiated.
    send(peer, seg({ seqNumber: 1004, ackNumber: seqAdd(iss, 1), payload: te.encode('def') }));
    settle([stack], 0);
    expect(recvSeg(peer)!.ackNumber).toBe(1001);
    send(peer, seg({ seqNumber: 1001, ackNumber: seqAdd(iss, 1), payload: te.encode('abc') }));
    settle([stack], 0);
    expect(recvSeg(peer)!.ackNumber).toBe(1007);
    const out = new Uint8Array(10);
    expect(sock().recv(out)).toBe(6);
    expect(td.decode(out.subarray(0, 6))).toBe('abcdef');
  });

  it('segments for unknown connections get a RST per RFC 9293', () => {
    const [dev, peer] = linkPair();
    const stack = new Stack({ device: dev, addresses: [cidr('10.0.0.1/24')], seed: 9 });
    send(peer, seg({ seqNumber: 77, ackNumber: 1234, payload: te.encode('x') }));
    settle([stack], 0);
    expect(recvSeg(peer)).toMatchObject({ flags: TcpFlag.RST, seqNumber: 1234, ackNumber: undefined });
    send(peer, seg({ seqNumber: 77, flags: TcpFlag.SYN }));
    settle([stack], 0);
    expect(recvSeg(peer)).toMatchObject({ flags: TcpFlag.RST, seqNumber: 0, ackNumber: 78 });
    send(peer, seg({ seqNumber: 77, flags: TcpFlag.RST }));
    settle([stack], 0);
    expect(recvSeg(peer)).toBeUndefined(); // never a RST for a RST
  });
});

describe('two stacks over a faulty link', () => {
  it('moves 1 MiB intact through loss, reordering, duplication and corruption, both directions', () => {
    const r = transfer(
      { drop: 0.03, duplicate: 0.03, reorder: 0.05, corrupt: 0.01, delay: 1 },
      1234,
      1 << 20,
      { back: 100_000 },
    );
    expect(r.got.length).toBe(r.sent.length);
    expect(Buffer.from(r.got).equals(Buffer.from(r.sent))).toBe(true);
    expect(Buffer.from(r.gotBack).equals(Buffer.from(r.backSent))).toBe(true);
    expect(r.client.state === 'TIME_WAIT' || r.client.state === 'CLOSED').toBe(true);
    expect(r.faultsA.dropped).toBeGreaterThan(10); // the faults really happened
    expect(r.faultsA.duplicated).toBeGreaterThan(10);
    expect(r.faultsA.reordered).toBeGreaterThan(10);
    expect(r.faultsA.corrupted).toBeGreaterThan(0);
  });

  it('one lost segment is repaired by fast retransmit (three duplicate ACKs), not by a timeout', () => {
    // Frames 0-2 are SYN, ACK and the first data segments; drop a data segment in mid-flight.
    const r = transfer({ delay: 5 }, 21, 200_000, { dropFrames: [12] });
    expect(Buffer.from(r.got).equals(Buffer.from(r.sent))).toBe(true);
    expect(r.client.stats.fastRetransmits).toBe(1);
    expect(r.client.stats.timeouts).toBe(0);
  });

  it('a lost segment reduces the congestion window (CUBIC: to 0.7 of the flight)', () => {
    const clean = transfer({ delay: 5 }, 22, 400_000, { txBuf: 1 << 20, rxBuf: 1 << 20 });
    const lossy = transfer({ delay: 5 }, 22, 400_000, { txBuf: 1 << 20, rxBuf: 1 << 20, dropFrames: [200] });
    expect(Buffer.from(lossy.got).equals(Buffer.from(lossy.sent))).toBe(true);
    expect(lossy.client.stats.fastRetransmits).toBe(1);
    expect(lossy.client.congestionWindow).toBeLessThan(clean.client.congestionWindow / 1.5);
  });

  it('a clean link moves data without retransmission and learns the RTT', () => {
    const r = transfer({ delay: 5 }, 77, 200_000);
    expect(Buffer.from(r.got).equals(Buffer.from(r.sent))).toBe(true);
    expect(r.client.retransmitTimeout).toBe(200); // 10 ms RTT: the RTO floor of 200 ms applies
  });

  it('a slow reader closes the window; zero-window probes resume the transfer', () => {
    // Seed 1: one of the runs where a window update is lost while the window is closed.
    const r = transfer({ drop: 0.1 }, 1, 100_000, { rxBuf: 4096, readChunk: 700, readOnce: true });
    expect(Buffer.from(r.got).equals(Buffer.from(r.sent))).toBe(true);
    expect(r.client.stats.windowProbes).toBeGreaterThan(0);
  });

  it('window scaling: a 1 MiB receive ring is advertised beyond 64 KiB', () => {
    const r = transfer({ delay: 20 }, 9, 2 << 20, { rxBuf: 1 << 20, txBuf: 1 << 20 });
    expect(Buffer.from(r.got).equals(Buffer.from(r.sent))).toBe(true);
    // 2 MiB at one 40 ms RTT per window: with a 64 KiB window this takes > 1.2 s of virtual time.
    expect(r.elapsed).toBeLessThan(1000);
  });

  it('a lost small last segment is resent after a timeout although Nagle holds small segments (found by the property below)', () => {
    const r = transfer({ drop: 0.18872351292520764, delay: 8 }, 23, 59194, {
      mtu: 599,
      back: 17549,
      rxBuf: 1024,
      readOnce: true,
      readChunk: 1000,
    });
    expect(Buffer.from(r.got).equals(Buffer.from(r.sent))).toBe(true);
    expect(Buffer.from(r.gotBack).equals(Buffer.from(r.backSent))).toBe(true);
  });

  it('a lost window probe is sent again at the timeout, though its data does not fill the window whole (found by the property below)', () => {
    // The server's last 482 bytes meet a window of 481 (the update to 1024 is lost): the
    // persist timer sends 481 of them, which is lost too; the RTO must resend it.
    const faults = { drop: 0.06353788916021587, duplicate: 0.04855366772972048, reorderDelay: 1, delay: 0 };
    const r = transfer(faults, 19, 3678, {
      mtu: 595,
      back: 34691,
      rxBuf: 1024,
      readChunk: 1000,
      tcp: { sack: false, timestamps: true, congestion: 'cubic' },
    });
    expect(Buffer.from(r.got).equals(Buffer.from(r.sent))).toBe(true);
    expect(Buffer.from(r.gotBack).equals(Buffer.from(r.backSent))).toBe(true);
    expect(r.server.stats.windowProbes).toBeGreaterThan(0);
  });

  it('property: any fault mix and seed delivers the stream intact (shrinks to a minimal failing case)', () => {
    fc.assert(
      fc.property(
        fc.record({
          drop: fc.double({ min: 0, max: 0.2, noNaN: true }),
          duplicate: fc.double({ min: 0, max: 0.2, noNaN: true }),
          reorder: fc.double({ min: 0, max: 0.3, noNaN: true }),
          corrupt: fc.double({ min: 0, max: 0.05, noNaN: true }),
          reorderDelay: fc.integer({ min: 1, max: 50 }),
          delay: fc.integer({ min: 0, max: 20 }),
        }),
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.integer({ min: 1, max: 200_000 }),
        fc.integer({ min: 0, max: 50_000 }),
        fc.integer({ min: 1024, max: 1 << 20 }),
        fc.boolean(),
        fc.record({
          sack: fc.boolean(),
          timestamps: fc.boolean(),
          congestion: fc.constantFrom('cubic' as const, 'reno' as const),
        }),
        (faults, seed, size, back, rxBuf, readOnce, tcp) => {
          // Random MTU, receive ring (window scaling or tiny windows), reader speed and options.
          const r = transfer(faults, seed, size, {
            mtu: 576 + (seed % 1000),
            back,
            rxBuf,
            readOnce,
            readChunk: 1000,
            tcp,
          });
          expect(r.got.length).toBe(size);
          expect(Buffer.from(r.got).equals(Buffer.from(r.sent))).toBe(true);
          expect(Buffer.from(r.gotBack).equals(Buffer.from(r.backSent))).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });
});
