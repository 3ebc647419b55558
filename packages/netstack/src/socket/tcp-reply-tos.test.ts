// The TOS or traffic class of what TCP answers a received segment with, as Linux picks it: a RST
// leaves by the control socket with the received segment's TOS less its ECN bits
// (tcp_v4_send_reset's arg.tos, masked by ip_send_unicast_reply; tcp_v6_send_reset's
// ipv6_get_dsfield & ~INET_ECN_MASK), and so does a pending request's ACK (tcp_v4_reqsk_send_ack)
// and the listener's RST to an ACK not of the request's SYN-ACK; with net.ipv4.tcp_reflect_tos a listener's SYN-ACKs, a
// cookie's too, carry the SYN's DSCP and the listener's ECN bits, and the connection takes the
// SYN's DSCP (tcp_v4_send_synack, tcp_v4_syn_recv_sock and their IPv6 twins). runtime's
// tcp-reply-tos.c compares the same on loopback with Linux.
import { IpOption, Ipv6Option, SockType, SocketLevel } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { settle } from '../stack.test-util.js';
import type { Stack } from '../stack.js';
import { Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import { TcpFlag } from '../wire/tcp.js';
import { addr, inetSocket } from './icmp-router.test-util.js';
import { accepted, flagsOf, hopLimitOf, tcpHosts, tosOf, v4 } from './tcp-reply.test-util.js';

/** Rewrites the TOS byte or traffic class of IP datagram `p` to `tos`, its header checksum too. */
function setTos(p: Uint8Array, tos: number): void {
  if (!v4(p)) {
    p[0] = (p[0]! & 0xf0) | (tos >> 4);
    p[1] = ((tos & 15) << 4) | (p[1]! & 15);
    return;
  }
  p[1] = tos;
  p[10] = p[11] = 0;
  let sum = 0;
  for (let i = 0; i < (p[0]! & 15) * 4; i += 2) sum += (p[i]! << 8) | p[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  p[10] = (~sum >> 8) & 0xff;
  p[11] = ~sum & 0xff;
}

/**
 * A client stack at 10.0.0.1 / fd00::1 and a server stack at 10.0.0.9 / fd00::9 (which takes
 * segments without checking their TCP checksums, so that `inject` may rewrite them) on one IP
 * link; `run(tos, deaf)` relays until nothing moves, giving every datagram of the client the TOS
 * `tos` (`deaf`: what the server sends never reaches the client), and returns the [flags, TOS,
 * TTL] of what the server sent; `lastFromClient()` is a copy of the client's last datagram,
 * `inject(p)` hands datagram `p` to the server and runs deaf.
 */
function hosts(): {
  client: Stack;
  server: Stack;
  run: (tos: number, deaf?: boolean) => [number, number, number][];
  lastFromClient: () => Uint8Array;
  inject: (p: Uint8Array) => [number, number, number][];
} {
  const { client, server, fromClient: end1, toServer: end2 } = tcpHosts({ verifyChecksums: false });
  let last: Uint8Array | undefined;
  const run = (tos: number, deaf = false): [number, number, number][] => {
    const sent: [number, number, number][] = [];
    for (let moved = true; moved;) {
      moved = false;
      settle([client, server], 0);
      for (let p = end1.receive(0); p; p = end1.receive(0), moved = true) {
        last = p.slice();
        setTos(last, tos);
        end2.transmit(0, last);
      }
      for (let p = end2.receive(0); p; p = end2.receive(0), moved = true) {
        sent.push([flagsOf(p), tosOf(p), hopLimitOf(p)]);
        if (!deaf) end1.transmit(0, p);
      }
    }
    return sent;
  };
  const lastFromClient = (): Uint8Array => {
    if (!last) throw new Error('the client sent nothing');
    return last.slice();
  };
  const inject = (p: Uint8Array): [number, number, number][] => {
    end2.transmit(0, p);
    return run(0, true);
  };
  return { client, server, run, lastFromClient, inject };
}

/** Sets the flags, sequence and acknowledgment numbers of the TCP segment in IP datagram `p`. */
function setTcp(p: Uint8Array, flags: number, seq: number, ack: number): void {
  const tcp = new DataView(p.buffer, p.byteOffset + (v4(p) ? (p[0]! & 15) * 4 : 40));
  tcp.setUint32(4, seq);
  tcp.setUint32(8, ack);
  tcp.setUint8(13, flags);
}

/** The distinct TOS bytes, as "0x48", of the segments among `sent` whose flags are `flags`. */
const tosWith = (sent: readonly [number, number, number][], flags: number): string[] => [
  ...new Set(sent.filter(([f]) => f === flags).map(([, t]) => `0x${t.toString(16)}`)),
];

/** The distinct TOS and TTL, as "0x48 64", of the segments among `sent` whose flags are `flags`. */
const ipWith = (sent: readonly [number, number, number][], flags: number): string[] => [
  ...new Set(sent.filter(([f]) => f === flags).map(([, t, h]) => `0x${t.toString(16)} ${h}`)),
];

describe.each([
  {
    family: 4 as const,
    serverAddr: Ipv4Address.parse('10.0.0.9')!,
    tos: [SocketLevel.SOL_IP, IpOption.IP_TOS] as const,
    ttl: [SocketLevel.SOL_IP, IpOption.IP_TTL] as const,
  },
  {
    family: 6 as const,
    serverAddr: Ipv6Address.parse('fd00::9')!,
    tos: [SocketLevel.SOL_IPV6, Ipv6Option.IPV6_TCLASS] as const,
    ttl: [SocketLevel.SOL_IPV6, Ipv6Option.IPV6_UNICAST_HOPS] as const,
  },
])('IPv$family', ({ family, serverAddr, tos, ttl }) => {
  it("a closed port's RST carries the SYN's TOS without its ECN bits", () => {
    const { client, server, run } = hosts();
    for (const [sent, want] of [
      [0x28, '0x28'],
      [0x2b, '0x28'],
      [0xfe, '0xfc'],
      [0, '0x0'],
    ] as const) {
      const c = inetSocket(client, family, SockType.SOCK_STREAM);
      c.connect(addr(serverAddr, 81));
      expect(tosWith(run(sent), TcpFlag.RST | TcpFlag.ACK)).toEqual([want]);
    }
    expect(server.mib.tcp.OutRsts).toBe(4);
  });

  it('a request answers by the control socket: an out-of-window segment with an ACK, a wrong ACK with a RST', () => {
    const { client, server, run, lastFromClient, inject } = hosts();
    const listener = inetSocket(server, family, SockType.SOCK_STREAM);
    expect(listener.bind(addr(serverAddr, 80))).toBe(0);
    expect(listener.listen(4)).toBe(0);
    expect(listener.setsockopt(ttl[0], ttl[1], 21)).toBe(0);
    expect(listener.setsockopt(tos[0], tos[1], 0x20)).toBe(0);
    const c = inetSocket(client, family, SockType.SOCK_STREAM);
    c.connect(addr(serverAddr, 80));
    expect(ipWith(run(0, true), TcpFlag.SYN | TcpFlag.ACK)).toEqual(['0x20 21']);
    // The SYN again, made an out-of-window segment, then a wrong ACK: the received TOS less ECN,
    // the sysctl's TTL (64), whatever the listener has.
    const seg = lastFromClient();
    setTos(seg, 0x65);
    setTcp(seg, TcpFlag.PSH, 7, 0);
    expect(ipWith(inject(seg), TcpFlag.ACK)).toEqual(['0x64 64']);
    setTcp(seg, TcpFlag.ACK, 7, 7);
    expect(ipWith(inject(seg), TcpFlag.RST)).toEqual(['0x64 64']);
    expect(server.mib.tcp.OutRsts).toBe(1);
  });

  it("tcp_reflect_tos 1 gives the SYN-ACK the SYN's DSCP with the listener's ECN bits, and the connection the DSCP", () => {
    const { client, server, run } = hosts();
    const listener = inetSocket(server, family, SockType.SOCK_STREAM);
    expect(listener.bind(addr(serverAddr, 80))).toBe(0);
    expect(listener.listen(4)).toBe(0);
    expect(listener.setsockopt(tos[0], tos[1], 0x20)).toBe(0);
    const plain = inetSocket(client, family, SockType.SOCK_STREAM);
    plain.connect(addr(serverAddr, 80));
    expect(tosWith(run(0x4b), TcpFlag.SYN | TcpFlag.ACK)).toEqual(['0x20']);
    expect(accepted(listener).getsockopt(tos[0], tos[1])).toBe(0x20);

    server.sysctl.reflectTos = 1;
    const c = inetSocket(client, family, SockType.SOCK_STREAM);
    c.connect(addr(serverAddr, 80));
    expect(tosWith(run(0x4b), TcpFlag.SYN | TcpFlag.ACK)).toEqual(['0x48']);
    const s = accepted(listener);
    expect(s.getsockopt(tos[0], tos[1])).toBe(0x48);
    expect(s.sendto(Uint8Array.of(1), 0)).toBe(1);
    expect(tosWith(run(0x4b), TcpFlag.ACK | TcpFlag.PSH)).toEqual(['0x48']);
  });

  it("tcp_reflect_tos 1 reflects into a SYN cookie's SYN-ACK and its connection", () => {
    const { client, server, run } = hosts();
    server.sysctl.syncookies = 2;
    server.sysctl.reflectTos = 1;
    const listener = inetSocket(server, family, SockType.SOCK_STREAM);
    expect(listener.bind(addr(serverAddr, 80))).toBe(0);
    expect(listener.listen(4)).toBe(0);
    expect(listener.setsockopt(tos[0], tos[1], 0x20)).toBe(0);
    const c = inetSocket(client, family, SockType.SOCK_STREAM);
    c.connect(addr(serverAddr, 80));
    expect(tosWith(run(0x89), TcpFlag.SYN | TcpFlag.ACK)).toEqual(['0x88']);
    expect(server.mib.tcpExt.SyncookiesRecv).toBe(1);
    expect(accepted(listener).getsockopt(tos[0], tos[1])).toBe(0x88);
  });
});
