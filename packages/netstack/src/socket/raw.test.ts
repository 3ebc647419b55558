// Raw IP sockets over a loopback stack: what they receive beside normal delivery, what they
// send, and their options. The runtime's raw-socket test compares the same with the host kernel.
import {
  AddressFamily,
  E,
  IpOption,
  isError,
  MsgFlag,
  SockType,
  SocketLevel,
  SocketOption,
} from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { linkPair, LoopbackDevice } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { checksumVerifies, internetChecksum } from '../wire/checksum.js';
import { Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import { InetSocket, type RecvResult } from './inet-socket.js';
import { emitSockaddr, parseSockaddr } from './sockaddr.js';

const SOL_RAW = 255;
const ICMP_FILTER = 1;
const SOL_ICMPV6 = 58;
const ICMPV6_FILTER = 1;
const IPV6_CHECKSUM = 7;

function setup() {
  const stack = new Stack({
    device: new LoopbackDevice(),
    addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
    seed: 7,
  });
  const open = (domain: number, type: number, proto: number): InetSocket => {
    const s = InetSocket.create(stack, domain, type | SockType.SOCK_NONBLOCK, proto);
    if (isError(s)) throw new Error(s.name);
    return s;
  };
  const raw4 = (proto: number) => open(AddressFamily.AF_INET, SockType.SOCK_RAW, proto);
  const raw6 = (proto: number) => open(AddressFamily.AF_INET6, SockType.SOCK_RAW, proto);
  const lo4 = emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 0 });
  const lo6 = emitSockaddr({ addr: Ipv6Address.LOOPBACK, port: 0 });
  const wait = () => settle([stack], 0);
  const recvAll = (s: InetSocket): Uint8Array[] => {
    const out: Uint8Array[] = [];
    for (;;) {
      const buf = new Uint8Array(2048);
      const r = s.recvfrom(buf);
      if (typeof r !== 'object' || isError(r)) return out;
      out.push(buf.subarray(0, (r as RecvResult).n));
    }
  };
  return { stack, open, raw4, raw6, lo4, lo6, wait, recvAll };
}

/** An ICMP echo request with a valid checksum (raw IPv4 ICMP sockets leave the checksum to the caller). */
function echoRequest(ident: number, seq: number, data = 'ping'): Uint8Array {
  const m = new Uint8Array(8 + data.length);
  m[0] = 8;
  m[4] = ident >> 8;
  m[5] = ident & 0xff;
  m[6] = seq >> 8;
  m[7] = seq & 0xff;
  m.set(new TextEncoder().encode(data), 8);
  const sum = internetChecksum(m);
  m[2] = sum >> 8;
  m[3] = sum & 0xff;
  return m;
}

