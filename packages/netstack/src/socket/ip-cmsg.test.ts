// The IP header fields a UDP datagram carries through the stack into recvmsg's control
// messages (the syscall-level comparison with Linux is syscalls' sys-socket-ip-cmsg.test.ts),
// and ORIGDSTADDR on raw and ping sockets (runtime's raw-ping-cmsg.c compares with Linux).
import {
  AddressFamily,
  E,
  IpOption,
  Ipv6Option,
  SockType,
  SocketLevel,
  isError,
  type Cmsg,
} from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { LoopbackDevice } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { InetSocket } from './inet-socket.js';
import { parseIpSendControl, transportPort } from './ip-cmsg.js';

function int(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

function pair(family: 4 | 6, stack: Stack): { r: InetSocket; s: InetSocket; to: Uint8Array } {
  const domain = family === 4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6;
  const r = InetSocket.create(stack, domain, SockType.SOCK_DGRAM | SockType.SOCK_NONBLOCK, 0);
  const s = InetSocket.create(stack, domain, SockType.SOCK_DGRAM | SockType.SOCK_NONBLOCK, 0);
  if (isError(r) || isError(s)) throw new Error('socket');
  const sa = new Uint8Array(family === 4 ? 16 : 28);
  sa[0] = domain;
  if (family === 4) sa.set([127, 0, 0, 1], 4);
  else sa[23] = 1;
  expect(r.bind(sa)).toBe(0);
  return { r, s, to: r.getsockname() };
}

describe('IP ancillary data through the stack', () => {
  const stack = new Stack({
    device: new LoopbackDevice(),
    addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
    seed: 1,
  });

  it('carries hop limit and traffic class of IPv6 datagrams, in RFC 3542 order', () => {
    const { r, s, to } = pair(6, stack);
    expect(r.setsockopt(SocketLevel.SOL_IPV6, Ipv6Option.IPV6_RECVTCLASS, 1)).toBe(0);
    expect(r.setsockopt(SocketLevel.SOL_IPV6, Ipv6Option.IPV6_RECVHOPLIMIT, 1)).toBe(0);
    expect(s.setsockopt(SocketLevel.SOL_IPV6, Ipv6Option.IPV6_TCLASS, 0x48)).toBe(0);
    const hop: Cmsg = { level: SocketLevel.SOL_IPV6, type: Ipv6Option.IPV6_HOPLIMIT, data: int(3) };
    expect(s.sendto(new Uint8Array([1, 2]), 0, to, [hop])).toBe(2);
    settle([stack], 0);
    const got = r.recvfrom(new Uint8Array(8));
    if (isError(got) || typeof got !== 'object') throw new Error('recv');
    expect(got.control?.map((c) => [c.type, c.data[0]])).toEqual([
      [Ipv6Option.IPV6_HOPLIMIT, 3],
      [Ipv6Option.IPV6_TCLASS, 0x48],
    ]);
  });

  it('carries TTL and TOS of IPv4 datagrams (IP_TOS as one byte)', () => {
    const { r, s, to } = pair(4, stack);
    expect(r.setsockopt(SocketLevel.SOL_IP, IpOption.IP_RECVTOS, 1)).toBe(0);
    expect(r.setsockopt(SocketLevel.SOL_IP, IpOption.IP_RECVTTL, 1)).toBe(0);
    expect(s.setsockopt(SocketLevel.SOL_IP, IpOption.IP_TTL, 17)).toBe(0);
    const tos: Cmsg = { level: SocketLevel.SOL_IP, type: IpOption.IP_TOS, data: Uint8Array.of(0x20) };
    expect(s.sendto(new Uint8Array([1]), 0, to, [tos])).toBe(1);
    settle([stack], 0);
    const got = r.recvfrom(new Uint8Array(8));
    if (isError(got) || typeof got !== 'object') throw new Error('recv');
    expect(got.control?.map((c) => [c.type, c.data.length, c.data[0]])).toEqual([
      [IpOption.IP_TTL, 4, 17],
      [IpOption.IP_TOS, 1, 0x20],
    ]);
  });

  it('rejects bad control messages with the errno Linux gives', () => {
    const c = (level: number, type: number, data: Uint8Array): Cmsg[] => [{ level, type, data }];
    const any = (): boolean => true;
    expect(parseIpSendControl(6, c(SocketLevel.SOL_IPV6, Ipv6Option.IPV6_HOPLIMIT, int(256)), any)).toBe(
      E.EINVAL,
    );
    expect(parseIpSendControl(4, c(SocketLevel.SOL_IP, IpOption.IP_TTL, int(0)), any)).toBe(E.EINVAL);
    expect(parseIpSendControl(4, c(SocketLevel.SOL_IPV6, 9999, int(0)), any)).toEqual({});
    const pktinfo = new Uint8Array(20);
    pktinfo.set(int(5), 16);
    expect(
      parseIpSendControl(6, c(SocketLevel.SOL_IPV6, Ipv6Option.IPV6_PKTINFO, pktinfo), () => false),
    ).toBe(E.ENODEV);
  });
});

describe('ORIGDSTADDR on raw and ping sockets', () => {
  const stack = new Stack({
    device: new LoopbackDevice(),
    addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
    seed: 2,
  });
  const loopback = (family: 4 | 6): Uint8Array => {
    const sa = new Uint8Array(family === 4 ? 16 : 28);
    sa[0] = family === 4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6;
    if (family === 4) sa.set([127, 0, 0, 1], 4);
    else sa[23] = 1;
    return sa;
  };
  const socket = (family: 4 | 6, type: number, proto: number): InetSocket => {
    const domain = family === 4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6;
    const s = InetSocket.create(stack, domain, type | SockType.SOCK_NONBLOCK, proto);
    if (isError(s)) throw new Error(`socket: ${s.name}`);
    const level = family === 4 ? SocketLevel.SOL_IP : SocketLevel.SOL_IPV6;
    const name = family === 4 ? IpOption.IP_RECVORIGDSTADDR : Ipv6Option.IPV6_RECVORIGDSTADDR;
    expect(s.setsockopt(level, name, 1)).toBe(0);
    return s;
  };
  /** The port of the ORIGDSTADDR message, undefined without one. */
  const origPort = (control: readonly Cmsg[] | undefined): number | undefined => {
    const c = control?.find(
      (m) => m.type === IpOption.IP_ORIGDSTADDR || m.type === Ipv6Option.IPV6_ORIGDSTADDR,
    );
    return c ? (c.data[2]! << 8) | c.data[3]! : undefined;
  };

  it('transportPort reads bytes 2 and 3 past an IPv4 header of any length, none when short', () => {
    expect(transportPort(Uint8Array.of(0, 0, 0x12, 0x34), 4, false)).toBe(0x1234);
    expect(transportPort(Uint8Array.of(0, 0, 0x12), 3, false)).toBeUndefined();
    expect(transportPort(Uint8Array.of(0, 0, 0x12, 0x34), 3, false)).toBeUndefined(); // only 3 present
    const ip = new Uint8Array(28);
    ip[0] = 0x46; // IHL 6: 24 bytes of header
    ip.set([0xab, 0xcd], 26);
    expect(transportPort(ip, 28, true)).toBe(0xabcd);
    expect(transportPort(ip, 27, true)).toBeUndefined();
    expect(transportPort(new Uint8Array(0), 0, true)).toBeUndefined();
  });

  for (const family of [4, 6] as const) {
    it(`IPv${family} raw: the payload's bytes 2 and 3, also into a buffer shorter than them`, () => {
      const s = socket(family, SockType.SOCK_RAW, 253);
      const hdr = family === 4 ? 20 : 0;
      const recv = (len: number, space: number) => {
        expect(
          s.sendto(Uint8Array.of(0xab, 0xcd, 0x12, 0x34, 0x56).subarray(0, len), 0, loopback(family)),
        ).toBe(len);
        settle([stack], 0);
        const buf = new Uint8Array(space);
        const got = s.recvfrom(buf);
        if (isError(got) || typeof got !== 'object') throw new Error('recv');
        return { got, buf };
      };
      const whole = recv(5, 64);
      expect(whole.got).toMatchObject({ n: hdr + 5, len: hdr + 5, truncated: false });
      expect(origPort(whole.got.control)).toBe(0x1234);
      expect(origPort(recv(3, 64).got.control)).toBeUndefined();
      const cut = recv(4, 1);
      expect(cut.got).toMatchObject({ n: 1, len: hdr + 4, truncated: true });
      expect(cut.buf[0]).toBe(family === 4 ? 0x45 : 0xab); // the datagram's first byte, nothing more
      expect(origPort(cut.got.control)).toBe(0x1234);
    });

    it(`IPv${family} ping: the ICMP checksum of the reply`, () => {
      const s = socket(family, SockType.SOCK_DGRAM, family === 4 ? 1 : 58);
      const echo = Uint8Array.of(family === 4 ? 8 : 128, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4);
      expect(s.sendto(echo, 0, loopback(family))).toBe(echo.length);
      settle([stack], 0);
      const buf = new Uint8Array(64);
      const got = s.recvfrom(buf);
      if (isError(got) || typeof got !== 'object') throw new Error('recv');
      expect(buf[0]).toBe(family === 4 ? 0 : 129); // the echo reply
      expect(origPort(got.control)).toBe((buf[2]! << 8) | buf[3]!);
    });
  }
});
