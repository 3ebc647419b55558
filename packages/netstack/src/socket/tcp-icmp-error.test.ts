// TCP's answer to ICMP errors other than fragmentation-needed and packet-too-big (tcp_v4_err,
// tcp_v6_err): an error about a segment in flight fails a handshake at once; a synchronized
// connection goes on trying and reports the error at once only with IP_RECVERR, else when a
// timeout gives up (instead of ETIMEDOUT). Here the test plays the router on an IP link;
// runtime's tcp-icmp-error test compares the same on lo with Linux.
import {
  AddressFamily,
  E,
  IpOption,
  IpProto,
  Ipv6Option,
  isError,
  PollEvent,
  SocketLevel,
  SocketOption,
  SockType,
  TcpOption,
  type LinuxError,
  MsgFlag,
} from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import type { Device } from '../phy/device.js';
import { linkPair } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { Icmpv4Packet, Icmpv4Repr, Icmpv4Unreachable } from '../wire/icmpv4.js';
import { Icmpv6Packet, Icmpv6Repr, Icmpv6Unreachable } from '../wire/icmpv6.js';
import { Ipv4Address, Ipv6Address, type IpAddress } from '../wire/ip-address.js';
import { IpProtocol, Ipv4Packet, Ipv4Repr } from '../wire/ipv4.js';
import { Ipv6Packet, Ipv6Repr } from '../wire/ipv6.js';
import { TcpFlag, TcpPacket, TcpRepr } from '../wire/tcp.js';
import { InetSocket, type RecvResult } from './inet-socket.js';
import { emitSockaddr } from './sockaddr.js';
import { WOULD_BLOCK } from './would-block.js';

const me4 = Ipv4Address.parse('10.0.0.1')!;
const far4 = Ipv4Address.parse('10.0.0.9')!;
const router4 = Ipv4Address.parse('10.0.0.254')!;
const me6 = Ipv6Address.parse('fd00::1')!;
const far6 = Ipv6Address.parse('fd00::9')!;
const router6 = Ipv6Address.parse('fd00::fe')!;

const addr = (a: IpAddress, port: number): Uint8Array => emitSockaddr({ addr: a, port });

/** The router's ICMPv4 error. */
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

/** The router's ICMPv6 error. */
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

const unreachable4 = (code: number, invoking: Uint8Array): Icmpv4Repr => ({
  type: 'destUnreachable',
  code,
  nextHopMtu: 0,
  invoking,
});

/** The TCP sequence number of a sent IPv4 (`hl` 20) or IPv6 (40) datagram. */
const seqOf = (p: Uint8Array, hl = 20): number => new DataView(p.buffer, p.byteOffset + hl + 4).getUint32(0);

/** `p` with its TCP sequence number moved by `by`. */
function shifted(p: Uint8Array, by: number, hl = 20): Uint8Array {
  const q = p.slice();
  new DataView(q.buffer, hl + 4).setUint32(0, (seqOf(p, hl) + by) >>> 0);
  return q;
}

/** A stack at 10.0.0.1 and fd00::1 whose link's far end (`peer`) the test reads and writes. */
function setup(): { stack: Stack; peer: Device; sent: (now: number) => Uint8Array[] } {
  const [dev, peer] = linkPair({ medium: 'ip', mtu: 1500 });
  const stack = new Stack({ device: dev, addresses: [cidr('10.0.0.1/24'), cidr('fd00::1/64')], seed: 3 });
  const sent = (now: number): Uint8Array[] => {
    settle([stack], now);
    const out: Uint8Array[] = [];
    for (let p = peer.receive(now); p; p = peer.receive(now)) out.push(p);
    return out;
  };
  return { stack, peer, sent };
}

/** A non-blocking TCP socket of `family` connecting to port 80 of the far address; its SYN. */
function connecting(family: 4 | 6, sent: (now: number) => Uint8Array[], stack: Stack) {
  const s = InetSocket.create(
    stack,
    family === 4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6,
    SockType.SOCK_STREAM | SockType.SOCK_NONBLOCK,
    0,
  );
  if (isError(s)) throw new Error(s.name);
  expect(s.connect(addr(family === 4 ? far4 : far6, 80))).toBe(E.EINPROGRESS);
  const syn = sent(0);
  expect(syn.length).toBe(1);
  return { s, syn: syn[0]! };
}

const soError = (s: InetSocket): unknown => s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR);

