import { describe, expect, it } from 'vitest';
import { FaultInjector } from './fault-injector.js';
import { LoopbackDevice, linkPair } from './loopback.js';
import { PcapLinkType, PcapWriter } from './pcap-writer.js';

/** Reads a classic pcap file the way libpcap does: global header, then records. */
function parsePcap(file: Uint8Array): {
  linkType: number;
  snapLen: number;
  records: { ts: number; data: Uint8Array; origLen: number }[];
} {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  expect(v.getUint32(0, true)).toBe(0xa1b2c3d4); // native-order magic: little-endian file, microseconds
  expect([v.getUint16(4, true), v.getUint16(6, true)]).toEqual([2, 4]);
  const records = [];
  let off = 24;
  while (off < file.length) {
    const sec = v.getUint32(off, true);
    const usec = v.getUint32(off + 4, true);
    const incl = v.getUint32(off + 8, true);
    const orig = v.getUint32(off + 12, true);
    expect(usec).toBeLessThan(1_000_000);
    records.push({
      ts: sec * 1000 + usec / 1000,
      data: file.subarray(off + 16, off + 16 + incl),
      origLen: orig,
    });
    off += 16 + incl;
  }
  expect(off).toBe(file.length);
  return { linkType: v.getUint32(20, true), snapLen: v.getUint32(16, true), records };
}

describe('devices', () => {
  it('loopback returns what it is given, in order, and refuses frames over the MTU', () => {
    const lo = new LoopbackDevice({ mtu: 100 });
    expect(lo.transmit(0, Uint8Array.of(1))).toBe(true);
    expect(lo.transmit(0, Uint8Array.of(2))).toBe(true);
    expect(lo.transmit(0, new Uint8Array(101))).toBe(false);
    expect(lo.receive(0)).toEqual(Uint8Array.of(1));
    expect(lo.receive(0)).toEqual(Uint8Array.of(2));
    expect(lo.receive(0)).toBeUndefined();
  });

  it('the pcap writer records both directions with timestamps and truncates at the snap length', () => {
    const chunks: Uint8Array[] = [];
    const [a, b] = linkPair({ medium: 'ethernet' });
    const traced = new PcapWriter(a, (c) => chunks.push(c), 8);
    traced.transmit(
      1500,
      Uint8Array.from({ length: 20 }, (_, i) => i),
    );
    b.transmit(2001, Uint8Array.of(9, 9, 9));
    expect(traced.receive(2250)).toEqual(Uint8Array.of(9, 9, 9));
    const file = Buffer.concat(chunks);
    const pcap = parsePcap(new Uint8Array(file));
    expect(pcap.linkType).toBe(PcapLinkType.ETHERNET);
    expect(pcap.snapLen).toBe(8);
    expect(pcap.records.map((r) => [r.ts, r.data.length, r.origLen])).toEqual([
      [1500, 8, 20],
      [2250, 3, 3],
    ]);
    expect(Array.from(pcap.records[0]!.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const raw: Uint8Array[] = [];
    new PcapWriter(new LoopbackDevice(), (c) => raw.push(c));
    expect(parsePcap(raw[0]!).linkType).toBe(PcapLinkType.RAW);
  });

  it('the fault injector is deterministic per seed and applies each fault', () => {
    const run = (seed: number): number[] => {
      const [a, b] = linkPair();
      const f = new FaultInjector(a, { drop: 0.2, duplicate: 0.2, reorder: 0.2, reorderDelay: 3 }, seed);
      const got: number[] = [];
      for (let t = 0; t < 200; t++) {
        f.transmit(t, Uint8Array.of(t));
        for (let x = b.receive(t); x; x = b.receive(t)) got.push(x[0]!);
      }
      for (let x = (f.receive(1000), b.receive(1000)); x; x = b.receive(1000)) got.push(x[0]!);
      expect(f.stats.dropped).toBeGreaterThan(0);
      expect(f.stats.duplicated).toBeGreaterThan(0);
      expect(f.stats.reordered).toBeGreaterThan(0);
      expect(got.length).toBe(200 - f.stats.dropped + f.stats.duplicated);
      expect(got.some((v, i) => i > 0 && v < got[i - 1]!)).toBe(true); // something overtook
      return got;
    };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
  });
});
