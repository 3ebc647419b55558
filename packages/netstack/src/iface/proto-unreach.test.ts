// A unicast datagram of a protocol no handler and no raw socket takes is answered as Linux's
// ip_protocol_deliver_rcu and ip6_protocol_deliver_rcu answer it: IPv4 with a destination
// unreachable, code 2 (protocol unreachable), IPv6 with a parameter problem, code 1 (unrecognized
// next header) pointing at the Next Header byte that named the protocol; not when a raw socket
// took it, not to a broadcast or multicast destination. A peer on an IP link sends the datagrams
// and reads the answers byte for byte (the runtime's proto-unreach.c compares the rest with Linux
// on lo: the sender's errno and error queue, the counters).
import { SockType } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import type { Device } from '../phy/device.js';
import { far4, far6, inetSocket, me4, me6, routerLink } from '../socket/icmp-router.test-util.js';
import { Icmpv4Packet, Icmpv4Type, Icmpv4Unreachable } from '../wire/icmpv4.js';
import { Icmpv6Packet, Icmpv6Type } from '../wire/icmpv6.js';
import { Ipv4Address, Ipv6Address, type IpAddress } from '../wire/ip-address.js';
import { IpProtocol, Ipv4Packet, Ipv4Repr } from '../wire/ipv4.js';
import { Ipv6Packet, Ipv6Repr } from '../wire/ipv6.js';
import { isWireError } from '../wire/error.js';
import { fragmentIpv6 } from './fragment.js';

/** RFC 3692's experimentation protocol number: nothing handles it. */
const UNKNOWN = 253;

/** An IPv4 datagram from `src` to `dst` of `protocol` with TOS `tos` and `len` payload bytes 1, 2, 3... */
function datagram4(src: Ipv4Address, dst: Ipv4Address, protocol: number, len: number, tos = 0): Uint8Array {
  const buf = new Uint8Array(20 + len);
  Ipv4Repr.emit({ src, dst, protocol, payloadLen: len, ttl: 64, tos }, Ipv4Packet.unchecked(buf));
  for (let i = 0; i < len; i++) buf[20 + i] = (i + 1) & 0xff;
  return buf;
}

/** An IPv6 datagram from `src` to `dst` with next header `nextHeader` and `len` payload bytes 1, 2, 3... */
function datagram6(src: Ipv6Address, dst: Ipv6Address, nextHeader: number, len: number): Uint8Array {
  const buf = new Uint8Array(40 + len);
  Ipv6Repr.emit(
    { src, dst, nextHeader, payloadLen: len, hopLimit: 64, trafficClass: 0xb9 },
    Ipv6Packet.unchecked(buf),
  );
  for (let i = 0; i < len; i++) buf[40 + i] = (i + 1) & 0xff;
  return buf;
}

/** `p` as an atomic fragment (RFC 6946): a Fragment header of offset 0 without M before its payload. */
function atomicFragment(p: Uint8Array): Uint8Array {
  const f = new Uint8Array(p.length + 8);
  f.set(p.subarray(0, 40));
  f[6] = 44;
  f[4] = (p.length - 40 + 8) >> 8;
  f[5] = (p.length - 40 + 8) & 0xff;
  f[40] = p[6]!;
  f.set([0, 0, 0x12, 0x34, 0x56, 0x78], 42);
  f.set(p.subarray(40), 48);
  return f;
}

function setup(): {
  peer: Device;
  sent: () => Uint8Array[];
  mib: ReturnType<typeof routerLink>['stack']['mib'];
} {
  const { stack, peer, sent } = routerLink(3);
  return { peer, sent, mib: stack.mib };
}

/** The ICMPv4 message in the IPv4 datagram `p` from `src` to `dst`, after checking its header. */
function icmp4Of(p: Uint8Array, src: IpAddress, dst: IpAddress): Uint8Array {
  const ip = Ipv4Packet.checked(p);
  if (isWireError(ip)) throw new Error('not IPv4');
  const repr = Ipv4Repr.parse(ip, true);
  if (isWireError(repr)) throw new Error('bad IPv4 header');
  expect([repr.src.toString(), repr.dst.toString(), repr.protocol]).toEqual([
    src.toString(),
    dst.toString(),
    IpProtocol.ICMP,
  ]);
  return ip.payload;
}