/** An established IPv4 connection to a hand-driven far end, which has acknowledged nothing since. */
function established() {
  const { stack, peer, sent } = setup();
  const { s, syn } = connecting(4, sent, stack);
  const synAck: TcpRepr = {
    srcPort: 80,
    dstPort: new DataView(syn.buffer, syn.byteOffset + 20).getUint16(0),
    seqNumber: 7000,
    ackNumber: (seqOf(syn) + 1) >>> 0,
    flags: TcpFlag.SYN,
    windowLen: 0xffff,
    maxSegSize: 1000,
    payload: new Uint8Array(0),
  };
  const ack = (ackNumber: number): void => {
    const seg = { ...synAck, seqNumber: 7001, ackNumber, flags: 0, maxSegSize: undefined };
    const len = TcpRepr.bufferLen(seg);
    const buf = new Uint8Array(20 + len);
    Ipv4Repr.emit(
      { src: far4, dst: me4, protocol: IpProtocol.TCP, payloadLen: len, ttl: 64 },
      Ipv4Packet.unchecked(buf),
    );
    TcpRepr.emit(seg, TcpPacket.unchecked(buf.subarray(20)), far4, me4);
    peer.transmit(0, buf);
  };
  const len = TcpRepr.bufferLen(synAck);
  const buf = new Uint8Array(20 + len);
  Ipv4Repr.emit(
    { src: far4, dst: me4, protocol: IpProtocol.TCP, payloadLen: len, ttl: 64 },
    Ipv4Packet.unchecked(buf),
  );
  TcpRepr.emit(synAck, TcpPacket.unchecked(buf.subarray(20)), far4, me4);
  peer.transmit(0, buf);
  sent(0); // our ACK
  expect(s.readiness() & PollEvent.POLLOUT).toBe(PollEvent.POLLOUT);
  expect(soError(s)).toBe(0);
  return { stack, peer, sent, s, ack };
}

describe('ICMP errors in the handshake', () => {
  const cases: [string, Icmpv4Repr['type'], number, LinuxError][] = [
    ['port unreachable', 'destUnreachable', Icmpv4Unreachable.PORT, E.ECONNREFUSED],
    ['host unreachable', 'destUnreachable', Icmpv4Unreachable.HOST, E.EHOSTUNREACH],
    ['net unreachable', 'destUnreachable', Icmpv4Unreachable.NET, E.ENETUNREACH],
    ['protocol unreachable', 'destUnreachable', Icmpv4Unreachable.PROTOCOL, E.ENOPROTOOPT],
    ['administratively prohibited', 'destUnreachable', Icmpv4Unreachable.ADMIN_PROHIBITED, E.EHOSTUNREACH],
    ['time exceeded', 'timeExceeded', 0, E.EHOSTUNREACH],
    ['parameter problem', 'paramProblem', 0, E.EPROTO],
  ];
  it.each(cases)('%s about the SYN fails the connect at once', (_, type, code, errno) => {
    const { stack, peer, sent } = setup();
    const { s, syn } = connecting(4, sent, stack);
    const fails = stack.mib.tcp.AttemptFails;
    icmp4(
      peer,
      type === 'destUnreachable'
        ? unreachable4(code, syn)
        : type === 'timeExceeded'
          ? { type, code, invoking: syn }
          : { type: 'paramProblem', code, pointer: 0, invoking: syn },
    );
    expect(sent(10)).toEqual([]);
    expect(s.readiness() & (PollEvent.POLLERR | PollEvent.POLLOUT)).toBe(
      PollEvent.POLLERR | PollEvent.POLLOUT,
    );
    expect(soError(s)).toBe(errno.errno);
    expect(soError(s)).toBe(0);
    expect(stack.mib.tcp.AttemptFails).toBe(fails + 1);
    // No more SYNs.
    expect(sent(60_000)).toEqual([]);
  });

  it('ICMPv6 port unreachable about the SYN fails the connect with ECONNREFUSED', () => {
    const { stack, peer, sent } = setup();
    const { s, syn } = connecting(6, sent, stack);
    icmp6(peer, { type: 'destUnreachable', code: Icmpv6Unreachable.PORT, invoking: syn });
    expect(sent(10)).toEqual([]);
    expect(soError(s)).toBe(E.ECONNREFUSED.errno);
    expect(sent(60_000)).toEqual([]);
  });

  it('an error about another sequence number is ignored and counted', () => {
    const { stack, peer, sent } = setup();
    const { s, syn } = connecting(4, sent, stack);
    icmp4(peer, unreachable4(Icmpv4Unreachable.PORT, shifted(syn, 2)));
    icmp4(peer, unreachable4(Icmpv4Unreachable.PORT, shifted(syn, -1)));
    expect(sent(10)).toEqual([]);
    expect(stack.mib.tcpExt.OutOfWindowIcmps).toBe(2);
    expect(soError(s)).toBe(0);
    expect(s.readiness() & PollEvent.POLLERR).toBe(0);
    // The SYN is retried.
    expect(sent(1000).map((p) => seqOf(p))).toEqual([seqOf(syn)]);
  });

  it('an unknown destination-unreachable code is ignored', () => {
    const { stack, peer, sent } = setup();
    const { s, syn } = connecting(4, sent, stack);
    icmp4(peer, unreachable4(16, syn));
    sent(10);
    expect(soError(s)).toBe(0);
    expect(stack.mib.tcpExt.OutOfWindowIcmps).toBe(0);
  });
});

