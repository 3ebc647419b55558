import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FaultInjector } from '../phy/fault-injector.js';
import { linkPair } from '../phy/loopback.js';
import { runUntil } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { WOULD_BLOCK } from '../socket/would-block.js';
import { isWireError } from '../wire/error.js';
import { Ipv4Address } from '../wire/ip-address.js';
import { Ipv4Packet, Ipv4Repr } from '../wire/ipv4.js';
import { fragmentIpv4, Ipv4Reassembler } from './fragment.js';
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
