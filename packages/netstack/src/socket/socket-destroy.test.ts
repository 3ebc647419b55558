// InetSocket.destroy for the sockets other than TCP connections (sock_diag's SOCK_DESTROY):
// udp_abort, tcp_abort of a listener, raw_abort, and ping sockets (which have none), on a
// loopback stack with a virtual clock. The comparison with Linux is runtime's
// sock-destroy-udp.c (UDP and listeners; the CI kernel has no raw_diag); this checks the stack's
// side alone, raw sockets included, from Linux's source (raw_abort, __udp_disconnect).
import {
  AddressFamily,
  E,
  isError,
  MsgFlag,
  PollEvent,
  SockType,
  SocketLevel,
  SocketOption,
} from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { Ipv4Address } from '../wire/ip-address.js';
import { InetSocket } from './inet-socket.js';
import { loopbackBed, mustSocket, sockaddr4 } from './host-diff.test-util.js';
import { emitSockaddr, parseSockaddr } from './sockaddr.js';

const IPPROTO_ICMP = 1;

function bed() {
  const b = loopbackBed(11);
  const open = (type: number, proto = 0): InetSocket =>
    mustSocket(InetSocket.create(b.stack, AddressFamily.AF_INET, type | SockType.SOCK_NONBLOCK, proto));
  /** Whether the stack lists `s` (what /proc/net and sock_diag see). */
  const listed = (s: InetSocket): boolean => b.stack.sockets().some((e) => e.owner === s);
  return { ...b, open, listed };
}

/** getsockname as "a.b.c.d:port". */
function name(s: InetSocket): string {
  const ep = parseSockaddr(s.getsockname(), 4);
  return isError(ep) ? ep.name : `${ep.addr.toString()}:${ep.port}`;
}

function soError(s: InetSocket): number | string {
  const e = s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR);
  return isError(e) ? e.name : e;
}

/** The next datagram's text (or stream bytes), or what recvfrom answered instead. */
function recv(s: InetSocket): string {
  const buf = new Uint8Array(64);
  const r = s.recvfrom(buf, MsgFlag.MSG_DONTWAIT);
  if (isError(r)) return r.name;
  if (typeof r === 'symbol') return 'would block';
  return new TextDecoder().decode(buf.subarray(0, r.n));
}

function send(s: InetSocket, text: string, to?: Uint8Array): string {
  const r = s.sendto(new TextEncoder().encode(text), MsgFlag.MSG_DONTWAIT, to);
  return isError(r) ? r.name : typeof r === 'symbol' ? 'would block' : String(r);
}

const has = (s: InetSocket, ev: number): boolean => (s.readiness() & ev) !== 0;

/** An ICMP echo request (a raw IPv4 ICMP socket leaves the checksum to its caller). */
function echoRequest(ident: number): Uint8Array {
  const m = Uint8Array.of(8, 0, 0, 0, ident >> 8, ident & 0xff, 0, 1);
  let sum = 0;
  for (let i = 0; i < m.length; i += 2) sum += (m[i]! << 8) | m[i + 1]!;
  sum = ~((sum & 0xffff) + (sum >> 16)) & 0xffff;
  m[2] = sum >> 8;
  m[3] = sum & 0xff;
  return m;
}

