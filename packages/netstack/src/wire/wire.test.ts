import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArpOperation, ArpPacket, ArpRepr } from './arp.js';
import { checksumAdd, internetChecksum } from './checksum.js';
import { EthernetAddress, EthernetFrame, EthernetRepr } from './ethernet.js';
import { isWireError, WireError } from './error.js';
import { Icmpv4Packet, Icmpv4Repr } from './icmpv4.js';
import { Icmpv6Packet, Icmpv6Repr } from './icmpv6.js';
import { IpCidr, Ipv4Address, Ipv6Address } from './ip-address.js';
import { Ipv4Packet, Ipv4Repr } from './ipv4.js';
import { Ipv6Packet, Ipv6Repr } from './ipv6.js';
import { TcpFlag, TcpPacket, TcpRepr, seqLt } from './tcp.js';
import { UdpLiteRepr, UdpPacket, UdpRepr } from './udp.js';
import { bytes, ipAddrPair, ipv4, ipv6, mac, port, u16, u32 } from './wire.test-util.js';

const hex = (s: string): Uint8Array =>
  Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!, (h) => parseInt(h, 16));
const ok = <T>(v: T | WireError): T => {
  if (isWireError(v)) throw new Error(`unexpected ${v.toString()}`);
  return v;
};

describe('addresses', () => {
  it('parse and print IPv4 and IPv6 (RFC 5952)', () => {
    expect(Ipv4Address.parse('10.0.0.255')?.toString()).toBe('10.0.0.255');
    expect(Ipv4Address.parse('10.0.0.256')).toBeUndefined();
    expect(Ipv6Address.parse('::1')?.toString()).toBe('::1');
    expect(Ipv6Address.parse('2001:db8:0:0:1:0:0:1')?.toString()).toBe('2001:db8::1:0:0:1');
    expect(Ipv6Address.parse('fe80::1:2')?.isLinkLocal()).toBe(true);
    expect(Ipv6Address.parse('1::2::3')).toBeUndefined();
    expect(Ipv6Address.parse('1:2:3:4:5:6:7:8:9')).toBeUndefined();
    expect(IpCidr.parse('10.1.2.3/8')!.contains(Ipv4Address.parse('10.200.0.1')!)).toBe(true);
    expect(IpCidr.parse('10.1.2.3/8')!.contains(Ipv4Address.parse('11.0.0.1')!)).toBe(false);
    expect(IpCidr.parse('10.1.2.3/24')!.broadcast()?.toString()).toBe('10.1.2.255');
  });
  it('IPv6 text round-trips for any address', () => {
    fc.assert(
      fc.property(ipv6, (a) => {
        expect(Ipv6Address.parse(a.toString())?.equals(a)).toBe(true);
      }),
    );
  });
});

