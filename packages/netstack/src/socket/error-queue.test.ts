// ICMP errors from a router reach the UDP and ping sockets whose datagrams they quote: queued
// with IP_RECVERR / IPV6_RECVERR (what recvmsg(MSG_ERRQUEUE) reads), else only a hard error on
// a connected socket, as Linux's __udp4_lib_err, __udp6_lib_err and ping_err. Loopback can only
// answer port unreachable (recv-err.c in the runtime compares that with Linux); here a peer on
// an IP link plays the router and sends time exceeded, fragmentation needed, packet too big
// and parameter problem.
import {
  AddressFamily,
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
import { LoopbackDevice, linkPair } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { Icmpv4Packet, Icmpv4Repr, Icmpv4Type, Icmpv4Unreachable } from '../wire/icmpv4.js';
import { Icmpv6Packet, Icmpv6Repr, Icmpv6Type } from '../wire/icmpv6.js';
import { Ipv4Address, Ipv6Address, type IpAddress } from '../wire/ip-address.js';
import { IpProtocol, Ipv4Packet, Ipv4Repr } from '../wire/ipv4.js';
import { Ipv6Packet, Ipv6Repr } from '../wire/ipv6.js';
import { PmtuDisc } from './ip-options.js';
import { InetSocket, type RecvResult } from './inet-socket.js';
import { SoEeOrigin } from './error-queue.js';
import { emitSockaddr } from './sockaddr.js';

const te = new TextEncoder();
const me4 = Ipv4Address.parse('10.0.0.1')!;
const far4 = Ipv4Address.parse('10.0.0.9')!;
const router4 = Ipv4Address.parse('10.0.0.254')!;
const me6 = Ipv6Address.parse('fd00::1')!;
const far6 = Ipv6Address.parse('fd00::9')!;
const router6 = Ipv6Address.parse('fd00::fe')!;

/** The router's ICMPv4 message to us. */
function icmp4(peer: Device, icmp: Icmpv4Repr): void {
  const len = Icmpv4Repr.bufferLen(icmp);
  const buf = new Uint8Array(20 + len);
  Ipv4Repr.emit(
    { src: router4, dst: me4, protocol: IpProtocol.ICMP, payloadLen: len, ttl: 64 },
    Ipv4Packet.unchecked(buf),
  );
  Icmpv4Repr.emit(icmp, Icmpv4Packet.unchecked(buf.subarray(20)));
  peer.transmit(0, buf);
}

/** The router's ICMPv6 message to us. */
function icmp6(peer: Device, icmp: Icmpv6Repr): void {
  const len = Icmpv6Repr.bufferLen(icmp);
  const buf = new Uint8Array(40 + len);
  Ipv6Repr.emit(
    { src: router6, dst: me6, nextHeader: IpProtocol.ICMPV6, payloadLen: len, hopLimit: 64 },
    Ipv6Packet.unchecked(buf),
  );
  Icmpv6Repr.emit(icmp, Icmpv6Packet.unchecked(buf.subarray(40)), router6, me6);
  peer.transmit(0, buf);
}

function setup(): { stack: Stack; peer: Device; sent: () => Uint8Array; run: () => void } {
  const [dev, peer] = linkPair({ medium: 'ip', mtu: 1500 });
  const stack = new Stack({ device: dev, addresses: [cidr('10.0.0.1/24'), cidr('fd00::1/64')], seed: 7 });
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

function udp(stack: Stack, family: 4 | 6): InetSocket {
  const s = InetSocket.create(
    stack,
    family === 4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6,
    SockType.SOCK_DGRAM,
    0,
  );
  if (isError(s)) throw new Error(s.name);
  return s;
}

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

const addr = (a: IpAddress, port = 0): Uint8Array => emitSockaddr({ addr: a, port });

describe('UDP sockets and ICMP errors from a router', () => {
  it('with IP_RECVERR, an unconnected socket queues fragmentation needed with the MTU', () => {
    const { stack, peer, sent, run } = setup();
    const s = udp(stack, 4);
    setInt(s, SocketLevel.SOL_IP, IpOption.IP_RECVERR, 1);
    expect(s.sendto(te.encode('probe'), 0, addr(far4, 4000))).toBe(5);
    const datagram = sent();
    icmp4(peer, {
      type: 'destUnreachable',
      code: Icmpv4Unreachable.FRAG_NEEDED,
      nextHopMtu: 1400,
      invoking: datagram,
    });
    run();
    expect(s.readiness() & PollEvent.POLLERR).toBe(PollEvent.POLLERR);
    expect(s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(E.EMSGSIZE.errno);
    // The queue keeps POLLERR up after SO_ERROR took the pending error.
    expect(s.readiness() & PollEvent.POLLERR).toBe(PollEvent.POLLERR);
    expect(readError(s)).toEqual({
      payload: te.encode('probe'),
      truncated: false,
      errQueue: true,
      from: addr(far4, 4000),
      level: SocketLevel.SOL_IP,
      type: IpOption.IP_RECVERR,
      ee: { errno: E.EMSGSIZE.errno, origin: SoEeOrigin.ICMP, type: 3, code: 4, pad: 0, info: 1400, data: 0 },
      offender: addr(router4),
    });
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
    icmp4(peer, {
      type: 'destUnreachable',
      code: Icmpv4Unreachable.FRAG_NEEDED,
      nextHopMtu: 1400,
      invoking: sent(),
    });
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
    expect(readError(s)).toEqual({
      payload: te.encode('six'),
      truncated: false,
      errQueue: true,
      from: addr(far6, 4000),
      level: SocketLevel.SOL_IPV6,
      type: Ipv6Option.IPV6_RECVERR,
      ee: {
        errno: E.EMSGSIZE.errno,
        origin: SoEeOrigin.ICMP6,
        type: 2,
        code: 0,
        pad: 0,
        info: 1280,
        data: 0,
      },
      offender: addr(router6),
    });
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
    expect(readError(s)).toEqual({
      payload: new Uint8Array(0),
      truncated: false,
      errQueue: true,
      from: addr(lo4, 0), // inet_dport: not connected
      level: SocketLevel.SOL_IP,
      type: IpOption.IP_RECVERR,
      ee: {
        errno: E.EMSGSIZE.errno,
        origin: SoEeOrigin.LOCAL,
        type: 0,
        code: 0,
        pad: 0,
        info: 65535,
        data: 0,
      },
      offender: new Uint8Array(16),
    });
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
    const p = InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_DGRAM, IpProto.IPPROTO_ICMP);
    if (isError(p)) throw new Error(p.name);
    setInt(p, SocketLevel.SOL_IP, IpOption.IP_RECVERR, 1);
    expect(p.sendto(echo(5, 'ttl'), 0, addr(far4))).toBe(11);
    const packet = sent();
    icmp4(peer, { type: 'timeExceeded', code: 0, invoking: packet });
    run();
    expect(readError(p)).toEqual({
      payload: (Ipv4Packet.checked(packet) as Ipv4Packet).payload,
      truncated: false,
      errQueue: true,
      from: addr(far4, 0),
      level: SocketLevel.SOL_IP,
      type: IpOption.IP_RECVERR,
      ee: {
        errno: E.EHOSTUNREACH.errno,
        origin: SoEeOrigin.ICMP,
        type: 11,
        code: 0,
        pad: 0,
        info: 0,
        data: 0,
      },
      offender: addr(router4),
    });
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
