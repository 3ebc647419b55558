// ICMPv6 errors quoting a datagram with extension headers, against Linux:
// testdata/icmp6-exthdr-quote.c sends, from a raw ICMPv6 socket on lo, port unreachables and
// packets too big quoting a UDP datagram of its socket behind Fragment headers (atomic, first,
// later fragment), Destination Options, Hop-by-Hop + Routing + AH, or a "no next header", and
// prints which of the UDP socket, a raw UDP socket and a raw IPPROTO_FRAGMENT socket hear of each
// (icmpv6_notify's ipv6_skip_exthdr), then where IPV6_RECVERR_RFC4884 finds an extension after
// such a quote. It runs natively in a fresh network namespace and under tsvisor --network none,
// and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'icmp6-exthdr-quote', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('icmp6-exthdr-quote.c', () => {
  it('shows what the host kernel does', () => {
    // Without these the comparison below would prove nothing.
    const udpGets = (what: string, ee: string): string =>
      `${what}\n udp socket:\n  errqueue: n 6 data 71 75 6f 74 65 64 msg_flags ERRQUEUE name ::1\n` +
      `    cmsg level 41 type 25 len 60: ee_errno ${ee} offender ::1\n  SO_ERROR: 0\n` +
      ` raw udp socket:\n  errqueue: n 14 data PORT 00 09 00 0e 00 00 71 75 6f 74 msg_flags ERRQUEUE name ::1\n`;
    const refused = 'ECONNREFUSED origin 3 type 1 code 4 info 0 data 0';
    expect(native).toContain(udpGets('port unreachable quoting: atomic fragment', refused));
    expect(native).toContain(udpGets('port unreachable quoting: first fragment', refused));
    expect(native).toContain(
      udpGets('port unreachable quoting: hop-by-hop, routing, authentication', refused),
    );
    expect(native).toContain(
      udpGets(
        'packet too big 1400 quoting: destination options, atomic fragment',
        'EMSGSIZE origin 3 type 2 code 0 info 1400 data 0',
      ),
    );
    expect(native).toContain(
      'port unreachable quoting: later fragment (offset 8)\n udp socket:\n  errqueue: EAGAIN\n  SO_ERROR: 0\n' +
        ' raw udp socket:\n  errqueue: EAGAIN\n raw fragment socket:\n' +
        '  errqueue: n 22 data 11 00 00 08 01 02 03 04 PORT 00 09 msg_flags ERRQUEUE name ::1\n',
    );
    expect(native).toContain(
      'port unreachable quoting: no next header\n udp socket:\n  errqueue: EAGAIN\n  SO_ERROR: 0\n' +
        ' raw udp socket:\n  errqueue: EAGAIN\n raw fragment socket:\n  errqueue: EAGAIN\n',
    );
    expect(native).not.toContain('a second error queued');
    // The extension starts 72 bytes into the payload: 128 less the IPv6, Fragment and UDP headers.
    expect(native).toContain(
      'time exceeded with an RFC 4884 extension quoting: atomic fragment, 128 bytes\n' +
        '  errqueue: n 84 ee_errno EHOSTUNREACH type 3 code 0 rfc4884 len 72 flags 0\n',
    );
  });

  it(
    'prints the same under tsvisor',
    () => expectSameUnderTsvisor(bed, 'icmp6-exthdr-quote', native),
    60_000,
  );
});
