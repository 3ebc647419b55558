// The loopback fast path: no TCP checksum on packets that stay on the host, lazily allocated
// rings, and TIME_WAIT connections kept off the per-poll loops.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import type { Device } from '../phy/device.js';
import { LoopbackDevice } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { RingBuffer } from '../storage/ring-buffer.js';
import { Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import { IpProtocol, Ipv4Packet } from '../wire/ipv4.js';
import { TcpFlag, TcpPacket } from '../wire/tcp.js';
import type { TcpListener, TcpSocket } from './tcp.js';
import { THEM, connectToRawPeer } from './tcp-peer.test-util.js';
import { bufs } from './tcp-transfer.test-util.js';
import { WOULD_BLOCK } from './would-block.js';

/** A loopback device that keeps every frame it carried. */
class RecordingLoopback implements Device {
  readonly inner = new LoopbackDevice();
  readonly frames: Uint8Array[] = [];
  get capabilities(): Device['capabilities'] {
    return this.inner.capabilities;
  }
  receive(now: number): Uint8Array | undefined {
    return this.inner.receive(now);
  }
  transmit(now: number, frame: Uint8Array): boolean {
    this.frames.push(frame);
    return this.inner.transmit(now, frame);
  }
  pollAt(now: number): number | undefined {
    return this.inner.pollAt(now);
  }
}

function accepted(l: TcpListener): TcpSocket {
  const s = l.accept();
  if (s === WOULD_BLOCK || !('state' in s)) throw new Error('no connection to accept');
  return s;
}

describe('TCP checksum on loopback', () => {
  it('is left out on the way and not checked on arrival, yet a copy of such a frame is dropped', () => {
    const dev = new RecordingLoopback();
    const stack = new Stack({ device: dev, addresses: [cidr('127.0.0.1/8')], seed: 3 });
    const l = stack.tcpListener(4, () => bufs());
    l.bind({ addr: Ipv4Address.LOOPBACK, port: 80 });
    l.listen(4);
    const c = stack.tcpSocket(4, bufs());
    c.connect({ addr: Ipv4Address.LOOPBACK, port: 80 });
    settle([stack], 0);
    const s = accepted(l);
    const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff);
    expect(c.send(data)).toBe(5000);
    settle([stack], 1);
    const got = new Uint8Array(6000);
    expect(s.recv(got)).toBe(5000);
    expect(got.subarray(0, 5000)).toEqual(data);

    const tcpFrames = dev.frames.filter(
      (f) => (Ipv4Packet.checked(f) as Ipv4Packet).protocol === IpProtocol.TCP,
    );
    expect(tcpFrames.length).toBeGreaterThan(3);
    for (const f of tcpFrames) {
      const ip = Ipv4Packet.checked(f) as Ipv4Packet;
      expect(ip.verifyChecksum()).toBe(true); // the IP header checksum is still there
      expect((TcpPacket.checked(ip.payload) as TcpPacket).checksum).toBe(0);
    }
    // The same bytes in another array did not come from the stack: verified, and dropped.
    const withData = tcpFrames.find((f) => (Ipv4Packet.checked(f) as Ipv4Packet).payload.length > 100)!;
    const dropped = stack.iface.stats.rxDropped;
    dev.inner.transmit(2, withData.slice());
    settle([stack], 2);
    expect(stack.iface.stats.rxDropped).toBe(dropped + 1);
    expect(s.recv(got)).toBe(WOULD_BLOCK);
  });

  it('carries a bulk transfer intact while frames are reused (both directions, IPv4 and IPv6)', () => {
    for (const addr of [Ipv4Address.LOOPBACK, Ipv6Address.LOOPBACK]) {
      const stack = new Stack({
        device: new LoopbackDevice(),
        addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
        seed: 5,
      });
      const l = stack.tcpListener(addr.version, () => bufs());
      l.bind({ addr, port: 80 });
      l.listen(4);
      const c = stack.tcpSocket(addr.version, bufs());
      c.connect({ addr, port: 80 });
      settle([stack], 0);
      const s = accepted(l);
      const data = new Uint8Array(1_500_000);
      for (let i = 0, x = 1; i < data.length; i++) data[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
      let now = 1;
      for (const [from, to] of [
        [c, s],
        [s, c],
      ] as const) {
        const got = new Uint8Array(data.length);
        let sent = 0;
        let recvd = 0;
        for (const stop = now + 1000; recvd < data.length && now < stop; now++) {
          const n = from.send(data.subarray(sent, Math.min(data.length, sent + 70_000)));
          if (typeof n === 'number') sent += n;
          settle([stack], now);
          const r = to.recv(got.subarray(recvd));
          if (typeof r === 'number') recvd += r;
        }
        expect(recvd).toBe(data.length);
        expect(Buffer.compare(got, data)).toBe(0);
      }
    }
  });

  it('is still computed on a device that is not loopback', () => {
    const { sock, peer } = connectToRawPeer();
    expect(sock.send(new Uint8Array(300).fill(1))).toBe(300);
    settle([peer.stack], 1);
    // drain() parses with checksum verification and throws on a bad one.
    const segs = peer.drain();
    expect(segs.some((s) => s.payload.length === 300)).toBe(true);
  });
});

describe('TIME_WAIT connections off the poll loops', () => {
  it('still answer a repeated FIN, still show in sockets(), and close when the timer ends', () => {
    const { sock, peer } = connectToRawPeer();
    sock.close();
    settle([peer.stack], 1);
    const fin = peer.drain().find((s) => s.flags & TcpFlag.FIN)!;
    peer.rcvNxt = (fin.seqNumber + 1) >>> 0;
    peer.send({ flags: TcpFlag.FIN });
    const deadline = settle([peer.stack], 2);
    expect(sock.state).toBe('TIME_WAIT');
    expect(deadline).toBe(2 + 60_000);
    expect(peer.drain().length).toBe(1); // the ACK of the FIN
    // Polls while nothing happens (the connection is parked after the first).
    for (let t = 3; t < 10; t++) expect(settle([peer.stack], t)).toBe(deadline);
    const listed = peer.stack.sockets().filter((e) => e.remote?.addr.equals(THEM));
    expect(listed.map((e) => e.state)).toEqual([6]); // TCP_TIME_WAIT
    // The peer lost our ACK and sends its FIN again: TIME_WAIT acknowledges it and restarts.
    peer.send({ flags: TcpFlag.FIN });
    expect(settle([peer.stack], 10)).toBe(10 + 60_000);
    const again = peer.drain();
    expect(again.length).toBe(1);
    expect(again[0]!.ackNumber).toBe(peer.seq + 1);
    settle([peer.stack], 10 + 60_000);
    expect(sock.state).toBe('CLOSED');
    expect(peer.stack.sockets().filter((e) => e.remote?.addr.equals(THEM))).toEqual([]);
  });

  it('keep a thousand closed connections from slowing the loop down (each accepted and closed)', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 9 });
    const l = stack.tcpListener(4, () => bufs());
    l.bind({ addr: Ipv4Address.LOOPBACK, port: 80 });
    l.listen(16);
    for (let i = 0; i < 1000; i++) {
      const c = stack.tcpSocket(4, bufs());
      c.connect({ addr: Ipv4Address.LOOPBACK, port: 80 });
      settle([stack], i);
      accepted(l).close();
      settle([stack], i);
      c.close();
      settle([stack], i);
    }
    const states = stack.sockets().map((e) => e.state);
    expect(states.filter((s) => s === 6).length).toBe(1000); // the server side of each waits
    settle([stack], 999 + 60_000);
    expect(stack.sockets().map((e) => e.state)).toEqual([10]); // only the listener is left
  });
});

