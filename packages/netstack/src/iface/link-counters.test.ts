// Device counters (LinkCounters) as Linux keeps them: IP lengths on a loopback device, frame
// lengths (Ethernet header included) on an Ethernet device, the stack's traffic to its own
// addresses on lo's counters (fragmented at lo's MTU), and drops of a full loopback queue.
import { describe, expect, it } from 'vitest';
import { LoopbackDevice, linkPair } from '../phy/loopback.js';
import { RingBuffer } from '../storage/ring-buffer.js';
import { WOULD_BLOCK } from '../socket/would-block.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { EthernetAddress } from '../wire/ethernet.js';
import { Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import { cidr, linkCounters, type LinkCounters } from './interface.js';

const lo4 = Ipv4Address.LOOPBACK;
const lo6 = Ipv6Address.LOOPBACK;
const rings = () => ({
  rx: new RingBuffer(new Uint8Array(1 << 18)),
  tx: new RingBuffer(new Uint8Array(1 << 18)),
});

function loopbackStack(queueLimit?: number): Stack {
  return new Stack({
    device: new LoopbackDevice(queueLimit === undefined ? {} : { queueLimit }),
    addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
    seed: 3,
  });
}

/** Two stacks on an Ethernet cable: a at 10.0.0.1, b at 10.0.0.2 (and fd00::1, fd00::2). */
function ethernetPair(): [Stack, Stack] {
  const [da, db] = linkPair({ medium: 'ethernet', mtu: 1500 });
  const a = new Stack({
    device: da,
    addresses: [cidr('127.0.0.1/8'), cidr('::1/128'), cidr('10.0.0.1/24'), cidr('fd00::1/64')],
    hardwareAddress: EthernetAddress.parse('02:00:00:00:00:01')!,
    seed: 1,
  });
  const b = new Stack({
    device: db,
    addresses: [cidr('10.0.0.2/24'), cidr('fd00::2/64')],
    hardwareAddress: EthernetAddress.parse('02:00:00:00:00:02')!,
    seed: 2,
  });
  return [a, b];
}

function counters(c: Partial<LinkCounters>): LinkCounters {
  return { ...linkCounters(), ...c };
}

/** Both directions of one link's traffic: `packets` of `bytes` in all, sent and received. */
function both(packets: number, bytes: number): LinkCounters {
  return counters({ rxPackets: packets, rxBytes: bytes, txPackets: packets, txBytes: bytes });
}

describe('LinkCounters', () => {
  it('lo counts each UDP datagram and each TCP segment once each way, by its IP length', () => {
    const stack = loopbackStack();
    const server = stack.udpSocket(4);
    server.bind({ addr: lo4, port: 7 });
    const client = stack.udpSocket(4);
    for (const n of [1, 100, 2000]) expect(client.sendto(new Uint8Array(n), { addr: lo4, port: 7 })).toBe(n);
    settle([stack], 0);
    // 20 bytes of IPv4 header and 8 of UDP header each.
    expect(stack.iface.deviceCounters).toEqual(both(3, 2101 + 3 * 28));
    expect(stack.iface.loopCounters).toEqual(linkCounters());

    // TCP: every segment's IP datagram, in both columns; the IP layer's octet counter adds up the
    // same datagrams.
    const before = { ...stack.iface.deviceCounters };
    const l = stack.tcpListener(6, rings);
    l.bind({ addr: lo6, port: 80 });
    l.listen(4);
    const c = stack.tcpSocket(6, rings());
    c.connect({ addr: lo6, port: 80 });
    settle([stack], 0);
    const s = l.accept();
    if (s === WOULD_BLOCK || !('send' in s)) throw new Error('no connection');
    expect(c.send(new Uint8Array(100_000))).toBe(100_000);
    let got = 0;
    const buf = new Uint8Array(1 << 16);
    for (let now = 0; got < 100_000 && now < 1000; now += 10) {
      settle([stack], now);
      const r = s.recv(buf);
      if (typeof r === 'number') got += r;
    }
    expect(got).toBe(100_000);
    settle([stack], 2000);
    const d = stack.iface.deviceCounters;
    const packets = d.txPackets - before.txPackets;
    const bytes = d.txBytes - before.txBytes;
    expect(packets).toBeGreaterThan(3);
    expect(bytes).toBe(stack.mib.ip6.OutOctets);
    expect(bytes).toBeGreaterThan(100_000 + packets * 40);
    expect([d.rxPackets - before.rxPackets, d.rxBytes - before.rxBytes]).toEqual([packets, bytes]);
    expect([d.rxDropped, d.txDropped]).toEqual([0, 0]);
  });

  it('an Ethernet device counts frames with their header, ARP included; own addresses count on lo', () => {
    const [a, b] = ethernetPair();
    const server = b.udpSocket(4);
    server.bind({ addr: Ipv4Address.UNSPECIFIED, port: 9 });
    const client = a.udpSocket(4);
    expect(client.sendto(new Uint8Array(50), { addr: Ipv4Address.parse('10.0.0.2')!, port: 9 })).toBe(50);
    settle([a, b], 0);
    // a: an ARP request (42 bytes) out, the reply (42) in, then the datagram (14 + 20 + 8 + 50).
    expect(a.iface.deviceCounters).toEqual(
      counters({ txPackets: 2, txBytes: 42 + 92, rxPackets: 1, rxBytes: 42 }),
    );
    expect(b.iface.deviceCounters).toEqual(
      counters({ rxPackets: 2, rxBytes: 42 + 92, txPackets: 1, txBytes: 42 }),
    );
    expect(a.iface.loopCounters).toEqual(linkCounters());

    // To its own Ethernet address and to 127.0.0.1: lo's counters, never a frame.
    const own = a.udpSocket(4);
    own.bind({ addr: Ipv4Address.UNSPECIFIED, port: 10 });
    client.sendto(new Uint8Array(10), { addr: Ipv4Address.parse('10.0.0.1')!, port: 10 });
    client.sendto(new Uint8Array(20), { addr: lo4, port: 10 });
    settle([a, b], 1);
    expect(a.iface.loopCounters).toEqual(both(2, 30 + 2 * 28));
    expect(a.iface.deviceCounters.txPackets).toBe(2);
  });

  it('an IPv6 datagram to an own address larger than lo (65536) leaves lo in two fragments', () => {
    const [a] = ethernetPair();
    const server = a.udpSocket(6);
    server.bind({ addr: lo6, port: 11 });
    const client = a.udpSocket(6);
    expect(client.sendto(new Uint8Array(65527), { addr: lo6, port: 11 })).toBe(65527);
    settle([a], 0);
    const r = server.recvfrom(new Uint8Array(65536));
    expect(r !== WOULD_BLOCK && 'len' in r ? r.len : r).toBe(65527);
    // Two fragments, each with a 40-byte header and an 8-byte fragment header (as Linux counts).
    expect(a.iface.loopCounters).toEqual(both(2, 65527 + 8 + 2 * 48));
    expect(a.mib.ip6.FragCreates).toBe(2);
    expect(a.iface.deviceCounters).toEqual(linkCounters());
  });

  it('a full loopback queue drops packets: rx_dropped, and no packet or byte counted', () => {
    const stack = loopbackStack(2);
    const server = stack.udpSocket(4);
    server.bind({ addr: lo4, port: 7 });
    const client = stack.udpSocket(4);
    for (let i = 0; i < 5; i++) client.sendto(new Uint8Array(10), { addr: lo4, port: 7 });
    settle([stack], 0);
    const c = stack.iface.deviceCounters;
    expect(c.rxDropped + c.txPackets).toBe(5);
    expect(c.rxDropped).toBeGreaterThan(0);
    expect(c).toEqual(
      counters({
        rxPackets: c.txPackets,
        rxBytes: c.txPackets * 38,
        txPackets: c.txPackets,
        txBytes: c.txPackets * 38,
        rxDropped: c.rxDropped,
      }),
    );
  });
});
