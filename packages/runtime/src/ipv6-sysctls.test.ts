// net.ipv6.conf.<dev>.{hop_limit,mtu,disable_ipv6}, icmp/echo_ignore_{all,multicast} and
// route/mtu_expires against Linux: testdata/ipv6-sysctls.c runs in a fresh network namespace
// (lo up) and under tsvisor --network none and must print the same. The hop limits of UDP
// datagrams and TCP segments over ::1 are read with IPV6_RECVHOPLIMIT (TCP's by a raw socket):
// lo's hop_limit unless IPV6_UNICAST_HOPS is set, a listener's own on its SYN-ACKs (SYN cookies'
// and retransmitted ones too, with its IPV6_TCLASS, both read when each is sent), lo's from
// TIME_WAIT.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'ipv6-sysctls', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('ipv6-sysctls.c', () => {
  it("sockets follow lo's hop_limit and mtu, disable_ipv6 takes ::1 away, echo_ignore_all silences replies (host kernel)", () => {
    expect(native).toBe(
      [
        'hop_limit all 64 default 64 lo 64',
        'udp6 IPV6_UNICAST_HOPS 64, arrives 64',
        'write lo 0: EINVAL, 256: EINVAL, -1: EINVAL, 33: 0, reads 33',
        'same udp6: IPV6_UNICAST_HOPS 64, arrives 33; connected udp6 33; tcp6 33',
        'write all 40: 0: udp6 40, arrives 33; connected udp6 33; default 200: 0: udp6 40, arrives 33',
        'IPV6_UNICAST_HOPS 17: 0 -> 17, arrives 17; -1: 0 -> 40, arrives 33',
        'tcp6: SYN 64, SYN-ACK 64; write lo 33: 0: client 33, server 33; all 40: 0, default 50: 0: client 33, server 33',
        'IPV6_UNICAST_HOPS client 17, server 18: client 17, server 18; client -1: client 33',
        'listener IPV6_UNICAST_HOPS 21: SYN-ACK 21; tcp_syncookies 2: 0: SYN-ACK 21, its connection 21; listener -1: SYN-ACK 33; cookies sent 2',
        'server shuts down: FIN 18, ACKs 18; IPV6_UNICAST_HOPS 7, a SYN to TIME_WAIT: ACK 33',
        'listener 21 0x20, a peer that never answers: SYN-ACK 21 0x20; 22 0x40: retransmitted 22 0x40',
        'TCP_DEFER_ACCEPT, listener 30 0x20: SYN-ACK 30 0x20; 31 0x40, then data: connection 31 0x40',
        'listener 40 0x20, 41 0x40 after the handshake: accepted connection 40 0x20',
        'tcp_syncookies 2: 0, listener 24 0x60: SYN-ACK 24 0x60, its connection 24 0x60; -1 0: SYN-ACK 64 0x0',
        'udp6 to ::ffff:127.0.0.1 arrives 64; ip_default_ttl 100, lo hop_limit 33: 100; IPV6_UNICAST_HOPS 17: 100; IP_TTL 20: 20',
        'mtu all 1280 default 1280 lo 65536',
        'write lo 1279: EINVAL, 65537: EINVAL, 1400: 0, reads 1400',
        'udp6 IPV6_MTU 1400, 1353 bytes DONTFRAG: EMSGSIZE, 1352: sent, 2000 fragmented arrives 2000; tcp6 TCP_MAXSEG 1328',
        'udp IP_MTU 65535',
        'write all 1279: EINVAL, 70000: 0, reads 70000; default 1279: EINVAL, 9000: 0, reads 9000; lo still 1400',
        'lo link mtu 9000: 0: lo 9000; write lo 9001: EINVAL, 1500: 0; link mtu 65536: 0: lo 65536',
        'disable_ipv6 all 0 default 0 lo 0: lo addresses 1, bind ::1 0',
        'write lo x: EINVAL, 1: 0: lo addresses 0, bind ::1 EADDRNOTAVAIL, send EADDRNOTAVAIL',
        'write lo 5: 0, reads 5; 0: 0: lo addresses 1, bind ::1 0, send 0',
        'write all 1: 0: lo 1 default 1, lo addresses 0; all 0: 0: lo 0 default 0, lo addresses 1',
        'write default 1: 0: lo 0, lo addresses 1',
        'ping_group_range: 0',
        'icmp/echo_ignore_all 0: ::1 reply',
        'write 2: 0, -1: EINVAL, 1: 0: ::1 none; 0: 0: ::1 reply',
        'icmp/echo_ignore_multicast 0; write 256: EINVAL, 1: 0, reads 1',
        'icmp/echo_ignore_anycast 0: ::1 reply',
        'write "1": 0, reads 1',
        'write "255": 0, reads 255',
        'write "256": EINVAL, reads 255',
        'write "-1": EINVAL, reads 255',
        'write "0x10": 0, reads 16',
        'write "010": 0, reads 8',
        'write "+3": EINVAL, reads 8',
        'write "abc": EINVAL, reads 8',
        'write " 4": 0, reads 4',
        'write "5 6": 0, reads 5',
        'write "7\\n": 0, reads 7',
        'write "1,2": EINVAL, reads 7',
        'write 1: 0: ::1 reply; 0: 0',
        'route/mtu_expires 600; write -5: 0, reads -5',
        '',
      ].join('\n'),
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'ipv6-sysctls', native));
});
