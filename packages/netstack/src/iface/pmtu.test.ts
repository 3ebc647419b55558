// Path MTU discovery: a router's fragmentation-needed (packet-too-big) message lowers the MTU
// later sends to the quoted datagram's destination use, within Linux's bounds (min_pmtu 552 for
// IPv4, nothing below 1280 for IPv6, never above the route's), for 600 s; a TCP connection
// takes it for a segment it has in flight, lowers its MSS and resends at once. Here a peer on
// an IP link of MTU 1500 plays the router; runtime's pmtu test compares the same on lo with Linux.
import {
  E,
  IpOption,
  IpProto,
  Ipv6Option,
  isError,
  SocketLevel,
  SocketOption,
  SockType,
  TcpOption,
} from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import type { Device } from '../phy/device.js';
import type { Stack } from '../stack.js';
import {
  addr,
  far4,
  far6,
  fragNeeded,
  icmp6,
  inetSocket,
  relayedConnection,
  routerLink,
  seqOf,
  shifted,
} from '../socket/icmp-router.test-util.js';
import type { InetSocket } from '../socket/inet-socket.js';
import { PmtuDisc } from '../socket/ip-options.js';
import { Ipv4Address } from '../wire/ip-address.js';
import { cidr } from './interface.js';
import { PMTU_EXPIRES } from './pmtu.js';

/** The router's packet too big with MTU `mtu`, quoting `invoking`. */
const packetTooBig = (peer: Device, invoking: Uint8Array, mtu: number): void =>
  icmp6(peer, { type: 'packetTooBig', mtu, invoking });

/** A UDP socket connected to `far`:4000 that has sent one datagram; that datagram as sent. */
function connectedUdp(
  family: 4 | 6,
  stack: Stack,
  sent: () => Uint8Array[],
): { s: InetSocket; datagram: Uint8Array } {
  const s = inetSocket(stack, family, SockType.SOCK_DGRAM);
  expect(s.connect(addr(family === 4 ? far4 : far6, 4000))).toBe(0);
  expect(s.sendto(new Uint8Array(100), 0)).toBe(100);
  return { s, datagram: sent()[0]! };
}