describe('ICMP errors on an established connection', () => {
  it('without IP_RECVERR the error waits for a timeout to give up, which reports it instead of ETIMEDOUT', () => {
    const { s, peer, sent } = established();
    expect(s.setsockopt(IpProto.IPPROTO_TCP, TcpOption.TCP_USER_TIMEOUT, 3000)).toBe(0);
    expect(s.sendto(new Uint8Array(100), 0)).toBe(100);
    const data = sent(10)[0]!;
    icmp4(peer, unreachable4(Icmpv4Unreachable.HOST, data));
    sent(20);
    expect(s.readiness() & PollEvent.POLLERR).toBe(0);
    // The connection goes on: more data is taken, the segment is resent.
    expect(s.sendto(new Uint8Array(100), 0)).toBe(100);
    expect(sent(1500).length).toBeGreaterThan(0);
    for (let t = 1500; t <= 6000; t += 500) sent(t);
    expect(soError(s)).toBe(E.EHOSTUNREACH.errno);
    expect(s.sendto(new Uint8Array(1), 0)).toBe(E.EPIPE);
  });

  it('SO_ERROR reads the soft error once and clears it: the timeout then reports ETIMEDOUT', () => {
    const { s, peer, sent } = established();
    expect(s.setsockopt(IpProto.IPPROTO_TCP, TcpOption.TCP_USER_TIMEOUT, 3000)).toBe(0);
    expect(s.sendto(new Uint8Array(100), 0)).toBe(100);
    const data = sent(10)[0]!;
    icmp4(peer, unreachable4(Icmpv4Unreachable.HOST, data));
    sent(20);
    expect(soError(s)).toBe(E.EHOSTUNREACH.errno);
    expect(soError(s)).toBe(0);
    for (let t = 500; t <= 8000; t += 500) sent(t);
    expect(soError(s)).toBe(E.ETIMEDOUT.errno);
  });

  it('an ACK clears the soft error: the timeout then reports ETIMEDOUT', () => {
    const { s, peer, sent, ack } = established();
    expect(s.setsockopt(IpProto.IPPROTO_TCP, TcpOption.TCP_USER_TIMEOUT, 3000)).toBe(0);
    expect(s.sendto(new Uint8Array(100), 0)).toBe(100);
    const data = sent(10)[0]!;
    icmp4(peer, unreachable4(Icmpv4Unreachable.HOST, data));
    sent(20);
    ack((seqOf(data) + 50) >>> 0);
    sent(30);
    for (let t = 500; t <= 8000; t += 500) sent(t);
    expect(soError(s)).toBe(E.ETIMEDOUT.errno);
  });

  it('with IP_RECVERR the error is reported at once and the connection goes on', () => {
    const { s, peer, sent, ack } = established();
    expect(s.setsockopt(SocketLevel.SOL_IP, IpOption.IP_RECVERR, 1)).toBe(0);
    expect(s.sendto(new Uint8Array(100), 0)).toBe(100);
    const data = sent(10)[0]!;
    icmp4(peer, unreachable4(Icmpv4Unreachable.NET, data));
    sent(20);
    expect(s.readiness() & PollEvent.POLLERR).toBe(PollEvent.POLLERR);
    // recv(2) reports it (sock_error) before it would block; then the stream goes on.
    expect(s.recvfrom(new Uint8Array(10), 0)).toBe(E.ENETUNREACH);
    expect(s.readiness() & PollEvent.POLLERR).toBe(0);
    expect(s.recvfrom(new Uint8Array(10), 0)).toBe(WOULD_BLOCK);
    ack((seqOf(data) + 100) >>> 0);
    sent(30);
    expect(s.sendto(new Uint8Array(100), 0)).toBe(100);
    expect(sent(40).length).toBe(1);
    expect(soError(s)).toBe(0);
  });

  it('an error about acknowledged data is ignored and counted', () => {
    const { stack, s, peer, sent, ack } = established();
    expect(s.setsockopt(SocketLevel.SOL_IP, IpOption.IP_RECVERR, 1)).toBe(0);
    expect(s.sendto(new Uint8Array(100), 0)).toBe(100);
    const data = sent(10)[0]!;
    ack((seqOf(data) + 100) >>> 0);
    sent(20);
    icmp4(peer, unreachable4(Icmpv4Unreachable.PORT, data));
    sent(30);
    expect(stack.mib.tcpExt.OutOfWindowIcmps).toBe(1);
    expect(soError(s)).toBe(0);
  });
});

