// net.ipv4.tcp_rfc1337 against Linux: a RST at RCV.NXT ends a TIME_WAIT connection with 0 and is
// ignored with 1; the sysctl reads and writes as a u8. testdata/tw-rfc1337.c runs in a fresh
// network namespace (lo up) and under tsvisor --network none and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'tw-rfc1337', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('tw-rfc1337.c', () => {
  it('a RST at RCV.NXT ends TIME_WAIT unless tcp_rfc1337 is set (host kernel)', () => {
    expect(native).toBe(
      [
        'tcp_rfc1337 0; write 256: EINVAL, write 2: 0, reads 2',
        'tcp_rfc1337 0: EOF yes, client FIN seen yes, server TIME_WAIT 1; after a RST out of the window 1, after a RST at RCV.NXT 0',
        'tcp_rfc1337 1: EOF yes, client FIN seen yes, server TIME_WAIT 1; after a RST out of the window 1, after a RST at RCV.NXT 1',
        '',
      ].join('\n'),
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'tw-rfc1337', native));
});
