// net.ipv4.ip_default_ttl: the TTL of sockets that leave IP_TTL unset, read at each send.
import { AddressFamily, E, IpOption, IpProto, SockType, SocketLevel, isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { LoopbackDevice } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { InetSocket } from './inet-socket.js';

const { SOL_IP } = SocketLevel;

function loopback(): Stack {
  return new Stack({
    device: new LoopbackDevice(),
    addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
    seed: 1,
  });
}

function socket(stack: Stack, domain: number, type: number, protocol = 0): InetSocket {
  const s = InetSocket.create(stack, domain, type | SockType.SOCK_NONBLOCK, protocol);
  if (isError(s)) throw new Error(`socket: ${s.name}`);
  return s;
}

const LOCAL4 = (): Uint8Array => {
  const sa = new Uint8Array(16);
  sa[0] = AddressFamily.AF_INET;
  sa.set([127, 0, 0, 1], 4);
  return sa;
};

/**
 * The TTL `s`'s next datagram arrives with (IP_RECVTTL on a fresh receiver). A raw socket of
 * IPPROTO_UDP sends the UDP header too (no checksum, which IPv4 allows).
 */
function ttlOfNextDatagram(stack: Stack, s: InetSocket): number | undefined {
  const r = socket(stack, AddressFamily.AF_INET, SockType.SOCK_DGRAM);
  expect(r.bind(LOCAL4())).toBe(0);
  expect(r.setsockopt(SOL_IP, IpOption.IP_RECVTTL, 1)).toBe(0);
  const to = r.getsockname();
  const data =
    s.type === SockType.SOCK_RAW
      ? Uint8Array.of(0x30, 0x39, to[2] ?? 0, to[3] ?? 0, 0, 9, 0, 0, 1)
      : Uint8Array.of(1);
  expect(s.sendto(data, 0, to)).toBe(data.length);
  settle([stack], 0);
  const got = r.recvfrom(new Uint8Array(8));
  if (isError(got) || typeof got !== 'object') throw new Error('recv');
  return got.control?.find((c) => c.type === IpOption.IP_TTL)?.data[0];
}

describe('net.ipv4.ip_default_ttl', () => {
  it('is the TTL of a UDP socket without IP_TTL, at each send, and what getsockopt(IP_TTL) shows', () => {
    const stack = loopback();
    const s = socket(stack, AddressFamily.AF_INET, SockType.SOCK_DGRAM);
    expect(s.getsockopt(SOL_IP, IpOption.IP_TTL)).toBe(64);
    expect(ttlOfNextDatagram(stack, s)).toBe(64);
    // An existing socket follows a change (ip_select_ttl reads the sysctl per packet).
    stack.sysctl.defaultTtl = 99;
    expect(s.getsockopt(SOL_IP, IpOption.IP_TTL)).toBe(99);
    expect(ttlOfNextDatagram(stack, s)).toBe(99);
    // Its own IP_TTL wins; -1 hands it back to the sysctl.
    expect(s.setsockopt(SOL_IP, IpOption.IP_TTL, 17)).toBe(0);
    stack.sysctl.defaultTtl = 100;
    expect(s.getsockopt(SOL_IP, IpOption.IP_TTL)).toBe(17);
    expect(ttlOfNextDatagram(stack, s)).toBe(17);
    expect(s.setsockopt(SOL_IP, IpOption.IP_TTL, -1)).toBe(0);
    expect(s.getsockopt(SOL_IP, IpOption.IP_TTL)).toBe(100);
    expect(ttlOfNextDatagram(stack, s)).toBe(100);
  });

  it('keeps IP_TTL to -1 or 1..255 (do_ip_setsockopt)', () => {
    const stack = loopback();
    const s = socket(stack, AddressFamily.AF_INET, SockType.SOCK_DGRAM);
    expect(s.setsockopt(SOL_IP, IpOption.IP_TTL, 0)).toBe(E.EINVAL);
    expect(s.setsockopt(SOL_IP, IpOption.IP_TTL, 256)).toBe(E.EINVAL);
    expect(s.setsockopt(SOL_IP, IpOption.IP_TTL, -2)).toBe(E.EINVAL);
    expect(s.setsockopt(SOL_IP, IpOption.IP_TTL, 255)).toBe(0);
    expect(s.getsockopt(SOL_IP, IpOption.IP_TTL)).toBe(255);
  });

  it("shows on getsockopt(IP_TTL) of AF_INET6 and TCP sockets, and is a raw socket's TTL", () => {
    const stack = loopback();
    stack.sysctl.defaultTtl = 33;
    const six = socket(stack, AddressFamily.AF_INET6, SockType.SOCK_DGRAM);
    expect(six.getsockopt(SOL_IP, IpOption.IP_TTL)).toBe(33);
    expect(six.setsockopt(SOL_IP, IpOption.IP_TTL, -1)).toBe(0);
    expect(six.getsockopt(SOL_IP, IpOption.IP_TTL)).toBe(33);
    const tcp = socket(stack, AddressFamily.AF_INET, SockType.SOCK_STREAM);
    expect(tcp.getsockopt(SOL_IP, IpOption.IP_TTL)).toBe(33);
    const raw = socket(stack, AddressFamily.AF_INET, SockType.SOCK_RAW, IpProto.IPPROTO_UDP);
    expect(ttlOfNextDatagram(stack, raw)).toBe(33);
  });
});