/** The ICMPv6 message in the IPv6 datagram `p` from `src` to `dst`, with its hop limit. */
function icmp6Of(p: Uint8Array, src: Ipv6Address, dst: Ipv6Address): { icmp: Uint8Array; hopLimit: number } {
  const ip = Ipv6Packet.checked(p);
  if (isWireError(ip)) throw new Error('not IPv6');
  const repr = Ipv6Repr.parse(ip);
  if (isWireError(repr)) throw new Error('bad IPv6 header');
  expect([repr.src.toString(), repr.dst.toString(), repr.nextHeader, repr.trafficClass]).toEqual([
    src.toString(),
    dst.toString(),
    IpProtocol.ICMPV6,
    0, // icmp6_send's socket has no IPV6_TCLASS
  ]);
  const icmp = ip.payload;
  const view = Icmpv6Packet.checked(icmp);
  if (isWireError(view)) throw new Error('short ICMPv6');
  expect(view.verifyChecksum(src, dst)).toBe(true);
  return { icmp, hopLimit: repr.hopLimit };
}

describe('IPv4: protocol unreachable', () => {
  it('answers a unicast datagram of an unknown protocol, quoting it, with TOS 0xc0 and its TOS bits', () => {
    const { peer, sent, mib } = setup();
    const d = datagram4(far4, me4, UNKNOWN, 16, 0xb9);
    peer.transmit(0, d);
    const out = sent();
    expect(out).toHaveLength(1);
    const p = out[0]!;
    expect(p[1]).toBe(0xd8); // 0xc0 | (0xb9 & IPTOS_TOS_MASK), as natively
    expect(p[8]).toBe(64);
    const icmp = icmp4Of(p, me4, far4);
    const view = Icmpv4Packet.checked(icmp);
    if (isWireError(view)) throw new Error('short ICMP');
    expect(view.verifyChecksum()).toBe(true);
    expect([icmp[0], icmp[1]]).toEqual([Icmpv4Type.DEST_UNREACHABLE, Icmpv4Unreachable.PROTOCOL]);
    expect([...icmp.subarray(4, 8)]).toEqual([0, 0, 0, 0]);
    expect([...icmp.subarray(8)]).toEqual([...d]);
    expect(mib.ip.InUnknownProtos).toBe(1);
    expect(mib.ip.InDelivers).toBe(0);
    expect(mib.icmp.OutMsgs).toBe(1);
    expect(mib.icmp.outType[Icmpv4Type.DEST_UNREACHABLE]).toBe(1);
  });

  it('quotes as much as fits in 576 bytes', () => {
    const { peer, sent } = setup();
    const d = datagram4(far4, me4, UNKNOWN, 1000);
    peer.transmit(0, d);
    const [p] = sent();
    expect(p).toHaveLength(576);
    expect([...icmp4Of(p!, me4, far4).subarray(8)]).toEqual([...d.subarray(0, 576 - 28)]);
  });

  it('leaves broadcast and multicast destinations unanswered, counted all the same', () => {
    const { peer, sent, mib } = setup();
    for (const dst of ['10.0.0.255', '255.255.255.255', '224.0.0.1'])
      peer.transmit(0, datagram4(far4, Ipv4Address.parse(dst)!, UNKNOWN, 16));
    expect(sent()).toEqual([]);
    expect(mib.ip.InUnknownProtos).toBe(3);
    expect(mib.icmp.OutMsgs).toBe(0);
  });

  it('sends nothing when a raw socket of the protocol took the datagram', () => {
    const { stack, peer, sent } = routerLink(3);
    inetSocket(stack, 4, SockType.SOCK_RAW, UNKNOWN);
    peer.transmit(0, datagram4(far4, me4, UNKNOWN, 16));
    expect(sent()).toEqual([]);
    expect(stack.mib.ip.InDelivers).toBe(1);
    expect(stack.mib.ip.InUnknownProtos).toBe(0);
  });

  it('takes IGMP silently, as Linux has its handler', () => {
    const { peer, sent, mib } = setup();
    peer.transmit(0, datagram4(far4, me4, 2, 8));
    expect(sent()).toEqual([]);
    expect([mib.ip.InDelivers, mib.ip.InUnknownProtos]).toEqual([1, 0]);
  });

  it('sends no error to a source that names no single host', () => {
    const { peer, sent } = setup();
    peer.transmit(0, datagram4(Ipv4Address.UNSPECIFIED, me4, UNKNOWN, 16));
    peer.transmit(0, datagram4(Ipv4Address.parse('224.0.0.9')!, me4, UNKNOWN, 16));
    peer.transmit(0, datagram4(Ipv4Address.parse('10.0.0.255')!, me4, UNKNOWN, 16));
    expect(sent()).toEqual([]);
  });

  it('gives port unreachable the same TOS', () => {
    const { peer, sent } = setup();
    const d = datagram4(far4, me4, IpProtocol.UDP, 8, 0x03);
    d.set([0x30, 0x39, 0x30, 0x39, 0, 8, 0, 0], 20); // ports 12345 to 12345, no checksum
    peer.transmit(0, d);
    const [p] = sent();
    expect(p![1]).toBe(0xc2);
    expect([...icmp4Of(p!, me4, far4).subarray(0, 2)]).toEqual([3, Icmpv4Unreachable.PORT]);
  });
});

