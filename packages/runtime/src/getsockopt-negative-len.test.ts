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

/** The options of the last part, in the program's order. */
const foreign = [
  'SOCKET.SO_TYPE',
  'SOCKET.12345',
  'IP.IP_TTL',
  'IP.MRT_VERSION',
  'IP.12345',
  'IPV6.IPV6_UNICAST_HOPS',
  'IPV6.12345',
  'TCP.TCP_NODELAY',
  'TCP.12345',
  'UDP.UDP_CORK',
  'UDP.12345',
  'RAW.ICMP_FILTER',
  'RAW.IPV6_CHECKSUM',
  'RAW.12345',
  'ICMPV6.ICMP6_FILTER',
  'ICMPV6.12345',
  '999.1',
];
const errnos: Record<string, string> = { I: 'EINVAL', O: 'EOPNOTSUPP', P: 'ENOPROTOOPT' };

/**
 * The two lines the program prints for socket `kind` (*optlen -1, then INT_MIN): `codes` has a
 * letter for each of `foreign`, I EINVAL, O EOPNOTSUPP, P ENOPROTOOPT (*optlen unchanged), S a
 * value read (*optlen 4).
 */
function foreignLines(kind: string, codes: string): string {
  const line = (len: string, optlen: number) => {
    const items = codes
      .split(' ')
      .map((c, i) => ` ${foreign[i]} ${c === 'S' ? '0 4' : `${errnos[c]} ${optlen}`}`);
    return `${kind}, optlen ${len}:${items.slice(0, 9).join('')}\n   ${items.slice(9).join('')}\n`;
  };
  return line('-1', -1) + line('INT_MIN', -2147483648);
}

describe('getsockopt-negative-len.c', () => {
  it('shows Linux refusing a negative optlen at SOL_IP, SOL_TCP, SOL_UDP and SOL_SOCKET, not at SOL_IPV6 (host kernel)', () => {
    expect(native.slice(0, native.indexOf('tcp4, optlen'))).toBe(
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

  it('shows Linux refusing a level or a name the protocol does not have before a negative optlen (host kernel)', () => {
    // IPv4: ip_getsockopt is EOPNOTSUPP for any level but SOL_IP, SOL_IP's multicast routing
    // options too; IPv6: ipv6_getsockopt is ENOPROTOOPT for any level but SOL_IP (not on raw
    // sockets) and SOL_IPV6. The protocol's own level tests the length first (TCP, UDP), or
    // the name (raw: SOL_RAW, SOL_ICMPV6). AF_UNIX has SOL_SOCKET only; netlink SOL_NETLINK.
    expect(native.slice(native.indexOf('tcp4, optlen'))).toBe(
      [
        foreignLines('tcp4', 'I I I O I O O I I O O O O O O O O'),
        foreignLines('udp4', 'I I I O I O O O O I I O O O O O O'),
        foreignLines('raw4 icmp', 'I I I O I O O O O O O I P P O O O'),
        foreignLines('raw4 udp', 'I I I O I O O O O O O O P P O O O'),
        foreignLines('ping4', 'I I I O I O O O O O O O O O O O O'),
        foreignLines('tcp6', 'I I I O I S P I I P P P P P P P P'),
        foreignLines('udp6', 'I I I O I S P P P I I P P P P P P'),
        foreignLines('raw6 icmpv6', 'I I P P P S P P P P P P S P I P P'),
        foreignLines('raw6 udp', 'I I P P P S P P P P P P S P O O P'),
        foreignLines('ping6', 'I I I O I S P P P P P P P P P P P'),
        foreignLines('unix stream', 'I I O O O O O O O O O O O O O O O'),
        foreignLines('unix dgram', 'I I O O O O O O O O O O O O O O O'),
        foreignLines('netlink route', 'I I P P P P P P P P P P P P P P P'),
      ].join(''),
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'getsockopt-negative-len', native));
});
