// Raw and ping sockets follow the path MTU that fragmentation-needed and packet-too-big messages
// teach, as Linux's ip_append_data (ip6_append_data) does: what they send past it leaves in
// fragments of it, DF as IP_MTU_DISCOVER says (__ip_make_skb), and an IP_HDRINCL datagram with DF
// that does not fit is refused with EMSGSIZE and a fragmentation-needed message to its source
// (ip_fragment). The runtime's raw-ping-pmtu test compares the same with Linux on lo.
import { E, IpOption, IpProto, isError, SocketLevel, SocketOption, SockType } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { Icmpv4Unreachable } from '../wire/icmpv4.js';
import { addr, far4, far6, icmp4, icmp6, inetSocket, routerLink } from './icmp-router.test-util.js';
import { PmtuDisc } from './ip-options.js';

/** Length, DF, MF and fragment offset of each IPv4 packet. */
const frags4 = (ps: Uint8Array[]) =>
  ps.map((p) => [
    (p[2]! << 8) | p[3]!,
    (p[6]! & 0x40) !== 0,
    (p[6]! & 0x20) !== 0,
    (((p[6]! & 0x1f) << 8) | p[7]!) * 8,
  ]);

const fragNeeded = (mtu: number, invoking: Uint8Array) =>
  ({ type: 'destUnreachable', code: Icmpv4Unreachable.FRAG_NEEDED, nextHopMtu: mtu, invoking }) as const;

describe('raw and ping sockets fragment to the path MTU', () => {
  it('a raw socket, with DF as IP_MTU_DISCOVER says', () => {
    const { stack, peer, sent } = routerLink(5);
    const raw = inetSocket(stack, 4, SockType.SOCK_RAW, 253);
    expect(raw.sendto(new Uint8Array(100), 0, addr(far4))).toBe(100);
    icmp4(peer, fragNeeded(1000, sent()[0]!));
    sent();
    const send = (mode: number, n: number) => {
      expect(raw.setsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU_DISCOVER, mode)).toBe(0);
      const r = raw.sendto(new Uint8Array(n), 0, addr(far4));
      return [isError(r) ? r.name : r, frags4(sent())];
    };
    expect(send(PmtuDisc.WANT, 1400)).toEqual([
      1400,
      [
        [996, false, true, 0],
        [444, false, false, 976],
      ],
    ]);
    expect(send(PmtuDisc.WANT, 900)).toEqual([900, [[920, true, false, 0]]]);
    expect(send(PmtuDisc.PROBE, 1400)).toEqual([1400, [[1420, true, false, 0]]]);
    expect(send(PmtuDisc.DONT, 900)).toEqual([900, [[920, false, false, 0]]]);
    expect(send(PmtuDisc.DO, 1400)).toEqual(['EMSGSIZE', []]);
  });

  it('IP_HDRINCL: fragmented without DF, refused with it', () => {
    const { stack, peer, sent } = routerLink(6);
    const raw = inetSocket(stack, 4, SockType.SOCK_RAW, 253);
    expect(raw.setsockoptBytes(SocketLevel.SOL_IP, IpOption.IP_HDRINCL, Uint8Array.of(1, 0, 0, 0))).toBe(0);
    expect(raw.setsockopt(SocketLevel.SOL_IP, IpOption.IP_RECVERR, 1)).toBe(0);
    const datagram = (n: number, df: boolean): Uint8Array => {
      const d = new Uint8Array(n);
      d[0] = 0x45;
      d[6] = df ? 0x40 : 0;
      d[8] = 64;
      d[9] = 253;
      d.set(far4.bytes, 16);
      return d;
    };
    expect(raw.sendto(datagram(100, false), 0, addr(far4))).toBe(100);
    icmp4(peer, fragNeeded(800, sent()[0]!));
    sent();
    expect(raw.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(E.EMSGSIZE.errno);
    expect(raw.sendto(datagram(1200, false), 0, addr(far4))).toBe(1200);
    expect(frags4(sent())).toEqual([
      [796, false, true, 0],
      [424, false, false, 776],
    ]);
    // Nothing leaves; the fragmentation-needed message goes to this host, and to the socket.
    expect(raw.sendto(datagram(1200, true), 0, addr(far4))).toBe(E.EMSGSIZE);
    expect(sent()).toEqual([]);
    expect(raw.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(E.EMSGSIZE.errno);
  });

  it('a ping socket, IPv4 and IPv6', () => {
    const { stack, peer, sent } = routerLink(7);
    const ping = inetSocket(stack, 4, SockType.SOCK_DGRAM, IpProto.IPPROTO_ICMP);
    const echo = (type: number, n: number) => {
      const m = new Uint8Array(8 + n);
      m[0] = type;
      return m;
    };
    expect(ping.sendto(echo(8, 100), 0, addr(far4))).toBe(108);
    icmp4(peer, fragNeeded(1200, sent()[0]!));
    sent();
    expect(ping.sendto(echo(8, 1400), 0, addr(far4))).toBe(1408);
    expect(frags4(sent())).toEqual([
      [1196, false, true, 0],
      [252, false, false, 1176],
    ]);
    expect(ping.setsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU_DISCOVER, PmtuDisc.DONT)).toBe(0);
    expect(ping.sendto(echo(8, 1100), 0, addr(far4))).toBe(1108);
    expect(frags4(sent())).toEqual([[1128, false, false, 0]]);

    const ping6 = inetSocket(stack, 6, SockType.SOCK_DGRAM, IpProto.IPPROTO_ICMPV6);
    expect(ping6.sendto(echo(128, 100), 0, addr(far6))).toBe(108);
    icmp6(peer, { type: 'packetTooBig', mtu: 1300, invoking: sent()[0]! });
    sent();
    expect(ping6.sendto(echo(128, 1400), 0, addr(far6))).toBe(1408);
    // Payload length, next header (44: a Fragment header), then the fragment's offset and MF.
    const six = sent().map((p) => [(p[4]! << 8) | p[5]!, p[6], ((p[42]! << 8) | p[43]!) & ~7, p[43]! & 1]);
    expect(six).toEqual([
      [1256, 44, 0, 1],
      [168, 44, 1248, 0],
    ]);
  });
});
