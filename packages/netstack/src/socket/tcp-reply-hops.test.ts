// The TTL or hop limit, and the TOS or traffic class, of the segments a listener and a
// TIME_WAIT connection answer with, as Linux picks them: a SYN-ACK, a cookie's and a
// retransmitted one too, leaves by the listener with the IP_TTL or IPV6_UNICAST_HOPS (the sysctl
// when unset) and IP_TOS or IPV6_TCLASS the listener has when it leaves (tcp_v4_send_synack's
// ip_build_and_send_pkt, tcp_v6_send_synack's ip6_xmit); a connection copies them when its
// handshake completes (inet_csk_clone_lock); TIME_WAIT answers by the stack's control socket
// (tcp_v4_send_ack, tcp_v6_send_response), with the sysctl, whatever IP_TTL the application sets
// on the socket it still holds. runtime's ipv4-ip-sysctls.c and ipv6-sysctls.c compare the same
// on loopback with Linux.
import { IpOption, Ipv6Option, SockType, SocketLevel, TcpOption } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { settle } from '../stack.test-util.js';
import type { Stack } from '../stack.js';
import { Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import { TcpFlag } from '../wire/tcp.js';
import { addr, inetSocket } from './icmp-router.test-util.js';
import { accepted, flagsOf, hopLimitOf, tcpHosts, tosOf } from './tcp-reply.test-util.js';

/** A packet the server sent: its TCP flags, its TTL or hop limit, its TOS or traffic class. */
interface Sent {
  readonly flags: number;
  readonly hops: number;
  readonly tos: number;
}

/**
 * A client stack at 10.0.0.1 / fd00::1 and a server stack at 10.0.0.9 / fd00::9 on one IP link,
 * which `run` relays over until nothing moves at time `now` (`deaf`: what the server sends is
 * taken but never reaches the client); `taken()` gives what the server sent since the last
 * call, `resendClientFin()` delivers the client's last FIN to the server again.
 */
function hosts(): {
  client: Stack;
  server: Stack;
  run: (now?: number, deaf?: boolean) => void;
  taken: () => Sent[];
  resendClientFin: () => void;
} {
  const { client, server, fromClient: end1, toServer: end2 } = tcpHosts();
  const sent: Sent[] = [];
  let lastFin: Uint8Array | undefined;
  const run = (now = 0, deaf = false): void => {
    for (let moved = true; moved;) {
      moved = false;
      settle([client, server], now);
      for (let p = end1.receive(now); p; p = end1.receive(now), moved = true) {
        if (flagsOf(p) & TcpFlag.FIN) lastFin = p.slice();
        end2.transmit(now, p);
      }
      for (let p = end2.receive(now); p; p = end2.receive(now), moved = true) {
        sent.push({ flags: flagsOf(p), hops: hopLimitOf(p), tos: tosOf(p) });
        if (!deaf) end1.transmit(now, p);
      }
    }
  };
  const resendClientFin = (): void => {
    if (!lastFin) throw new Error('the client sent no FIN');
    end2.transmit(0, lastFin);
    run();
  };
  return { client, server, run, taken: () => sent.splice(0), resendClientFin };
}

const hopsOf = (sent: readonly Sent[], flags: number): number[] =>
  sent.filter((s) => (s.flags & flags) === flags).map((s) => s.hops);

/** The distinct [hops, TOS] pairs of the packets among `sent` whose flags include `flags`. */
const ipOf = (sent: readonly Sent[], flags: number): string[] => [
  ...new Set(sent.filter((s) => (s.flags & flags) === flags).map((s) => `${s.hops} 0x${s.tos.toString(16)}`)),
];

describe.each([
  {
    family: 4 as const,
    serverAddr: Ipv4Address.parse('10.0.0.9')!,
    own: [SocketLevel.SOL_IP, IpOption.IP_TTL] as const,
    tos: [SocketLevel.SOL_IP, IpOption.IP_TOS] as const,
    setDefault: (s: Stack, v: number) => (s.sysctl.defaultTtl = v),
  },
  {
    family: 6 as const,
    serverAddr: Ipv6Address.parse('fd00::9')!,
    own: [SocketLevel.SOL_IPV6, Ipv6Option.IPV6_UNICAST_HOPS] as const,
    tos: [SocketLevel.SOL_IPV6, Ipv6Option.IPV6_TCLASS] as const,
    setDefault: (s: Stack, v: number) => (s.iface.ipv6Sysctl.conf.device.hopLimit = v),
  },
])('IPv$family', ({ family, serverAddr, own, tos, setDefault }) => {
  it("a SYN cookie's SYN-ACK takes the listener's own TTL, else the sysctl; so does its connection", () => {
    const { client, server, run, taken } = hosts();
    server.sysctl.syncookies = 2; // every SYN is answered with a cookie
    setDefault(server, 50);
    const listener = inetSocket(server, family, SockType.SOCK_STREAM);
    expect(listener.bind(addr(serverAddr, 80))).toBe(0);
    expect(listener.listen(4)).toBe(0);
    const first = inetSocket(client, family, SockType.SOCK_STREAM);
    first.connect(addr(serverAddr, 80));
    run();
    expect(hopsOf(taken(), TcpFlag.SYN | TcpFlag.ACK)).toEqual([50]);
    expect(listener.setsockopt(own[0], own[1], 13)).toBe(0);
    const second = inetSocket(client, family, SockType.SOCK_STREAM);
    second.connect(addr(serverAddr, 80));
    run();
    expect(hopsOf(taken(), TcpFlag.SYN | TcpFlag.ACK)).toEqual([13]);
    expect(server.mib.tcpExt.SyncookiesSent).toBe(2);
    expect(server.mib.tcpExt.SyncookiesRecv).toBe(2);
    // Both connections were made from their cookies; each ACKs data with its own TTL.
    expect(second.sendto(Uint8Array.of(1), 0)).toBe(1);
    run();
    expect(hopsOf(taken(), TcpFlag.ACK)).toEqual([13]);
    expect(first.sendto(Uint8Array.of(1), 0)).toBe(1);
    run();
    expect(hopsOf(taken(), TcpFlag.ACK)).toEqual([50]);
    accepted(listener);
    accepted(listener);
  });

  it("an ordinary SYN-ACK takes the listener's own TTL", () => {
    const { client, server, run, taken } = hosts();
    setDefault(server, 50);
    const listener = inetSocket(server, family, SockType.SOCK_STREAM);
    expect(listener.bind(addr(serverAddr, 80))).toBe(0);
    expect(listener.listen(4)).toBe(0);
    expect(listener.setsockopt(own[0], own[1], 13)).toBe(0);
    const c = inetSocket(client, family, SockType.SOCK_STREAM);
    c.connect(addr(serverAddr, 80));
    run();
    expect(hopsOf(taken(), TcpFlag.SYN | TcpFlag.ACK)).toEqual([13]);
    expect(server.mib.tcpExt.SyncookiesSent).toBe(0);
    accepted(listener);
  });

  it("a retransmitted SYN-ACK takes the listener's TTL and TOS of its time, not the SYN's", () => {
    const { client, server, run, taken } = hosts();
    setDefault(server, 50);
    const listener = inetSocket(server, family, SockType.SOCK_STREAM);
    expect(listener.bind(addr(serverAddr, 80))).toBe(0);
    expect(listener.listen(4)).toBe(0);
    expect(listener.setsockopt(own[0], own[1], 21)).toBe(0);
    expect(listener.setsockopt(tos[0], tos[1], 0x20)).toBe(0);
    const c = inetSocket(client, family, SockType.SOCK_STREAM);
    c.connect(addr(serverAddr, 80));
    run(0, true); // the client never hears the SYN-ACK
    expect(ipOf(taken(), TcpFlag.SYN | TcpFlag.ACK)).toEqual(['21 0x20']);
    expect(listener.setsockopt(own[0], own[1], 22)).toBe(0);
    expect(listener.setsockopt(tos[0], tos[1], 0x40)).toBe(0);
    run(1100, true); // the first retransmission is due after 1 s
    expect(ipOf(taken(), TcpFlag.SYN | TcpFlag.ACK)).toEqual(['22 0x40']);
    expect(listener.setsockopt(own[0], own[1], -1)).toBe(0);
    expect(listener.setsockopt(tos[0], tos[1], 0)).toBe(0);
    run(3100); // the next, after 2 s more: the sysctl's, and the client answers it
    expect(ipOf(taken(), TcpFlag.SYN | TcpFlag.ACK)).toEqual(['50 0x0']);
    const s = accepted(listener);
    expect(s.getsockopt(own[0], own[1])).toBe(50);
    expect(s.getsockopt(tos[0], tos[1])).toBe(0);
  });

  it('a connection copies the listener when its handshake completes: with TCP_DEFER_ACCEPT, at its data', () => {
    const { client, server, run, taken } = hosts();
    const listener = inetSocket(server, family, SockType.SOCK_STREAM);
    expect(listener.bind(addr(serverAddr, 80))).toBe(0);
    expect(listener.listen(4)).toBe(0);
    expect(listener.setsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_DEFER_ACCEPT, 5)).toBe(0);
    expect(listener.setsockopt(own[0], own[1], 30)).toBe(0);
    expect(listener.setsockopt(tos[0], tos[1], 0x20)).toBe(0);
    const c = inetSocket(client, family, SockType.SOCK_STREAM);
    c.connect(addr(serverAddr, 80));
    run();
    expect(ipOf(taken(), TcpFlag.SYN | TcpFlag.ACK)).toEqual(['30 0x20']);
    expect(listener.setsockopt(own[0], own[1], 31)).toBe(0);
    expect(listener.setsockopt(tos[0], tos[1], 0x40)).toBe(0);
    expect(c.sendto(Uint8Array.of(1), 0)).toBe(1);
    run();
    // The ACK of the data, which completed the handshake, is the connection's first segment.
    expect(ipOf(taken(), TcpFlag.ACK)).toEqual(['31 0x40']);
    accepted(listener);
  });

  it("a SYN cookie's SYN-ACK takes the listener's TOS; so does its connection", () => {
    const { client, server, run, taken } = hosts();
    server.sysctl.syncookies = 2;
    const listener = inetSocket(server, family, SockType.SOCK_STREAM);
    expect(listener.bind(addr(serverAddr, 80))).toBe(0);
    expect(listener.listen(4)).toBe(0);
    expect(listener.setsockopt(own[0], own[1], 24)).toBe(0);
    expect(listener.setsockopt(tos[0], tos[1], 0x60)).toBe(0);
    const c = inetSocket(client, family, SockType.SOCK_STREAM);
    c.connect(addr(serverAddr, 80));
    run();
    expect(ipOf(taken(), TcpFlag.SYN | TcpFlag.ACK)).toEqual(['24 0x60']);
    expect(server.mib.tcpExt.SyncookiesSent).toBe(1);
    const s = accepted(listener);
    expect(s.sendto(Uint8Array.of(1), 0)).toBe(1);
    run();
    expect(ipOf(taken(), 0)).toEqual(['24 0x60']);
  });

  it('TIME_WAIT held by the application answers with the sysctl, also after a later IP_TTL, once the FIN is ACKed', () => {
    const { client, server, run, taken, resendClientFin } = hosts();
    setDefault(server, 33);
    const listener = inetSocket(server, family, SockType.SOCK_STREAM);
    expect(listener.bind(addr(serverAddr, 80))).toBe(0);
    expect(listener.listen(1)).toBe(0);
    const c = inetSocket(client, family, SockType.SOCK_STREAM);
    c.connect(addr(serverAddr, 80));
    run();
    const s = accepted(listener);
    expect(s.setsockopt(own[0], own[1], 7)).toBe(0);
    taken();
    // The server ends first and keeps its socket: it waits out TIME_WAIT.
    expect(s.shutdown(1)).toBe(0);
    run();
    c.close();
    run();
    // Its FIN and the ACK of the peer's FIN leave by the socket (tcp_fin's tcp_send_ack).
    expect(taken()).toEqual([
      { flags: TcpFlag.FIN | TcpFlag.ACK, hops: 7, tos: 0 },
      { flags: TcpFlag.ACK, hops: 7, tos: 0 },
    ]);
    expect(s.setsockopt(own[0], own[1], 9)).toBe(0);
    resendClientFin();
    expect(taken().map((p) => p.hops)).toEqual([33]);
    expect(s.setsockopt(own[0], own[1], -1)).toBe(0);
    setDefault(server, 34);
    resendClientFin();
    expect(taken().map((p) => p.hops)).toEqual([34]);
    s.close();
  });
});