describe('path MTU of UDP sockets', () => {
  it('fragmentation needed lowers IP_MTU; IP_PMTUDISC_DO then refuses larger sends, WANT fragments to it', () => {
    const { stack, peer, sent } = routerLink(7);
    const { s, datagram } = connectedUdp(4, stack, sent);
    expect(s.getsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU)).toBe(1500);
    fragNeeded(peer, datagram, 1280);
    sent();
    expect(s.getsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU)).toBe(1280);
    expect(s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(E.EMSGSIZE.errno);
    expect(stack.mtuFor(far4)).toBe(1280);
    // Another destination keeps the link's MTU.
    expect(stack.mtuFor(Ipv4Address.parse('10.0.0.8')!)).toBe(1500);
    expect(s.setsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU_DISCOVER, PmtuDisc.DO)).toBe(0);
    expect(s.sendto(new Uint8Array(1253), 0)).toBe(E.EMSGSIZE);
    expect(s.sendto(new Uint8Array(1252), 0)).toBe(1252);
    expect(sent().map((p) => p.length)).toEqual([1280]);
    // IP_PMTUDISC_PROBE holds datagrams to the link's MTU only (ip_sk_use_pmtu).
    expect(s.setsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU_DISCOVER, PmtuDisc.PROBE)).toBe(0);
    expect(s.sendto(new Uint8Array(1400), 0)).toBe(1400);
    expect(sent().map((p) => p.length)).toEqual([1428]);
    expect(s.setsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU_DISCOVER, PmtuDisc.WANT)).toBe(0);
    expect(s.sendto(new Uint8Array(1400), 0)).toBe(1400);
    expect(sent().map((p) => p.length)).toEqual([1276, 20 + 1408 - 1256]);
  });

  it("IPv4 ignores an MTU above the path's and raises one below min_pmtu to 552; it expires after 600 s", () => {
    const { stack, peer, sent } = routerLink(7);
    const { s, datagram } = connectedUdp(4, stack, sent);
    // Learnt under IP_PMTUDISC_DONT too, which takes no error from it.
    expect(s.setsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU_DISCOVER, PmtuDisc.DONT)).toBe(0);
    fragNeeded(peer, datagram, 1400);
    sent();
    expect(s.getsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU)).toBe(1400);
    fragNeeded(peer, datagram, 1450);
    sent();
    expect(s.getsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU)).toBe(1400);
    fragNeeded(peer, datagram, 300);
    sent(1000);
    expect(s.getsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU)).toBe(552);
    sent(1000 + PMTU_EXPIRES - 1);
    expect(s.getsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU)).toBe(552);
    sent(1000 + PMTU_EXPIRES);
    expect(s.getsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU)).toBe(1500);
  });

  it('follows net.ipv4.route.min_pmtu and mtu_expires as reports come', () => {
    const { stack, peer, sent } = routerLink(7);
    const { s, datagram } = connectedUdp(4, stack, sent);
    stack.sysctl.minPmtu = 1000;
    stack.sysctl.mtuExpires = 5;
    fragNeeded(peer, datagram, 900);
    sent(1000);
    expect(stack.pathMtu(far4)).toEqual({ mtu: 1000, locked: true, expiresIn: 5000 });
    expect(s.getsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU)).toBe(1000);
    sent(1000 + 5000);
    expect(s.getsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU)).toBe(1500);
    // A lower min_pmtu lets the same report through unlocked; IPv6 keeps its own 600 s.
    stack.sysctl.minPmtu = 68;
    fragNeeded(peer, datagram, 900);
    sent(7000);
    expect(stack.pathMtu(far4)).toEqual({ mtu: 900, locked: false, expiresIn: 5000 });
    const six = connectedUdp(6, stack, sent);
    packetTooBig(peer, six.datagram, 1300);
    sent(7000);
    expect(stack.pathMtu(far6)).toEqual({ mtu: 1300, locked: false, expiresIn: PMTU_EXPIRES });
  });

  it('follows net.ipv6.route.mtu_expires as reports come; 0 or less forgets at once', () => {
    const { stack, peer, sent } = routerLink(7);
    const { s, datagram } = connectedUdp(6, stack, sent);
    stack.iface.ipv6Sysctl.mtuExpires = 5;
    packetTooBig(peer, datagram, 1300);
    sent(1000);
    expect(stack.pathMtu(far6)).toEqual({ mtu: 1300, locked: false, expiresIn: 5000 });
    expect(s.getsockopt(SocketLevel.SOL_IPV6, Ipv6Option.IPV6_MTU)).toBe(1300);
    sent(1000 + 5000);
    expect(s.getsockopt(SocketLevel.SOL_IPV6, Ipv6Option.IPV6_MTU)).toBe(1500);
    // IPv4 keeps net.ipv4.route.mtu_expires.
    const four = connectedUdp(4, stack, sent);
    fragNeeded(peer, four.datagram, 1200);
    sent(7000);
    expect(stack.pathMtu(far4)).toEqual({ mtu: 1200, locked: false, expiresIn: PMTU_EXPIRES });
    stack.iface.ipv6Sysctl.mtuExpires = -5;
    packetTooBig(peer, datagram, 1300);
    sent(7000);
    expect(stack.pathMtu(far6)).toBeUndefined();
    expect(s.getsockopt(SocketLevel.SOL_IPV6, Ipv6Option.IPV6_MTU)).toBe(1500);
  });

  it('ip_no_pmtu_disc: new sockets start with IP_PMTUDISC_DONT unless 0; 1 learns min_pmtu, 2 and 3 drop UDP reports', () => {
    const { stack, peer, sent } = routerLink(7);
    const { s, datagram } = connectedUdp(4, stack, sent);
    expect(s.getsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU_DISCOVER)).toBe(PmtuDisc.WANT);
    stack.iface.ipv4Sysctl.noPmtuDisc = 1;
    for (const type of [SockType.SOCK_DGRAM, SockType.SOCK_STREAM])
      for (const family of [4, 6] as const)
        expect(inetSocket(stack, family, type).getsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU_DISCOVER)).toBe(
          PmtuDisc.DONT,
        );
    // An existing socket keeps what it had (WANT): mode 1 takes no MTU from the report, so the
    // path gets min_pmtu, locked, and the socket hears EMSGSIZE.
    fragNeeded(peer, datagram, 1280);
    sent();
    expect(stack.pathMtu(far4)).toMatchObject({ mtu: 552, locked: true });
    expect(s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(E.EMSGSIZE.errno);
    for (const mode of [2, 3]) {
      const fresh = routerLink(7);
      const udp = connectedUdp(4, fresh.stack, fresh.sent);
      fresh.stack.iface.ipv4Sysctl.noPmtuDisc = mode;
      fragNeeded(fresh.peer, udp.datagram, 1280);
      fresh.sent();
      expect(fresh.stack.pathMtu(far4)).toBeUndefined();
      expect(udp.s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(0);
    }
  });

  it('IPv6 ignores packet too big below 1280 and above the path MTU', () => {
    const { stack, peer, sent } = routerLink(7);
    const { s, datagram } = connectedUdp(6, stack, sent);
    const mtu = (): unknown => s.getsockopt(SocketLevel.SOL_IPV6, 24); // IPV6_MTU
    packetTooBig(peer, datagram, 1000);
    sent();
    expect(mtu()).toBe(1500);
    packetTooBig(peer, datagram, 1400);
    sent();
    expect(mtu()).toBe(1400);
    packetTooBig(peer, datagram, 1450);
    sent();
    expect(mtu()).toBe(1400);
    packetTooBig(peer, datagram, 1280);
    sent();
    expect(mtu()).toBe(1280);
  });

  it('an error about a port no socket has teaches nothing (__udp4_lib_err finds no socket)', () => {
    const { stack, peer, sent } = routerLink(7);
    const { s, datagram } = connectedUdp(4, stack, sent);
    const other = datagram.slice();
    other[20] = ~other[20]! & 0xff; // the quoted source port: no socket's
    fragNeeded(peer, other, 1280);
    sent();
    expect(s.getsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU)).toBe(1500);
  });
});

