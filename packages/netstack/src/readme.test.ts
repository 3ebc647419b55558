// The README's example, run through the public entry point.
import { AddressFamily, isError, SockType } from '@tsvisor/abi';
import { expect, it } from 'vitest';
import {
  cidr,
  emitSockaddr,
  EthernetAddress,
  IfaFlag,
  Ipv6Address,
  InetSocket,
  linkPair,
  Ipv4Address,
  LoopbackDevice,
  RingBuffer,
  Stack,
  WOULD_BLOCK,
} from './index.js';

it('README example: two stacks talking in one process', () => {
  const [devA, devB] = linkPair({ medium: 'ip', mtu: 1500 });
  const a = new Stack({ device: devA, addresses: [cidr('10.0.0.1/24')] });
  const b = new Stack({ device: devB, addresses: [cidr('10.0.0.2/24')] });
  const rings = () => ({
    rx: new RingBuffer(new Uint8Array(65536)),
    tx: new RingBuffer(new Uint8Array(65536)),
  });

  const listener = b.tcpListener(4, rings);
  listener.bind({ addr: Ipv4Address.UNSPECIFIED, port: 80 });
  listener.listen(16);

  const client = a.tcpSocket(4, rings());
  client.connect({ addr: Ipv4Address.parse('10.0.0.2')!, port: 80 });

  const run = (now: number) => {
    for (let i = 0; i < 10; i++) {
      a.poll(now);
      b.poll(now);
    }
  };
  run(0);
  client.send(new TextEncoder().encode('hello'));
  run(1);
  const server = listener.accept();
  if (server === WOULD_BLOCK || isError(server)) throw new Error('no connection');
  const buf = new Uint8Array(100);
  const n = server.recv(buf);
  expect(n).toBe(5);
  expect(new TextDecoder().decode(buf.subarray(0, n as number))).toBe('hello');
});

it('README example: the socket layer', () => {
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')] });
  const udp = InetSocket.create(
    stack,
    AddressFamily.AF_INET,
    SockType.SOCK_DGRAM | SockType.SOCK_NONBLOCK,
    0,
  );
  if (isError(udp)) throw udp;
  expect(udp.bind(emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 5353 }))).toBe(0);
  expect(
    udp.sendto(new TextEncoder().encode('hi'), 0, emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 5353 })),
  ).toBe(2);
  stack.poll(0);
  const r = udp.recvfrom(new Uint8Array(16));
  expect(r).toEqual({
    n: 2,
    len: 2,
    from: emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 5353 }),
    truncated: false,
  });
  expect(udp.recvfrom(new Uint8Array(16)) === WOULD_BLOCK).toBe(true);
});

it('README example: AF_UNIX socket pair', async () => {
  const { E, SockType } = await import('@tsvisor/abi');
  const { UnixDomain, UnixSocket } = await import('./index.js');
  const dropped: unknown[] = [];
  const domain = new UnixDomain({ dropRights: (refs) => dropped.push(...refs) });
  const me = { pid: 1, uid: 0, gid: 0 };
  const pair = UnixSocket.pair(domain, SockType.SOCK_STREAM, me);
  if (isError(pair)) throw new Error('pair');
  const [a, b] = pair;
  expect(a.send(new TextEncoder().encode('hi'), 0, undefined, undefined, { rights: ['an fd'] })).toBe(2);
  const r = b.recv(new Uint8Array(16));
  expect(r !== WOULD_BLOCK && !isError(r) && r.n === 2 && r.rights?.[0] === 'an fd').toBe(true);
  expect(b.recv(new Uint8Array(16))).toBe(WOULD_BLOCK);
  b.close();
  expect(a.send(new Uint8Array(1))).toBe(E.EPIPE);
  expect(dropped).toEqual([]);
});

it('README example: AF_UNIX out-of-band data', async () => {
  const { MsgFlag, SockType } = await import('@tsvisor/abi');
  const { UnixDomain, UnixSocket } = await import('./index.js');
  const domain = new UnixDomain({ dropRights: () => undefined });
  const me = { pid: 1, uid: 0, gid: 0 };
  const pair = UnixSocket.pair(domain, SockType.SOCK_STREAM, me);
  if (isError(pair)) throw new Error('pair');
  const [c, s] = pair;
  expect(c.send(new TextEncoder().encode('abc!'), MsgFlag.MSG_OOB)).toBe(4);
  expect(s.atMark()).toBe(0);
  expect(s.recv(new Uint8Array(16))).toMatchObject({ n: 3, atMark: true });
  expect(s.atMark()).toBe(1);
  const buf = new Uint8Array(1);
  expect(s.recv(buf, MsgFlag.MSG_OOB)).toMatchObject({ n: 1, oob: true });
  expect(new TextDecoder().decode(buf)).toBe('!');
  expect(c.outq()).toBe(768);
});

it('README example: options in bytes (TCP_CONGESTION, TCP_INFO)', async () => {
  const { SocketLevel, TcpOption } = await import('@tsvisor/abi');
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')] });
  const tcp = InetSocket.create(
    stack,
    AddressFamily.AF_INET,
    SockType.SOCK_STREAM | SockType.SOCK_NONBLOCK,
    0,
  );
  if (isError(tcp)) throw tcp;
  expect(
    tcp.setsockoptBytes(SocketLevel.SOL_TCP, TcpOption.TCP_CONGESTION, new TextEncoder().encode('reno')),
  ).toBe(0);
  const info = tcp.getsockoptBytes(SocketLevel.SOL_TCP, TcpOption.TCP_INFO, 232);
  if (isError(info)) throw info;
  expect(info.length).toBe(232);
  expect(info[0]).toBe(7); // TCP_CLOSE: not connected yet
});