describe('known packets', () => {
  it('IPv4 header checksum of a textbook header (0xb861)', () => {
    const p = ok(
      Ipv4Packet.checked(hex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7' + '00'.repeat(0x73 - 20))),
    );
    expect(p.verifyChecksum()).toBe(true);
    const repr = ok(Ipv4Repr.parse(p));
    expect(repr).toMatchObject({ protocol: 17, ttl: 64, payloadLen: 0x73 - 20 });
    const out = new Uint8Array(20);
    Ipv4Repr.emit(repr, Ipv4Packet.unchecked(out));
    expect(out).toEqual(p.buffer.subarray(0, 20)); // DF, ident 0: same bytes, same checksum
  });
  it('UDP checksum with the IPv4 pseudo-header', () => {
    const src = Ipv4Address.parse('192.168.1.1')!;
    const dst = Ipv4Address.parse('192.168.1.2')!;
    const p = ok(UdpPacket.checked(hex('bf00 0035 000c 124d aa00 00ff')));
    expect(ok(UdpRepr.parse(p, src, dst))).toEqual({ srcPort: 48896, dstPort: 53, payload: hex('aa0000ff') });
    const bad = hex('bf00 0035 000c 124c aa00 00ff');
    expect(UdpRepr.parse(ok(UdpPacket.checked(bad)), src, dst)).toBe(WireError.Checksum);
  });
  it('TCP checksum and window-scale option', () => {
    const src = Ipv4Address.parse('192.168.1.1')!;
    const dst = Ipv4Address.parse('192.168.1.2')!;
    const p = ok(
      TcpPacket.checked(hex('bf00 0050 0123 4567 89ab cdef 6035 0123 01b6 0201 0303 0c01 aa00 00ff')),
    );
    const repr = ok(TcpRepr.parse(p, src, dst));
    expect(repr.flags).toBe(TcpFlag.FIN | TcpFlag.RST | TcpFlag.URG);
    expect(repr.ackNumber).toBe(0x89abcdef);
    expect(repr.windowScale).toBe(12);
    expect(repr.payload).toEqual(hex('aa0000ff'));
  });
  it("TCP SYN options in Linux's layout (bytes captured from Linux 6.18 on lo)", () => {
    // tcp_options_write: MSS; timestamps behind SACK-permitted (or NOP NOP); SACK-permitted
    // alone behind NOP NOP; NOP + window scale. Captured with each of tcp_timestamps, tcp_sack
    // and tcp_window_scaling off in turn (AF_PACKET on lo in a fresh network namespace).
    const cases: [Partial<TcpRepr>, string][] = [
      [
        { sackPermitted: true, timestamp: { tsVal: 0x49ba64f7, tsEcr: 0 }, windowScale: 10 },
        '0204ffd7 0402080a 49ba64f7 00000000 0103030a',
      ],
      [{ sackPermitted: true, windowScale: 10 }, '0204ffd7 01010402 0103030a'],
      [
        { timestamp: { tsVal: 0xfdaae5c9, tsEcr: 0 }, windowScale: 10 },
        '0204ffd7 0101080a fdaae5c9 00000000 0103030a',
      ],
      [
        { sackPermitted: true, timestamp: { tsVal: 0x9565b10e, tsEcr: 0 } },
        '0204ffd7 0402080a 9565b10e 00000000',
      ],
      [{ windowScale: 10 }, '0204ffd7 0103030a'],
    ];
    for (const [opts, linux] of cases) {
      const repr: TcpRepr = {
        srcPort: 1,
        dstPort: 2,
        seqNumber: 0,
        ackNumber: undefined,
        flags: TcpFlag.SYN,
        windowLen: 65495,
        maxSegSize: 65495,
        payload: new Uint8Array(0),
        ...opts,
      };
      const buf = new Uint8Array(TcpRepr.bufferLen(repr));
      TcpRepr.emit(repr, TcpPacket.unchecked(buf), Ipv4Address.LOOPBACK, Ipv4Address.LOOPBACK);
      expect(buf.subarray(20)).toEqual(hex(linux));
      const back = ok(TcpRepr.parse(ok(TcpPacket.checked(buf)), Ipv4Address.LOOPBACK, Ipv4Address.LOOPBACK));
      expect(back.sackPermitted ?? false).toBe(opts.sackPermitted ?? false);
      expect(back.timestamp).toEqual(opts.timestamp);
      expect(back.windowScale).toBe(opts.windowScale);
    }
  });
  it('ICMPv4 echo request from ping', () => {
    // Header of `ping -c1` (ident 0x1234, seq 1) with an 8-byte payload; checksum computed independently.
    const msg = hex('0800 0000 1234 0001 0102 0304 0506 0708');
    msg[2] = 0;
    const sum = internetChecksum(msg);
    msg[2] = sum >> 8;
    msg[3] = sum & 0xff;
    const repr = ok(Icmpv4Repr.parse(ok(Icmpv4Packet.checked(msg))));
    expect(repr).toEqual({ type: 'echoRequest', ident: 0x1234, seqNo: 1, data: hex('0102030405060708') });
  });
});

describe('emit -> parse -> equal', () => {
  it('Ethernet', () => {
    fc.assert(
      fc.property(mac, mac, u16, (src, dst, ethertype) => {
        const repr = { src, dst, ethertype };
        const buf = new Uint8Array(EthernetRepr.bufferLen(repr));
        EthernetRepr.emit(repr, EthernetFrame.unchecked(buf));
        expect(EthernetRepr.parse(ok(EthernetFrame.checked(buf)))).toEqual(repr);
      }),
    );
  });
  it('ARP', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(ArpOperation.REQUEST, ArpOperation.REPLY),
        mac,
        ipv4,
        mac,
        ipv4,
        (op, sha, spa, tha, tpa) => {
          const repr: ArpRepr = {
            operation: op,
            sourceHardwareAddr: sha,
            sourceProtocolAddr: spa,
            targetHardwareAddr: tha,
            targetProtocolAddr: tpa,
          };
          const buf = new Uint8Array(ArpRepr.bufferLen(repr));
          ArpRepr.emit(repr, ArpPacket.unchecked(buf));
          expect(ArpRepr.parse(ok(ArpPacket.checked(buf)))).toEqual(repr);
        },
      ),
    );
  });
  it('IPv4', () => {
    fc.assert(
      fc.property(
        ipv4,
        ipv4,
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        (src, dst, protocol, payloadLen, ttl, tos) => {
          const repr: Ipv4Repr = { src, dst, protocol, payloadLen, ttl, tos };
          const buf = new Uint8Array(Ipv4Repr.bufferLen(repr) + payloadLen);
          Ipv4Repr.emit(repr, Ipv4Packet.unchecked(buf));
          expect(Ipv4Repr.parse(ok(Ipv4Packet.checked(buf)))).toEqual(repr);
        },
      ),
    );
  });
  it('IPv6', () => {
    fc.assert(
      fc.property(
        ipv6,
        ipv6,
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        (src, dst, nextHeader, payloadLen, hopLimit, trafficClass) => {
          const repr: Ipv6Repr = { src, dst, nextHeader, payloadLen, hopLimit, trafficClass };
          const buf = new Uint8Array(Ipv6Repr.bufferLen(repr) + payloadLen);
          Ipv6Repr.emit(repr, Ipv6Packet.unchecked(buf));
          expect(Ipv6Repr.parse(ok(Ipv6Packet.checked(buf)))).toEqual(repr);
        },
      ),
    );
  });
  const icmpv4Arb: fc.Arbitrary<Icmpv4Repr> = fc.oneof(
    fc.record({
      type: fc.constantFrom('echoRequest' as const, 'echoReply' as const),
      ident: u16,
      seqNo: u16,
      data: bytes(),
    }),
    fc.integer({ min: 0, max: 15 }).chain((code) =>
      fc.record({
        type: fc.constant('destUnreachable' as const),
        code: fc.constant(code),
        nextHopMtu: code === 4 ? u16 : fc.constant(0),
        invoking: bytes(),
      }),
    ),
    fc.record({
      type: fc.constant('timeExceeded' as const),
      code: fc.integer({ min: 0, max: 1 }),
      invoking: bytes(),
    }),
  );
  it('ICMPv4', () => {
    fc.assert(
      fc.property(icmpv4Arb, (repr) => {
        const buf = new Uint8Array(Icmpv4Repr.bufferLen(repr));
        Icmpv4Repr.emit(repr, Icmpv4Packet.unchecked(buf));
        expect(Icmpv4Repr.parse(ok(Icmpv4Packet.checked(buf)))).toEqual(repr);
      }),
    );
  });
  const icmpv6Arb: fc.Arbitrary<Icmpv6Repr> = fc.oneof(
    fc.record({
      type: fc.constantFrom('echoRequest' as const, 'echoReply' as const),
      ident: u16,
      seqNo: u16,
      data: bytes(),
    }),
    fc.record({
      type: fc.constant('destUnreachable' as const),
      code: fc.integer({ min: 0, max: 6 }),
      invoking: bytes(),
    }),
    fc.record({ type: fc.constant('packetTooBig' as const), mtu: u32, invoking: bytes() }),
    fc.record({
      type: fc.constant('timeExceeded' as const),
      code: fc.integer({ min: 0, max: 1 }),
      invoking: bytes(),
    }),
    fc.record({
      type: fc.constant('paramProblem' as const),
      code: fc.integer({ min: 0, max: 2 }),
      pointer: u32,
      invoking: bytes(),
    }),
    fc.record({
      type: fc.constant('neighborSolicit' as const),
      target: ipv6.filter((a) => !a.isMulticast()),
      sourceLinkAddr: fc.option(mac, { nil: undefined }),
      nonce: fc.option(fc.uint8Array({ minLength: 6, maxLength: 6 }), { nil: undefined }),
    }),
    fc.record({
      type: fc.constant('neighborAdvert' as const),
      router: fc.boolean(),
      solicited: fc.boolean(),
      override: fc.boolean(),
      target: ipv6.filter((a) => !a.isMulticast()),
      targetLinkAddr: fc.option(mac, { nil: undefined }),
    }),
  );
  it('NDP: a neighbor solicitation as Linux sends it (known bytes), options of other lengths skipped, bad ones rejected', () => {
    const src = Ipv6Address.parse('fe80::1')!;
    const dst = Ipv6Address.parse('ff02::1:ff00:2')!;
    const target = Ipv6Address.parse('fe80::2')!;
    const repr: Icmpv6Repr = {
      type: 'neighborSolicit',
      target,
      sourceLinkAddr: EthernetAddress.parse('02:00:00:00:00:01')!,
    };
    const buf = new Uint8Array(Icmpv6Repr.bufferLen(repr));
    Icmpv6Repr.emit(repr, Icmpv6Packet.unchecked(buf), src, dst);
    // type 135, code 0, checksum, reserved, target, option 1 (length 1 = 8 bytes) + MAC
    expect(Buffer.from(buf).toString('hex')).toBe(
      '8700' +
        Buffer.from(buf.subarray(2, 4)).toString('hex') +
        '00000000' +
        'fe800000000000000000000000000002' +
        '0101020000000001',
    );
    expect(internetChecksum(buf, 0, buf.length, 0)).not.toBe(0); // the pseudo-header is needed
    // An unknown 16-byte option before the link address is skipped.
    const withOther = new Uint8Array(buf.length + 16);
    withOther.set(buf.subarray(0, 24));
    withOther.set([99, 2], 24);
    withOther.set(buf.subarray(24), 40);
    const view = Icmpv6Packet.unchecked(withOther);
    expect(Icmpv6Repr.parse(view, src, dst, false)).toEqual(repr);
    withOther[25] = 0; // a zero-length option
    expect(Icmpv6Repr.parse(view, src, dst, false)).toBe(WireError.Malformed);
  });
  it('NDP: a DAD solicitation with a nonce (RFC 7527) as Linux sends it; only a first nonce option of length 1 counts', () => {
    const src = Ipv6Address.UNSPECIFIED;
    const dst = Ipv6Address.parse('ff02::1:ff00:2')!;
    const target = Ipv6Address.parse('fe80::2')!;
    const repr: Icmpv6Repr = { type: 'neighborSolicit', target, nonce: Uint8Array.of(1, 2, 3, 4, 5, 6) };
    const buf = new Uint8Array(Icmpv6Repr.bufferLen(repr));
    Icmpv6Repr.emit(repr, Icmpv6Packet.unchecked(buf), src, dst);
    // ndisc_send_ns: option 14, length 1, the six nonce bytes
    expect(Buffer.from(buf.subarray(24)).toString('hex')).toBe('0e01010203040506');
    expect(Icmpv6Repr.parse(ok(Icmpv6Packet.checked(buf)), src, dst)).toEqual(repr);
    const long = new Uint8Array(40);
    long.set(buf.subarray(0, 24));
    long.set([14, 2, 9, 9, 9, 9, 9, 9], 24);
    const parsed = Icmpv6Repr.parse(Icmpv6Packet.unchecked(long), src, dst, false);
    expect(parsed).toEqual({ type: 'neighborSolicit', target, sourceLinkAddr: undefined, nonce: undefined });
    // A good one after it does not count either (ndisc_parse_options keeps the first).
    const both = new Uint8Array(48);
    both.set(long);
    both.set(buf.subarray(24), 40);
    expect(Icmpv6Repr.parse(Icmpv6Packet.unchecked(both), src, dst, false)).toMatchObject({
      nonce: undefined,
    });
    // And a second one after a good one is ignored.
    both.set(buf.subarray(24), 24);
    both.set([14, 1, 7, 7, 7, 7, 7, 7], 32);
    both.set([1, 1, 2, 0, 0, 0, 0, 1], 40);
    expect(Icmpv6Repr.parse(Icmpv6Packet.unchecked(both), src, dst, false)).toMatchObject({
      nonce: Uint8Array.of(1, 2, 3, 4, 5, 6),
    });
  });
  it('NDP: of several link-layer address options the first counts; a first one not of Ethernet length drops the message', () => {
    const src = Ipv6Address.parse('fe80::1')!;
    const dst = Ipv6Address.parse('ff02::1:ff00:2')!;
    const target = Ipv6Address.parse('fe80::2')!;
    const first = EthernetAddress.parse('02:00:00:00:00:01')!;
    for (const [type, kind] of [
      ['neighborSolicit', 1],
      ['neighborAdvert', 2],
    ] as const) {
      const repr: Icmpv6Repr =
        type === 'neighborSolicit'
          ? { type, target, sourceLinkAddr: first }
          : { type, router: false, solicited: true, override: true, target, targetLinkAddr: first };
      const buf = new Uint8Array(Icmpv6Repr.bufferLen(repr) + 8);
      Icmpv6Repr.emit(repr, Icmpv6Packet.unchecked(buf.subarray(0, 32)), src, dst);
      buf.set([kind, 1, 2, 0, 0, 0, 0, 0x99], 32);
      const view = Icmpv6Packet.unchecked(buf);
      expect(Icmpv6Repr.parse(view, src, dst, false)).toEqual(repr);
      // ndisc_opt_addr_data: a first option of 16 bytes holds no Ethernet address.
      const long = new Uint8Array(48);
      long.set(buf.subarray(0, 24));
      long.set([kind, 2], 24);
      long.set(buf.subarray(24, 32), 40);
      expect(Icmpv6Repr.parse(Icmpv6Packet.unchecked(long), src, dst, false)).toBe(WireError.Malformed);
    }
    // A router solicitation's is left out instead (a host reads neither).
    const rs = new Uint8Array(8 + 16 + 8);
    rs[0] = 133;
    rs.set([1, 2], 8);
    rs.set([1, 1, 2, 0, 0, 0, 0, 1], 24);
    expect(Icmpv6Repr.parse(Icmpv6Packet.unchecked(rs), src, dst, false)).toEqual({
      type: 'routerSolicit',
      sourceLinkAddr: undefined,
    });
  });
  it('ICMPv6', () => {
    fc.assert(
      fc.property(icmpv6Arb, ipv6, ipv6, (repr, src, dst) => {
        const buf = new Uint8Array(Icmpv6Repr.bufferLen(repr));
        Icmpv6Repr.emit(repr, Icmpv6Packet.unchecked(buf), src, dst);
        expect(Icmpv6Repr.parse(ok(Icmpv6Packet.checked(buf)), src, dst)).toEqual(repr);
        // The pseudo-header is covered: other addresses fail the checksum.
        const other = new Ipv6Address(src.bytes.map((b, i) => (i === 15 ? b ^ 1 : b)));
        expect(Icmpv6Repr.parse(ok(Icmpv6Packet.checked(buf)), other, dst)).toBe(WireError.Checksum);
      }),
    );
  });
  it('UDP over IPv4 and IPv6', () => {
    fc.assert(
      fc.property(ipAddrPair, port, port, bytes(), ([src, dst], srcPort, dstPort, payload) => {
        const repr: UdpRepr = { srcPort, dstPort, payload };
        const buf = new Uint8Array(UdpRepr.bufferLen(repr));
        UdpRepr.emit(repr, UdpPacket.unchecked(buf), src, dst);
        expect(UdpRepr.parse(ok(UdpPacket.checked(buf)), src, dst)).toEqual(repr);
        expect(ok(UdpPacket.checked(buf)).checksum).not.toBe(0);
      }),
    );
  });
  it('UDP-Lite: round trip; only the covered bytes are checksummed', () => {
    fc.assert(
      fc.property(
        ipAddrPair,
        port.filter((p) => p !== 0),
        port.filter((p) => p !== 0),
        bytes().filter((b) => b.length > 0),
        fc.nat(),
        ([src, dst], srcPort, dstPort, payload, cut) => {
          const len = 8 + payload.length;
          // 0 (everything) or a coverage from the header up to the whole datagram.
          const coverage = cut % 3 === 0 ? 0 : 8 + (cut % (payload.length + 1));
          const repr: UdpLiteRepr = { srcPort, dstPort, payload, coverage: coverage === len ? 0 : coverage };
          const buf = new Uint8Array(UdpLiteRepr.bufferLen(repr));
          UdpLiteRepr.emit(repr, buf, src, dst);
          expect(UdpLiteRepr.parse(buf, src, dst)).toEqual(repr);
          const flip = (at: number): Uint8Array => buf.map((b, i) => (i === at ? b ^ 0x5a : b));
          // A changed byte inside the coverage fails; one past it does not.
          expect(UdpLiteRepr.parse(flip(0), src, dst)).toBe(WireError.Checksum);
          if (repr.coverage !== 0)
            expect(UdpLiteRepr.parse(flip(len - 1), src, dst)).not.toBe(WireError.Checksum);
        },
      ),
    );
  });
  const sackBlock = fc.tuple(u32, u32);
  const tcpArb = fc
    .record({
      srcPort: port,
      dstPort: port,
      seqNumber: u32,
      ackNumber: fc.option(u32, { nil: undefined }),
      flags: fc.integer({ min: 0, max: 0xff }).map((f) => f & ~TcpFlag.ACK),
      windowLen: u16,
      maxSegSize: fc.option(u16, { nil: undefined }),
      windowScale: fc.option(fc.integer({ min: 0, max: 14 }), { nil: undefined }),
      sackPermitted: fc.constantFrom(true, undefined),
      sackBlocks: fc.option(fc.array(sackBlock, { minLength: 1, maxLength: 1 }), { nil: undefined }),
      timestamp: fc.option(fc.record({ tsVal: u32, tsEcr: u32 }), { nil: undefined }),
      urgentPointer: u16,
      payload: bytes(100),
    })
    .map((r) => ({ ...r, urgentPointer: r.flags & TcpFlag.URG ? r.urgentPointer : undefined })); // only with URG
  it('TCP with every option over IPv4 and IPv6', () => {
    fc.assert(
      fc.property(tcpArb, ipAddrPair, (repr, [src, dst]) => {
        const buf = new Uint8Array(TcpRepr.bufferLen(repr));
        expect(buf.length).toBeLessThanOrEqual(60 + repr.payload.length);
        TcpRepr.emit(repr, TcpPacket.unchecked(buf), src, dst);
        expect(TcpRepr.parse(ok(TcpPacket.checked(buf)), src, dst)).toEqual(repr);
      }),
    );
  });
  it('TCP leaves out SACK blocks that do not fit in 40 option bytes', () => {
    const repr: TcpRepr = {
      srcPort: 1,
      dstPort: 2,
      seqNumber: 0,
      ackNumber: 5,
      flags: 0,
      windowLen: 100,
      timestamp: { tsVal: 1, tsEcr: 2 },
      sackBlocks: [
        [1, 2],
        [3, 4],
        [5, 6],
        [7, 8],
      ],
      payload: new Uint8Array(0),
    };
    const buf = new Uint8Array(TcpRepr.bufferLen(repr));
    expect(buf.length).toBe(20 + 12 + 4 + 24);
    TcpRepr.emit(repr, TcpPacket.unchecked(buf), Ipv4Address.LOOPBACK, Ipv4Address.LOOPBACK);
    expect(
      ok(TcpRepr.parse(ok(TcpPacket.checked(buf)), Ipv4Address.LOOPBACK, Ipv4Address.LOOPBACK)).sackBlocks,
    ).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
  });
});