describe('raw IPv4 sockets', () => {
  it('are refused for protocol 0 and out-of-range protocols, numbered by their protocol', () => {
    const { stack, raw4 } = setup();
    expect(InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_RAW, 0)).toBe(E.EPROTONOSUPPORT);
    expect(InetSocket.create(stack, AddressFamily.AF_INET6, SockType.SOCK_RAW, 0)).toBe(E.EPROTONOSUPPORT);
    expect(InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_RAW, 263)).toBe(E.EINVAL);
    const s = raw4(1);
    expect(s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_TYPE)).toBe(SockType.SOCK_RAW);
    expect(s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_PROTOCOL)).toBe(1);
    const name = parseSockaddr(s.getsockname(), 4);
    expect(isError(name) ? name : [name.addr.toString(), name.port]).toEqual(['0.0.0.0', 1]);
    expect(s.listen(1)).toBe(E.EOPNOTSUPP);
  });

  it('see an echo request they send and its reply, IP header included; the stack still answers', () => {
    const { raw4, lo4, wait, recvAll, stack } = setup();
    const s = raw4(1);
    expect(s.sendto(echoRequest(0x1234, 7), 0, lo4)).toBe(12);
    wait();
    const got = recvAll(s);
    expect(got.map((p) => [p.length, p[0], p[8], p[9], p[20]])).toEqual([
      [32, 0x45, 64, 1, 8],
      [32, 0x45, 64, 1, 0],
    ]);
    const reply = got[1]!;
    expect([(reply[24]! << 8) | reply[25]!, (reply[26]! << 8) | reply[27]!]).toEqual([0x1234, 7]);
    expect(stack.mib.icmp.OutMsgs).toBe(2); // the request and the stack's reply
  });

  it('ICMP_FILTER drops the types whose bits are set; other protocols refuse it', () => {
    const { raw4, lo4, wait, recvAll } = setup();
    const s = raw4(1);
    const filter = new Uint8Array([1, 0, 0, 0]); // type 0: echo reply
    expect(s.setsockoptBytes(SOL_RAW, ICMP_FILTER, filter)).toBe(0);
    expect(Array.from(s.getsockoptBytes(SOL_RAW, ICMP_FILTER, 4) as Uint8Array)).toEqual([1, 0, 0, 0]);
    s.sendto(echoRequest(1, 1), 0, lo4);
    wait();
    expect(recvAll(s).map((p) => p[20])).toEqual([8]);
    expect(raw4(17).setsockoptBytes(SOL_RAW, ICMP_FILTER, filter)).toBe(E.EOPNOTSUPP);
    expect(s.setsockoptBytes(SOL_RAW, 9, filter)).toBe(E.ENOPROTOOPT);
  });

  it('IP_HDRINCL sends the caller header with id, checksum, length and source filled in', () => {
    const { raw4, lo4, wait, recvAll } = setup();
    const tx = raw4(253);
    const rx = raw4(253);
    expect(tx.getsockoptBytes(SocketLevel.SOL_IP, IpOption.IP_HDRINCL, 4)).toEqual(new Uint8Array(4));
    expect(tx.setsockoptBytes(SocketLevel.SOL_IP, IpOption.IP_HDRINCL, new Uint8Array([1, 0, 0, 0]))).toBe(0);
    const pkt = new Uint8Array(24);
    pkt[0] = 0x45;
    pkt[8] = 9; // TTL
    pkt[9] = 253;
    pkt.set([127, 0, 0, 1], 16);
    pkt.set([1, 2, 3, 4], 20);
    expect(tx.sendto(pkt, 0, lo4)).toBe(24);
    wait();
    const [got] = recvAll(rx);
    expect(got).toBeDefined();
    const g = got!;
    expect(g.length).toBe(24);
    expect((g[2]! << 8) | g[3]!).toBe(24);
    expect((g[4]! << 8) | g[5]!).not.toBe(0);
    expect(checksumVerifies(g, 0, 20)).toBe(true);
    expect(Array.from(g.subarray(12, 16))).toEqual([127, 0, 0, 1]);
    expect([g[8], Array.from(g.subarray(20))]).toEqual([9, [1, 2, 3, 4]]);
    // A header shorter than its IHL, or than 20 bytes.
    expect(tx.sendto(pkt.subarray(0, 12), 0, lo4)).toBe(E.EINVAL);
    // IPPROTO_RAW always includes the header.
    const r255 = raw4(255);
    expect(r255.getsockoptBytes(SocketLevel.SOL_IP, IpOption.IP_HDRINCL, 4)).toEqual(
      new Uint8Array([1, 0, 0, 0]),
    );
  });

  it('a UDP-protocol socket sees datagrams that still reach the UDP socket', () => {
    const { raw4, open, lo4, wait, recvAll } = setup();
    const r = raw4(17);
    const u = open(AddressFamily.AF_INET, SockType.SOCK_DGRAM, 0);
    const to = emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 9999 });
    expect(u.bind(to)).toBe(0);
    expect(u.sendto(new TextEncoder().encode('hello'), 0, to)).toBe(5);
    wait();
    const got = recvAll(r);
    expect(got.map((p) => [p.length, p[9], (p[22]! << 8) | p[23]!])).toEqual([[33, 17, 9999]]);
    expect(recvAll(u).length).toBe(1);
    void lo4;
  });

  it('a TCP-protocol socket sees the segments of a loopback connection', () => {
    const { raw4, open, wait, recvAll } = setup();
    const r = raw4(6);
    const l = open(AddressFamily.AF_INET, SockType.SOCK_STREAM, 0);
    const at = emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 8080 });
    expect(l.bind(at)).toBe(0);
    expect(l.listen(4)).toBe(0);
    const c = open(AddressFamily.AF_INET, SockType.SOCK_STREAM, 0);
    c.connect(at);
    wait();
    const flags = recvAll(r).map((p) => p[20 + 13]! & 0x17);
    expect(flags.slice(0, 3)).toEqual([0x02, 0x12, 0x10]); // SYN, SYN-ACK, ACK
  });

  it('bind takes local addresses only and filters; connect filters the sender', () => {
    const { raw4, lo4, wait, recvAll } = setup();
    const s = raw4(1);
    expect(s.bind(emitSockaddr({ addr: Ipv4Address.parse('10.9.9.9')!, port: 0 }))).toBe(E.EADDRNOTAVAIL);
    expect(s.bind(emitSockaddr({ addr: Ipv4Address.parse('127.0.0.2')!, port: 0 }))).toBe(0);
    const other = raw4(1);
    expect(other.connect(emitSockaddr({ addr: Ipv4Address.parse('127.0.0.3')!, port: 0 }))).toBe(0);
    const third = raw4(1);
    third.sendto(echoRequest(5, 5), 0, lo4); // 127.0.0.1 to 127.0.0.1: neither bound nor from the peer
    wait();
    expect(recvAll(s)).toEqual([]);
    expect(recvAll(other)).toEqual([]);
    expect(recvAll(third).length).toBe(2);
    const name = parseSockaddr(s.getsockname(), 4);
    expect(isError(name) ? name : [name.addr.toString(), name.port]).toEqual(['127.0.0.2', 1]);
  });

  it('MSG_PEEK, MSG_TRUNC and a full SO_RCVBUF', () => {
    const { raw4, lo4, wait } = setup();
    const s = raw4(1);
    expect(s.setsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_RCVBUF, 16)).toBe(0);
    s.sendto(echoRequest(2, 2), 0, lo4);
    wait();
    const small = new Uint8Array(4);
    const peek = s.recvfrom(small, MsgFlag.MSG_PEEK) as RecvResult;
    expect([peek.n, peek.len, peek.truncated]).toEqual([4, 32, true]);
    const r = s.recvfrom(small) as RecvResult;
    expect([r.n, r.len]).toEqual([4, 32]);
    const from = parseSockaddr(r.from!, 4);
    expect(isError(from) ? from : [from.addr.toString(), from.port]).toEqual(['127.0.0.1', 0]);
    expect((s.recvfrom(new Uint8Array(64)) as RecvResult).len).toBe(32); // the reply
    // Linux's smallest receive buffer (2304 after doubling) is full with one of these (the
    // truesize of a 1028-byte datagram is 2304): the other requests and replies are dropped.
    for (let i = 0; i < 10; i++) s.sendto(echoRequest(3, i, 'x'.repeat(1000)), 0, lo4);
    wait();
    let n = 0;
    while (typeof s.recvfrom(new Uint8Array(2048)) === 'object') n++;
    expect(n).toBe(1);
  });
});

