// A datagram of a protocol nothing takes, against Linux: testdata/proto-unreach.c sends protocol
// 253 from raw sockets over lo (127.0.0.2 to 127.0.0.1, fd00::2 to ::1) and prints what the
// sender hears of the protocol unreachable (IPv4) or the parameter problem, unrecognized next
// header (IPv6): the errno of its next calls, its error queue entry, the ICMP message itself and
// the IP and ICMP counter deltas; no answer when a raw socket of 253 took the datagram or it was
// broadcast; the pointer after a Fragment header and in a reassembled datagram. It runs natively
// in a fresh network namespace and under tsvisor --network none, and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'proto-unreach', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('proto-unreach.c', () => {
  it('shows what the host kernel answers', () => {
    // Without these the comparison below would prove nothing.
    expect(native).toContain(
      '  recv: -1 ENOPROTOOPT\n  SO_ERROR: 0\n' +
        '  errqueue: n 16 data "unknown protocol" msg_flags ERRQUEUE namelen 16 name 127.0.0.1 port 0\n' +
        '    cmsg level 0 type 11 len 48: ee_errno ENOPROTOOPT origin 2 type 3 code 2 pad 0 info 0 data 0' +
        ' offender 127.0.0.1 port 0\n',
    );
    expect(native).toContain(
      '  icmp: 127.0.0.1 > 127.0.0.2 tos 0xc0 ttl 64 df 0 length 64 type 3 code 2 info 0 checksum ok' +
        ' quoting 36 bytes: tos 0x00 protocol 253 127.0.0.2 > 127.0.0.1 total length 36 data "unknown protocol"\n' +
        '  counters: Ip.InDelivers +1 Ip.InUnknownProtos +1 Icmp.InMsgs +1 Icmp.InDestUnreachs +1' +
        ' Icmp.OutMsgs +1 Icmp.OutDestUnreachs +1\n',
    );
    expect(native).toContain(
      '  recv: -1 EPROTO\n  SO_ERROR: 0\n' +
        '  errqueue: n 16 data "unknown protocol" msg_flags ERRQUEUE namelen 28 name ::1 port 0\n' +
        '    cmsg level 41 type 25 len 60: ee_errno errno 71 origin 3 type 4 code 1 pad 0 info 6 data 0' +
        ' offender ::1 port 0\n',
    );
    expect(native).toContain(
      '  the other socket received: 36\n  icmp: none\n' +
        '  counters: Ip.InDelivers +1 Ip.InUnknownProtos +0 Icmp.InMsgs +0 Icmp.InDestUnreachs +0' +
        ' Icmp.OutMsgs +0 Icmp.OutDestUnreachs +0\n',
    );
    expect(native).toContain(
      '  icmp: none\n  counters: Ip.InDelivers +0 Ip.InUnknownProtos +1 Icmp.InMsgs +0 Icmp.InDestUnreachs +0' +
        ' Icmp.OutMsgs +0 Icmp.OutDestUnreachs +0\n',
    );
    expect(native).toContain(
      ' type 4 code 1 pointer 40 quoting 64 bytes: traffic class 0x00 next header 44 ',
    );
    expect(native).toContain(
      ' tos 0xd8 ttl 64 df 0 length 64 type 3 code 2 info 0 checksum ok quoting 36 bytes: tos 0xb9 ',
    );
    expect(native).toContain(
      '  icmp6: from ::1 hop limit 64 tclass 0x00 length 64 type 4 code 1 pointer 6 quoting 56 bytes:' +
        ' traffic class 0x00 next header 253 fd00::2 > ::1 payload length 16 data "unknown protocol"\n',
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'proto-unreach', native), 60_000);
});