describe('UdpSocket.destroy (udp_abort)', () => {
  it('reports the error once, disconnects, and releases a port connect(2) picked', () => {
    const { WAIT, open, listed } = bed();
    const srv = open(SockType.SOCK_DGRAM);
    expect(srv.bind(sockaddr4(7401))).toBe(0);
    const c = open(SockType.SOCK_DGRAM);
    expect(c.connect(sockaddr4(7401))).toBe(0);
    const port = parseSockaddr(c.getsockname(), 4);
    if (isError(port)) throw new Error(port.name);
    let woken = 0;
    c.setReadinessListener(() => woken++);
    expect(c.destroy(E.ECONNABORTED)).toBe(0);
    WAIT();
    expect(woken).toBeGreaterThan(0); // the waiters of the socket hear of it
    expect(has(c, PollEvent.POLLERR)).toBe(true);
    expect(name(c)).toBe('0.0.0.0:0');
    expect(c.getpeername()).toBe(E.ENOTCONN);
    expect(listed(c)).toBe(false);
    // No destination any more: EDESTADDRREQ comes first, the error stays for the next call.
    expect(send(c, 'x')).toBe('EDESTADDRREQ');
    expect(soError(c)).toBe(E.ECONNABORTED.errno);
    expect(soError(c)).toBe(0);
    expect(has(c, PollEvent.POLLERR)).toBe(false);
    // The port is free for another socket.
    const other = open(SockType.SOCK_DGRAM);
    expect(other.bind(emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: port.port }))).toBe(0);
    // A send binds the socket anew.
    expect(send(c, 'y', sockaddr4(7401))).toBe('1');
    WAIT();
    expect(recv(srv)).toBe('y');
    expect(listed(c)).toBe(true);
  });

  it('keeps the address and port bind(2) named: still found, still receiving, error before data', () => {
    const { WAIT, open, listed } = bed();
    const b = open(SockType.SOCK_DGRAM);
    expect(b.bind(sockaddr4(7402))).toBe(0);
    const peer = open(SockType.SOCK_DGRAM);
    expect(send(peer, 'before', sockaddr4(7402))).toBe('6');
    WAIT();
    expect(b.destroy(E.ECONNABORTED)).toBe(0);
    expect(name(b)).toBe('127.0.0.1:7402');
    expect(listed(b)).toBe(true);
    expect(recv(b)).toBe('ECONNABORTED');
    expect(recv(b)).toBe('before');
    expect(send(peer, 'after', sockaddr4(7402))).toBe('5');
    WAIT();
    expect(recv(b)).toBe('after');
    // The first send after an abort reports it.
    b.destroy(E.ECONNABORTED);
    expect(send(b, 'z', sockaddr4(7402))).toBe('ECONNABORTED');
    expect(send(b, 'z', sockaddr4(7402))).toBe('1');
  });

  it('keeps an address bind(2) named with port 0, and binds a new port there on the next send', () => {
    const { open } = bed();
    const b = open(SockType.SOCK_DGRAM);
    expect(b.bind(sockaddr4(0))).toBe(0);
    expect(b.destroy(E.ECONNABORTED)).toBe(0);
    expect(name(b)).toBe('127.0.0.1:0');
    // inet_send_prepare binds before udp_sendmsg reports the error.
    expect(send(b, 'z', sockaddr4(7401))).toBe('ECONNABORTED');
    expect(name(b)).toMatch(/^127\.0\.0\.1:[1-9]/);
  });

  it('resets an address connect(2) chose on a socket bound to the wildcard address', () => {
    const { open } = bed();
    const b = open(SockType.SOCK_DGRAM);
    expect(b.bind(emitSockaddr({ addr: Ipv4Address.UNSPECIFIED, port: 7403 }))).toBe(0);
    expect(b.connect(sockaddr4(7401))).toBe(0);
    expect(name(b)).toBe('127.0.0.1:7403');
    b.destroy(E.ECONNABORTED);
    expect(name(b)).toBe('0.0.0.0:7403');
  });
});

describe('TcpListener.destroy (tcp_abort of a listener)', () => {
  it('stops listening, resets the queued connections, and keeps a port bind(2) named', () => {
    const { WAIT, tcp, open } = bed();
    const l = tcp();
    expect(l.bind(sockaddr4(7410))).toBe(0);
    expect(l.listen(8)).toBe(0);
    const c = tcp();
    c.connect(sockaddr4(7410));
    WAIT();
    expect(l.destroy(E.ECONNABORTED)).toBe(0);
    WAIT();
    for (const ev of [
      PollEvent.POLLIN,
      PollEvent.POLLOUT,
      PollEvent.POLLRDHUP,
      PollEvent.POLLERR,
      PollEvent.POLLHUP,
    ])
      expect(has(l, ev)).toBe(true);
    expect(l.accept()).toBe(E.EINVAL);
    expect(soError(l)).toBe(E.ECONNABORTED.errno);
    expect(soError(l)).toBe(0);
    expect(has(l, PollEvent.POLLERR)).toBe(false);
    expect(name(l)).toBe('127.0.0.1:7410');
    expect(recv(c)).toBe('ECONNRESET');
    // The port stays bound: another socket cannot take it, a connection finds no listener.
    expect(open(SockType.SOCK_STREAM).bind(sockaddr4(7410))).toBe(E.EADDRINUSE);
    const refused = tcp();
    refused.connect(sockaddr4(7410));
    WAIT();
    expect(soError(refused)).toBe(E.ECONNREFUSED.errno);
    // It may listen again.
    expect(l.listen(8)).toBe(0);
    expect(has(l, PollEvent.POLLHUP)).toBe(false);
    const again = tcp();
    again.connect(sockaddr4(7410));
    WAIT();
    expect(isError(l.accept())).toBe(false);
  });

  it('gives back a port listen(2) picked, though getsockname still shows it', () => {
    const { tcp, open } = bed();
    const l = tcp();
    expect(l.listen(8)).toBe(0);
    const before = name(l);
    const ep = parseSockaddr(l.getsockname(), 4);
    if (isError(ep)) throw new Error(ep.name);
    l.destroy(E.ECONNABORTED);
    expect(name(l)).toBe(before);
    expect(
      open(SockType.SOCK_STREAM).bind(emitSockaddr({ addr: Ipv4Address.UNSPECIFIED, port: ep.port })),
    ).toBe(0);
    expect(l.listen(8)).toBe(0); // on another port: the old one is taken now
    expect(name(l)).not.toBe(before);
  });
});