it('a datagram larger than the link MTU leaves in fragments and its reply comes back reassembled', () => {
  const [da, db] = linkPair({ medium: 'ip', mtu: 1500, queueLimit: 64 });
  const a = new Stack({ device: da, addresses: [cidr('10.0.0.1/24')], seed: 1 });
  const b = new Stack({ device: db, addresses: [cidr('10.0.0.2/24')], seed: 2 });
  const s = InetSocket.create(a, AddressFamily.AF_INET, SockType.SOCK_RAW | SockType.SOCK_NONBLOCK, 1);
  if (isError(s)) throw new Error(s.name);
  const to = emitSockaddr({ addr: Ipv4Address.parse('10.0.0.2')!, port: 0 });
  expect(s.sendto(echoRequest(9, 9, 'x'.repeat(3000)), 0, to)).toBe(3008);
  settle([a, b], 0);
  const buf = new Uint8Array(4096);
  const r = s.recvfrom(buf) as RecvResult;
  expect([r.len, buf[20], (buf[6]! << 8) | buf[7]!]).toEqual([3028, 0, 0]); // a whole reply, no fragment fields
  expect(a.mib.ip.FragCreates).toBe(3);
  // IP_PMTUDISC_DO: no fragmenting, EMSGSIZE instead.
  expect(s.setsockopt(SocketLevel.SOL_IP, IpOption.IP_MTU_DISCOVER, 2)).toBe(0);
  expect(s.sendto(echoRequest(9, 10, 'x'.repeat(3000)), 0, to)).toBe(E.EMSGSIZE);
});

