// InetSocket.arrivals (one per Linux sk_data_ready: a TCP segment with data or a FIN, a UDP
// datagram, a connection a listener completes) and TCP's MSG_MORE, which holds a partial
// segment so that a shutdown right after sends data and FIN together. Linux's own signal
// counts for these are checked by packages/runtime's sigio-cond.c.
import {
  AddressFamily,
  isError,
  MsgFlag,
  PollEvent,
  Shut,
  SockType,
  SocketLevel,
  TcpOption,
  type LinuxError,
} from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { LoopbackDevice } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { Ipv4Address } from '../wire/ip-address.js';
import { InetSocket } from './inet-socket.js';
import { emitSockaddr } from './sockaddr.js';
import type { WouldBlock } from './would-block.js';

function setup() {
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 7 });
  const wait = () => settle([stack], 0);
  const must = <T>(r: T | LinuxError | WouldBlock): T => {
    if (isError(r) || typeof r === 'symbol') throw new Error(String(r));
    return r as T;
  };
  const sock = (type: number) =>
    must(InetSocket.create(stack, AddressFamily.AF_INET, type | SockType.SOCK_NONBLOCK, 0));
  const sa = (port: number) => emitSockaddr({ addr: Ipv4Address.LOOPBACK, port });
  /** A connected pair: the client and the accepted socket. */
  const pair = (port: number) => {
    const l = sock(SockType.SOCK_STREAM);
    expect(l.bind(sa(port))).toBe(0);
    expect(l.listen(8)).toBe(0);
    const c = sock(SockType.SOCK_STREAM);
    c.connect(sa(port));
    wait();
    const s = must(l.accept());
    l.close();
    return { c, s };
  };
  return { stack, wait, sock, sa, pair, must };
}

const one = Uint8Array.of(1);

describe('InetSocket.arrivals', () => {
  it('counts each UDP datagram, also behind one not yet read', () => {
    const { wait, sock, sa } = setup();
    const u = sock(SockType.SOCK_DGRAM);
    expect(u.bind(sa(5000))).toBe(0);
    const c = sock(SockType.SOCK_DGRAM);
    expect(u.arrivals).toBe(0);
    for (let i = 1; i <= 3; i++) {
      expect(c.sendto(one, 0, sa(5000))).toBe(1);
      wait();
      expect(u.arrivals).toBe(i);
    }
    // The readiness bits said so only once.
    expect(u.readiness() & PollEvent.POLLIN).toBe(PollEvent.POLLIN);
    u.recvfrom(new Uint8Array(8));
    expect(u.arrivals).toBe(3);
  });

  it('counts each connection a listener completes', () => {
    const { wait, sock, sa } = setup();
    const l = sock(SockType.SOCK_STREAM);
    expect(l.bind(sa(5001))).toBe(0);
    expect(l.listen(8)).toBe(0);
    for (let i = 1; i <= 3; i++) {
      sock(SockType.SOCK_STREAM).connect(sa(5001));
      wait();
      expect(l.arrivals).toBe(i);
    }
  });

  it('counts TCP segments that bring data or a FIN, once for both together', () => {
    const { wait, pair } = setup();
    const { c, s } = pair(5002);
    expect(c.setsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_NODELAY, 1)).toBe(0);
    const base = s.arrivals;
    for (let i = 1; i <= 3; i++) {
      expect(c.sendto(one)).toBe(1);
      wait();
      expect(s.arrivals).toBe(base + i);
    }
    // Corked data and the FIN leave as one segment: one arrival.
    expect(c.setsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_CORK, 1)).toBe(0);
    expect(c.sendto(one)).toBe(1);
    expect(c.shutdown(Shut.SHUT_WR)).toBe(0);
    wait();
    expect(s.arrivals).toBe(base + 4);
    expect(s.readiness() & PollEvent.POLLRDHUP).toBe(PollEvent.POLLRDHUP);
  });

  it('counts a FIN alone as one arrival', () => {
    const { wait, pair } = setup();
    const { c, s } = pair(5003);
    const base = s.arrivals;
    expect(c.shutdown(Shut.SHUT_WR)).toBe(0);
    wait();
    expect(s.arrivals).toBe(base + 1);
  });
});

describe('TCP MSG_MORE', () => {
  it('holds a partial segment until a send without it', () => {
    const { wait, pair } = setup();
    const { c, s } = pair(5004);
    expect(c.sendto(one, MsgFlag.MSG_MORE)).toBe(1);
    wait();
    expect(s.inq()).toBe(0);
    expect(c.sendto(one)).toBe(1);
    wait();
    expect(s.inq()).toBe(2);
    expect(s.arrivals).toBe(1);
  });

  it('sends held data with the FIN of a shutdown right after, in one segment', () => {
    const { wait, pair } = setup();
    const { c, s } = pair(5005);
    const base = s.arrivals;
    expect(c.sendto(one, MsgFlag.MSG_MORE)).toBe(1);
    expect(c.shutdown(Shut.SHUT_WR)).toBe(0);
    wait();
    expect(s.inq()).toBe(1);
    expect(s.arrivals).toBe(base + 1);
  });
});
