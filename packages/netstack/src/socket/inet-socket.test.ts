// Differential test of the socket layer: the same call sequence on InetSocket and on the host
// kernel (a C program in a private network namespace) must print the same lines.
import {
  AddressFamily,
  E,
  IpOption,
  isError,
  MsgFlag,
  PollEvent,
  Shut,
  SockType,
  SocketLevel,
  SocketOption,
  TcpOption,
  type LinuxError,
} from '@tsvisor/abi';
import { writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { LoopbackDevice } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { Ipv4Address } from '../wire/ip-address.js';
import { InetSocket, type RecvResult } from './inet-socket.js';
import { emitSockaddr, parseSockaddr } from './sockaddr.js';
import { WOULD_BLOCK, type WouldBlock } from './would-block.js';
import { hostProgram, REQ } from './host-diff.test-util.js';

const hostRun = hostProgram('inet-socket-diff', 'echo 0 2147483647 > /proc/sys/net/ipv4/ping_group_range');

function res(r: number | LinuxError | WouldBlock | RecvResult | InetSocket): string {
  if (r === WOULD_BLOCK) return 'WOULD_BLOCK';
  if (isError(r)) return r.name;
  if (typeof r === 'number') return String(r);
  if (r instanceof InetSocket) return 'ok';
  return String(r.n);
}

function netstackRun(): string {
  const out: string[] = [];
  const p = (s: string) => out.push(s);
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 3 });
  const wait = () => settle([stack], 0);
  const sock = (type: number, proto = 0) =>
    InetSocket.create(stack, AddressFamily.AF_INET, type | SockType.SOCK_NONBLOCK, proto);
  const must = (s: InetSocket | LinuxError): InetSocket => {
    if (isError(s)) throw new Error(s.name);
    return s;
  };
  const sa = (port: number, ip = '127.0.0.1') => emitSockaddr({ addr: Ipv4Address.parse(ip)!, port });
  const name = (what: string, r: Uint8Array | LinuxError) => {
    if (isError(r)) return p(`${what} ${r.name}`);
    const ep = parseSockaddr(r, 4);
    if (isError(ep)) throw ep;
    const port = ep.port >= 32768 && ep.port <= 60999 ? 'eph' : ep.port === 0 ? '0' : 'fixed';
    p(`${what} ${ep.addr.toString()}:${port}`);
  };
  const pollmask = (what: string, s: InetSocket) =>
    p(`${what} ${(s.readiness() & (REQ | PollEvent.POLLERR | PollEvent.POLLHUP)).toString(16)}`);
  const opt = (what: string, s: InetSocket, level: number, n: number) =>
    p(`${what} ${res(s.getsockopt(level, n))}`);
  const buf = new Uint8Array(64);
  const te = new TextEncoder();

  const t0 = must(sock(SockType.SOCK_STREAM));
  let t = t0;
  pollmask('fresh tcp poll', t);
  name('getsockname', t.getsockname());
  name('getpeername', t.getpeername());
  p(`recv ${res(t.recvfrom(buf))}`);
  p(`send ${res(t.sendto(te.encode('x'), MsgFlag.MSG_NOSIGNAL))}`);
  p(`shutdown ${res(t.shutdown(Shut.SHUT_WR))}`);
  p(`accept ${res(t.accept(SockType.SOCK_NONBLOCK))}`);
  t = must(sock(SockType.SOCK_STREAM));
  opt('so_type', t, SocketLevel.SOL_SOCKET, SocketOption.SO_TYPE);
  opt('so_acceptconn', t, SocketLevel.SOL_SOCKET, SocketOption.SO_ACCEPTCONN);
  opt('tcp_nodelay', t, SocketLevel.SOL_TCP, TcpOption.TCP_NODELAY);
  opt('ip_ttl', t, SocketLevel.SOL_IP, IpOption.IP_TTL);
  opt('so_keepalive', t, SocketLevel.SOL_SOCKET, SocketOption.SO_KEEPALIVE);
  opt('bogus', t, SocketLevel.SOL_SOCKET, 9999);
  opt('keepidle', t, SocketLevel.SOL_TCP, TcpOption.TCP_KEEPIDLE);
  opt('keepintvl', t, SocketLevel.SOL_TCP, TcpOption.TCP_KEEPINTVL);
  opt('keepcnt', t, SocketLevel.SOL_TCP, TcpOption.TCP_KEEPCNT);
  p(`set keepidle 0 ${res(t.setsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_KEEPIDLE, 0))}`);
  p(`set keepcnt 128 ${res(t.setsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_KEEPCNT, 128))}`);
  p(`set keepidle 30 ${res(t.setsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_KEEPIDLE, 30))}`);
  opt('keepidle', t, SocketLevel.SOL_TCP, TcpOption.TCP_KEEPIDLE);
  p(`set nodelay ${res(t.setsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_NODELAY, 1))}`);
  opt('tcp_nodelay', t, SocketLevel.SOL_TCP, TcpOption.TCP_NODELAY);
  p(`set ttl 300 ${res(t.setsockopt(SocketLevel.SOL_IP, IpOption.IP_TTL, 300))}`);
  p(`bind short ${res(t.bind(sa(8080).subarray(0, 8)))}`);
  p(`bind ${res(t.bind(sa(8080)))}`);
  p(`listen ${res(t.listen(4))}`);
  opt('so_acceptconn', t, SocketLevel.SOL_SOCKET, SocketOption.SO_ACCEPTCONN);
  p(`accept ${res(t.accept(SockType.SOCK_NONBLOCK))}`);
  pollmask('listener poll', t);
  p(`connect on listener ${res(t.connect(sa(8080)))}`);
  const c = must(sock(SockType.SOCK_STREAM));
  p(`connect ${res(c.connect(sa(8080)))}`);
  wait();
  pollmask('client poll', c);
  pollmask('listener poll', t);
  p(`connect again ${res(c.connect(sa(8080)))}`);
  p(`connect third ${res(c.connect(sa(8080)))}`);
  opt('so_error', c, SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR);
  const a = t.accept(SockType.SOCK_NONBLOCK);
  p(`accept ${res(a)}`);
  if (!(a instanceof InetSocket)) throw new Error('accept failed');
  name('client name', c.getsockname());
  name('server peer', a.getpeername());
  p(`send ${res(c.sendto(te.encode('hello')))}`);
  wait();
  p(`fionread ${a.inq()}`);
  p(`peek ${res(a.recvfrom(buf, MsgFlag.MSG_PEEK))}`);
  p(`recv3 ${res(a.recvfrom(buf.subarray(0, 3)))}`);
  p(`recv ${res(a.recvfrom(buf))}`);
  p(`recv ${res(a.recvfrom(buf))}`);
  p(`shutdown wr ${res(c.shutdown(Shut.SHUT_WR))}`);
  wait();
  p(`recv eof ${res(a.recvfrom(buf))}`);
  pollmask('server poll', a);
  p(`send after shut ${res(c.sendto(te.encode('x'), MsgFlag.MSG_NOSIGNAL))}`);
  p(`shutdown bad ${res(c.shutdown(7))}`);
  p(`server send ${res(a.sendto(te.encode('bye')))}`);
  a.close();
  wait();
  p(`client recv ${res(c.recvfrom(buf))}`);
  p(`client recv ${res(c.recvfrom(buf))}`);
  pollmask('client poll', c);

  const u = must(sock(SockType.SOCK_DGRAM));
  pollmask('udp poll', u);
  p(`udp listen ${res(u.listen(1))}`);
  p(`udp recv ${res(u.recvfrom(buf))}`);
  name('udp getpeername', u.getpeername());
  p(`udp shutdown ${res(u.shutdown(Shut.SHUT_RD))}`);
  p(`udp connect ${res(u.connect(sa(4444)))}`);
  name('udp name', u.getsockname());
  name('udp peer', u.getpeername());
  p(`udp send ${res(u.sendto(te.encode('abc')))}`);
  wait();
  pollmask('udp poll after icmp', u);
  opt('udp so_error', u, SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR);
  p(`udp recv ${res(u.recvfrom(buf))}`);
  const unspec = new Uint8Array(16); // AF_UNSPEC
  p(`udp disconnect ${res(u.connect(unspec))}`);
  name('udp peer', u.getpeername());
  const u2 = must(sock(SockType.SOCK_DGRAM));
  p(`udp bind ${res(u2.bind(sa(5000)))}`);
  p(`udp sendto self ${res(u2.sendto(te.encode('0123456789'), 0, sa(5000)))}`);
  wait();
  p(`udp fionread ${u2.inq()}`);
  const tr = u2.recvfrom(buf.subarray(0, 4), MsgFlag.MSG_TRUNC);
  p(`udp recv trunc ${tr === WOULD_BLOCK || isError(tr) ? res(tr) : tr.len}`); // MSG_TRUNC: the real length
  p(`udp sendto bcast ${res(u2.sendto(te.encode('x'), 0, sa(9, '255.255.255.255')))}`);
  for (const reuse of [0, 1]) {
    const l = must(sock(SockType.SOCK_STREAM));
    l.setsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_REUSEADDR, reuse);
    const port = sa(9090 + reuse);
    p(`reuse${reuse} bind ${res(l.bind(port))}`);
    l.listen(4);
    const cl = must(sock(SockType.SOCK_STREAM));
    cl.connect(port);
    wait();
    const ac = l.accept(SockType.SOCK_NONBLOCK);
    if (!(ac instanceof InetSocket)) throw new Error('accept failed');
    const n1 = must(sock(SockType.SOCK_STREAM));
    n1.setsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_REUSEADDR, 1);
    p(`reuse${reuse} bind while listening ${res(n1.bind(port))}`);
    l.close();
    const n0 = must(sock(SockType.SOCK_STREAM));
    p(`reuse${reuse} bind with connection ${res(n0.bind(port))}`);
    ac.close();
    wait();
    cl.close();
    wait();
    p(`reuse${reuse} bind over time_wait ${res(n0.bind(port))}`);
    p(`reuse${reuse} bind over time_wait with reuse ${res(n1.bind(port))}`);
  }
  {
    const l = must(sock(SockType.SOCK_STREAM));
    l.bind(sa(9191));
    l.listen(1);
    const cl = must(sock(SockType.SOCK_STREAM));
    cl.connect(sa(9191));
    wait();
    const ac = l.accept(SockType.SOCK_NONBLOCK);
    if (!(ac instanceof InetSocket)) throw new Error('accept failed');
    p(`rst send ${res(cl.sendto(te.encode('unread')))}`);
    wait();
    ac.close();
    wait();
    pollmask('rst poll', cl);
    opt('rst so_error', cl, SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR);
    p(`rst recv ${res(cl.recvfrom(buf))}`);
    p(`rst send again ${res(cl.sendto(te.encode('x'), MsgFlag.MSG_NOSIGNAL))}`);
    l.close();
    cl.close();
  }
  const pg = must(sock(SockType.SOCK_DGRAM, 1)); // IPPROTO_ICMP
  p('ping socket ok');
  opt('ping so_protocol', pg, SocketLevel.SOL_SOCKET, SocketOption.SO_PROTOCOL);
  const echo = Uint8Array.of(8, 0, 0, 0, 0x12, 0x34, 0, 7, 97, 98, 99);
  p(`ping sendto ${res(pg.sendto(echo, 0, sa(0)))}`);
  const bad = echo.slice();
  bad[0] = 0;
  p(`ping sendto reply type ${res(pg.sendto(bad, 0, sa(0)))}`);
  p(`ping sendto short ${res(pg.sendto(echo.subarray(0, 4), 0, sa(0)))}`);
  wait();
  const rep = new Uint8Array(64);
  const got = pg.recvfrom(rep);
  if (got === WOULD_BLOCK || isError(got)) throw new Error(`ping recv ${res(got)}`);
  const me = parseSockaddr(pg.getsockname(), 4);
  const from = parseSockaddr(got.from!, 4);
  if (isError(me) || isError(from)) throw new Error('bad sockaddr');
  const ident = ((rep[4]! << 8) | rep[5]!) === me.port && me.port !== 0 ? 'mine' : 'other';
  const data = new TextDecoder().decode(rep.subarray(8, 11));
  p(
    `ping recv ${got.n} type ${rep[0]} code ${rep[1]} ident ${ident} seq ${(rep[6]! << 8) | rep[7]!} data ${data} from port ${from.port}`,
  );
  p(`ping recv again ${res(pg.recvfrom(rep))}`);
  p(`ping listen ${res(pg.listen(1))}`);
  p(`socket bad proto ${res(InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_STREAM, 17))}`);
  p(
    `socket bad flags ${res(InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_STREAM | 0x10000, 0))}`,
  );
  return out.join('\n') + '\n';
}

