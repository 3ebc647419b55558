import { E, isError, PollEvent } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { cidr } from './iface/interface.js';
import type { Device } from './phy/device.js';
import { LoopbackDevice, linkPair } from './phy/loopback.js';
import { RingBuffer } from './storage/ring-buffer.js';
import { EPHEMERAL_PORT_MAX, EPHEMERAL_PORT_MIN } from './socket/socket-set.js';
import type { UdpReceived } from './socket/udp.js';
import { WOULD_BLOCK } from './socket/would-block.js';
import { settle } from './stack.test-util.js';
import { Stack } from './stack.js';
import { ArpOperation, ArpPacket, ArpRepr, ARP_PACKET_LEN } from './wire/arp.js';
import { isWireError } from './wire/error.js';
import {
  EthernetAddress,
  EthernetFrame,
  EthernetRepr,
  EtherType,
  ETHERNET_HEADER_LEN,
} from './wire/ethernet.js';
import { Icmpv4Packet, Icmpv4Repr } from './wire/icmpv4.js';
import { Icmpv6Packet, Icmpv6Repr } from './wire/icmpv6.js';
import { Ipv4Address, Ipv6Address, type IpAddress } from './wire/ip-address.js';
import { IpProtocol, Ipv4Packet, Ipv4Repr } from './wire/ipv4.js';
import { Ipv6Packet, Ipv6Repr } from './wire/ipv6.js';

const te = new TextEncoder();
const td = new TextDecoder();
const lo4 = Ipv4Address.LOOPBACK;
const lo6 = Ipv6Address.LOOPBACK;

function loopbackStack(): Stack {
  return new Stack({
    device: new LoopbackDevice(),
    addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
    seed: 7,
  });
}

function received(r: UdpReceived | unknown): UdpReceived {
  if (r === WOULD_BLOCK || isError(r)) throw new Error(`expected a datagram, got ${String(r)}`);
  return r as UdpReceived;
}

/** Builds an IPv4 packet around an ICMPv4 message. */
function ipv4Icmp(src: Ipv4Address, dst: Ipv4Address, icmp: Icmpv4Repr): Uint8Array {
  const len = Icmpv4Repr.bufferLen(icmp);
  const buf = new Uint8Array(20 + len);
  Ipv4Repr.emit({ src, dst, protocol: IpProtocol.ICMP, payloadLen: len, ttl: 64 }, Ipv4Packet.unchecked(buf));
  Icmpv4Repr.emit(icmp, Icmpv4Packet.unchecked(buf.subarray(20)));
  return buf;
}

