// IP_RECVERR_RFC4884 / IPV6_RECVERR_RFC4884 against Linux: testdata/recv-err-rfc4884.c sends time
// exceeded messages from a raw socket on lo that carry an RFC 4884 extension after the quoted
// UDP datagram (valid, with a bad checksum, another version, bad object lengths, no or a short
// datagram length) and prints sock_extended_err's ee_rfc4884 for each, with the option off and
// on. It runs natively in a fresh network namespace and under tsvisor --network none, and must
// print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'recv-err-rfc4884', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('recv-err-rfc4884.c', () => {
  it('shows the extension offsets of the host kernel', () => {
    // Without these the comparison below would prove nothing.
    expect(native).toContain(
      '  RFC4884 option 0:\n  valid: SO_ERROR EHOSTUNREACH\n' +
        '    errqueue: n 112 ee_errno EHOSTUNREACH type 11 code 0 rfc4884 len 0 flags 0\n',
    );
    expect(native).toContain(
      '  valid: SO_ERROR EHOSTUNREACH\n    errqueue: n 112 ee_errno EHOSTUNREACH type 11 code 0 rfc4884 len 100 flags 0\n',
    );
    expect(native).toContain(
      '  bad checksum: SO_ERROR EHOSTUNREACH\n    errqueue: n 92 ee_errno EHOSTUNREACH type 3 code 0 rfc4884 len 80 flags 1\n',
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'recv-err-rfc4884', native), 60_000);
});