describe("a route's MTU lock and a learnt MTU's (Stack.pathMtu)", () => {
  it("`mtu lock` keeps an IPv4 route's MTU from fragmentation needed; IPv6 learns all the same", () => {
    const { stack, peer, sent } = routerLink(7);
    const lock = { gateway: undefined, loopback: false, src: undefined, mtu: 1400, mtuLocked: true };
    expect(stack.iface.addRoute({ ...lock, dst: cidr('10.0.0.8/29'), metric: 0 })).toBeUndefined();
    expect(stack.iface.addRoute({ ...lock, dst: cidr('fd00::/120'), metric: 1024 })).toBeUndefined();
    const udp4 = connectedUdp(4, stack, sent);
    expect(udp4.s.getsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU)).toBe(1400);
    fragNeeded(peer, udp4.datagram, 1200);
    sent();
    expect(udp4.s.getsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU)).toBe(1400);
    expect(stack.pathMtu(far4)).toBeUndefined();
    // IPv6's path MTU discovery is not optional: __ip6_rt_update_pmtu leaves the lock alone.
    const udp6 = connectedUdp(6, stack, sent);
    packetTooBig(peer, udp6.datagram, 1300);
    sent();
    expect(udp6.s.getsockopt(SocketLevel.SOL_IPV6, 24)).toBe(1300); // IPV6_MTU
    expect(stack.pathMtu(far6)).toEqual({ mtu: 1300, locked: false, expiresIn: PMTU_EXPIRES });
  });

  it('an IPv4 report below min_pmtu locks the 552 it learns: later reports change nothing, nor its expiry', () => {
    const { stack, peer, sent } = routerLink(7);
    const { datagram } = connectedUdp(4, stack, sent);
    fragNeeded(peer, datagram, 1200);
    sent(0);
    expect(stack.pathMtu(far4)).toEqual({ mtu: 1200, locked: false, expiresIn: PMTU_EXPIRES });
    fragNeeded(peer, datagram, 300);
    sent(1000);
    expect(stack.pathMtu(far4)).toEqual({ mtu: 552, locked: true, expiresIn: PMTU_EXPIRES });
    fragNeeded(peer, datagram, 400);
    sent(5000);
    expect(stack.pathMtu(far4)).toEqual({ mtu: 552, locked: true, expiresIn: PMTU_EXPIRES - 4000 });
    sent(1000 + PMTU_EXPIRES);
    expect(stack.pathMtu(far4)).toBeUndefined();
  });
});