describe('UDP on loopback', () => {
  it('bind, sendto, recvfrom over IPv4 and IPv6', () => {
    const stack = loopbackStack();
    for (const [family, addr] of [
      [4, lo4],
      [6, lo6],
    ] as const) {
      const server = stack.udpSocket(family);
      expect(server.bind({ addr, port: 5353 })).toBeUndefined();
      const client = stack.udpSocket(family);
      expect(client.sendto(te.encode('hello'), { addr, port: 5353 })).toBe(5);
      // An unbound sender gets an ephemeral port.
      expect(client.local!.port).toBeGreaterThanOrEqual(EPHEMERAL_PORT_MIN);
      expect(client.local!.port).toBeLessThanOrEqual(EPHEMERAL_PORT_MAX);
      expect(server.readiness() & PollEvent.POLLIN).toBe(0);
      settle([stack], 0);
      expect(server.readiness() & PollEvent.POLLIN).toBe(PollEvent.POLLIN);
      const out = new Uint8Array(3);
      const r = received(server.recvfrom(out));
      expect(r).toMatchObject({ len: 5, truncated: true });
      expect(td.decode(out)).toBe('hel');
      expect(r.from.addr.equals(addr)).toBe(true);
      expect(r.from.port).toBe(client.local!.port);
      expect(server.recvfrom(out)).toBe(WOULD_BLOCK);
      // Reply to the sender's address.
      expect(server.sendto(te.encode('back'), r.from)).toBe(4);
      settle([stack], 0);
      const big = new Uint8Array(100);
      expect(received(client.recvfrom(big)).len).toBe(4);
      expect(td.decode(big.subarray(0, 4))).toBe('back');
    }
  });

  it('bind errors: EINVAL twice, EADDRINUSE, EADDRNOTAVAIL, SO_REUSEADDR', () => {
    const stack = loopbackStack();
    const a = stack.udpSocket(4);
    expect(a.bind({ addr: Ipv4Address.UNSPECIFIED, port: 9000 })).toBeUndefined();
    expect(a.bind({ addr: lo4, port: 9001 })).toBe(E.EINVAL);
    const b = stack.udpSocket(4);
    expect(b.bind({ addr: lo4, port: 9000 })).toBe(E.EADDRINUSE);
    expect(b.bind({ addr: Ipv4Address.parse('10.9.9.9')!, port: 9002 })).toBe(E.EADDRNOTAVAIL);
    // Another family is another port space (no dual-stack sockets yet).
    expect(stack.udpSocket(6).bind({ addr: lo6, port: 9000 })).toBeUndefined();
    const c = stack.udpSocket(4);
    const d = stack.udpSocket(4);
    c.reuseAddr = true;
    d.reuseAddr = true;
    expect(c.bind({ addr: lo4, port: 9100 })).toBeUndefined();
    expect(d.bind({ addr: lo4, port: 9100 })).toBeUndefined();
    a.close();
    expect(b.bind({ addr: lo4, port: 9000 })).toBeUndefined(); // freed by close
    expect(stack.udpSocket(4).sendto(te.encode('x'))).toBe(E.EDESTADDRREQ);
  });

  it('a connected socket gets ECONNREFUSED from ICMP port unreachable; an unconnected one does not', () => {
    const stack = loopbackStack();
    const connected = stack.udpSocket(4);
    expect(connected.connect({ addr: lo4, port: 4444 })).toBeUndefined();
    expect(connected.local!.addr.equals(lo4)).toBe(true);
    expect(connected.sendto(te.encode('anyone?'))).toBe(7);
    const unconnected = stack.udpSocket(4);
    expect(unconnected.sendto(te.encode('anyone?'), { addr: lo4, port: 4445 })).toBe(7);
    settle([stack], 0);
    expect(stack.iface.stats.udpNoPort).toBe(2);
    expect(connected.readiness() & PollEvent.POLLERR).toBe(PollEvent.POLLERR);
    expect(connected.recvfrom(new Uint8Array(10))).toBe(E.ECONNREFUSED);
    expect(connected.recvfrom(new Uint8Array(10))).toBe(WOULD_BLOCK); // reported once
    expect(unconnected.recvfrom(new Uint8Array(10))).toBe(WOULD_BLOCK);
  });

  it('a connected socket ignores datagrams from other peers', () => {
    const stack = loopbackStack();
    const s = stack.udpSocket(6);
    s.bind({ addr: lo6, port: 7000 });
    s.connect({ addr: lo6, port: 7001 });
    const peer = stack.udpSocket(6);
    peer.bind({ addr: lo6, port: 7001 });
    const stranger = stack.udpSocket(6);
    stranger.sendto(te.encode('stranger'), { addr: lo6, port: 7000 });
    peer.sendto(te.encode('peer'), { addr: lo6, port: 7000 });
    settle([stack], 0);
    const out = new Uint8Array(20);
    expect(received(s.recvfrom(out)).from.port).toBe(7001);
    expect(s.recvfrom(out)).toBe(WOULD_BLOCK);
  });
});

describe('ICMP echo', () => {
  it('answers ping over IPv4 and IPv6 on an IP link', () => {
    const [dev, peer] = linkPair({ medium: 'ip', mtu: 1500 });
    const stack = new Stack({ device: dev, addresses: [cidr('10.0.0.1/24'), cidr('fd00::1/64')], seed: 1 });
    const me4 = Ipv4Address.parse('10.0.0.2')!;
    peer.transmit(
      0,
      ipv4Icmp(me4, Ipv4Address.parse('10.0.0.1')!, {
        type: 'echoRequest',
        ident: 77,
        seqNo: 3,
        data: te.encode('ping!'),
      }),
    );
    settle([stack], 0);
    const reply = peer.receive(0)!;
    const ip = Ipv4Packet.checked(reply);
    if (isWireError(ip)) throw ip;
    expect(Ipv4Repr.parse(ip)).toMatchObject({ protocol: IpProtocol.ICMP });
    expect(ip.dst.equals(me4)).toBe(true);
    const icmp = Icmpv4Repr.parse(Icmpv4Packet.checked(ip.payload) as Icmpv4Packet);
    expect(icmp).toEqual({ type: 'echoReply', ident: 77, seqNo: 3, data: te.encode('ping!') });

    const me6 = Ipv6Address.parse('fd00::2')!;
    const them6 = Ipv6Address.parse('fd00::1')!;
    const req: Icmpv6Repr = { type: 'echoRequest', ident: 1, seqNo: 9, data: te.encode('six') };
    const len = Icmpv6Repr.bufferLen(req);
    const pkt = new Uint8Array(40 + len);
    Ipv6Repr.emit(
      { src: me6, dst: them6, nextHeader: IpProtocol.ICMPV6, payloadLen: len, hopLimit: 64 },
      Ipv6Packet.unchecked(pkt),
    );
    Icmpv6Repr.emit(req, Icmpv6Packet.unchecked(pkt.subarray(40)), me6, them6);
    peer.transmit(0, pkt);
    settle([stack], 0);
    const r6 = Ipv6Packet.checked(peer.receive(0)!) as Ipv6Packet;
    expect(Icmpv6Repr.parse(Icmpv6Packet.checked(r6.payload) as Icmpv6Packet, them6, me6)).toEqual({
      type: 'echoReply',
      ident: 1,
      seqNo: 9,
      data: te.encode('six'),
    });
    // A packet for another host is not ours to answer (no forwarding).
    peer.transmit(
      0,
      ipv4Icmp(me4, Ipv4Address.parse('10.0.0.9')!, {
        type: 'echoRequest',
        ident: 1,
        seqNo: 1,
        data: new Uint8Array(0),
      }),
    );
    settle([stack], 0);
    expect(peer.receive(0)).toBeUndefined();
    expect(stack.iface.stats.rxDropped).toBe(1);
  });
});

