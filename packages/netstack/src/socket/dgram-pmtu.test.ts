// Raw and ping sockets follow the path MTU that fragmentation-needed and packet-too-big messages
// teach, as Linux's ip_append_data (ip6_append_data) does: what they send past it leaves in
// fragments of it, DF as IP_MTU_DISCOVER says (__ip_make_skb), and an IP_HDRINCL datagram with DF
// (an IPV6_HDRINCL one, always) that does not fit is refused with EMSGSIZE and a
// fragmentation-needed (packet-too-big) message to its source (ip_fragment, ip6_fragment). UDP
// sockets set DF as raw ones do, and the stack's own echo replies carry none and are fragmented
// to the path MTU back. The runtime's raw-ping-pmtu, raw6-hdrincl and dgram-df tests compare the
// same with Linux on lo.
import { E, IpOption, IpProto, Ipv6Option, isError, SocketLevel, SocketOption, SockType } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import {
  addr,
  far4,
  far6,
  icmp4,
  icmp6,
  inetSocket,
  ipv4From,
  me4,
  me6,
  routerLink,
} from './icmp-router.test-util.js';
import { Icmpv4Packet, Icmpv4Repr, Icmpv4Unreachable } from '../wire/icmpv4.js';
import { IpProtocol } from '../wire/ipv4.js';
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
    const ip = stack.mib.ip;
    const counters = () => [ip.OutRequests, ip.OutDiscards, ip.FragFails];
    const before = counters();
    expect(raw.sendto(datagram(1200, true), 0, addr(far4))).toBe(E.EMSGSIZE);
    expect(sent()).toEqual([]);
    expect(raw.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(E.EMSGSIZE.errno);
    // OutRequests counts the message, not the datagram (raw_send_hdrinc passes __ip_local_out by).
    expect(counters().map((v, i) => v - before[i]!)).toEqual([1, 1, 1]);
  });

  it('IPV6_HDRINCL: the datagram as written, never fragmented', () => {
    const { stack, peer, sent } = routerLink(8);
    const raw = inetSocket(stack, 6, SockType.SOCK_RAW, 253);
    const hdrincl = () => raw.getsockoptBytes(SocketLevel.SOL_IPV6, Ipv6Option.IPV6_HDRINCL, 4);
    expect(hdrincl()).toEqual(Uint8Array.of(0, 0, 0, 0));
    const on = Uint8Array.of(1, 0, 0, 0);
    expect(raw.setsockoptBytes(SocketLevel.SOL_IPV6, Ipv6Option.IPV6_HDRINCL, on.subarray(0, 2))).toBe(
      E.EINVAL,
    );
    expect(raw.setsockoptBytes(SocketLevel.SOL_IPV6, Ipv6Option.IPV6_HDRINCL, on)).toBe(0);
    expect(hdrincl()).toEqual(on);
    // A payload length that is not the datagram's, hop limit 9: nothing is filled in.
    const datagram = (n: number, payloadLen: number): Uint8Array => {
      const d = new Uint8Array(n);
      d[0] = 0x60;
      d[4] = payloadLen >>> 8;
      d[5] = payloadLen & 0xff;
      d[6] = 253;
      d[7] = 9;
      d.set(me6.bytes, 8);
      d.set(far6.bytes, 24);
      return d;
    };
    expect(raw.sendto(datagram(140, 60), 0, addr(far6))).toBe(140);
    expect(sent()).toEqual([datagram(140, 60)]);
    expect(raw.sendto(datagram(140, 100).subarray(0, 39), 0, addr(far6))).toBe(E.EINVAL);
    expect(raw.sendto(datagram(140, 100), 0, addr(far6, 17))).toBe(E.EINVAL); // another protocol
    icmp6(peer, { type: 'packetTooBig', mtu: 1300, invoking: datagram(1400, 1360).subarray(0, 1232) });
    sent();
    const ip6 = stack.mib.ip6;
    expect(raw.sendto(datagram(1400, 1360), 0, addr(far6))).toBe(E.EMSGSIZE);
    expect(sent()).toEqual([]);
    expect([ip6.FragFails, ip6.OutDiscards]).toEqual([1, 1]);
    expect(raw.setsockopt(SocketLevel.SOL_IPV6, Ipv6Option.IPV6_MTU_DISCOVER, PmtuDisc.DONT)).toBe(0);
    expect(raw.sendto(datagram(1400, 1360), 0, addr(far6))).toBe(E.EMSGSIZE);
    // PROBE holds it to the link's MTU only.
    expect(raw.setsockopt(SocketLevel.SOL_IPV6, Ipv6Option.IPV6_MTU_DISCOVER, PmtuDisc.PROBE)).toBe(0);
    expect(raw.sendto(datagram(1400, 1360), 0, addr(far6))).toBe(1400);
    expect(sent()).toEqual([datagram(1400, 1360)]);
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

  it('a connected ping6 socket keeps the route it had before the packet too big', () => {
    const { stack, peer, sent } = routerLink(9);
    const ping6 = inetSocket(stack, 6, SockType.SOCK_DGRAM, IpProto.IPPROTO_ICMPV6);
    const mtu = () => ping6.getsockopt(SocketLevel.SOL_IPV6, Ipv6Option.IPV6_MTU);
    const echo = (n: number) => Uint8Array.of(128, ...new Uint8Array(7 + n));
    expect(ping6.connect(addr(far6))).toBe(0);
    expect(mtu()).toBe(1500);
    expect(ping6.sendto(echo(100), 0)).toBe(108);
    icmp6(peer, { type: 'packetTooBig', mtu: 1300, invoking: sent()[0]! });
    sent();
    expect(mtu()).toBe(1500);
    // The send lets the obsolete route go, and holds none (ping_v6_sendmsg does not store one).
    expect(ping6.sendto(echo(100), 0)).toBe(108);
    expect(mtu()).toBe(E.ENOTCONN);
    expect(ping6.connect(addr(far6))).toBe(0);
    expect(mtu()).toBe(1300);
  });
});

