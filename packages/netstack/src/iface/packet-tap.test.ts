import { E, isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { cidr } from './interface.js';
import {
  ArpHardware,
  ETH_P_802_2,
  ETH_P_802_3,
  ETH_P_802_3_MIN,
  PacketType,
  ethernetPacketType,
  frameProtocol,
  type TappedFrame,
} from './packet-tap.js';
import { LoopbackDevice, linkPair } from '../phy/loopback.js';
import { RingBuffer } from '../storage/ring-buffer.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { EthernetAddress, EtherType } from '../wire/ethernet.js';
import { Ipv4Address } from '../wire/ip-address.js';
import { IpProtocol, Ipv4Packet, Ipv4Repr } from '../wire/ipv4.js';
import { TcpFlag, TcpPacket } from '../wire/tcp.js';
import { UdpPacket, UdpRepr } from '../wire/udp.js';
import { WOULD_BLOCK } from '../socket/would-block.js';

const te = new TextEncoder();
const macA = new EthernetAddress(new Uint8Array([2, 0, 0, 0, 0, 1]));
const macB = new EthernetAddress(new Uint8Array([2, 0, 0, 0, 0, 2]));

interface Seen {
  readonly ifindex: number;
  readonly pktType: number;
  readonly hatype: number;
  readonly bytes: Uint8Array;
  readonly linkLen: number;
  readonly protocol: number;
  readonly origin: object | undefined;
}

/** A tap that copies what it sees (the frames are valid only during the call). */
function record(stack: Stack): { seen: Seen[]; off: () => void } {
  const seen: Seen[] = [];
  const off = stack.addPacketTap((f: TappedFrame) => seen.push({ ...f, bytes: f.bytes.slice() }));
  return { seen, off };
}

function loStack(): Stack {
  return new Stack({
    device: new LoopbackDevice(),
    addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
    seed: 3,
  });
}

/** The IPv4 header and UDP datagram of a tapped frame. */
function udpOf(s: Seen): { ip: Ipv4Repr; udp: UdpRepr } {
  const p = Ipv4Packet.checked(s.bytes.subarray(s.linkLen));
  if (isError(p) || !(p instanceof Ipv4Packet)) throw new Error('not IPv4');
  const ip = Ipv4Repr.parse(p);
  if (!('src' in ip)) throw new Error('bad IPv4');
  const u = UdpPacket.checked(p.payload);
  if (!(u instanceof UdpPacket)) throw new Error('not UDP');
  const udp = UdpRepr.parse(u, ip.src, ip.dst);
  if (!('srcPort' in udp)) throw new Error('bad UDP');
  return { ip, udp };
}

describe('packet taps', () => {
  it('see a UDP datagram on lo twice: outgoing, then received (HOST), behind a zero-MAC header', () => {
    const stack = loStack();
    const { seen } = record(stack);
    const rx = stack.udpSocket(4);
    rx.bind({ addr: Ipv4Address.LOOPBACK, port: 9000 });
    const tx = stack.udpSocket(4);
    expect(tx.sendto(te.encode('hello'), { addr: Ipv4Address.LOOPBACK, port: 9000 })).toBe(5);
    settle([stack], 0);
    expect(seen.map((s) => [s.ifindex, s.pktType, s.hatype, s.linkLen, s.protocol])).toEqual([
      [1, PacketType.OUTGOING, ArpHardware.LOOPBACK, 14, EtherType.IPV4],
      [1, PacketType.HOST, ArpHardware.LOOPBACK, 14, EtherType.IPV4],
    ]);
    for (const s of seen) {
      expect([...s.bytes.subarray(0, 14)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0]);
      const { ip, udp } = udpOf(s);
      expect(ip.protocol).toBe(IpProtocol.UDP);
      expect(udp.dstPort).toBe(9000);
      expect(new TextDecoder().decode(udp.payload)).toBe('hello');
    }
    expect(seen[0]!.bytes).toEqual(seen[1]!.bytes);
  });

  it('rebuild the bytes of looped TCP segments (which travel parsed) only while a tap is set', () => {
    const stack = loStack();
    const rings = () => ({
      rx: new RingBuffer(new Uint8Array(8192)),
      tx: new RingBuffer(new Uint8Array(8192)),
    });
    const l = stack.tcpListener(4, rings);
    l.bind({ addr: Ipv4Address.LOOPBACK, port: 80 });
    l.listen(1);
    const { seen, off } = record(stack);
    const c = stack.tcpSocket(4, rings());
    c.connect({ addr: Ipv4Address.LOOPBACK, port: 80 });
    settle([stack], 0);
    expect(c.state).toBe('ESTABLISHED');
    const flags = seen.map((s) => {
      const p = Ipv4Packet.checked(s.bytes.subarray(14));
      if (!(p instanceof Ipv4Packet)) throw new Error('not IPv4');
      const t = TcpPacket.checked(p.payload);
      if (!(t instanceof TcpPacket)) throw new Error('not TCP');
      return [s.pktType, t.flags & (TcpFlag.SYN | TcpFlag.ACK)];
    });
    const syn = TcpFlag.SYN;
    const synAck = TcpFlag.SYN | TcpFlag.ACK;
    // Each segment twice, outgoing then received.
    expect(flags).toEqual([
      [PacketType.OUTGOING, syn],
      [PacketType.HOST, syn],
      [PacketType.OUTGOING, synAck],
      [PacketType.HOST, synAck],
      [PacketType.OUTGOING, TcpFlag.ACK],
      [PacketType.HOST, TcpFlag.ACK],
    ]);
    off();
    expect(stack.iface.packetTap).toBeUndefined();
    expect(c.send(te.encode('unseen'))).toBe(6);
    settle([stack], 1);
    expect(seen.length).toBe(6);
    const s = l.accept();
    if (s === WOULD_BLOCK || isError(s)) throw new Error('no connection');
    const out = new Uint8Array(16);
    expect(s.recv(out)).toBe(6);
  });

  it('inject a frame on lo: IP for this host is received by the stack; other frames reach taps only', () => {
    const stack = loStack();
    const { seen } = record(stack);
    const rx = stack.udpSocket(4);
    rx.bind({ addr: Ipv4Address.LOOPBACK, port: 7000 });
    const payload = te.encode('injected');
    const udp: UdpRepr = { srcPort: 1234, dstPort: 7000, payload };
    const ipLen = 20 + UdpRepr.bufferLen(udp);
    const frame = new Uint8Array(14 + ipLen);
    frame[12] = 0x08;
    Ipv4Repr.emit(
      {
        src: Ipv4Address.LOOPBACK,
        dst: Ipv4Address.LOOPBACK,
        protocol: IpProtocol.UDP,
        payloadLen: ipLen - 20,
        ttl: 64,
      },
      Ipv4Packet.unchecked(frame.subarray(14)),
    );
    UdpRepr.emit(udp, UdpPacket.unchecked(frame.subarray(34)), Ipv4Address.LOOPBACK, Ipv4Address.LOOPBACK);
    const me = {};
    expect(stack.injectFrame(0, 1, frame, me)).toBeUndefined();
    settle([stack], 0);
    const got = rx.recvfrom(new Uint8Array(64));
    if (got === WOULD_BLOCK || isError(got)) throw new Error('nothing received');
    expect(got.len).toBe(payload.length);
    expect(got.from.port).toBe(1234);
    expect(seen.map((s) => [s.pktType, s.origin === me])).toEqual([
      [PacketType.OUTGOING, true],
      [PacketType.HOST, false],
    ]);
    // An experimental ethertype, and a frame for another MAC: the taps see them arrive as
    // eth_type_trans classifies them against lo's zero address (and its zero broadcast address:
    // ff:ff:ff:ff:ff:ff is a multicast on lo).
    seen.length = 0;
    const other = new Uint8Array(60);
    other.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0);
    other.set([0x88, 0xb5], 12);
    expect(stack.injectFrame(0, 1, other)).toBeUndefined();
    const unicast = frame.slice();
    unicast.set(macB.bytes, 0);
    expect(stack.injectFrame(0, 1, unicast)).toBeUndefined();
    settle([stack], 1);
    expect(seen.map((s) => [s.pktType, s.protocol])).toEqual([
      [PacketType.OUTGOING, 0x88b5],
      [PacketType.MULTICAST, 0x88b5],
      [PacketType.OUTGOING, EtherType.IPV4],
      [PacketType.OTHERHOST, EtherType.IPV4],
    ]);
    expect(rx.recvfrom(new Uint8Array(64))).toBe(WOULD_BLOCK);
    expect(stack.injectFrame(0, 2, frame)).toBe(E.ENXIO);
    // A link that is down takes nothing (packet_snd's ENETDOWN), and again once it is up.
    stack.setLoopbackUp(false);
    expect(stack.injectFrame(0, 1, frame)).toBe(E.ENETDOWN);
    stack.setLoopbackUp(true);
    expect(stack.injectFrame(0, 1, frame)).toBeUndefined();
  });

  it('see an Ethernet link as it is, with eth_type_trans packet types, and lo beside it', () => {
    const [da, db] = linkPair({ medium: 'ethernet', mtu: 1500 });
    const a = new Stack({ device: da, addresses: [cidr('192.168.7.1/24')], hardwareAddress: macA, seed: 1 });
    const b = new Stack({ device: db, addresses: [cidr('192.168.7.2/24')], hardwareAddress: macB, seed: 2 });
    expect(a.packetLinks()).toEqual([
      { ifindex: 1, hatype: ArpHardware.LOOPBACK, linkLen: 14 },
      { ifindex: 2, hatype: ArpHardware.ETHER, linkLen: 14 },
    ]);
    const ta = record(a);
    const tb = record(b);
    const rx = b.udpSocket(4);
    rx.bind({ addr: Ipv4Address.parse('192.168.7.2')!, port: 53 });
    const tx = a.udpSocket(4);
    expect(tx.sendto(te.encode('q'), { addr: Ipv4Address.parse('192.168.7.2')!, port: 53 })).toBe(1);
    settle([a, b], 0);
    // a: ARP request out, ARP reply in (HOST), the datagram out.
    expect(ta.seen.map((s) => [s.ifindex, s.pktType, s.hatype, s.protocol])).toEqual([
      [2, PacketType.OUTGOING, ArpHardware.ETHER, EtherType.ARP],
      [2, PacketType.HOST, ArpHardware.ETHER, EtherType.ARP],
      [2, PacketType.OUTGOING, ArpHardware.ETHER, EtherType.IPV4],
    ]);
    expect(tb.seen.map((s) => [s.ifindex, s.pktType, s.protocol])).toEqual([
      [2, PacketType.BROADCAST, EtherType.ARP],
      [2, PacketType.OUTGOING, EtherType.ARP],
      [2, PacketType.HOST, EtherType.IPV4],
    ]);
    expect(tb.seen[2]!.bytes).toEqual(ta.seen[2]!.bytes);
    expect([...ta.seen[2]!.bytes.subarray(0, 12)]).toEqual([...macB.bytes, ...macA.bytes]);
    // A frame injected on a's device for a third MAC: b sees it as OTHERHOST and drops it.
    const third = ta.seen[2]!.bytes.slice();
    third.set([2, 0, 0, 0, 0, 9], 0);
    expect(a.injectFrame(1, 2, third)).toBeUndefined();
    settle([a, b], 1);
    expect(tb.seen.at(-1)!.pktType).toBe(PacketType.OTHERHOST);
    // a's packets to its own address go by lo, not the device.
    ta.seen.length = 0;
    const self = a.udpSocket(4);
    self.bind({ addr: Ipv4Address.parse('192.168.7.1')!, port: 5 });
    expect(tx.sendto(te.encode('me'), { addr: Ipv4Address.parse('192.168.7.1')!, port: 5 })).toBe(2);
    settle([a, b], 2);
    expect(ta.seen.map((s) => [s.ifindex, s.pktType, s.hatype])).toEqual([
      [1, PacketType.OUTGOING, ArpHardware.LOOPBACK],
      [1, PacketType.HOST, ArpHardware.LOOPBACK],
    ]);
  });

  it('classify Ethernet destinations as eth_type_trans does', () => {
    const own = macA.bytes;
    expect(ethernetPacketType(new Uint8Array([2, 0, 0, 0, 0, 1]), own)).toBe(PacketType.HOST);
    expect(ethernetPacketType(new Uint8Array([255, 255, 255, 255, 255, 255]), own)).toBe(
      PacketType.BROADCAST,
    );
    expect(ethernetPacketType(new Uint8Array([1, 0, 0x5e, 0, 0, 1]), own)).toBe(PacketType.MULTICAST);
    expect(ethernetPacketType(new Uint8Array([2, 0, 0, 0, 0, 2]), own)).toBe(PacketType.OTHERHOST);
    expect(ethernetPacketType(new Uint8Array(3), own)).toBe(PacketType.OTHERHOST);
    // lo: address and broadcast address all zeros, so ff:ff:ff:ff:ff:ff is a multicast there.
    const lo = new Uint8Array(6);
    expect(ethernetPacketType(new Uint8Array([255, 255, 255, 255, 255, 255]), lo, lo)).toBe(
      PacketType.MULTICAST,
    );
    expect(ethernetPacketType(new Uint8Array(6), lo, lo)).toBe(PacketType.HOST);
  });

  it('read an 802.3 length field as eth_type_trans does', () => {
    const f = (type: number, payload: number[]): Uint8Array => {
      const b = new Uint8Array(14 + payload.length);
      b[12] = type >> 8;
      b[13] = type & 0xff;
      b.set(payload, 14);
      return b;
    };
    expect(frameProtocol(f(0x0800, [0x45]), 14)).toBe(0x0800);
    expect(frameProtocol(f(ETH_P_802_3_MIN, [0]), 14)).toBe(ETH_P_802_3_MIN);
    expect(frameProtocol(f(5, [0xff, 0xff, 1]), 14)).toBe(ETH_P_802_3); // raw IPX
    expect(frameProtocol(f(5, [0xaa, 0xaa, 3]), 14)).toBe(ETH_P_802_2);
    expect(frameProtocol(f(0x5ff, [0xff, 0]), 14)).toBe(ETH_P_802_2);
  });

  it('let a tap remove itself while others still run', () => {
    const stack = loStack();
    const calls: string[] = [];
    const offA: () => void = stack.addPacketTap(() => {
      calls.push('a');
      offA();
    });
    const { off } = record(stack);
    stack.addPacketTap(() => calls.push('c'));
    const s = stack.udpSocket(4);
    s.sendto(te.encode('x'), { addr: Ipv4Address.LOOPBACK, port: 1 });
    settle([stack], 0);
    expect(calls[0]).toBe('a');
    expect(calls.filter((c) => c === 'a').length).toBe(1);
    expect(calls.filter((c) => c === 'c').length).toBeGreaterThanOrEqual(2);
    off();
  });
});

describe('README example: packet taps', () => {
  it('runs through the public entry point', async () => {
    const pub = await import('../index.js');
    const stack = new pub.Stack({ device: new pub.LoopbackDevice(), addresses: [pub.cidr('127.0.0.1/8')] });
    const seen: string[] = [];
    const off = stack.addPacketTap((f) => {
      seen.push(`${f.ifindex} ${f.pktType === pub.PacketType.OUTGOING ? 'out' : 'in'} ${f.bytes.length}`);
    });
    const s = stack.udpSocket(4);
    s.sendto(new TextEncoder().encode('hi'), { addr: pub.Ipv4Address.LOOPBACK, port: 9 });
    stack.poll(0);
    off();
    expect(seen.slice(0, 2)).toEqual(['1 out 44', '1 in 44']);
    // The port is closed: the ICMP port unreachable (20 + 8 + 20 + 8 + 2) comes back the same way.
    expect(seen.slice(2)).toEqual(['1 out 72', '1 in 72']);
  });
});