describe('Ethernet and ARP', () => {
  const myMac = EthernetAddress.parse('02:00:00:00:00:01')!;
  const peerMac = EthernetAddress.parse('02:00:00:00:00:02')!;
  const myIp = Ipv4Address.parse('192.168.7.1')!;
  const peerIp = Ipv4Address.parse('192.168.7.2')!;

  function ethStack(): { stack: Stack; peer: Device } {
    const [dev, peer] = linkPair({ medium: 'ethernet', mtu: 1500 });
    return {
      stack: new Stack({ device: dev, addresses: [cidr('192.168.7.1/24')], hardwareAddress: myMac, seed: 3 }),
      peer,
    };
  }
  function frame(dst: EthernetAddress, ethertype: number, payload: Uint8Array): Uint8Array {
    const f = new Uint8Array(ETHERNET_HEADER_LEN + payload.length);
    EthernetRepr.emit({ src: peerMac, dst, ethertype }, EthernetFrame.unchecked(f));
    f.set(payload, ETHERNET_HEADER_LEN);
    return f;
  }
  function arp(op: 1 | 2, tha: EthernetAddress, tpa: Ipv4Address): Uint8Array {
    const b = new Uint8Array(ARP_PACKET_LEN);
    ArpRepr.emit(
      {
        operation: op,
        sourceHardwareAddr: peerMac,
        sourceProtocolAddr: peerIp,
        targetHardwareAddr: tha,
        targetProtocolAddr: tpa,
      },
      ArpPacket.unchecked(b),
    );
    return b;
  }
  function parseArp(f: Uint8Array): ArpRepr {
    const eth = EthernetFrame.checked(f) as EthernetFrame;
    expect(eth.ethertype).toBe(EtherType.ARP);
    return ArpRepr.parse(ArpPacket.checked(eth.payload) as ArpPacket) as ArpRepr;
  }

  it('answers ARP requests for its address and then echo requests', () => {
    const { stack, peer } = ethStack();
    peer.transmit(
      0,
      frame(EthernetAddress.BROADCAST, EtherType.ARP, arp(ArpOperation.REQUEST, EthernetAddress.ZERO, myIp)),
    );
    settle([stack], 0);
    const reply = parseArp(peer.receive(0)!);
    expect(reply.operation).toBe(ArpOperation.REPLY);
    expect(reply.sourceHardwareAddr.equals(myMac)).toBe(true);
    expect(reply.targetProtocolAddr.equals(peerIp)).toBe(true);
    // The request taught it the peer's MAC: the echo reply needs no ARP round.
    peer.transmit(
      0,
      frame(
        myMac,
        EtherType.IPV4,
        ipv4Icmp(peerIp, myIp, { type: 'echoRequest', ident: 5, seqNo: 1, data: new Uint8Array(4) }),
      ),
    );
    settle([stack], 0);
    const f = EthernetFrame.checked(peer.receive(0)!) as EthernetFrame;
    expect(f.dst.equals(peerMac)).toBe(true);
    expect(f.ethertype).toBe(EtherType.IPV4);
    // Frames for another MAC are dropped.
    peer.transmit(
      0,
      frame(
        EthernetAddress.parse('02:00:00:00:00:99')!,
        EtherType.IPV4,
        ipv4Icmp(peerIp, myIp, { type: 'echoRequest', ident: 5, seqNo: 2, data: new Uint8Array(0) }),
      ),
    );
    settle([stack], 0);
    expect(peer.receive(0)).toBeUndefined();
  });

  it('resolves the next hop before sending, keeping the datagram meanwhile', () => {
    const { stack, peer } = ethStack();
    const s = stack.udpSocket(4);
    expect(s.sendto(te.encode('via arp'), { addr: peerIp, port: 53 })).toBe(7);
    const next = settle([stack], 0);
    const req = parseArp(peer.receive(0)!);
    expect(req.operation).toBe(ArpOperation.REQUEST);
    expect(req.targetProtocolAddr.equals(peerIp)).toBe(true);
    expect(peer.receive(0)).toBeUndefined(); // the datagram waits
    expect(next).toBe(1000); // ARP retry time
    peer.transmit(10, frame(myMac, EtherType.ARP, arp(ArpOperation.REPLY, myMac, myIp)));
    settle([stack], 10);
    const f = EthernetFrame.checked(peer.receive(10)!) as EthernetFrame;
    expect(f.dst.equals(peerMac)).toBe(true);
    const ip = Ipv4Packet.checked(f.payload) as Ipv4Packet;
    expect(ip.protocol).toBe(IpProtocol.UDP);
    expect(td.decode(ip.payload.subarray(8))).toBe('via arp');
  });

  it('neighborEntries lists resolved neighbors only, until they expire', () => {
    const { stack, peer } = ethStack();
    const s = stack.udpSocket(4);
    expect(s.sendto(te.encode('x'), { addr: peerIp, port: 53 })).toBe(1);
    settle([stack], 0);
    expect(parseArp(peer.receive(0)!).operation).toBe(ArpOperation.REQUEST);
    // A request outstanding is no entry (Linux's /proc/net/arp shows resolved neighbors).
    expect(stack.iface.neighborEntries(0)).toEqual([]);
    peer.transmit(10, frame(myMac, EtherType.ARP, arp(ArpOperation.REPLY, myMac, myIp)));
    settle([stack], 10);
    const entries = stack.iface.neighborEntries(10);
    expect(entries.map((e) => [e.address.toString(), e.mac.toString()])).toEqual([
      ['192.168.7.2', '02:00:00:00:00:02'],
    ]);
    expect(entries[0]!.expires).toBeGreaterThan(10);
    expect(stack.iface.neighborEntries(entries[0]!.expires)).toEqual([]);
  });

  it('two Ethernet stacks resolve each other and carry TCP; loopback traffic does not wait for ARP', () => {
    const [da, db] = linkPair({ medium: 'ethernet', mtu: 1500 });
    const a = new Stack({ device: da, addresses: [cidr('192.168.7.1/24')], hardwareAddress: myMac, seed: 1 });
    const b = new Stack({
      device: db,
      addresses: [cidr('192.168.7.2/24')],
      hardwareAddress: peerMac,
      seed: 2,
    });
    // An ARP request nobody answers (192.168.7.99) must not hold back loopback TCP on stack a.
    const lost = a.udpSocket(4);
    expect(lost.sendto(te.encode('void'), { addr: Ipv4Address.parse('192.168.7.99')!, port: 9 })).toBe(4);
    const rings = () => ({
      rx: new RingBuffer(new Uint8Array(8192)),
      tx: new RingBuffer(new Uint8Array(8192)),
    });
    const lo = a.tcpListener(4, rings);
    lo.bind({ addr: Ipv4Address.LOOPBACK, port: 80 });
    lo.listen(1);
    const loClient = a.tcpSocket(4, rings());
    loClient.connect({ addr: Ipv4Address.LOOPBACK, port: 80 });
    settle([a, b], 0);
    expect(loClient.state).toBe('ESTABLISHED');
    // Across the link: ARP, then the handshake and data.
    const l = b.tcpListener(4, rings);
    l.bind({ addr: Ipv4Address.UNSPECIFIED, port: 80 });
    l.listen(1);
    const c = a.tcpSocket(4, rings());
    c.connect({ addr: Ipv4Address.parse('192.168.7.2')!, port: 80 });
    settle([a, b], 1);
    expect(c.state).toBe('ESTABLISHED');
    expect(c.send(te.encode('over ethernet'))).toBe(13);
    settle([a, b], 2);
    const s = l.accept();
    if (s === WOULD_BLOCK || isError(s)) throw new Error('no connection');
    const out = new Uint8Array(32);
    expect(td.decode(out.subarray(0, s.recv(out) as number))).toBe('over ethernet');
  });

  it('has no route off-link without a gateway', () => {
    const { stack } = ethStack();
    const s = stack.udpSocket(4);
    expect(s.sendto(te.encode('x'), { addr: Ipv4Address.parse('8.8.8.8')! as IpAddress, port: 53 })).toBe(
      E.ENETUNREACH,
    );
  });
});