describe('path MTU under IP_PMTUDISC_INTERFACE and OMIT', () => {
  it('is not learnt from an error about what a UDP, raw or ping socket sent (ip_sk_accept_pmtu)', () => {
    const learnt = (type: number, protocol: number, mode: number, message: Uint8Array): number => {
      const { stack, peer, sent } = routerLink(12);
      const s = inetSocket(stack, 4, type, protocol);
      expect(s.setsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU_DISCOVER, mode)).toBe(0);
      expect(s.sendto(message, 0, addr(far4, 9))).toBe(message.length);
      icmp4(peer, fragNeeded(1000, sent()[0]!));
      sent();
      return stack.mtuFor(far4);
    };
    const echo = Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 0);
    const cases: [number, number, Uint8Array][] = [
      [SockType.SOCK_DGRAM, 0, new Uint8Array(100)],
      [SockType.SOCK_RAW, 253, new Uint8Array(100)],
      [SockType.SOCK_DGRAM, IpProto.IPPROTO_ICMP, echo],
    ];
    for (const [type, protocol, message] of cases)
      expect(
        [PmtuDisc.WANT, PmtuDisc.INTERFACE, PmtuDisc.OMIT].map((m) => learnt(type, protocol, m, message)),
      ).toEqual([1000, 1500, 1500]);
  });
});

describe('DF', () => {
  it('a UDP socket sets it as IP_MTU_DISCOVER says', () => {
    const { stack, peer, sent } = routerLink(10);
    const udp = inetSocket(stack, 4, SockType.SOCK_DGRAM);
    const df = (mode: number) => {
      expect(udp.setsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU_DISCOVER, mode)).toBe(0);
      expect(udp.sendto(new Uint8Array(100), 0, addr(far4, 9))).toBe(100);
      return frags4(sent()).map((f) => f[1]);
    };
    const modes = [
      PmtuDisc.DONT,
      PmtuDisc.WANT,
      PmtuDisc.DO,
      PmtuDisc.PROBE,
      PmtuDisc.INTERFACE,
      PmtuDisc.OMIT,
    ];
    expect(modes.map(df)).toEqual([[false], [true], [true], [true], [false], [false]]);
    // A datagram without DF needs an identification of its own (ip_select_ident).
    const ident = () => {
      expect(udp.sendto(new Uint8Array(100), 0, addr(far4, 9))).toBe(100);
      const p = sent()[0]!;
      return (p[4]! << 8) | p[5]!;
    };
    expect(udp.setsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU_DISCOVER, PmtuDisc.DONT)).toBe(0);
    const [a, b] = [ident(), ident()];
    expect([a === 0, a === b]).toEqual([false, false]);
    // Below min_pmtu the path MTU is raised to it and locked: WANT leaves DF out then. (Under
    // OMIT, the last mode set, the socket would take no path MTU from the message.)
    expect(udp.setsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU_DISCOVER, PmtuDisc.WANT)).toBe(0);
    expect(udp.sendto(new Uint8Array(100), 0, addr(far4, 9))).toBe(100);
    icmp4(peer, fragNeeded(400, sent()[0]!));
    sent();
    expect(modes.map(df)).toEqual([[false], [false], [true], [true], [false], [false]]);
  });

  it('the stack answers without it, in fragments of the path MTU back', () => {
    const { stack, peer, sent } = routerLink(11);
    const udp = inetSocket(stack, 4, SockType.SOCK_DGRAM);
    expect(udp.sendto(new Uint8Array(100), 0, addr(far4, 9))).toBe(100);
    icmp4(peer, fragNeeded(1000, sent()[0]!));
    sent();
    const request = (n: number) => {
      const icmp: Icmpv4Repr = { type: 'echoRequest', ident: 7, seqNo: 1, data: new Uint8Array(n) };
      ipv4From(peer, far4, me4, IpProtocol.ICMP, Icmpv4Repr.bufferLen(icmp), (b) =>
        Icmpv4Repr.emit(icmp, Icmpv4Packet.unchecked(b)),
      );
      return frags4(sent());
    };
    expect(request(500)).toEqual([[528, false, false, 0]]);
    expect(request(1400)).toEqual([
      [996, false, true, 0],
      [452, false, false, 976],
    ]);
  });
});
