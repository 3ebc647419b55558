// ICMP errors from a router reach the UDP, ping and raw sockets whose datagrams they quote:
// queued with IP_RECVERR / IPV6_RECVERR (what recvmsg(MSG_ERRQUEUE) reads) while SO_RCVBUF has
// room, else only a hard error on a connected socket, as Linux's __udp4_lib_err,
// __udp6_lib_err, ping_err, raw_err and rawv6_err. Loopback can only answer port unreachable
// (recv-err.c and raw-recv-err.c in the runtime compare that with Linux); here a peer on an IP
// link plays the router and sends time exceeded, fragmentation needed, packet too big and
// parameter problem.
import {
  E,
  IpOption,
  IpProto,
  Ipv6Option,
  isError,
  MsgFlag,
  PollEvent,
  SocketLevel,
  SocketOption,
  SockType,
} from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import type { Device } from '../phy/device.js';
import { LoopbackDevice } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { Icmpv4Packet, Icmpv4Repr, Icmpv4Type, Icmpv4Unreachable } from '../wire/icmpv4.js';
import { Icmpv6Type } from '../wire/icmpv6.js';
import { Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import { IpProtocol, Ipv4Packet, Ipv4Repr } from '../wire/ipv4.js';
import { Ipv6Packet } from '../wire/ipv6.js';
import { PmtuDisc } from './ip-options.js';
import type { InetSocket, RecvResult } from './inet-socket.js';
import { SoEeOrigin } from './error-queue.js';
import {
  addr,
  far4,
  far6,
  icmp4,
  icmp6,
  inetSocket,
  me4,
  router4,
  router6,
  routerLink,
} from './icmp-router.test-util.js';

const te = new TextEncoder();

function setup(): { stack: Stack; peer: Device; sent: () => Uint8Array; run: () => void } {
  const { stack, peer } = routerLink(7);
  const run = (): void => void settle([stack], 0);
  const sent = (): Uint8Array => {
    run();
    const p = peer.receive(0);
    if (!p) throw new Error('nothing was sent');
    return p;
  };
  return { stack, peer, sent, run };
}

/** An echo request as a ping socket's caller writes it. */
function echo(seq: number, data: string): Uint8Array {
  const m = new Uint8Array(8 + data.length);
  m[0] = Icmpv4Type.ECHO_REQUEST;
  m[7] = seq;
  m.set(te.encode(data), 8);
  return m;
}

const udp = (stack: Stack, family: 4 | 6): InetSocket => inetSocket(stack, family, SockType.SOCK_DGRAM);

function setInt(s: InetSocket, level: number, name: number, v: number): void {
  expect(s.setsockopt(level, name, v)).toBe(0);
}

/** What one recvmsg(MSG_ERRQUEUE) gave, decoded: payload, msg_name, and the cmsg's fields. */
function readError(s: InetSocket): unknown {
  const buf = new Uint8Array(64);
  const r = s.recvfrom(buf, MsgFlag.MSG_ERRQUEUE);
  if (isError(r)) return r.name;
  const res = r as RecvResult;
  const c = res.control![0]!;
  const dv = new DataView(c.data.buffer, c.data.byteOffset, c.data.byteLength);
  return {
    payload: buf.slice(0, res.n),
    truncated: res.truncated,
    errQueue: res.errQueue,
    from: res.from,
    level: c.level,
    type: c.type,
    ee: {
      errno: dv.getUint32(0, true),
      origin: c.data[4],
      type: c.data[5],
      code: c.data[6],
      pad: c.data[7],
      info: dv.getUint32(8, true),
      data: dv.getUint32(12, true),
    },
    offender: c.data.slice(16),
  };
}

/**
 * What readError gives for a local EMSGSIZE of an unconnected IPv4 socket on lo: no payload, the
 * port of inet_dport (0: not connected), the MTU of lo in ee_info, no offender.
 */
const localEmsgsize4 = (): unknown => ({
  payload: new Uint8Array(0),
  truncated: false,
  errQueue: true,
  from: addr(Ipv4Address.LOOPBACK, 0),
  level: SocketLevel.SOL_IP,
  type: IpOption.IP_RECVERR,
  ee: { errno: E.EMSGSIZE.errno, origin: SoEeOrigin.LOCAL, type: 0, code: 0, pad: 0, info: 65535, data: 0 },
  offender: new Uint8Array(16),
});

/** The router's fragmentation needed, with next-hop MTU 1400, about `invoking`. */
const fragNeeded = (invoking: Uint8Array): Icmpv4Repr => ({
  type: 'destUnreachable',
  code: Icmpv4Unreachable.FRAG_NEEDED,
  nextHopMtu: 1400,
  invoking,
});

/** What readError gives for the router's ICMPv4 error about `payload`, sent to `to`. */
const routerError4 = (
  payload: Uint8Array,
  to: Uint8Array,
  ee: { errno: number; type: number; code: number; info: number },
): unknown => ({
  payload,
  truncated: false,
  errQueue: true,
  from: to,
  level: SocketLevel.SOL_IP,
  type: IpOption.IP_RECVERR,
  ee: { ...ee, origin: SoEeOrigin.ICMP, pad: 0, data: 0 },
  offender: addr(router4),
});

/** What readError gives for the router's time exceeded about `payload`, sent to `to`. */
const timeExceeded4 = (payload: Uint8Array, to: Uint8Array): unknown =>
  routerError4(payload, to, { errno: E.EHOSTUNREACH.errno, type: 11, code: 0, info: 0 });

/** What readError gives for the router's packet too big (MTU 1280) about `payload`, sent to `to`. */
const packetTooBig6 = (payload: Uint8Array, to: Uint8Array): unknown => ({
  payload,
  truncated: false,
  errQueue: true,
  from: to,
  level: SocketLevel.SOL_IPV6,
  type: Ipv6Option.IPV6_RECVERR,
  ee: { errno: E.EMSGSIZE.errno, origin: SoEeOrigin.ICMP6, type: 2, code: 0, pad: 0, info: 1280, data: 0 },
  offender: addr(router6),
});

describe('UDP sockets and ICMP errors from a router', () => {
  it('with IP_RECVERR, an unconnected socket queues fragmentation needed with the MTU', () => {
    const { stack, peer, sent, run } = setup();
    const s = udp(stack, 4);
    setInt(s, SocketLevel.SOL_IP, IpOption.IP_RECVERR, 1);
    expect(s.sendto(te.encode('probe'), 0, addr(far4, 4000))).toBe(5);
    const datagram = sent();
    icmp4(peer, fragNeeded(datagram));
    run();
    expect(s.readiness() & PollEvent.POLLERR).toBe(PollEvent.POLLERR);
    expect(s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(E.EMSGSIZE.errno);
    // The queue keeps POLLERR up after SO_ERROR took the pending error.
    expect(s.readiness() & PollEvent.POLLERR).toBe(PollEvent.POLLERR);
    expect(readError(s)).toEqual(
      routerError4(te.encode('probe'), addr(far4, 4000), {
        errno: E.EMSGSIZE.errno,
        type: 3,
        code: 4,
        info: 1400,
      }),
    );
    expect(s.readiness() & PollEvent.POLLERR).toBe(0);
    expect(readError(s)).toBe('EAGAIN');
  });

  it('without it, an unconnected socket learns nothing and a connected one only of hard errors', () => {
    const { stack, peer, sent, run } = setup();
    const lone = udp(stack, 4);
    lone.sendto(te.encode('a'), 0, addr(far4, 4000));
    icmp4(peer, { type: 'destUnreachable', code: Icmpv4Unreachable.PORT, nextHopMtu: 0, invoking: sent() });
    run();
    expect(lone.readiness() & PollEvent.POLLERR).toBe(0);
    expect(readError(lone)).toBe('EAGAIN');

    const c = udp(stack, 4);
    expect(c.connect(addr(far4, 4001))).toBe(0);
    c.sendto(te.encode('b'));
    // Time exceeded is soft (EHOSTUNREACH, not fatal): a connected socket without the option ignores it.
    icmp4(peer, { type: 'timeExceeded', code: 0, invoking: sent() });
    run();
    expect(c.readiness() & PollEvent.POLLERR).toBe(0);
    c.sendto(te.encode('c'));
    // Protocol unreachable is hard, as ENOPROTOOPT (icmp_err_convert).
    icmp4(peer, {
      type: 'destUnreachable',
      code: Icmpv4Unreachable.PROTOCOL,
      nextHopMtu: 0,
      invoking: sent(),
    });
    run();
    expect(c.readiness() & PollEvent.POLLERR).toBe(PollEvent.POLLERR);
    const r = c.recvfrom(new Uint8Array(8));
    expect(isError(r) ? r.name : r).toBe('ENOPROTOOPT');
    expect(readError(c)).toBe('EAGAIN');
  });

  it('parameter problem gives its pointer as ee_info; IP_PMTUDISC_DONT ignores fragmentation needed', () => {
    const { stack, peer, sent, run } = setup();
    const s = udp(stack, 4);
    setInt(s, SocketLevel.SOL_IP, IpOption.IP_RECVERR, 1);
    setInt(s, SocketLevel.SOL_IP, IpOption.IP_MTU_DISCOVER, PmtuDisc.DONT);
    s.sendto(te.encode('x'), 0, addr(far4, 4000));
    icmp4(peer, fragNeeded(sent()));
    run();
    expect(s.readiness() & PollEvent.POLLERR).toBe(0);
    s.sendto(te.encode('y'), 0, addr(far4, 4000));
    icmp4(peer, { type: 'paramProblem', code: 0, pointer: 9, invoking: sent() });
    run();
    expect(readError(s)).toMatchObject({
      payload: te.encode('y'),
      ee: { errno: E.EPROTO.errno, origin: SoEeOrigin.ICMP, type: 12, code: 0, info: 9 },
    });
  });

  it('with IPV6_RECVERR, packet too big is queued with its MTU and a sockaddr_in6 offender', () => {
    const { stack, peer, sent, run } = setup();
    const s = udp(stack, 6);
    setInt(s, SocketLevel.SOL_IPV6, Ipv6Option.IPV6_RECVERR, 1);
    expect(s.sendto(te.encode('six'), 0, addr(far6, 4000))).toBe(3);
    icmp6(peer, { type: 'packetTooBig', mtu: 1280, invoking: sent() });
    run();
    expect(readError(s)).toEqual(packetTooBig6(te.encode('six'), addr(far6, 4000)));
    // IPV6_RECVERR does not cover ICMPv4: IP_RECVERR does, on an AF_INET6 socket too.
    expect(s.getsockopt(SocketLevel.SOL_IP, IpOption.IP_RECVERR)).toBe(0);
  });

  it('turning the option off empties the queue', () => {
    const { stack, peer, sent, run } = setup();
    const s = udp(stack, 4);
    setInt(s, SocketLevel.SOL_IP, IpOption.IP_RECVERR, 1);
    s.sendto(te.encode('z'), 0, addr(far4, 4000));
    icmp4(peer, { type: 'timeExceeded', code: 0, invoking: sent() });
    run();
    expect(s.getsockopt(SocketLevel.SOL_IP, IpOption.IP_RECVERR)).toBe(1);
    setInt(s, SocketLevel.SOL_IP, IpOption.IP_RECVERR, 0);
    expect(readError(s)).toBe('EAGAIN');
    // The pending error stays: SO_ERROR reports it once.
    expect(s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(E.EHOSTUNREACH.errno);
    expect(s.readiness() & PollEvent.POLLERR).toBe(0);
  });
});

describe('local errors (ip_local_error, ipv6_local_error)', () => {
  const lo4 = Ipv4Address.LOOPBACK;
  const lo6 = Ipv6Address.parse('::1')!;
  const loopback = (): { stack: Stack; run: () => void } => {
    const stack = new Stack({
      device: new LoopbackDevice(),
      addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
    });
    return { stack, run: () => void settle([stack], 0) };
  };

  it('a send over the IP limit is EMSGSIZE, queued with the MTU and without a pending error', () => {
    const { stack } = loopback();
    const s = udp(stack, 4);
    const big = new Uint8Array(65536);
    expect(s.sendto(big.subarray(0, 65508), 0, addr(lo4, 9))).toBe(E.EMSGSIZE);
    expect(s.readiness() & PollEvent.POLLERR).toBe(0); // nothing queued without the option
    setInt(s, SocketLevel.SOL_IP, IpOption.IP_RECVERR, 1);
    expect(s.sendto(big.subarray(0, 65508), 0, addr(lo4, 9))).toBe(E.EMSGSIZE);
    // udp_sendmsg's own limit queues nothing.
    expect(s.sendto(big, 0, addr(lo4, 9))).toBe(E.EMSGSIZE);
    expect(s.readiness() & PollEvent.POLLERR).toBe(PollEvent.POLLERR);
    expect(s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(0);
    expect(readError(s)).toEqual(localEmsgsize4());
    expect(readError(s)).toBe('EAGAIN');
  });

  it('IPv6 with IPV6_PMTUDISC_DO names the destination port and the MTU of lo', () => {
    const { stack } = loopback();
    const s = udp(stack, 6);
    setInt(s, SocketLevel.SOL_IPV6, Ipv6Option.IPV6_RECVERR, 1);
    setInt(s, SocketLevel.SOL_IPV6, Ipv6Option.IPV6_MTU_DISCOVER, PmtuDisc.DO);
    expect(s.sendto(new Uint8Array(65489), 0, addr(lo6, 9))).toBe(E.EMSGSIZE);
    expect(readError(s)).toMatchObject({
      from: addr(lo6, 9),
      ee: { errno: E.EMSGSIZE.errno, origin: SoEeOrigin.LOCAL, info: 65536 },
      offender: new Uint8Array(28),
    });
  });

  it('an ICMP error behind a local one becomes the pending error; a pending one waits behind the size check', () => {
    const { stack, run } = loopback();
    const s = udp(stack, 4);
    setInt(s, SocketLevel.SOL_IP, IpOption.IP_RECVERR, 1);
    const big = new Uint8Array(65508);
    expect(s.sendto(big, 0, addr(lo4, 9))).toBe(E.EMSGSIZE);
    expect(s.sendto(te.encode('late'), 0, addr(lo4, 9))).toBe(4);
    run(); // port unreachable: ECONNREFUSED pending
    // The size is checked before the pending error is reported (ip_append_data).
    expect(s.sendto(big, 0, addr(lo4, 9))).toBe(E.EMSGSIZE);
    expect(s.sendto(te.encode('x'), 0, addr(lo4, 9))).toBe(E.ECONNREFUSED);
    expect(s.sendto(te.encode('x'), 0, addr(lo4, 9))).toBe(1);
    run(); // queued: local, ICMP "late", local, ICMP "x"; ECONNREFUSED pending
    expect(readError(s)).toMatchObject({ ee: { origin: SoEeOrigin.LOCAL } });
    expect(s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(E.ECONNREFUSED.errno);
    expect(s.sendto(te.encode('y'), 0, addr(lo4, 9))).toBe(1);
    run(); // ICMP "y" behind; ECONNREFUSED pending again
    // Taking an ICMP error with a local one behind it leaves no pending error...
    expect(readError(s)).toMatchObject({ payload: te.encode('late'), ee: { origin: SoEeOrigin.ICMP } });
    expect(s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(0);
    // ... and taking a local one with an ICMP one behind it makes that one's errno pending.
    expect(readError(s)).toMatchObject({ ee: { origin: SoEeOrigin.LOCAL } });
    expect(s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(E.ECONNREFUSED.errno);
    expect(readError(s)).toMatchObject({ payload: te.encode('x') });
    expect(readError(s)).toMatchObject({ payload: te.encode('y') });
    expect(readError(s)).toBe('EAGAIN');
  });
});

describe('ping sockets and ICMP errors (ping_err)', () => {
  it('with IP_RECVERR, time exceeded is queued with the whole echo request', () => {
    const { stack, peer, sent, run } = setup();
    const p = stack.icmpSocket(4);
    p.errors.recvErr = (v) => v === 4;
    const request = echo(1, 'hello');
    expect(p.sendto(request, { addr: far4, port: 0 })).toBe(request.length);
    const packet = sent();
    icmp4(peer, { type: 'timeExceeded', code: 0, invoking: packet });
    run();
    expect(p.readiness() & PollEvent.POLLERR).toBe(PollEvent.POLLERR);
    // A receive reports the pending error first (skb_recv_datagram).
    const r = p.recvfrom(new Uint8Array(64));
    expect(isError(r) ? r.name : r).toBe('EHOSTUNREACH');
    const e = p.errors.dequeue()!;
    // The stack put its identifier and checksum in the request: the quoted one has them.
    const quoted = Ipv4Packet.checked(packet) as Ipv4Packet;
    expect(e).toEqual({
      errno: E.EHOSTUNREACH,
      origin: SoEeOrigin.ICMP,
      type: Icmpv4Type.TIME_EXCEEDED,
      code: 0,
      info: 0,
      data: 0,
      // A 59-byte ICMP message: an skb from the 576-byte small-head cache.
      truesize: 832,
      offender: router4,
      payload: quoted.payload,
      dst: { addr: far4, port: 0 },
    });
    expect(e.payload.subarray(8)).toEqual(te.encode('hello'));
    expect(p.errors.dequeue()).toBeUndefined();
    expect(p.readiness() & PollEvent.POLLERR).toBe(0);
  });

  it('without it, a connected ping socket takes port unreachable (hard) and ignores time exceeded', () => {
    const { stack, peer, sent, run } = setup();
    const p = stack.icmpSocket(4);
    expect(p.connect({ addr: far4, port: 0 })).toBeUndefined();
    p.sendto(echo(1, 'a'));
    icmp4(peer, { type: 'timeExceeded', code: 0, invoking: sent() });
    run();
    expect(p.takeError()).toBeUndefined();
    p.sendto(echo(2, 'b'));
    icmp4(peer, { type: 'destUnreachable', code: Icmpv4Unreachable.PORT, nextHopMtu: 0, invoking: sent() });
    run();
    expect(p.readiness() & PollEvent.POLLERR).toBe(PollEvent.POLLERR);
    // The next send reports it (ip_append_data's sock_alloc_send_skb).
    const r = p.sendto(echo(3, 'c'));
    expect(isError(r) ? r.name : r).toBe('ECONNREFUSED');
    expect(p.errors.dequeue()).toBeUndefined();
  });

  it('an error about another identifier, or about a reply, reaches no ping socket', () => {
    const { stack, peer, sent, run } = setup();
    const p = stack.icmpSocket(4);
    p.errors.recvErr = () => true;
    p.sendto(echo(1, 'a'), { addr: far4, port: 0 });
    const packet = sent().slice();
    packet[24] = packet[24]! ^ 0xff; // another identifier
    icmp4(peer, { type: 'timeExceeded', code: 0, invoking: packet });
    packet[24] = packet[24]! ^ 0xff;
    packet[20] = Icmpv4Type.ECHO_REPLY;
    icmp4(peer, { type: 'timeExceeded', code: 0, invoking: packet });
    run();
    expect(p.errors.dequeue()).toBeUndefined();
  });

  it('reads through the socket layer: IP_RECVERR set with setsockopt, the echo request as payload', () => {
    const { stack, peer, sent, run } = setup();
    const p = inetSocket(stack, 4, SockType.SOCK_DGRAM, IpProto.IPPROTO_ICMP);
    setInt(p, SocketLevel.SOL_IP, IpOption.IP_RECVERR, 1);
    expect(p.sendto(echo(5, 'ttl'), 0, addr(far4))).toBe(11);
    const packet = sent();
    icmp4(peer, { type: 'timeExceeded', code: 0, invoking: packet });
    run();
    expect(readError(p)).toEqual(
      timeExceeded4((Ipv4Packet.checked(packet) as Ipv4Packet).payload, addr(far4, 0)),
    );
  });

  it('IPv6: packet too big is a soft EMSGSIZE with the MTU, queued with IPV6_RECVERR', () => {
    const { stack, peer, sent, run } = setup();
    const p = stack.icmpSocket(6);
    p.errors.recvErr = (v) => v === 6;
    const request = echo(1, 'v6');
    request[0] = Icmpv6Type.ECHO_REQUEST;
    p.sendto(request, { addr: far6, port: 0 });
    icmp6(peer, { type: 'packetTooBig', mtu: 1280, invoking: sent() });
    run();
    expect(p.errors.dequeue()).toMatchObject({
      errno: E.EMSGSIZE,
      origin: SoEeOrigin.ICMP6,
      type: Icmpv6Type.PACKET_TOO_BIG,
      info: 1280,
      offender: router6,
      dst: { addr: far6, port: 0 },
    });
  });
});

const raw = (stack: Stack, family: 4 | 6, protocol: number): InetSocket =>
  inetSocket(stack, family, SockType.SOCK_RAW, protocol);

/** A UDP header from port 4321 to `dport` and `text`, as a raw IPPROTO_UDP socket sends it. */
function udpDatagram(dport: number, text: string): Uint8Array {
  const d = new Uint8Array(8 + text.length);
  d[0] = 4321 >> 8;
  d[1] = 4321 & 0xff;
  d[2] = dport >> 8;
  d[3] = dport & 0xff;
  d[5] = d.length;
  d.set(te.encode(text), 8);
  return d;
}

describe('raw sockets and ICMP errors (raw_err, rawv6_err)', () => {
  it('with IP_RECVERR, each raw socket of the protocol whose addresses match queues it from the transport header on', () => {
    const { stack, peer, sent, run } = setup();
    const s = raw(stack, 4, IpProto.IPPROTO_UDP);
    const alsoUdp = raw(stack, 4, IpProto.IPPROTO_UDP);
    const elsewhere = raw(stack, 4, IpProto.IPPROTO_UDP);
    const icmp = raw(stack, 4, IpProto.IPPROTO_ICMP);
    for (const r of [s, alsoUdp, elsewhere, icmp]) setInt(r, SocketLevel.SOL_IP, IpOption.IP_RECVERR, 1);
    expect(elsewhere.connect(addr(router4))).toBe(0);
    const datagram = udpDatagram(4000, 'probe');
    expect(s.sendto(datagram, 0, addr(far4))).toBe(13);
    icmp4(peer, { type: 'timeExceeded', code: 0, invoking: sent() });
    run();
    for (const r of [s, alsoUdp]) {
      expect(r.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(E.EHOSTUNREACH.errno);
      expect(readError(r)).toEqual(timeExceeded4(datagram, addr(far4, 0)));
    }
    // Connected to another peer (raw_v4_match), or of another protocol: nothing.
    for (const r of [elsewhere, icmp]) {
      expect(r.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(0);
      expect(readError(r)).toBe('EAGAIN');
    }
  });

  it('without it, only a connected socket takes a hard error; fragmentation needed is hard unless IP_PMTUDISC_DONT', () => {
    const { stack, peer, sent, run } = setup();
    const lone = raw(stack, 4, IpProto.IPPROTO_UDP);
    lone.sendto(udpDatagram(4000, 'a'), 0, addr(far4));
    icmp4(peer, { type: 'destUnreachable', code: Icmpv4Unreachable.PORT, nextHopMtu: 0, invoking: sent() });
    run();
    expect(lone.readiness() & PollEvent.POLLERR).toBe(0);

    const c = raw(stack, 4, IpProto.IPPROTO_UDP);
    expect(c.connect(addr(far4))).toBe(0);
    c.sendto(udpDatagram(4000, 'b'));
    icmp4(peer, { type: 'timeExceeded', code: 0, invoking: sent() });
    run();
    expect(c.readiness() & PollEvent.POLLERR).toBe(0);
    setInt(c, SocketLevel.SOL_IP, IpOption.IP_MTU_DISCOVER, PmtuDisc.DONT);
    c.sendto(udpDatagram(4000, 'c'));
    icmp4(peer, fragNeeded(sent()));
    run();
    expect(c.readiness() & PollEvent.POLLERR).toBe(0);
    setInt(c, SocketLevel.SOL_IP, IpOption.IP_MTU_DISCOVER, PmtuDisc.WANT);
    c.sendto(udpDatagram(4000, 'd'));
    icmp4(peer, fragNeeded(sent()));
    run();
    expect(c.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(E.EMSGSIZE.errno);
    // A raw socket's send without IP_HDRINCL does not report a pending error.
    c.sendto(udpDatagram(4000, 'e'));
    icmp4(peer, { type: 'destUnreachable', code: Icmpv4Unreachable.PORT, nextHopMtu: 0, invoking: sent() });
    run();
    expect(c.sendto(udpDatagram(4000, 'f'))).toBe(9);
    expect(c.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(E.ECONNREFUSED.errno);
    expect(readError(c)).toBe('EAGAIN');
  });

  it('under IP_PMTUDISC_DONT, fragmentation needed is still queued with IP_RECVERR (UDP ignores it)', () => {
    const { stack, peer, sent, run } = setup();
    const s = raw(stack, 4, IpProto.IPPROTO_UDP);
    setInt(s, SocketLevel.SOL_IP, IpOption.IP_RECVERR, 1);
    setInt(s, SocketLevel.SOL_IP, IpOption.IP_MTU_DISCOVER, PmtuDisc.DONT);
    s.sendto(udpDatagram(4000, 'big'), 0, addr(far4));
    icmp4(peer, fragNeeded(sent()));
    run();
    expect(readError(s)).toMatchObject({ ee: { errno: E.EMSGSIZE.errno, type: 3, code: 4, info: 1400 } });
  });

  it('with IP_HDRINCL the payload starts at the quoted IP header, and a send reports the pending error', () => {
    const { stack, peer, sent, run } = setup();
    const s = raw(stack, 4, IpProto.IPPROTO_UDP);
    setInt(s, SocketLevel.SOL_IP, IpOption.IP_RECVERR, 1);
    expect(s.setsockoptBytes(SocketLevel.SOL_IP, IpOption.IP_HDRINCL, new Uint8Array([1, 0, 0, 0]))).toBe(0);
    const body = udpDatagram(4000, 'hdr');
    const whole = new Uint8Array(20 + body.length);
    Ipv4Repr.emit(
      { src: me4, dst: far4, protocol: IpProtocol.UDP, payloadLen: body.length, ttl: 64 },
      Ipv4Packet.unchecked(whole),
    );
    whole.set(body, 20);
    expect(s.sendto(whole, 0, addr(far4))).toBe(whole.length);
    const packet = sent();
    icmp4(peer, { type: 'destUnreachable', code: Icmpv4Unreachable.PORT, nextHopMtu: 0, invoking: packet });
    run();
    // raw_send_hdrinc allocates with sock_alloc_send_skb, which reports sk_err.
    expect(s.sendto(whole, 0, addr(far4))).toBe(E.ECONNREFUSED);
    expect(readError(s)).toMatchObject({
      payload: packet,
      ee: { errno: E.ECONNREFUSED.errno, type: 3, code: 3 },
    });
  });

  it('IPv6: packet too big is hard only under IPV6_PMTUDISC_DO; IPV6_RECVERR queues it with the MTU', () => {
    const { stack, peer, sent, run } = setup();
    const s = raw(stack, 6, IpProto.IPPROTO_ICMPV6);
    expect(s.connect(addr(far6))).toBe(0);
    const request = echo(1, 'v6');
    request[0] = Icmpv6Type.ECHO_REQUEST;
    s.sendto(request);
    icmp6(peer, { type: 'packetTooBig', mtu: 1280, invoking: sent() });
    run();
    expect(s.readiness() & PollEvent.POLLERR).toBe(0);
    setInt(s, SocketLevel.SOL_IPV6, Ipv6Option.IPV6_MTU_DISCOVER, PmtuDisc.DO);
    s.sendto(request);
    icmp6(peer, { type: 'packetTooBig', mtu: 1280, invoking: sent() });
    run();
    expect(s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(E.EMSGSIZE.errno);
    setInt(s, SocketLevel.SOL_IPV6, Ipv6Option.IPV6_RECVERR, 1);
    s.sendto(request);
    const packet = sent();
    icmp6(peer, { type: 'packetTooBig', mtu: 1280, invoking: packet });
    run();
    expect(readError(s)).toEqual(
      packetTooBig6((Ipv6Packet.checked(packet) as Ipv6Packet).payload, addr(far6, 0)),
    );
  });
});

describe('local errors of ping and raw sockets', () => {
  const lo4 = Ipv4Address.LOOPBACK;
  const lo6 = Ipv6Address.parse('::1')!;
  const loopback = (): Stack =>
    new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8'), cidr('::1/128')] });
  const ping = (stack: Stack, family: 4 | 6): InetSocket =>
    inetSocket(
      stack,
      family,
      SockType.SOCK_DGRAM,
      family === 4 ? IpProto.IPPROTO_ICMP : IpProto.IPPROTO_ICMPV6,
    );
  const request = (family: 4 | 6, len: number): Uint8Array => {
    const m = new Uint8Array(len);
    m[0] = family === 4 ? Icmpv4Type.ECHO_REQUEST : Icmpv6Type.ECHO_REQUEST;
    return m;
  };

  it('IPv4: a request past IP 64 KiB limit is EMSGSIZE, queued with the MTU; one past 64 KiB itself is not queued', () => {
    const stack = loopback();
    for (const s of [ping(stack, 4), raw(stack, 4, IpProto.IPPROTO_ICMP)]) {
      expect(s.sendto(request(4, 65516), 0, addr(lo4))).toBe(E.EMSGSIZE);
      expect(readError(s)).toBe('EAGAIN');
      setInt(s, SocketLevel.SOL_IP, IpOption.IP_RECVERR, 1);
      expect(s.sendto(request(4, 65516), 0, addr(lo4))).toBe(E.EMSGSIZE);
      expect(s.sendto(request(4, 65536), 0, addr(lo4))).toBe(E.EMSGSIZE);
      expect(s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(0);
      expect(readError(s)).toEqual(localEmsgsize4());
      expect(readError(s)).toBe('EAGAIN');
    }
  });

  it('IPv6: past 64 KiB (raw) or the MTU with IPV6_DONTFRAG; the port holds the ICMPv6 type and code', () => {
    const stack = loopback();
    const r = raw(stack, 6, IpProto.IPPROTO_ICMPV6);
    const p = ping(stack, 6);
    for (const s of [r, p]) setInt(s, SocketLevel.SOL_IPV6, Ipv6Option.IPV6_RECVERR, 1);
    expect(r.sendto(request(6, 65536), 0, addr(lo6))).toBe(E.EMSGSIZE);
    // ping_common_sendmsg refuses it before ip6_append_data.
    expect(p.sendto(request(6, 65536), 0, addr(lo6))).toBe(E.EMSGSIZE);
    expect(readError(p)).toBe('EAGAIN');
    for (const s of [r, p]) setInt(s, SocketLevel.SOL_IPV6, Ipv6Option.IPV6_DONTFRAG, 1);
    for (const s of [r, p]) expect(s.sendto(request(6, 65497), 0, addr(lo6))).toBe(E.EMSGSIZE);
    const local = {
      from: addr(lo6, Icmpv6Type.ECHO_REQUEST << 8),
      ee: { errno: E.EMSGSIZE.errno, origin: SoEeOrigin.LOCAL, info: 65536 },
    };
    expect(readError(r)).toMatchObject(local);
    expect(readError(r)).toMatchObject(local);
    expect(readError(p)).toMatchObject(local);
    expect(readError(p)).toBe('EAGAIN');
  });
});

describe('the error queue and SO_RCVBUF (sock_queue_err_skb)', () => {
  it('an error is dropped once its truesize would reach SO_RCVBUF, and still becomes the pending error', () => {
    const { stack, peer, sent, run } = setup();
    const s = udp(stack, 4);
    setInt(s, SocketLevel.SOL_IP, IpOption.IP_RECVERR, 1);
    setInt(s, SocketLevel.SOL_SOCKET, SocketOption.SO_RCVBUF, 0); // 2304 bytes, the least
    for (let i = 0; i < 3; i++) {
      s.sendto(te.encode('x'), 0, addr(far4, 4000));
      icmp4(peer, { type: 'timeExceeded', code: 0, invoking: sent() });
      run();
      expect(s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(E.EHOSTUNREACH.errno);
    }
    // 832 bytes each (Linux's measured truesize): two fit, a third would reach 2496.
    expect(readError(s)).toMatchObject({ payload: te.encode('x') });
    expect(readError(s)).toMatchObject({ payload: te.encode('x') });
    expect(readError(s)).toBe('EAGAIN');
    // A longer quote takes a kmalloc'd head (1280 bytes): one fits, a second would reach 2560.
    for (let i = 0; i < 2; i++) {
      s.sendto(new Uint8Array(400), 0, addr(far4, 4000));
      icmp4(peer, { type: 'timeExceeded', code: 0, invoking: sent() });
      run();
      expect(s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(E.EHOSTUNREACH.errno);
    }
    expect(readError(s)).toMatchObject({ payload: new Uint8Array(64) }); // cut to readError's buffer
    expect(readError(s)).toBe('EAGAIN');
  });
});

describe('waking waiters (sk_error_report)', () => {
  it('each error runs the readiness listener, though POLLERR is set already', () => {
    const { stack, peer, sent, run } = setup();
    for (const s of [udp(stack, 4), raw(stack, 4, IpProto.IPPROTO_UDP)]) {
      setInt(s, SocketLevel.SOL_IP, IpOption.IP_RECVERR, 1);
      const wakes: number[] = [];
      s.setReadinessListener((ev) => wakes.push(ev & PollEvent.POLLERR));
      run();
      wakes.length = 0;
      const datagram = s.type === SockType.SOCK_RAW ? udpDatagram(4000, 'x') : te.encode('x');
      for (let i = 0; i < 2; i++) {
        s.sendto(datagram, 0, addr(far4, s.type === SockType.SOCK_RAW ? 0 : 4000));
        icmp4(peer, { type: 'timeExceeded', code: 0, invoking: sent() });
        run();
        expect(wakes).toContain(PollEvent.POLLERR);
        wakes.length = 0;
        // The pending error would fail the UDP socket's next send.
        expect(s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(E.EHOSTUNREACH.errno);
      }
      s.setReadinessListener(undefined);
    }
  });

  it('an abort (SOCK_DESTROY) runs the readiness listener, though POLLERR is set already', () => {
    const { stack, peer, sent, run } = setup();
    for (const s of [udp(stack, 4), raw(stack, 4, IpProto.IPPROTO_UDP)]) {
      setInt(s, SocketLevel.SOL_IP, IpOption.IP_RECVERR, 1);
      const datagram = s.type === SockType.SOCK_RAW ? udpDatagram(4000, 'x') : te.encode('x');
      s.sendto(datagram, 0, addr(far4, s.type === SockType.SOCK_RAW ? 0 : 4000));
      icmp4(peer, { type: 'timeExceeded', code: 0, invoking: sent() });
      run();
      const wakes: number[] = [];
      s.setReadinessListener((ev) => wakes.push(ev & PollEvent.POLLERR));
      run();
      wakes.length = 0;
      // udp_abort, raw_abort: sk_error_report with the new error.
      expect(s.destroy(E.ECONNABORTED)).toBe(0);
      run();
      expect(wakes).toEqual([PollEvent.POLLERR]);
      expect(s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(E.ECONNABORTED.errno);
      s.setReadinessListener(undefined);
    }
  });

  it('reading an error with an ICMP error behind it reports that one: the listener runs again', () => {
    const { stack, peer, sent, run } = setup();
    const s = udp(stack, 4);
    setInt(s, SocketLevel.SOL_IP, IpOption.IP_RECVERR, 1);
    for (let i = 0; i < 2; i++) {
      s.sendto(te.encode('x'), 0, addr(far4, 4000));
      icmp4(peer, { type: 'timeExceeded', code: 0, invoking: sent() });
      run();
      s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR); // else the second send fails
    }
    const wakes: number[] = [];
    s.setReadinessListener((ev) => wakes.push(ev & PollEvent.POLLERR));
    run();
    wakes.length = 0;
    expect(readError(s)).toMatchObject({ payload: te.encode('x') });
    run();
    // sock_dequeue_err_skb: sk_error_report for the error now first, which is pending again
    // (POLLERR stays up, so only the report wakes).
    expect(wakes).toEqual([PollEvent.POLLERR]);
    expect(s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(E.EHOSTUNREACH.errno);
  });
});

describe('raw sockets bound to a device and ICMP errors (raw_v4_match, raw_v6_match)', () => {
  it('a raw socket takes an error only when it arrived on the link it is bound to', () => {
    const { stack, peer, sent, run } = setup();
    const onLo = raw(stack, 4, IpProto.IPPROTO_UDP);
    const onDev = raw(stack, 4, IpProto.IPPROTO_UDP);
    const unbound = raw(stack, 4, IpProto.IPPROTO_UDP);
    for (const s of [onLo, onDev, unbound]) setInt(s, SocketLevel.SOL_IP, IpOption.IP_RECVERR, 1);
    expect(onLo.bindToDevice(1)).toBe(0);
    expect(onDev.bindToDevice(stack.deviceIfindex)).toBe(0);
    unbound.sendto(udpDatagram(4000, 'x'), 0, addr(far4));
    icmp4(peer, { type: 'timeExceeded', code: 0, invoking: sent() });
    run();
    // The router's message came in on the device, not lo.
    expect(readError(onLo)).toBe('EAGAIN');
    expect(onLo.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(0);
    for (const s of [onDev, unbound]) expect(readError(s)).toMatchObject({ payload: udpDatagram(4000, 'x') });
  });
});

it('ICMPv4 parameter problem: emit, parse, equal', () => {
  const repr: Icmpv4Repr = {
    type: 'paramProblem',
    code: 0,
    pointer: 22,
    invoking: new Uint8Array([0x45, 1, 2, 3]),
  };
  const buf = new Uint8Array(Icmpv4Repr.bufferLen(repr));
  Icmpv4Repr.emit(repr, Icmpv4Packet.unchecked(buf));
  expect(Icmpv4Repr.parse(Icmpv4Packet.checked(buf) as Icmpv4Packet)).toEqual(repr);
});