describe("ICMP errors about a listener's SYN-ACK", () => {
  /** A listener on port 80 that has answered a SYN from the far end; its SYN-ACK. */
  function synReceived() {
    const { stack, peer, sent } = setup();
    const l = InetSocket.create(
      stack,
      AddressFamily.AF_INET,
      SockType.SOCK_STREAM | SockType.SOCK_NONBLOCK,
      0,
    );
    if (isError(l)) throw new Error(l.name);
    expect(l.bind(addr(me4, 80))).toBe(0);
    expect(l.listen(8)).toBe(0);
    const syn: TcpRepr = {
      srcPort: 5555,
      dstPort: 80,
      seqNumber: 1000,
      ackNumber: undefined,
      flags: TcpFlag.SYN,
      windowLen: 0xffff,
      maxSegSize: 1000,
      payload: new Uint8Array(0),
    };
    const len = TcpRepr.bufferLen(syn);
    const buf = new Uint8Array(20 + len);
    Ipv4Repr.emit(
      { src: far4, dst: me4, protocol: IpProtocol.TCP, payloadLen: len, ttl: 64 },
      Ipv4Packet.unchecked(buf),
    );
    TcpRepr.emit(syn, TcpPacket.unchecked(buf.subarray(20)), far4, me4);
    peer.transmit(0, buf);
    const synAck = sent(0);
    expect(synAck.length).toBe(1);
    return { stack, peer, sent, synAck: synAck[0]! };
  }

  it('time exceeded drops the request: no SYN-ACK is resent', () => {
    const { stack, peer, sent, synAck } = synReceived();
    icmp4(peer, { type: 'timeExceeded', code: 0, invoking: synAck });
    sent(10);
    expect(stack.mib.tcpExt.ListenDrops).toBe(1);
    expect(sent(5000)).toEqual([]);
  });

  it('port unreachable leaves the request; an error about another sequence number is counted', () => {
    const { stack, peer, sent, synAck } = synReceived();
    icmp4(peer, unreachable4(Icmpv4Unreachable.PORT, synAck));
    icmp4(peer, unreachable4(Icmpv4Unreachable.HOST, shifted(synAck, 1)));
    sent(10);
    expect(stack.mib.tcpExt.ListenDrops).toBe(0);
    expect(stack.mib.tcpExt.OutOfWindowIcmps).toBe(1);
    expect(sent(1500).map((p) => seqOf(p))).toEqual([seqOf(synAck)]);
  });
});

