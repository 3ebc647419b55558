// __inet6_bind: an AF_INET6 TCP or UDP socket bound to one IPv6 address (not the wildcard, not
// IPv4-mapped) becomes IPv6-only, as getsockopt(IPV6_V6ONLY) and sock_diag's INET_DIAG_SKV6ONLY
// then say (runtime's sock-destroy-udp.c sees both on Linux); raw sockets bind otherwise.
import { AddressFamily, isError, SockType, SocketLevel } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { LoopbackDevice } from '../phy/loopback.js';
import { Stack } from '../stack.js';
import { Ipv4Address, Ipv6Address, type IpAddress } from '../wire/ip-address.js';
import { InetSocket } from './inet-socket.js';
import { emitSockaddr } from './sockaddr.js';

const IPV6_V6ONLY = 26;
const IPPROTO_ICMPV6 = 58;

describe('IPV6_V6ONLY after bind(2)', () => {
  it('turns on for one IPv6 address, stays off for the wildcard and IPv4-mapped addresses', () => {
    const stack = new Stack({
      device: new LoopbackDevice(),
      addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
      seed: 3,
    });
    const v6only = (type: number, addr: IpAddress, proto = 0): number | string => {
      const s = InetSocket.create(stack, AddressFamily.AF_INET6, type, proto);
      if (isError(s)) throw new Error(s.name);
      expect(s.bind(emitSockaddr({ addr, port: 0 }))).toBe(0);
      const v = s.getsockopt(SocketLevel.SOL_IPV6, IPV6_V6ONLY);
      s.close();
      return isError(v) ? v.name : v;
    };
    for (const type of [SockType.SOCK_STREAM, SockType.SOCK_DGRAM]) {
      expect(v6only(type, Ipv6Address.LOOPBACK)).toBe(1);
      expect(v6only(type, Ipv6Address.UNSPECIFIED)).toBe(0);
      expect(v6only(type, Ipv6Address.mapped(Ipv4Address.LOOPBACK))).toBe(0);
    }
    expect(v6only(SockType.SOCK_RAW, Ipv6Address.LOOPBACK, IPPROTO_ICMPV6)).toBe(0);
  });
});