describe('RawSocket.destroy (raw_abort)', () => {
  it('reports the error once, then leaves the raw table: it receives nothing more, but sends', () => {
    const { WAIT, open, listed } = bed();
    const r = open(SockType.SOCK_RAW, IPPROTO_ICMP);
    const watcher = open(SockType.SOCK_RAW, IPPROTO_ICMP);
    expect(r.bind(emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 0 }))).toBe(0);
    expect(r.connect(emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 0 }))).toBe(0);
    expect(listed(r)).toBe(true);
    expect(r.destroy(E.ECONNABORTED)).toBe(0);
    expect(listed(r)).toBe(false);
    expect(has(r, PollEvent.POLLERR)).toBe(true);
    expect(name(r)).toBe('0.0.0.0:0'); // the bound address goes, and inet_sport with the hash
    expect(r.getpeername()).toBe(E.ENOTCONN);
    expect(recv(r)).toBe('ECONNABORTED');
    expect(recv(r)).toBe('would block');
    expect(soError(r)).toBe(0);
    // It still sends: the other raw socket sees the request and the reply, this one neither.
    expect(r.sendto(echoRequest(9), 0, emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 0 }))).toBe(8);
    WAIT();
    expect(recv(r)).toBe('would block');
    expect(recv(watcher)).not.toBe('would block');
    // Neither bind nor a second abort brings it back or reports again.
    r.destroy(E.ECONNABORTED);
    expect(soError(r)).toBe(0);
    expect(r.bind(emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 0 }))).toBe(0);
    expect(listed(r)).toBe(false);
  });
});

describe('connect(2) with AF_UNSPEC (the same __udp_disconnect)', () => {
  const unspec = Uint8Array.of(AddressFamily.AF_UNSPEC, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

  it('releases a UDP port connect(2) picked and the device binding, without an error', () => {
    const { open, listed } = bed();
    const c = open(SockType.SOCK_DGRAM);
    expect(c.bindToDevice(1)).toBe(0);
    expect(c.connect(sockaddr4(7401))).toBe(0);
    expect(c.connect(unspec)).toBe(0);
    expect(name(c)).toBe('0.0.0.0:0');
    expect(c.boundDevice).toBe(0);
    expect(listed(c)).toBe(false);
    expect(soError(c)).toBe(0);
  });

  it('takes a raw socket out of the raw table for good', () => {
    const { WAIT, open, listed } = bed();
    const r = open(SockType.SOCK_RAW, IPPROTO_ICMP);
    expect(r.connect(unspec)).toBe(0);
    expect(listed(r)).toBe(false);
    expect(name(r)).toBe('0.0.0.0:0');
    expect(r.sendto(echoRequest(10), 0, emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 0 }))).toBe(8);
    WAIT();
    expect(recv(r)).toBe('would block');
    expect(soError(r)).toBe(0);
  });
});

describe('ping sockets', () => {
  it('have no abort (no inet_diag handler reaches them on Linux)', () => {
    const { open } = bed();
    const p = open(SockType.SOCK_DGRAM, IPPROTO_ICMP);
    expect(p.destroy(E.ECONNABORTED)).toBe(E.EOPNOTSUPP);
    expect(soError(p)).toBe(0);
  });
});
