// TCP's answer to ICMP errors other than fragmentation-needed and packet-too-big (tcp_v4_err,
// tcp_v6_err): an error about a segment in flight fails a handshake at once; a synchronized
// connection goes on trying and reports the error at once only with IP_RECVERR, else when a
// timeout gives up (instead of ETIMEDOUT). Here the test plays the router on an IP link;
// runtime's tcp-icmp-error test compares the same on lo with Linux.
import {
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
import type { Device } from '../phy/device.js';
import { type Icmpv4Repr, Icmpv4Unreachable } from '../wire/icmpv4.js';
import { Icmpv6Unreachable } from '../wire/icmpv6.js';
import { IpProtocol } from '../wire/ipv4.js';
import { TcpFlag, TcpPacket, TcpRepr } from '../wire/tcp.js';
import {
  addr,
  far4,
  far6,
  icmp4,
  icmp6,
  inetSocket,
  ipv4From,
  me4,
  routerLink,
  seqOf,
  shifted,
} from './icmp-router.test-util.js';
import type { InetSocket, RecvResult } from './inet-socket.js';
import { WOULD_BLOCK } from './would-block.js';

const unreachable4 = (code: number, invoking: Uint8Array): Icmpv4Repr => ({
  type: 'destUnreachable',
  code,
  nextHopMtu: 0,
  invoking,
});

/**
 * A non-blocking TCP socket of `family` connecting to port 80 of the far address on a fresh
 * router link; its SYN.
 */
function connecting(family: 4 | 6) {
  const { stack, peer, sent } = routerLink(3);
  const s = inetSocket(stack, family, SockType.SOCK_STREAM | SockType.SOCK_NONBLOCK);
  expect(s.connect(addr(family === 4 ? far4 : far6, 80))).toBe(E.EINPROGRESS);
  const syn = sent(0);
  expect(syn.length).toBe(1);
  return { stack, peer, sent, s, syn: syn[0]! };
}

/** The far end's TCP segment `seg` to us over IPv4. */
const fromFar = (peer: Device, seg: TcpRepr): void =>
  ipv4From(peer, far4, me4, IpProtocol.TCP, TcpRepr.bufferLen(seg), (b) =>
    TcpRepr.emit(seg, TcpPacket.unchecked(b), far4, me4),
  );

const soError = (s: InetSocket): unknown => s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR);

/** An established IPv4 connection to a hand-driven far end, which has acknowledged nothing since. */
function established() {
  const { stack, peer, sent, s, syn } = connecting(4);
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
  const ack = (ackNumber: number): void =>
    fromFar(peer, { ...synAck, seqNumber: 7001, ackNumber, flags: 0, maxSegSize: undefined });
  fromFar(peer, synAck);
  sent(0); // our ACK
  expect(s.readiness() & PollEvent.POLLOUT).toBe(PollEvent.POLLOUT);
  expect(soError(s)).toBe(0);
  return { stack, peer, sent, s, ack };
}

/** Sends 100 bytes on `s`; the segment that carried them. */
function sendData(s: InetSocket, sent: (now: number) => Uint8Array[]): Uint8Array {
  expect(s.sendto(new Uint8Array(100), 0)).toBe(100);
  return sent(10)[0]!;
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
    const { stack, peer, sent, s, syn } = connecting(4);
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
    const { peer, sent, s, syn } = connecting(6);
    icmp6(peer, { type: 'destUnreachable', code: Icmpv6Unreachable.PORT, invoking: syn });
    expect(sent(10)).toEqual([]);
    expect(soError(s)).toBe(E.ECONNREFUSED.errno);
    expect(sent(60_000)).toEqual([]);
  });

  it('an error about another sequence number is ignored and counted', () => {
    const { stack, peer, sent, s, syn } = connecting(4);
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
    const { stack, peer, sent, s, syn } = connecting(4);
    icmp4(peer, unreachable4(16, syn));
    sent(10);
    expect(soError(s)).toBe(0);
    expect(stack.mib.tcpExt.OutOfWindowIcmps).toBe(0);
  });
});

