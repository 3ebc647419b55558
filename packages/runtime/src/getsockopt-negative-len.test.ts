// getsockopt(2) with a negative *optlen against Linux: testdata/getsockopt-negative-len.c runs in
// a fresh network namespace (lo up) and under tsvisor --network none and must print the same.
// SOL_IP, SOL_TCP, SOL_UDP and SOL_SOCKET are EINVAL; an AF_INET6 socket's SOL_IPV6 options read
// the length as unsigned (do_ipv6_getsockopt): the whole value, *optlen 4 for an int.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'getsockopt-negative-len', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

const ints =
  ' IPV6_UNICAST_HOPS 0 4 64 IPV6_MULTICAST_HOPS 0 4 1 IPV6_V6ONLY 0 4 0 IPV6_RECVPKTINFO 0 4 0' +
  ' IPV6_RECVHOPLIMIT 0 4 0 IPV6_TCLASS 0 4 0 IPV6_MTU_DISCOVER 0 4 1 IPV6_MINHOPCOUNT 0 4 0' +
  ' IPV6_DONTFRAG 0 4 0\n   ';
const unconnected = ' IPV6_MTU ENOTCONN -1 IPV6_PATHMTU ENOTCONN -1 IPV6_HOPOPTS 0 0 - IPV6_RTHDR 0 0 -';

describe('getsockopt-negative-len.c', () => {
  it('shows Linux refusing a negative optlen at SOL_IP, SOL_TCP, SOL_UDP and SOL_SOCKET, not at SOL_IPV6 (host kernel)', () => {
    expect(native).toBe(
      [
        'udp4: IP_TTL EINVAL -1 UDP_CORK EINVAL -1 SO_TYPE EINVAL -1',
        'tcp4: IP_TTL EINVAL -1 TCP_NODELAY EINVAL -1',
        `udp6:${ints}${unconnected} IPV6_2292PKTOPTIONS ENOPROTOOPT -1 12345 ENOPROTOOPT -1` +
          ' IP_TTL EINVAL -1 UDP_CORK EINVAL -1 SO_TYPE EINVAL -1',
        `connected udp6:${ints} IPV6_MTU 0 4 65536 IPV6_PATHMTU 0 32 mtu 65536 IPV6_HOPOPTS 0 0 -` +
          ' IPV6_RTHDR 0 0 - IPV6_2292PKTOPTIONS ENOPROTOOPT -1 12345 ENOPROTOOPT -1',
        `tcp6:${ints}${unconnected} IPV6_2292PKTOPTIONS 0 0 - 12345 ENOPROTOOPT -1 IP_TTL EINVAL -1` +
          ' TCP_NODELAY EINVAL -1',
        `raw6:${ints}${unconnected} IPV6_2292PKTOPTIONS ENOPROTOOPT -1 12345 ENOPROTOOPT -1`,
        '',
      ].join('\n'),
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'getsockopt-negative-len', native));
});