it('README example: dual-stack listener and stack.sockets()', async () => {
  const { Ipv6Address, LINUX_TCP_STATE } = await import('./index.js');
  const { E } = await import('@tsvisor/abi');
  const stack = new Stack({
    device: new LoopbackDevice(),
    addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
  });
  const listener = InetSocket.create(stack, AddressFamily.AF_INET6, SockType.SOCK_STREAM, 0);
  if (isError(listener)) throw listener;
  expect(listener.bind(emitSockaddr({ addr: Ipv6Address.UNSPECIFIED, port: 8000 }))).toBe(0);
  expect(listener.listen(5)).toBe(0);
  expect(stack.sockets()).toMatchObject([
    { protocol: 'tcp', family: 6, state: LINUX_TCP_STATE.LISTEN, local: { port: 8000 }, owner: listener },
  ]);
  // An IPv4 client reaches the `::` listener.
  const client = InetSocket.create(
    stack,
    AddressFamily.AF_INET,
    SockType.SOCK_STREAM | SockType.SOCK_NONBLOCK,
    0,
  );
  if (isError(client)) throw client;
  expect(client.connect(emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 8000 }))).toBe(E.EINPROGRESS);
  for (let i = 0; i < 8; i++) stack.poll(0);
  const conn = listener.accept();
  if (conn === WOULD_BLOCK || isError(conn)) throw new Error('no connection');
  const peer = conn.getpeername();
  if (isError(peer)) throw peer;
  // sockaddr_in6 of ::ffff:127.0.0.1
  expect([...peer].slice(8, 24)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 127, 0, 0, 1]);
});

it('README example: IP-level control messages (IPV6_HOPLIMIT)', async () => {
  const { Ipv6Address } = await import('./index.js');
  const { Ipv6Option, SocketLevel } = await import('@tsvisor/abi');
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('::1/128')] });
  const open = (): InetSocket => {
    const s = InetSocket.create(
      stack,
      AddressFamily.AF_INET6,
      SockType.SOCK_DGRAM | SockType.SOCK_NONBLOCK,
      0,
    );
    if (isError(s)) throw new Error(s.name);
    return s;
  };
  const rx6 = open();
  const tx6 = open();
  expect(rx6.bind(emitSockaddr({ addr: Ipv6Address.LOOPBACK, port: 0 }))).toBe(0);
  expect(rx6.setsockopt(SocketLevel.SOL_IPV6, Ipv6Option.IPV6_RECVHOPLIMIT, 1)).toBe(0);
  const hop = new Uint8Array(new Int32Array([3]).buffer);
  const data = new Uint8Array([1, 2]);
  expect(
    tx6.sendto(data, 0, rx6.getsockname(), [
      { level: SocketLevel.SOL_IPV6, type: Ipv6Option.IPV6_HOPLIMIT, data: hop },
    ]),
  ).toBe(2);
  stack.poll(0);
  const r = rx6.recvfrom(new Uint8Array(64));
  if (r === WOULD_BLOCK || isError(r)) throw new Error('nothing received');
  expect(r.control).toEqual([{ level: 41, type: Ipv6Option.IPV6_HOPLIMIT, data: hop }]);
});

it('README example: copies straight into and out of the rings on loopback', () => {
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')] });
  const addr = emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 7 });
  const l = InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_STREAM, 0) as InetSocket;
  expect(l.bind(addr)).toBe(0);
  expect(l.listen(1)).toBe(0);
  const c = InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_STREAM, 0) as InetSocket;
  c.connect(addr);
  stack.poll(0);
  const s = l.accept() as InetSocket;
  const src = new TextEncoder().encode('hello');
  expect(c.sendFrom(src.length, (span) => (span.set(src.subarray(0, span.length)), span.length))).toBe(5);
  stack.poll(0);
  const out = new Uint8Array(16);
  expect(s.recvInto(out.length, (span) => (out.set(span), span.length))).toBe(5);
  expect(new TextDecoder().decode(out.subarray(0, 5))).toBe('hello');
});

it('README example: stable privacy and temporary IPv6 addresses', () => {
  const [dev] = linkPair({ medium: 'ethernet', mtu: 1500 });
  const stack = new Stack({
    device: dev,
    addresses: [],
    hardwareAddress: EthernetAddress.parse('02:11:22:33:44:55')!,
    ipv6LinkLocal: true,
    slaac: true,
    addrconf: {
      addrGenMode: 'stable-privacy',
      stableSecret: Ipv6Address.parse('2001:db8:1:2:3:4:5:6')!,
      permanentAddress: EthernetAddress.ZERO,
      useTempaddr: 2,
    },
  });
  const [ll] = stack.iface.ipv6Addresses();
  expect(ll?.cidr.address.toString()).toBe('fe80::ff05:eb87:4e94:b3ad');
  expect(ll!.flags === (IfaFlag.PERMANENT | IfaFlag.STABLE_PRIVACY)).toBe(true);
});

it('README example: raw IP sockets', () => {
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')] });
  const ping = InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_RAW, 1);
  if (isError(ping)) throw ping;
  // An echo request with its checksum: type 8, code 0, id 1, seq 1 (raw ICMP leaves the sum to us).
  const echoRequest = Uint8Array.of(8, 0, 0xf7, 0xfd, 0, 1, 0, 1);
  expect(ping.sendto(echoRequest, 0, emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 0 }))).toBe(8);
  stack.poll(0);
  const buf = new Uint8Array(64);
  const types: number[] = [];
  for (let i = 0; i < 2; i++) {
    const r = ping.recvfrom(buf);
    if (r === WOULD_BLOCK || isError(r)) throw new Error('nothing received');
    expect([r.len, buf[0]]).toEqual([28, 0x45]);
    types.push(buf[20]!);
  }
  expect(types).toEqual([8, 0]);
});