describe('ICMP errors on an established connection', () => {
  /**
   * An established connection with socket option `level`/`name` set to `value`, whose first 100
   * bytes (`data`) the router answered with unreachable `code`.
   */
  function unreachableData(level: number, name: number, value: number, code: number) {
    const c = established();
    expect(c.s.setsockopt(level, name, value)).toBe(0);
    const data = sendData(c.s, c.sent);
    icmp4(c.peer, unreachable4(code, data));
    c.sent(20);
    return { ...c, data };
  }
  const userTimeout = [IpProto.IPPROTO_TCP, TcpOption.TCP_USER_TIMEOUT, 3000] as const;

  it('without IP_RECVERR the error waits for a timeout to give up, which reports it instead of ETIMEDOUT', () => {
    const { s, sent } = unreachableData(...userTimeout, Icmpv4Unreachable.HOST);
    expect(s.readiness() & PollEvent.POLLERR).toBe(0);
    // The connection goes on: more data is taken, the segment is resent.
    expect(s.sendto(new Uint8Array(100), 0)).toBe(100);
    expect(sent(1500).length).toBeGreaterThan(0);
    for (let t = 1500; t <= 6000; t += 500) sent(t);
    expect(soError(s)).toBe(E.EHOSTUNREACH.errno);
    expect(s.sendto(new Uint8Array(1), 0)).toBe(E.EPIPE);
  });

  it('SO_ERROR reads the soft error once and clears it: the timeout then reports ETIMEDOUT', () => {
    const { s, sent } = unreachableData(...userTimeout, Icmpv4Unreachable.HOST);
    expect(soError(s)).toBe(E.EHOSTUNREACH.errno);
    expect(soError(s)).toBe(0);
    for (let t = 500; t <= 8000; t += 500) sent(t);
    expect(soError(s)).toBe(E.ETIMEDOUT.errno);
  });

  it('an ACK clears the soft error: the timeout then reports ETIMEDOUT', () => {
    const { s, sent, ack, data } = unreachableData(...userTimeout, Icmpv4Unreachable.HOST);
    ack((seqOf(data) + 50) >>> 0);
    sent(30);
    for (let t = 500; t <= 8000; t += 500) sent(t);
    expect(soError(s)).toBe(E.ETIMEDOUT.errno);
  });

  it('with IP_RECVERR the error is reported at once and the connection goes on', () => {
    const { s, sent, ack, data } = unreachableData(
      SocketLevel.SOL_IP,
      IpOption.IP_RECVERR,
      1,
      Icmpv4Unreachable.NET,
    );
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
    const data = sendData(s, sent);
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
    const { stack, peer, sent } = routerLink(3);
    const l = inetSocket(stack, 4, SockType.SOCK_STREAM | SockType.SOCK_NONBLOCK);
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
    fromFar(peer, syn);
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
    const { peer, sent, s, syn } = connecting(4);
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
      const { peer, sent, s, syn } = connecting(6);
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

  it('outlives the disconnect and a new connect (tcp_disconnect leaves sk_error_queue)', () => {
    const { peer, sent, s, syn } = connecting(4);
    icmp4(peer, unreachable4(Icmpv4Unreachable.PORT, syn));
    sent(10);
    expect(soError(s)).toBe(E.ECONNREFUSED.errno);
    // The connect after SO_ERROR took the error reports ECONNABORTED and disconnects; the next
    // one starts a new connection, and the old error is still queued.
    expect(s.connect(addr(far4, 80))).toBe(E.ECONNABORTED);
    expect(s.connect(addr(far4, 80))).toBe(E.EINPROGRESS);
    expect(sent(20).length).toBe(1);
    expect(s.readiness() & PollEvent.POLLERR).toBe(PollEvent.POLLERR);
    // connect(AF_UNSPEC) too.
    expect(s.connect(new Uint8Array(16))).toBe(0);
    expect(dequeue(s)).toMatchObject({ errno: E.ECONNREFUSED.errno, type: 3, code: Icmpv4Unreachable.PORT });
    expect(dequeue(s)).toBe(E.EAGAIN);
    expect(s.readiness() & PollEvent.POLLERR).toBe(0);
  });

  it('reading the queued error first clears the connection error', () => {
    const { peer, sent, s, syn } = connecting(4);
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

  /**
   * An established connection whose first 100 bytes (`data`) went unanswered: the `times` of
   * the retransmissions up to 700 ms, the first two (`first`, `second`), and the first `rto`.
   */
  function backedOff() {
    const c = established();
    const data = sendData(c.s, c.sent);
    const times = sendTimes(c.sent, 11, 700);
    const [first, second] = times as [number, number];
    return { ...c, data, times, first, second, rto: first - 10 };
  }

  it('host unreachable about SND.UNA brings the next retransmission forward', () => {
    const { peer, sent, data, times, first, second, rto } = backedOff();
    // Two timeouts: the RTO doubled twice.
    expect(times.length).toBe(2);
    expect(second - first).toBe(2 * rto);
    icmp4(peer, unreachable4(Icmpv4Unreachable.HOST, data));
    // The next one waits 2 RTOs after the last, not 4.
    expect(sendTimes(sent, 701, second + 4 * rto)).toEqual([second + 2 * rto]);
  });

  it('the retransmission goes at once when the reverted RTO has passed; not for another sequence number', () => {
    const { peer, sent, data, second, rto } = backedOff();
    // Past the reverted RTO (2 after the last), before the backed-off one (4 after).
    const at = second + 3 * rto;
    expect(sendTimes(sent, 701, at)).toEqual([]);
    icmp4(peer, unreachable4(Icmpv4Unreachable.NET, shifted(data, 1)));
    expect(sent(at)).toEqual([]);
    icmp4(peer, unreachable4(Icmpv4Unreachable.NET, data));
    expect(sent(at).length).toBe(1);
  });

  it('port unreachable reverts nothing', () => {
    const { peer, sent, data, second, rto } = backedOff();
    icmp4(peer, unreachable4(Icmpv4Unreachable.PORT, data));
    expect(sendTimes(sent, 701, second + 4 * rto)).toEqual([second + 4 * rto]);
  });
});
