// net.ipv4.ip_default_ttl (of sockets, TCP connections and the stack's own packets), a
// listener's IP_TTL and IP_TOS on its SYN-ACKs (retransmitted and SYN cookies' too) and on the
// connections it makes,
// icmp_echo_ignore_all, icmp_echo_ignore_broadcasts, ip_no_pmtu_disc and
// route/{min_pmtu,mtu_expires} against Linux:
// testdata/ipv4-ip-sysctls.c runs in a fresh network namespace (lo up) and under tsvisor
// --network none and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'ipv4-ip-sysctls', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('ipv4-ip-sysctls.c', () => {
  it("sockets, connections and the stack's own packets follow ip_default_ttl, SYN-ACKs the listener's IP_TTL and IP_TOS when sent, sockets ip_no_pmtu_disc; the echo switches silence replies (host kernel)", () => {
    expect(native).toBe(
      [
        'ip_default_ttl 64: udp IP_TTL 64, arrives 64',
        'write 0: EINVAL, 256: EINVAL, 100: 0, reads 100',
        'same sockets: udp IP_TTL 100, arrives 100; tcp IP_TTL 100',
        'IP_TTL 0: EINVAL, 17: 0 -> IP_TTL 17, arrives 17; -1: 0 -> IP_TTL 100, arrives 100',
        'tcp: connected with 100; write ip_default_ttl 42: 0: client sends 42, server 42',
        'IP_TTL 9, server closes first: FIN 9, its ACKs 9 42; closed port: RST 42; echo reply 42; port unreachable 42',
        'listener 21 0x20, a peer that never answers: SYN-ACK 21 0x20; 22 0x40: retransmitted 22 0x40',
        'TCP_DEFER_ACCEPT, listener 30 0x20: SYN-ACK 30 0x20; 31 0x40, then data: connection 31 0x40',
        'listener 40 0x20, 41 0x40 after the handshake: accepted connection 40 0x20',
        'tcp_syncookies 2: 0, listener 24 0x60: SYN-ACK 24 0x60, its connection 24 0x60; -1 0: SYN-ACK 100 0x0',
        'ping_group_range: 0',
        'echo_ignore_all 0, broadcasts 1: 127.0.0.1 reply, 127.255.255.255 none',
        'write broadcasts 0: 0: 127.255.255.255 reply',
        'write all 2: EINVAL, 1: 0: 127.0.0.1 none, 127.255.255.255 none',
        'ip_no_pmtu_disc 0: udp 1; write 1: 0: new udp 0, tcp 0, udp6 0, old udp 1; write 3: 0: new udp 0; write 256: EINVAL, 0: 0: new udp 1',
        'route/min_pmtu 552, mtu_expires 600; write min_pmtu 67: EINVAL, 1000: 0; mtu_expires -5: 0; read 1000 -5',
        '',
      ].join('\n'),
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'ipv4-ip-sysctls', native));
});
