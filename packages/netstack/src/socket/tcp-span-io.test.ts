// TCP data moved in place: send and receive with copies straight between the caller's memory
// and the socket rings (sendFrom / recvInto, what the sandbox's read and write use), and loopback
// segments handed to the receiver without a frame (wireImage).
import { E, isError, type LinuxError } from '@tsvisor/abi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidr, wireImage } from '../iface/interface.js';
import { LoopbackDevice } from '../phy/loopback.js';
import { runUntil, settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { Ipv4Address } from '../wire/ip-address.js';
import { TcpPacket, TcpRepr, type SackBlock } from '../wire/tcp.js';
import { RingBuffer } from '../storage/ring-buffer.js';
import { InetSocket } from './inet-socket.js';
import { emitSockaddr } from './sockaddr.js';
import { WOULD_BLOCK } from './would-block.js';

const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const MSG_PEEK = 2;

/** A stack on a loopback device, run until idle at `now` like the sandbox's kick. */
function loopback(): { stack: Stack; run: () => void } {
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 7 });
  const run = (): void => {
    for (let i = 0; i < 64; i++) {
      const next = stack.poll(0);
      if (next === undefined || next > 0) return;
    }
  };
  return { stack, run };
}

/** A connected pair: client and accepted server socket. */
function connected(): { c: InetSocket; s: InetSocket; l: InetSocket; stack: Stack; run: () => void } {
  const { stack, run } = loopback();
  const addr = emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 8080 });
  const l = InetSocket.create(stack, AF_INET, SOCK_STREAM, 0) as InetSocket;
  expect(l.bind(addr)).toBe(0);
  expect(l.listen(4)).toBe(0);
  const c = InetSocket.create(stack, AF_INET, SOCK_STREAM, 0) as InetSocket;
  c.nonBlocking = true;
  c.connect(addr);
  run();
  const s = l.accept();
  if (s === WOULD_BLOCK || isError(s)) throw new Error('no connection');
  return { c, s, l, stack, run };
}

/** Copies into spans from `src` (from `src[at]` on), reaching only its first `limit` bytes, like app memory that ends. */
function reader(src: Uint8Array, limit = src.length): (span: Uint8Array) => number | LinuxError {
  let at = 0;
  return (span) => {
    const n = Math.min(span.length, limit - at);
    if (n <= 0) return E.EFAULT;
    span.set(src.subarray(at, at + n));
    at += n;
    return n;
  };
}

/** Copies spans into `dst`, reaching only its first `limit` bytes. */
function writer(dst: Uint8Array, limit = dst.length): (span: Uint8Array) => number | LinuxError {
  let at = 0;
  return (span) => {
    const n = Math.min(span.length, limit - at);
    if (n <= 0) return E.EFAULT;
    dst.set(span.subarray(0, n), at);
    at += n;
    return n;
  };
}