describe('untrusted bytes never throw', () => {
  const anyBytes = fc.uint8Array({ maxLength: 120 });
  it('every parser returns a repr or a WireError', () => {
    fc.assert(
      fc.property(anyBytes, ipAddrPair, (b, [src, dst]) => {
        const results: unknown[] = [];
        const eth = EthernetFrame.checked(b);
        if (!isWireError(eth)) results.push(EthernetRepr.parse(eth));
        const arp = ArpPacket.checked(b);
        results.push(isWireError(arp) ? arp : ArpRepr.parse(arp));
        const v4 = Ipv4Packet.checked(b);
        results.push(isWireError(v4) ? v4 : Ipv4Repr.parse(v4, false));
        const v6 = Ipv6Packet.checked(b);
        results.push(isWireError(v6) ? v6 : Ipv6Repr.parse(v6));
        const i4 = Icmpv4Packet.checked(b);
        results.push(isWireError(i4) ? i4 : Icmpv4Repr.parse(i4, false));
        const i6 = Icmpv6Packet.checked(b);
        if (src.version === 6 && dst.version === 6)
          results.push(isWireError(i6) ? i6 : Icmpv6Repr.parse(i6, src, dst, false));
        const udp = UdpPacket.checked(b);
        results.push(isWireError(udp) ? udp : UdpRepr.parse(udp, src, dst, false));
        const tcp = TcpPacket.checked(b);
        results.push(isWireError(tcp) ? tcp : TcpRepr.parse(tcp, src, dst, false));
        for (const r of results) expect(typeof r).toBe('object');
      }),
      { numRuns: 2000 },
    );
  });
  it('truncation and bad lengths are reported, not read past', () => {
    expect(Ipv4Packet.checked(hex('4500 0073'))).toBe(WireError.Truncated);
    expect(Ipv4Packet.checked(hex('4400 0014' + '00'.repeat(16)))).toBe(WireError.Malformed); // IHL 4
    expect(Ipv4Packet.checked(hex('4600 0014' + '00'.repeat(16)))).toBe(WireError.Truncated); // options missing
    expect(UdpPacket.checked(hex('0001 0002 0004 0000'))).toBe(WireError.Malformed);
    expect(TcpPacket.checked(hex('0001 0002 0000 0000 0000 0000 f000 0000 0000 0000'))).toBe(
      WireError.Truncated,
    );
    const badOpt = hex('0001 0002 0000 0000 0000 0000 6000 0000 0000 0000 0201 0000');
    expect(
      TcpRepr.parse(ok(TcpPacket.checked(badOpt)), Ipv4Address.LOOPBACK, Ipv4Address.LOOPBACK, false),
    ).toBe(WireError.Malformed);
  });
  it('IPv4 options are skipped: payload starts after IHL*4', () => {
    const repr: Ipv4Repr = {
      src: Ipv4Address.LOOPBACK,
      dst: Ipv4Address.LOOPBACK,
      protocol: 17,
      payloadLen: 4,
      ttl: 64,
    };
    const buf = new Uint8Array(28);
    Ipv4Repr.emit(repr, Ipv4Packet.unchecked(buf));
    // Rebuild with 4 bytes of options (a router-alert option) and recompute the checksum.
    const withOpts = new Uint8Array(32);
    withOpts.set(buf.subarray(0, 20));
    withOpts.set([0x94, 0x04, 0, 0], 20);
    withOpts.set([9, 8, 7, 6], 24);
    withOpts[0] = 0x46;
    withOpts[3] = 28;
    withOpts[10] = 0;
    withOpts[11] = 0;
    const sum = internetChecksum(withOpts, 0, 24);
    withOpts[10] = sum >> 8;
    withOpts[11] = sum & 0xff;
    const p = ok(Ipv4Packet.checked(withOpts));
    expect(ok(Ipv4Repr.parse(p)).payloadLen).toBe(4);
    expect(p.payload).toEqual(Uint8Array.of(9, 8, 7, 6)); // trailing padding beyond total length ignored
  });
  it('sequence comparison wraps', () => {
    expect(seqLt(0xfffffff0, 5)).toBe(true);
    expect(seqLt(5, 0xfffffff0)).toBe(false);
    expect(EthernetAddress.parse('02:00:00:00:00:01')?.isUnicast()).toBe(true);
  });
});

it('checksumAdd (word-at-a-time fast path) equals the RFC 1071 byte-pair sum for any range', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 3000 }),
      fc.nat(),
      fc.nat(),
      fc.nat({ max: 0xffffff }),
      (b, x, y, init) => {
        const start = b.length ? x % b.length : 0;
        const end = start + (b.length - start ? y % (b.length - start + 1) : 0);
        let s = init;
        for (let i = start; i < end; i += 2) s += (b[i]! << 8) | (i + 1 < end ? b[i + 1]! : 0);
        expect(checksumAdd(init, b, start, end)).toBe(s);
      },
    ),
  );
});