describe('raw IPv6 sockets', () => {
  it('ICMPv6: payload only, checksum computed, request copy and reply received', () => {
    const { raw6, lo6, wait, recvAll } = setup();
    const s = raw6(58);
    const m = new Uint8Array(12);
    m[0] = 128;
    m.set([0, 9, 0, 3], 4);
    expect(s.sendto(m, 0, lo6)).toBe(12);
    wait();
    const got = recvAll(s);
    expect(got.map((p) => [p.length, p[0], (p[6]! << 8) | p[7]!])).toEqual([
      [12, 128, 3],
      [12, 129, 3],
    ]);
    expect(s.getsockoptBytes(SocketLevel.SOL_IPV6, IPV6_CHECKSUM, 4)).toEqual(new Uint8Array([2, 0, 0, 0]));
    expect(s.setsockoptBytes(SocketLevel.SOL_IPV6, IPV6_CHECKSUM, new Uint8Array([4, 0, 0, 0]))).toBe(
      E.EINVAL,
    );
  });

  it('ICMP6_FILTER blocks types; IPV6_CHECKSUM takes even offsets and -1', () => {
    const { raw6, lo6, wait, recvAll } = setup();
    const s = raw6(58);
    const f = new Uint8Array(32);
    f[129 >> 3] = 1 << (129 & 7); // block echo replies
    expect(s.setsockoptBytes(SOL_ICMPV6, ICMPV6_FILTER, f)).toBe(0);
    const m = new Uint8Array(8);
    m[0] = 128;
    s.sendto(m, 0, lo6);
    wait();
    expect(recvAll(s).map((p) => p[0])).toEqual([128]);
    const u = raw6(17);
    expect(u.setsockoptBytes(SOL_ICMPV6, ICMPV6_FILTER, f)).toBe(E.EOPNOTSUPP);
    expect(u.setsockoptBytes(SocketLevel.SOL_IPV6, IPV6_CHECKSUM, new Uint8Array([3, 0, 0, 0]))).toBe(
      E.EINVAL,
    );
    expect(u.setsockoptBytes(SocketLevel.SOL_IPV6, IPV6_CHECKSUM, new Uint8Array([6, 0, 0, 0]))).toBe(0);
    expect(u.getsockoptBytes(SocketLevel.SOL_IPV6, IPV6_CHECKSUM, 4)).toEqual(new Uint8Array([6, 0, 0, 0]));
    expect(u.setsockoptBytes(SocketLevel.SOL_IPV6, IPV6_CHECKSUM, new Uint8Array([255, 255, 255, 255]))).toBe(
      0,
    );
    expect(u.getsockoptBytes(SocketLevel.SOL_IPV6, IPV6_CHECKSUM, 4)).toEqual(
      new Uint8Array([255, 255, 255, 255]),
    );
  });

  it('with IPV6_CHECKSUM a UDP-protocol datagram goes out checksummed and verifies', () => {
    const { raw6, open, wait, recvAll } = setup();
    const u = open(AddressFamily.AF_INET6, SockType.SOCK_DGRAM, 0);
    const at = emitSockaddr({ addr: Ipv6Address.LOOPBACK, port: 5353 });
    expect(u.bind(at)).toBe(0);
    const r = raw6(17);
    expect(r.setsockoptBytes(SocketLevel.SOL_IPV6, IPV6_CHECKSUM, new Uint8Array([6, 0, 0, 0]))).toBe(0);
    const d = new Uint8Array(12);
    d.set([0x12, 0x34, 5353 >> 8, 5353 & 0xff, 0, 12], 0);
    d.set([1, 2, 3, 4], 8);
    // rawv6_sendmsg: a port names the next header, which must be the socket's protocol.
    expect(r.sendto(d, 0, at)).toBe(E.EINVAL);
    expect(r.sendto(d, 0, emitSockaddr({ addr: Ipv6Address.LOOPBACK, port: 17 }))).toBe(12);
    wait();
    const got = recvAll(u);
    expect(got.map((p) => Array.from(p))).toEqual([[1, 2, 3, 4]]); // UDP verified the checksum
    expect(recvAll(r).length).toBe(1);
  });
});
