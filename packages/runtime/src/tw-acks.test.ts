// Segments to a TIME_WAIT connection from its closed peer (an ACK of its FIN again, an ACK out of
// the window), and the TSval offsets of net.ipv4.tcp_timestamps 1 and 2, on loopback, against
// Linux: testdata/tw-acks.c runs in a fresh network namespace (lo up) and under tsvisor --network
// none and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'tw-acks', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('tw-acks.c', () => {
  it('restarts TIME_WAIT silently for an ACK at RCV.NXT; SYN TSvals share one clock only with tcp_timestamps 2 (host kernel)', () => {
    expect(native).toBe(
      [
        'EOF yes, client FIN seen yes, server TIME_WAIT 1',
        'after 1.5 s: timer under 59 s yes',
        'ACK at RCV.NXT: timer over 59.5 s yes, answered no, server TIME_WAIT 1',
        'ACK out of the window: answered yes, server TIME_WAIT 0',
        'tcp_timestamps 1: SYNs with TSvals yes, to 127.0.0.1 and 127.0.0.2 within 1 s of each other no',
        'tcp_timestamps 2: SYNs with TSvals yes, to 127.0.0.1 and 127.0.0.2 within 1 s of each other yes',
        '',
      ].join('\n'),
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'tw-acks', native));
});