describe('path MTU of TCP connections', () => {
  const connection = relayedConnection;

  const maxseg = (s: InetSocket): unknown => s.getsockopt(IpProto.IPPROTO_TCP, TcpOption.TCP_MAXSEG);

  it('lowers the MSS and resends what is in flight at once in smaller segments', () => {
    const { client, server, peer, both, held } = connection();
    const mss = maxseg(client);
    expect(mss).toBe(1500 - 40 - 12);
    expect(client.sendto(new Uint8Array(4000), 0)).toBe(4000);
    const lost = held(10);
    expect(lost.map((p) => p.length)).toEqual([1500, 1500, 4000 - 2 * 1448 + 52]);
    fragNeeded(peer, lost[0]!, 1200);
    // At once: no retransmission timeout passes.
    const again = held(10, true);
    expect(maxseg(client)).toBe(1200 - 40 - 12);
    expect(again.length).toBeGreaterThanOrEqual(4);
    expect(again.every((p) => p.length <= 1200)).toBe(true);
    expect(seqOf(again[0]!)).toBe(seqOf(lost[0]!));
    // The resent data gets through.
    both(20);
    const buf = new Uint8Array(8000);
    const r = server.recvfrom(buf, 0);
    expect(isError(r) ? r.name : (r as { n: number }).n).toBe(4000);
  });

  it('under IP_PMTUDISC_DONT nothing is resent at once; the MSS follows at the next send', () => {
    const { client, peer, held } = connection();
    expect(client.setsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU_DISCOVER, PmtuDisc.DONT)).toBe(0);
    expect(client.sendto(new Uint8Array(1000), 0)).toBe(1000);
    const seg = held(10)[0]!;
    fragNeeded(peer, seg, 1200);
    expect(held(10)).toEqual([]);
    expect(client.getsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU)).toBe(1200);
    expect(client.sendto(new Uint8Array(2000), 0)).toBe(2000);
    // (Nagle holds the short rest while the first 1000 bytes are unacknowledged.)
    expect(held(10).map((p) => p.length)).toEqual([1200]);
  });

  it('ignores a message about a sequence number outside [SND.UNA, SND.NXT]', () => {
    const { client, peer, both, held } = connection();
    expect(client.sendto(new Uint8Array(1000), 0)).toBe(1000);
    const seg = held(10, true)[0]!;
    both(10);
    // Acknowledged now: the segment's sequence number is below SND.UNA.
    fragNeeded(peer, seg, 1200);
    expect(held(20)).toEqual([]);
    expect(maxseg(client)).toBe(1500 - 40 - 12);
    fragNeeded(peer, shifted(seg, 100_000), 1200);
    held(20);
    expect(maxseg(client)).toBe(1500 - 40 - 12);
    // SND.NXT itself (nothing in flight) is taken: nothing to resend.
    fragNeeded(peer, shifted(seg, 1000), 1200);
    expect(held(20)).toEqual([]);
    expect(maxseg(client)).toBe(1200 - 40 - 12);
  });
});