describe('the error queue of a failed handshake', () => {
  /** One recvmsg(MSG_ERRQUEUE): its payload length, msg_name and sock_extended_err's fields. */
  function dequeue(s: InetSocket): unknown {
    const r = s.recvfrom(new Uint8Array(64), MsgFlag.MSG_ERRQUEUE);
    if (isError(r) || r === WOULD_BLOCK) return r;
    const res = r as RecvResult;
    const data = res.control![0]!.data;
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    return {
      n: res.n,
      from: res.from,
      errno: dv.getUint32(0, true),
      origin: data[4],
      type: data[5],
      code: data[6],
    };
  }

  it('keeps the error without IP_RECVERR: POLLERR outlasts SO_ERROR until it is read', () => {
    const { stack, peer, sent } = setup();
    const { s, syn } = connecting(4, sent, stack);
    icmp4(peer, unreachable4(Icmpv4Unreachable.PORT, syn));
    sent(10);
    expect(soError(s)).toBe(E.ECONNREFUSED.errno);
    expect(s.readiness() & PollEvent.POLLERR).toBe(PollEvent.POLLERR);
    expect(dequeue(s)).toEqual({
      n: syn.length - 20, // all the message quoted from the TCP header on
      from: addr(far4, 80),
      errno: E.ECONNREFUSED.errno,
      origin: 2,
      type: 3,
      code: Icmpv4Unreachable.PORT,
    });
    expect(s.readiness() & PollEvent.POLLERR).toBe(0);
    expect(dequeue(s)).toBe(E.EAGAIN);
  });

  it('keeps an ICMPv6 error only with IPV6_RECVERR', () => {
    for (const on of [0, 1]) {
      const { stack, peer, sent } = setup();
      const { s, syn } = connecting(6, sent, stack);
      expect(s.setsockopt(SocketLevel.SOL_IPV6, Ipv6Option.IPV6_RECVERR, on)).toBe(0);
      icmp6(peer, { type: 'destUnreachable', code: Icmpv6Unreachable.PORT, invoking: syn });
      sent(10);
      expect(soError(s)).toBe(E.ECONNREFUSED.errno);
      expect(s.readiness() & PollEvent.POLLERR).toBe(on ? PollEvent.POLLERR : 0);
      expect(dequeue(s)).toEqual(
        on
          ? {
              n: syn.length - 40,
              from: addr(far6, 80),
              errno: E.ECONNREFUSED.errno,
              origin: 3,
              type: 1,
              code: 4,
            }
          : E.EAGAIN,
      );
    }
  });

  it('reading the queued error first clears the connection error', () => {
    const { stack, peer, sent } = setup();
    const { s, syn } = connecting(4, sent, stack);
    icmp4(peer, { type: 'timeExceeded', code: 0, invoking: syn });
    sent(10);
    expect(dequeue(s)).toMatchObject({ errno: E.EHOSTUNREACH.errno, type: 11 });
    expect(soError(s)).toBe(0);
  });
});

describe('RFC 6069: unreachable while retransmitting undoes a backoff', () => {
  /** The times (ms, stepping by 1) at which the connection sent a segment, from `from` to `to`. */
  function sendTimes(sent: (now: number) => Uint8Array[], from: number, to: number): number[] {
    const times: number[] = [];
    for (let t = from; t <= to; t++) if (sent(t).length > 0) times.push(t);
    return times;
  }

  it('host unreachable about SND.UNA brings the next retransmission forward', () => {
    const { s, peer, sent } = established();
    expect(s.sendto(new Uint8Array(100), 0)).toBe(100);
    const data = sent(10)[0]!;
    // Two timeouts: the RTO doubled twice.
    const before = sendTimes(sent, 11, 700);
    expect(before.length).toBe(2);
    const [first, second] = before as [number, number];
    const rto = first - 10;
    expect(second - first).toBe(2 * rto);
    icmp4(peer, unreachable4(Icmpv4Unreachable.HOST, data));
    // The next one waits 2 RTOs after the last, not 4.
    expect(sendTimes(sent, 701, second + 4 * rto)).toEqual([second + 2 * rto]);
  });

  it('the retransmission goes at once when the reverted RTO has passed; not for another sequence number', () => {
    const { s, peer, sent } = established();
    expect(s.sendto(new Uint8Array(100), 0)).toBe(100);
    const data = sent(10)[0]!;
    const [first, second] = sendTimes(sent, 11, 700) as [number, number];
    const rto = first - 10;
    // Past the reverted RTO (2 after the last), before the backed-off one (4 after).
    const at = second + 3 * rto;
    expect(sendTimes(sent, 701, at)).toEqual([]);
    icmp4(peer, unreachable4(Icmpv4Unreachable.NET, shifted(data, 1)));
    expect(sent(at)).toEqual([]);
    icmp4(peer, unreachable4(Icmpv4Unreachable.NET, data));
    expect(sent(at).length).toBe(1);
  });

  it('port unreachable reverts nothing', () => {
    const { s, peer, sent } = established();
    expect(s.sendto(new Uint8Array(100), 0)).toBe(100);
    const data = sent(10)[0]!;
    const [first, second] = sendTimes(sent, 11, 700) as [number, number];
    const rto = first - 10;
    icmp4(peer, unreachable4(Icmpv4Unreachable.PORT, data));
    expect(sendTimes(sent, 701, second + 4 * rto)).toEqual([second + 4 * rto]);
  });
});