describe('RingBuffer with storage allocated on first write', () => {
  it('behaves exactly as one over preallocated storage', () => {
    type Op =
      | { op: 'enqueue'; n: number }
      | { op: 'dequeue'; n: number }
      | { op: 'read'; off: number; n: number }
      | { op: 'write'; off: number; n: number }
      | { op: 'commit'; n: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('enqueue' as const), n: fc.nat(40) }),
      fc.record({ op: fc.constant('dequeue' as const), n: fc.nat(40) }),
      fc.record({ op: fc.constant('read' as const), off: fc.nat(40), n: fc.nat(40) }),
      fc.record({ op: fc.constant('write' as const), off: fc.nat(40), n: fc.nat(40) }),
      fc.record({ op: fc.constant('commit' as const), n: fc.nat(40) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 32 }), fc.array(op, { maxLength: 60 }), (cap, ops) => {
        const eager = new RingBuffer(new Uint8Array(cap));
        const lazy = new RingBuffer(cap);
        let k = 0;
        const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => k++ & 0xff);
        for (const o of ops) {
          if (o.op === 'enqueue') {
            const d = bytes(o.n);
            expect(lazy.enqueue(d)).toBe(eager.enqueue(d));
          } else if (o.op === 'dequeue') {
            const a = new Uint8Array(o.n);
            const b = new Uint8Array(o.n);
            expect(lazy.dequeue(a)).toBe(eager.dequeue(b));
            expect(a).toEqual(b);
          } else if (o.op === 'read') {
            const a = new Uint8Array(o.n);
            const b = new Uint8Array(o.n);
            expect(lazy.read(o.off, a)).toBe(eager.read(o.off, b));
            expect(a).toEqual(b);
          } else if (o.op === 'write') {
            const d = bytes(o.n);
            expect(lazy.writeUnallocated(o.off, d)).toBe(eager.writeUnallocated(o.off, d));
          } else if (o.n <= eager.window) {
            lazy.commit(o.n);
            eager.commit(o.n);
          }
          expect([lazy.length, lazy.window, lazy.capacity]).toEqual([eager.length, eager.window, cap]);
        }
      }),
      { numRuns: 300 },
    );
  });
});