const pattern = (n: number, seed = 1): Uint8Array => {
  const b = new Uint8Array(n);
  for (let i = 0, x = seed; i < n; i++) b[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return b;
};

describe('sendFrom / recvInto (in-place copies)', () => {
  it('send what the caller memory gives: the count before a fault, EFAULT when none', () => {
    const { c, s, run } = connected();
    const data = pattern(10_000);
    expect(c.sendFrom(10_000, reader(data, 0))).toBe(E.EFAULT);
    expect(c.sendFrom(10_000, reader(data, 4_000))).toBe(4_000); // faults after 4000 bytes
    run();
    expect(s.inq()).toBe(4_000);
    const out = new Uint8Array(10_000);
    expect(s.recvInto(10_000, writer(out))).toBe(4_000);
    expect(out.subarray(0, 4_000)).toEqual(data.subarray(0, 4_000));
    expect(s.recvInto(10_000, writer(out))).toBe(WOULD_BLOCK);
    expect(c.sendFrom(0, reader(data))).toBe(0);
  });

  it('receive consumes only what reached the caller: partial copy, peek, fault at once', () => {
    const { c, s, run } = connected();
    const data = pattern(3_000, 3);
    expect(c.sendFrom(3_000, reader(data))).toBe(3_000);
    run();
    const out = new Uint8Array(3_000);
    // MSG_PEEK copies and leaves everything queued.
    expect(s.recvInto(3_000, writer(out), MSG_PEEK)).toBe(3_000);
    expect(out).toEqual(data);
    expect(s.inq()).toBe(3_000);
    // A buffer that faults at once: EFAULT, nothing consumed.
    expect(s.recvInto(3_000, writer(out, 0))).toBe(E.EFAULT);
    expect(s.inq()).toBe(3_000);
    // A buffer that faults after 1000 bytes: 1000, the rest stays queued.
    out.fill(0);
    expect(s.recvInto(3_000, writer(out, 1_000))).toBe(1_000);
    expect(out.subarray(0, 1_000)).toEqual(data.subarray(0, 1_000));
    expect(s.inq()).toBe(2_000);
    // A short buffer takes what fits.
    const small = new Uint8Array(700);
    expect(s.recvInto(700, writer(small))).toBe(700);
    expect(small).toEqual(data.subarray(1_000, 1_700));
    expect(s.recvInto(5_000, writer(out))).toBe(1_300);
    expect(out.subarray(0, 1_300)).toEqual(data.subarray(1_700));
    // End of stream after the peer shuts down its side.
    expect(c.shutdown(1)).toBe(0);
    run();
    expect(s.recvInto(10, writer(out))).toBe(0);
  });

  it('answer as send/recv do on listeners and datagram sockets', () => {
    const { l, stack } = connected();
    expect(l.recvInto(10, writer(new Uint8Array(10)))).toBe(E.ENOTCONN);
    expect(l.sendFrom(10, reader(new Uint8Array(10)))).toBe(E.EPIPE);
    const u = InetSocket.create(stack, AF_INET, SOCK_DGRAM, 0) as InetSocket;
    expect(u.sendFrom(10, reader(new Uint8Array(10)))).toBe(E.EOPNOTSUPP);
    expect(u.recvInto(10, writer(new Uint8Array(10)))).toBe(E.EOPNOTSUPP);
    const fresh = InetSocket.create(stack, AF_INET, SOCK_STREAM, 0) as InetSocket;
    expect(fresh.recvInto(10, writer(new Uint8Array(10)))).toBe(E.ENOTCONN);
  });

  it('carries a bulk transfer intact in odd-sized pieces, the window beyond the first storage', () => {
    const { c, s, run, stack } = connected();
    const data = pattern(3 << 20, 11);
    const got = new Uint8Array(data.length);
    let sent = 0;
    let recvd = 0;
    let step = 0;
    while (recvd < data.length && step < 100_000) {
      step++;
      const size = 1 + ((step * 7919) % 150_000);
      if (sent < data.length) {
        const n = c.sendFrom(Math.min(size, data.length - sent), reader(data.subarray(sent)));
        if (typeof n === 'number') sent += n;
      }
      run();
      const r = s.recvInto(Math.min(size * 2, data.length - recvd), writer(got.subarray(recvd)));
      if (typeof r === 'number') recvd += r;
      run();
    }
    expect(recvd).toBe(data.length);
    expect(Buffer.compare(got, data)).toBe(0);
    // The segments crossed the loopback device: both directions count every one.
    expect(stack.iface.stats.txFrames).toBe(stack.iface.stats.rxFrames);
    expect(stack.iface.stats.txFrames).toBeGreaterThan(2 * ((3 << 20) / 65536));
  });
});

describe('loopback segments without a frame', () => {
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const repr = fc.record({
    srcPort: fc.integer({ min: 1, max: 0xffff }),
    dstPort: fc.integer({ min: 1, max: 0xffff }),
    seqNumber: u32,
    ackNumber: fc.option(u32, { nil: undefined }),
    flags: fc.integer({ min: 0, max: 0xff }),
    windowLen: fc.integer({ min: 0, max: 0xffff }),
    maxSegSize: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
    windowScale: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
    sackPermitted: fc.option(fc.boolean(), { nil: undefined }),
    sackBlocks: fc.option(fc.array(fc.tuple(u32, u32), { maxLength: 4 }), { nil: undefined }),
    timestamp: fc.option(fc.record({ tsVal: u32, tsEcr: u32 }), { nil: undefined }),
    urgentPointer: fc.option(fc.integer({ min: 0, max: 0x1ffff }), { nil: undefined }),
    payload: fc.uint8Array({ maxLength: 64 }),
  });

  it('hand the receiver exactly what parsing the emitted frame would (wireImage)', () => {
    const src = Ipv4Address.LOOPBACK;
    const dst = new Ipv4Address([127, 0, 0, 2]);
    fc.assert(
      fc.property(repr, (t0) => {
        const t: TcpRepr = { ...t0, sackBlocks: t0.sackBlocks as SackBlock[] | undefined };
        const buf = new Uint8Array(TcpRepr.bufferLen(t));
        TcpRepr.emit(t, TcpPacket.unchecked(buf), src, dst);
        const p = TcpPacket.checked(buf);
        if (!(p instanceof TcpPacket)) throw new Error('emitted an unreadable segment');
        const parsed = TcpRepr.parse(p, src, dst);
        expect(wireImage(t, t.payload)).toEqual(parsed);
      }),
      { numRuns: 300 },
    );
  });
});

describe('window updates (Linux tcp_cleanup_rbuf)', () => {
  it('a reader that keeps up sends no window update while the peer has over half the buffer', () => {
    const { stack, run } = loopback();
    const l = stack.tcpListener(4, () => ({ rx: new RingBuffer(1 << 20), tx: new RingBuffer(1 << 20) }));
    l.bind({ addr: Ipv4Address.LOOPBACK, port: 9000 });
    l.listen(1);
    const c = stack.tcpSocket(4, { rx: new RingBuffer(1 << 20), tx: new RingBuffer(1 << 20) });
    c.connect({ addr: Ipv4Address.LOOPBACK, port: 9000 });
    run();
    const s = l.accept();
    if (s === WOULD_BLOCK || isError(s)) throw new Error('no connection');
    const chunk = new Uint8Array(65536).fill(1);
    const sink = new Uint8Array(65536);
    // Warm up past the quick-ACK phase of a new connection.
    for (let i = 0; i < 32; i++) {
      c.send(chunk);
      run();
      s.recv(sink);
      run();
    }
    const before = s.stats.segmentsSent;
    const rounds = 64;
    for (let i = 0; i < rounds; i++) {
      expect(c.send(chunk)).toBe(65536);
      run();
      expect(s.recv(sink)).toBe(65536);
      run();
    }
    // One ACK per 64 KiB of data (two segments, more than one full-sized one: ACK at once);
    // none for the reads, which leave the sender nearly all of its 1 MiB window.
    expect(s.stats.segmentsSent - before).toBe(rounds);
  });
});

describe('loopback segments beyond the device queue', () => {
  it('are dropped like frames of a full LoopbackDevice, and TCP recovers the bytes', () => {
    const stack = new Stack({
      device: new LoopbackDevice({ mtu: 1500, queueLimit: 6 }),
      addresses: [cidr('127.0.0.1/8')],
      seed: 3,
    });
    const rings = () => ({ rx: new RingBuffer(1 << 20), tx: new RingBuffer(1 << 20) });
    const l = stack.tcpListener(4, rings);
    l.bind({ addr: Ipv4Address.LOOPBACK, port: 9100 });
    l.listen(1);
    const c = stack.tcpSocket(4, rings());
    c.connect({ addr: Ipv4Address.LOOPBACK, port: 9100 });
    let now = 0;
    runUntil([stack], now, () => l.pendingCount > 0);
    const s = l.accept();
    if (s === WOULD_BLOCK || isError(s)) throw new Error('no connection');
    const data = pattern(300_000, 5);
    const got = new Uint8Array(data.length);
    let sent = 0;
    let recvd = 0;
    for (let step = 0; recvd < data.length && step < 100_000; step++) {
      if (sent < data.length) {
        const n = c.send(data.subarray(sent));
        if (typeof n === 'number') sent += n;
      }
      const next = settle([stack], now);
      const r = s.recv(got.subarray(recvd));
      if (typeof r === 'number') recvd += r;
      // Idle with bytes missing: a retransmission timer is due; jump to it.
      if (next !== undefined && next > now) now = next;
    }
    expect(recvd).toBe(data.length);
    expect(Buffer.compare(got, data)).toBe(0);
    expect(c.stats.retransmits).toBeGreaterThan(0); // some segments were dropped and sent again
  });
});