it('the socket layer answers a call sequence exactly as the host kernel does', () => {
  const host = hostRun();
  expect(host).toContain('udp so_error 111'); // the scenario ran on a working loopback
  const ours = netstackRun();
  if (process.env.NETSTACK_DIFF_DUMP) writeFileSync(process.env.NETSTACK_DIFF_DUMP, ours);
  expect(ours).toBe(host);
});

it('rejects families, types and short addresses like Linux', () => {
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')] });
  expect(InetSocket.create(stack, AddressFamily.AF_UNIX, SockType.SOCK_STREAM, 0)).toBe(E.EAFNOSUPPORT);
  const s = InetSocket.create(stack, AddressFamily.AF_INET6, SockType.SOCK_DGRAM, 0) as InetSocket;
  expect(s.bind(emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 1 }))).toBe(E.EINVAL); // 16 < 24 bytes
  const v4 = new Uint8Array(28);
  v4[0] = AddressFamily.AF_INET;
  expect(s.bind(v4)).toBe(E.EAFNOSUPPORT);
});

it('readiness events: a listener hears connection, data, end of stream and the accept queue', () => {
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 4 });
  const addr = emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 7070 });
  const l = InetSocket.create(
    stack,
    AddressFamily.AF_INET,
    SockType.SOCK_STREAM | SockType.SOCK_NONBLOCK,
    0,
  ) as InetSocket;
  l.bind(addr);
  l.listen(8);
  const c = InetSocket.create(
    stack,
    AddressFamily.AF_INET,
    SockType.SOCK_STREAM | SockType.SOCK_NONBLOCK,
    0,
  ) as InetSocket;
  const listenerEvents: number[] = [];
  const clientEvents: number[] = [];
  l.setReadinessListener((ev) => listenerEvents.push(ev));
  c.setReadinessListener((ev) => clientEvents.push(ev));
  expect(c.connect(addr)).toBe(E.EINPROGRESS);
  stack.notifyWatchers(); // connecting: no bits set yet, so no event
  settle([stack], 0);
  expect(listenerEvents).toEqual([PollEvent.POLLIN | PollEvent.POLLRDNORM]);
  expect(clientEvents.at(-1)).toBe(PollEvent.POLLOUT | PollEvent.POLLWRNORM);
  const a = l.accept() as InetSocket;
  const serverEvents: number[] = [];
  a.setReadinessListener((ev) => serverEvents.push(ev));
  c.sendto(new TextEncoder().encode('data'));
  settle([stack], 1);
  expect(serverEvents.at(-1)! & PollEvent.POLLIN).toBe(PollEvent.POLLIN);
  a.recvfrom(new Uint8Array(16));
  c.shutdown(Shut.SHUT_WR);
  settle([stack], 2);
  expect(serverEvents.at(-1)! & PollEvent.POLLRDHUP).toBe(PollEvent.POLLRDHUP);
  const before = serverEvents.length;
  settle([stack], 3);
  expect(serverEvents.length).toBe(before); // no change, no event
  a.close();
  c.close();
});
