// IPv6 over Ethernet: neighbor discovery (RFC 4861) and link-local addresses.
import { isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import type { Device } from '../phy/device.js';
import { linkPair } from '../phy/loopback.js';
import { RingBuffer } from '../storage/ring-buffer.js';
import { WOULD_BLOCK } from '../socket/would-block.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { internetChecksum, pseudoHeaderSum } from '../wire/checksum.js';
import { EthernetAddress, EthernetFrame } from '../wire/ethernet.js';
import { isWireError } from '../wire/error.js';
import { Icmpv6Packet, Icmpv6Repr } from '../wire/icmpv6.js';
import { Ipv6Address } from '../wire/ip-address.js';
import { IPV6_HEADER_LEN, Ipv6Packet, Ipv6Repr } from '../wire/ipv6.js';
import { cidr, linkLocalAddress, solicitedNodeAddress } from './interface.js';
import { icmpFrame, sendIcmp } from './slaac.test-util.js';

const macA = EthernetAddress.parse('02:00:00:00:00:0a')!;
const macB = EthernetAddress.parse('52:54:00:12:34:56')!;
const te = new TextEncoder();
const td = new TextDecoder();
const rings = () => ({ rx: new RingBuffer(new Uint8Array(8192)), tx: new RingBuffer(new Uint8Array(8192)) });

function pair(): { a: Stack; b: Stack } {
  const [da, db] = linkPair({ medium: 'ethernet', mtu: 1500 });
  const a = new Stack({
    device: da,
    addresses: [cidr('fd00::1/64')],
    hardwareAddress: macA,
    ipv6LinkLocal: true,
    seed: 1,
  });
  const b = new Stack({
    device: db,
    addresses: [cidr('fd00::2/64')],
    hardwareAddress: macB,
    ipv6LinkLocal: true,
    seed: 2,
  });
  return { a, b };
}

describe('link-local addresses', () => {
  it('derive fe80::/64 from the MAC by modified EUI-64 (RFC 4291 Appendix A)', () => {
    expect(linkLocalAddress(macB).toString()).toBe('fe80::5054:ff:fe12:3456');
    expect(solicitedNodeAddress(Ipv6Address.parse('fe80::5054:ff:fe12:3456')!).toString()).toBe(
      'ff02::1:ff12:3456',
    );
    const { a } = pair();
    expect(a.iface.addresses.map((c) => `${c.address.toString()}/${c.prefixLen}`)).toEqual([
      'fd00::1/64',
      'fe80::ff:fe00:a/64',
    ]);
  });
});

describe('neighbor discovery between two stacks', () => {
  it('resolves by solicitation and advertisement, then carries UDP (global) and TCP (link-local)', () => {
    const { a, b } = pair();
    const rx = b.udpSocket(6);
    rx.bind({ addr: Ipv6Address.UNSPECIFIED, port: 53 });
    const tx = a.udpSocket(6);
    expect(tx.sendto(te.encode('over ndp'), { addr: Ipv6Address.parse('fd00::2')!, port: 53 })).toBe(8);
    settle([a, b], 0);
    const buf = new Uint8Array(32);
    const got = rx.recvfrom(buf);
    if (got === WOULD_BLOCK || isError(got)) throw new Error('nothing arrived');
    expect(td.decode(buf.subarray(0, got.len))).toBe('over ndp');
    expect(got.from.addr.toString()).toBe('fd00::1');

    const l = b.tcpListener(6, rings);
    l.bind({ addr: Ipv6Address.UNSPECIFIED, port: 80 });
    l.listen(1);
    const c = a.tcpSocket(6, rings());
    expect(c.connect({ addr: linkLocalAddress(macB), port: 80 })).toBeUndefined();
    settle([a, b], 1);
    expect(c.state).toBe('ESTABLISHED');
    expect(c.local!.addr.toString()).toBe('fe80::ff:fe00:a');
    c.send(te.encode('link-local'));
    settle([a, b], 2);
    const s = l.accept();
    if (s === WOULD_BLOCK || isError(s)) throw new Error('no connection');
    const out = new Uint8Array(32);
    expect(td.decode(out.subarray(0, s.recv(out) as number))).toBe('link-local');
  });
});

describe('neighbor discovery against a hand-driven peer', () => {
  const me = Ipv6Address.parse('fd00::1')!;
  const peerIp = Ipv6Address.parse('fd00::99')!;
  function recvIcmp(
    peer: Device,
  ): { dst: Ipv6Address; mac: EthernetAddress; hopLimit: number; icmp: Icmpv6Repr } | undefined {
    const f = peer.receive(0);
    if (!f) return undefined;
    const eth = EthernetFrame.checked(f);
    if (isWireError(eth)) throw eth;
    const ip = Ipv6Repr.parse(Ipv6Packet.checked(eth.payload) as Ipv6Packet);
    if (isWireError(ip)) throw ip;
    const icmp = Icmpv6Repr.parse(
      Icmpv6Packet.checked(eth.payload.subarray(IPV6_HEADER_LEN)) as Icmpv6Packet,
      ip.src as Ipv6Address,
      ip.dst as Ipv6Address,
    );
    if (isWireError(icmp)) throw icmp;
    return { dst: ip.dst as Ipv6Address, mac: eth.dst, hopLimit: ip.hopLimit, icmp };
  }
  function setup(): { stack: Stack; peer: Device } {
    const [dev, peer] = linkPair({ medium: 'ethernet', mtu: 1500 });
    return {
      stack: new Stack({ device: dev, addresses: [cidr('fd00::1/64')], hardwareAddress: macA, seed: 5 }),
      peer,
    };
  }

  it('answers a solicitation for its address with a solicited, overriding advertisement (hop limit 255)', () => {
    const { stack, peer } = setup();
    sendIcmp(
      peer,
      macA,
      peerIp,
      solicitedNodeAddress(me),
      { type: 'neighborSolicit', target: me, sourceLinkAddr: macB },
      255,
      macB,
    );
    settle([stack], 0);
    const na = recvIcmp(peer)!;
    expect(na.dst.equals(peerIp)).toBe(true);
    expect(na.mac.equals(macB)).toBe(true); // the solicitation taught us where the peer is
    expect(na.hopLimit).toBe(255);
    expect(na.icmp).toEqual({
      type: 'neighborAdvert',
      router: false,
      solicited: true,
      override: true,
      target: me,
      targetLinkAddr: macA,
    });
    // Duplicate address detection (unspecified source): the answer goes to all nodes, unsolicited.
    sendIcmp(
      peer,
      macA,
      Ipv6Address.UNSPECIFIED,
      solicitedNodeAddress(me),
      { type: 'neighborSolicit', target: me },
      255,
      macB,
    );
    settle([stack], 0);
    const dad = recvIcmp(peer)!;
    expect(dad.dst.toString()).toBe('ff02::1');
    expect(dad.icmp).toMatchObject({ type: 'neighborAdvert', solicited: false });
  });

  it('ignores solicitations that crossed a router (hop limit < 255) or are for other addresses', () => {
    const { stack, peer } = setup();
    sendIcmp(
      peer,
      macA,
      peerIp,
      solicitedNodeAddress(me),
      { type: 'neighborSolicit', target: me, sourceLinkAddr: macB },
      64,
      macB,
    );
    const other = Ipv6Address.parse('fd00::7')!;
    sendIcmp(
      peer,
      macA,
      peerIp,
      solicitedNodeAddress(other),
      { type: 'neighborSolicit', target: other, sourceLinkAddr: macB },
      255,
      macB,
    );
    settle([stack], 0);
    expect(recvIcmp(peer)).toBeUndefined();
    expect(stack.iface.stats.rxDropped).toBe(1);
  });

  it('of two link-layer address options it learns the first (ndisc_parse_options)', () => {
    const other = EthernetAddress.parse('52:54:00:ab:cd:ef')!;
    /** `icmp` from peerIp with a second address option of `kind` carrying `other` after its own. */
    const withSecond = (icmp: Icmpv6Repr, kind: number): Uint8Array => {
      const one = icmpFrame(macA, peerIp, me, icmp, 255, macB);
      const f = new Uint8Array(one.length + 8);
      f.set(one);
      f.set([kind, 1, ...other.bytes], one.length);
      const ip = f.subarray(14);
      ip[5] = ip[5]! + 8; // the payload length
      const msg = ip.subarray(IPV6_HEADER_LEN);
      msg[2] = msg[3] = 0;
      const sum = internetChecksum(msg, 0, msg.length, pseudoHeaderSum(peerIp, me, 58, msg.length));
      msg[2] = sum >> 8;
      msg[3] = sum & 0xff;
      return f;
    };
    const { stack, peer } = setup();
    peer.transmit(0, withSecond({ type: 'neighborSolicit', target: me, sourceLinkAddr: macB }, 1));
    settle([stack], 0);
    expect(recvIcmp(peer)?.mac).toEqual(macB); // answered at the first
    expect(stack.iface.neighborEntries(0).map((e) => e.mac.toString())).toEqual([macB.toString()]);

    // An advertisement answering our solicitation, its target address option twice.
    const asker = setup();
    const s = asker.stack.udpSocket(6);
    expect(s.sendto(te.encode('held'), { addr: peerIp, port: 9 })).toBe(4);
    settle([asker.stack], 0);
    expect(recvIcmp(asker.peer)?.icmp.type).toBe('neighborSolicit');
    const na: Icmpv6Repr = {
      type: 'neighborAdvert',
      router: false,
      solicited: true,
      override: true,
      target: peerIp,
      targetLinkAddr: macB,
    };
    asker.peer.transmit(0, withSecond(na, 2));
    settle([asker.stack], 1);
    expect(asker.stack.iface.neighborEntries(1).map((e) => e.mac.toString())).toEqual([macB.toString()]);
  });

  it('solicits an unknown neighbor, retries, and sends the held datagram once advertised', () => {
    const { stack, peer } = setup();
    const s = stack.udpSocket(6);
    expect(s.sendto(te.encode('held'), { addr: peerIp, port: 9 })).toBe(4);
    settle([stack], 0);
    const ns = recvIcmp(peer)!;
    expect(ns.dst.toString()).toBe('ff02::1:ff00:99');
    expect(ns.mac.toString()).toBe('33:33:ff:00:00:99');
    expect(ns.icmp).toEqual({ type: 'neighborSolicit', target: peerIp, sourceLinkAddr: macA });
    const t = settle([stack], 0)!; // the solicitation repeats while the datagram waits
    settle([stack], t);
    expect(recvIcmp(peer)?.icmp.type).toBe('neighborSolicit');
    sendIcmp(
      peer,
      macA,
      peerIp,
      me,
      {
        type: 'neighborAdvert',
        router: false,
        solicited: true,
        override: true,
        target: peerIp,
        targetLinkAddr: macB,
      },
      255,
      macB,
    );
    settle([stack], t + 1);
    const f = peer.receive(0)!;
    const eth = EthernetFrame.checked(f) as EthernetFrame;
    expect(eth.dst.equals(macB)).toBe(true);
    expect(td.decode(eth.payload.subarray(IPV6_HEADER_LEN + 8))).toBe('held');
  });
});
