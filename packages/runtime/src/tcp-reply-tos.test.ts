// The TOS or traffic class of TCP's answers to a received segment (a RST, and a pending
// request's ACK, reflect the segment's, less its ECN bits; a TIME_WAIT's ACK keeps its socket's) and
// net.ipv4.tcp_reflect_tos (a listener's SYN-ACKs, SYN cookies' too, and its connections take
// the SYN's DSCP) against Linux: testdata/tcp-reply-tos.c runs in a fresh network namespace (lo
// up) and under tsvisor --network none and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'tcp-reply-tos', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('tcp-reply-tos.c', () => {
  it("RSTs carry the received TOS less ECN, TIME_WAIT's ACK its socket's, tcp_reflect_tos the SYN's DSCP (host kernel)", () => {
    const request = 'its request, out-of-window 0x65: ACK 0x64 64, bad ACK 0x66: RST 0x64 64';
    const tail =
      'accepted IP_TOS 0x48, data 0x48; crafted SYN 0x4b: SYN-ACK 0x48; cookies: SYN-ACK 0x48, accepted IP_TOS 0x48, data 0x48';
    expect(native).toBe(
      [
        'tcp_reflect_tos 0; write 2: EINVAL, -1: EINVAL, 1: 0, reads 1, 0: 0',
        'ipv4: closed port, SYN from a socket with 0x28: RST 0x28; crafted SYN 0x2b: RST 0x28; ACK 0xfe: RST 0xfc',
        `ipv4: listener 21 0x20, crafted ACK 0x49: RST 0x48 64; ${request}`,
        'ipv6: closed port, SYN from a socket with 0x28: RST 0x28; crafted SYN 0x2b: RST 0x28; ACK 0xfe: RST 0xfc',
        `ipv6: listener 21 0x20, crafted ACK 0x49: RST 0x48 64; ${request}`,
        'ipv4: TIME_WAIT of a socket with 33 0x60, crafted ACK 0x89: ACK 0x60 64',
        'ipv6: TIME_WAIT of a socket with 33 0x60, crafted ACK 0x89: ACK 0x60 64',
        'ipv4: tcp_reflect_tos 0: 0, SYN 0x48 to a listener with 0x20: SYN-ACK 0x20, accepted IP_TOS 0x20, data 0x20; crafted SYN 0x4b: SYN-ACK 0x20; cookies: SYN-ACK 0x20, accepted IP_TOS 0x20, data 0x20',
        `ipv4: tcp_reflect_tos 1: 0, SYN 0x48 to a listener with 0x20: SYN-ACK 0x48, ${tail}`,
        `ipv6: tcp_reflect_tos 1: 0, SYN 0x48 to a listener with 0x20: SYN-ACK 0x48, ${tail}`,
        '',
      ].join('\n'),
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'tcp-reply-tos', native));
});