describe('IPv6: parameter problem, unrecognized next header', () => {
  const paramProblem = (icmp: Uint8Array): number[] => [
    icmp[0]!,
    icmp[1]!,
    new DataView(icmp.buffer, icmp.byteOffset).getUint32(4),
  ];

  it('points at the fixed header Next Header byte (6), quoting the datagram', () => {
    const { peer, sent, mib } = setup();
    const d = datagram6(far6, me6, UNKNOWN, 16);
    peer.transmit(0, d);
    const out = sent();
    expect(out).toHaveLength(1);
    const { icmp, hopLimit } = icmp6Of(out[0]!, me6, far6);
    expect(hopLimit).toBe(64);
    expect(paramProblem(icmp)).toEqual([Icmpv6Type.PARAM_PROBLEM, 1, 6]);
    expect([...icmp.subarray(8)]).toEqual([...d]);
    expect(mib.ip6.InUnknownProtos).toBe(1);
    expect(mib.icmp6.OutMsgs).toBe(1);
    expect(mib.icmp6.outType[Icmpv6Type.PARAM_PROBLEM]).toBe(1);
  });

  it('points at the Fragment header (40) of an atomic fragment', () => {
    const { peer, sent } = setup();
    const d = atomicFragment(datagram6(far6, me6, UNKNOWN, 16));
    peer.transmit(0, d);
    const [p] = sent();
    const { icmp } = icmp6Of(p!, me6, far6);
    expect(paramProblem(icmp)).toEqual([Icmpv6Type.PARAM_PROBLEM, 1, 40]);
    expect([...icmp.subarray(8)]).toEqual([...d]);
  });

  it('points at byte 6 of a reassembled datagram and quotes it whole', () => {
    const { peer, sent } = setup();
    const d = datagram6(far6, me6, UNKNOWN, 64);
    const fragments = fragmentIpv6(d, 40 + 8 + 32, 0x1234);
    expect(fragments).toHaveLength(2);
    for (const f of fragments) peer.transmit(0, f);
    const [p] = sent();
    const { icmp } = icmp6Of(p!, me6, far6);
    expect(paramProblem(icmp)).toEqual([Icmpv6Type.PARAM_PROBLEM, 1, 6]);
    expect([...icmp.subarray(8)]).toEqual([...d]);
  });

  it('quotes as much as fits in 1280 bytes', () => {
    const { peer, sent } = setup();
    const d = datagram6(far6, me6, UNKNOWN, 1400);
    peer.transmit(0, d);
    const [p] = sent();
    expect(p).toHaveLength(1280);
    expect([...icmp6Of(p!, me6, far6).icmp.subarray(8)]).toEqual([...d.subarray(0, 1280 - 48)]);
  });

  it('leaves multicast destinations and sources without a single host unanswered', () => {
    const { peer, sent, mib } = setup();
    peer.transmit(0, datagram6(far6, Ipv6Address.parse('ff02::1')!, UNKNOWN, 16));
    peer.transmit(0, datagram6(Ipv6Address.UNSPECIFIED, me6, UNKNOWN, 16));
    peer.transmit(0, datagram6(Ipv6Address.parse('ff02::2')!, me6, UNKNOWN, 16));
    expect(sent()).toEqual([]);
    expect(mib.ip6.InUnknownProtos).toBe(3);
  });

  it('sends nothing when a raw socket of the protocol took the datagram', () => {
    const { stack, peer, sent } = routerLink(3);
    inetSocket(stack, 6, SockType.SOCK_RAW, UNKNOWN);
    peer.transmit(0, datagram6(far6, me6, UNKNOWN, 16));
    expect(sent()).toEqual([]);
    expect([stack.mib.ip6.InDelivers, stack.mib.ip6.InUnknownProtos]).toEqual([1, 0]);
  });

  it('discards No Next Header silently, and never answers an extension header it does not walk', () => {
    const { peer, sent, mib } = setup();
    peer.transmit(0, datagram6(far6, me6, 59, 8));
    expect(sent()).toEqual([]);
    expect([mib.ip6.InDelivers, mib.ip6.InUnknownProtos]).toEqual([1, 0]);
    for (const header of [0, 43, 60]) peer.transmit(0, datagram6(far6, me6, header, 8));
    expect(sent()).toEqual([]);
    expect(mib.icmp6.OutMsgs).toBe(0);
  });
});
