import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FaultInjector } from '../phy/fault-injector.js';
import { linkPair } from '../phy/loopback.js';
import { runUntil } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { WOULD_BLOCK } from '../socket/would-block.js';
import { isWireError } from '../wire/error.js';
import { Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import { Ipv4Packet, Ipv4Repr } from '../wire/ipv4.js';
import { Ipv6Packet, Ipv6Repr } from '../wire/ipv6.js';
import { UdpPacket, UdpRepr } from '../wire/udp.js';
import {
  fragmentIpv4,
  fragmentIpv6,
  IPV6_FRAGMENT_HEADER,
  Ipv4Reassembler,
  Ipv6Reassembler,
  parseIpv6Fragment,
} from './fragment.js';
import { cidr } from './interface.js';

const src = Ipv4Address.parse('10.0.0.1')!;
const dst = Ipv4Address.parse('10.0.0.2')!;

function datagram(len: number, seed = 1): Uint8Array {
  const buf = new Uint8Array(20 + len);
  Ipv4Repr.emit({ src, dst, protocol: 17, payloadLen: len, ttl: 64 }, Ipv4Packet.unchecked(buf));
  buf[6] = 0; // DF clear
  for (let i = 0; i < len; i++) buf[20 + i] = (i * 31 + seed) & 0xff;
  return buf;
}
const view = (b: Uint8Array): Ipv4Packet => {
  const p = Ipv4Packet.checked(b);
  if (isWireError(p)) throw p;
  return p;
};

describe('IPv4 fragmentation and reassembly', () => {
  it('fragments fit the MTU, carry 8-byte-aligned offsets, and reassemble in any order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9000 }),
        fc.integer({ min: 68, max: 1500 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (len, mtu, seed) => {
          const d = datagram(len, seed);
          const frags = fragmentIpv4(d, mtu, 77);
          for (const f of frags) {
            const p = view(f);
            expect(f.length).toBeLessThanOrEqual(mtu);
            expect(p.verifyChecksum()).toBe(true);
            expect(p.ident).toBe(77);
            expect(p.fragmentOffset % 8).toBe(0);
          }
          // A seeded shuffle of the fragments.
          const order = frags
            .map((f, i) => ({ f, k: (i * 2654435761 + seed) % 1000 }))
            .sort((a, b) => a.k - b.k);
          const r = new Ipv4Reassembler();
          let whole: Uint8Array | undefined;
          order.forEach(({ f }, i) => {
            const out = r.add(0, view(f));
            if (i < order.length - 1) expect(out).toBeUndefined();
            else whole = out;
          });
          if (frags.length === 1) return; // a single "fragment" is a whole datagram (MF clear, offset 0)
          expect(whole).toBeDefined();
          const p = view(whole!);
          expect(p.verifyChecksum()).toBe(true);
          expect(p.moreFragments || p.fragmentOffset !== 0).toBe(false);
          expect(p.payload).toEqual(d.subarray(20));
          expect(r.pending).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('drops a datagram whose fragments overlap, and one that times out', () => {
    const frags = fragmentIpv4(datagram(3000), 1000, 5);
    const r = new Ipv4Reassembler({ timeout: 30_000 });
    expect(r.add(0, view(frags[0]!))).toBeUndefined();
    expect(r.add(0, view(frags[0]!))).toBeUndefined(); // the same fragment again: overlap
    expect(r.stats.overlaps).toBe(1);
    expect(r.pending).toBe(0);
    expect(r.add(0, view(frags[1]!))).toBeUndefined();
    expect(r.add(31_000, view(frags[2]!))).toBeUndefined(); // the first part expired meanwhile
    expect(r.stats.timeouts).toBe(1);
    expect(r.add(31_000, view(frags[0]!))).toBeUndefined(); // fragment 1 is gone: still incomplete
  });

  it('heldBytes counts the payload of partial datagrams until they complete', () => {
    const frags = fragmentIpv4(datagram(3000), 1000, 9);
    const r = new Ipv4Reassembler();
    expect(r.heldBytes).toBe(0);
    expect(r.add(0, view(frags[0]!))).toBeUndefined();
    const first = view(frags[0]!).payload.length;
    expect(first).toBeGreaterThan(0);
    expect(r.heldBytes).toBe(first);
    expect(r.add(0, view(frags[1]!))).toBeUndefined();
    expect(r.heldBytes).toBe(first + view(frags[1]!).payload.length);
    for (const f of frags.slice(2)) r.add(0, view(f));
    expect(r.pending).toBe(0);
    expect(r.heldBytes).toBe(0);
  });

  it('bounds memory: datagrams beyond the limits evict the oldest', () => {
    const r = new Ipv4Reassembler({ maxDatagrams: 2, maxBytes: 2500 });
    for (let id = 1; id <= 5; id++) r.add(id, view(fragmentIpv4(datagram(3000, id), 1000, id)[0]!));
    expect(r.pending).toBeLessThanOrEqual(2);
    expect(r.stats.evicted).toBeGreaterThan(0);
  });

  it('two stacks exchange a 40 000-byte UDP datagram over an MTU-1500 link that reorders', () => {
    const [da, db] = linkPair({ mtu: 1500 });
    const a = new Stack({
      device: new FaultInjector(da, { reorder: 0.3, reorderDelay: 3 }, 5),
      addresses: [cidr('10.0.0.1/24')],
      seed: 1,
    });
    const b = new Stack({ device: db, addresses: [cidr('10.0.0.2/24')], seed: 2 });
    const rx = b.udpSocket(4);
    rx.bind({ addr: Ipv4Address.UNSPECIFIED, port: 53 });
    const tx = a.udpSocket(4);
    const msg = Uint8Array.from({ length: 40_000 }, (_, i) => (i * 7) & 0xff);
    expect(tx.sendto(msg, { addr: dst, port: 53 })).toBe(40_000);
    const out = new Uint8Array(65536);
    let got: number | undefined;
    runUntil([a, b], 0, () => {
      const r = rx.recvfrom(out);
      if (r !== WOULD_BLOCK && !('errno' in r)) got = r.len;
      return got !== undefined;
    });
    expect(got).toBe(40_000);
    expect(out.subarray(0, 40_000)).toEqual(msg);
    expect(b.iface.reassembler.stats.reassembled).toBe(1);
  });
});

const src6 = Ipv6Address.parse('fd00::1')!;
const dst6 = Ipv6Address.parse('fd00::2')!;
function packet6(len: number, seed = 1): Uint8Array {
  const buf = new Uint8Array(40 + len);
  Ipv6Repr.emit(
    { src: src6, dst: dst6, nextHeader: 17, payloadLen: len, hopLimit: 64 },
    Ipv6Packet.unchecked(buf),
  );
  for (let i = 0; i < len; i++) buf[40 + i] = (i * 31 + seed) & 0xff;
  return buf;
}
const view6 = (b: Uint8Array): Ipv6Packet => {
  const p = Ipv6Packet.checked(b);
  if (isWireError(p)) throw p;
  return p;
};
const add6 = (r: Ipv6Reassembler, now: number, f: Uint8Array): Uint8Array | undefined => {
  const p = view6(f);
  return r.add(now, p, parseIpv6Fragment(p.payload)!);
};

describe('IPv6 fragmentation and reassembly (RFC 8200 §4.5)', () => {
  it('fragments fit the MTU with a Fragment header, 8-byte multiples but the last, and reassemble in any order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9000 }),
        fc.integer({ min: 1280, max: 1500 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (len, mtu, seed) => {
          const d = packet6(len, seed);
          const frags = fragmentIpv6(d, mtu, 0xdeadbeef);
          frags.forEach((f, i) => {
            const p = view6(f);
            expect(f.length).toBeLessThanOrEqual(mtu);
            expect(p.nextHeader).toBe(IPV6_FRAGMENT_HEADER);
            const h = parseIpv6Fragment(p.payload)!;
            expect(h).toMatchObject({ nextHeader: 17, ident: 0xdeadbeef, more: i < frags.length - 1 });
            if (h.more) expect((p.payload.length - 8) % 8).toBe(0);
          });
          const order = frags
            .map((f, i) => ({ f, k: (i * 2654435761 + seed) % 1000 }))
            .sort((a, b) => a.k - b.k);
          const r = new Ipv6Reassembler();
          let whole: Uint8Array | undefined;
          order.forEach(({ f }, i) => {
            const out = add6(r, 0, f);
            if (i < order.length - 1) expect(out).toBeUndefined();
            else whole = out;
          });
          expect(whole).toEqual(d);
          expect(r.pending).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('drops overlapping fragments (RFC 5722), expires after the timeout, and bounds memory', () => {
    const frags = fragmentIpv6(packet6(3000), 1280, 9);
    const r = new Ipv6Reassembler({ timeout: 30_000 });
    expect(add6(r, 0, frags[0]!)).toBeUndefined();
    expect(add6(r, 0, frags[0]!)).toBeUndefined();
    expect(r.stats.overlaps).toBe(1);
    expect(add6(r, 0, frags[1]!)).toBeUndefined();
    expect(add6(r, 31_000, frags[2]!)).toBeUndefined();
    expect(r.stats.timeouts).toBe(1);
    const small = new Ipv6Reassembler({ maxDatagrams: 2, maxBytes: 2500 });
    for (let id = 1; id <= 5; id++) add6(small, id, fragmentIpv6(packet6(3000, id), 1280, id)[0]!);
    expect(small.pending).toBeLessThanOrEqual(2);
    expect(small.stats.evicted).toBeGreaterThan(0);
  });

  it('two stacks exchange a 20 000-byte UDP datagram over IPv6 on an MTU-1280 link that reorders; atomic fragments pass', () => {
    const [da, db] = linkPair({ mtu: 1280 });
    const a = new Stack({
      device: new FaultInjector(da, { reorder: 0.3, reorderDelay: 3 }, 5),
      addresses: [cidr('fd00::1/64')],
      seed: 1,
    });
    const b = new Stack({ device: db, addresses: [cidr('fd00::2/64')], seed: 2 });
    const rx = b.udpSocket(6);
    rx.bind({ addr: Ipv6Address.UNSPECIFIED, port: 53 });
    const tx = a.udpSocket(6);
    const msg = Uint8Array.from({ length: 20_000 }, (_, i) => (i * 7) & 0xff);
    expect(tx.sendto(msg, { addr: dst6, port: 53 })).toBe(20_000);
    const out = new Uint8Array(65536);
    let got: number | undefined;
    runUntil([a, b], 0, () => {
      const r = rx.recvfrom(out);
      if (r !== WOULD_BLOCK && !('errno' in r)) got = r.len;
      return got !== undefined;
    });
    expect(got).toBe(20_000);
    expect(out.subarray(0, 20_000)).toEqual(msg);
    expect(b.iface.reassembler6.stats.reassembled).toBe(1);
    // An atomic fragment (offset 0, M clear) of a small datagram is delivered as it is (RFC 6946).
    const udp: UdpRepr = { srcPort: 4660, dstPort: 53, payload: new TextEncoder().encode('abc') };
    const ulen = UdpRepr.bufferLen(udp);
    const atomic = new Uint8Array(40 + 8 + ulen);
    Ipv6Repr.emit(
      { src: src6, dst: dst6, nextHeader: IPV6_FRAGMENT_HEADER, payloadLen: 8 + ulen, hopLimit: 64 },
      Ipv6Packet.unchecked(atomic),
    );
    atomic.set([17, 0, 0, 0, 0, 0, 0, 1], 40);
    UdpRepr.emit(udp, UdpPacket.unchecked(atomic.subarray(48)), src6, dst6);
    const [raw, dev2] = linkPair({ mtu: 1280 });
    const b2 = new Stack({ device: dev2, addresses: [cidr('fd00::2/64')], seed: 3 });
    const rx2 = b2.udpSocket(6);
    rx2.bind({ addr: Ipv6Address.UNSPECIFIED, port: 53 });
    raw.transmit(0, atomic);
    b2.poll(0);
    const r2 = rx2.recvfrom(out);
    expect(r2 !== WOULD_BLOCK && !('errno' in r2) ? r2.len : r2).toBe(3);
    expect(b2.iface.reassembler6.pending).toBe(0);
  });
});
