// When a dead connection errors out, against Linux: testdata/tcp-write-timeout.c retransmits to
// a peer on lo that drops every segment until TCP_USER_TIMEOUT (1 s, then 100 ms) ends it, and
// prints tcpi_retransmits, tcpi_backoff and how long after the first retransmission the error
// came; then a connect with TCP_SYNCNT 2 that nobody answers (Linux 6.18's linear SYN
// timeouts). It runs natively in a fresh network namespace and under tsvisor --network none,
// and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'tcp-write-timeout', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('tcp-write-timeout.c', () => {
  it('shows what the host kernel does', () => {
    // Without these the comparison below would prove nothing.
    expect(native).toBe(
      'TCP_USER_TIMEOUT 1000:\n' +
        '  tcpi_retransmits 1 tcpi_backoff 1\n' +
        '  tcpi_retransmits 2 tcpi_backoff 2\n' +
        '  SO_ERROR ETIMEDOUT, 0.9 to 1.2 s after the first retransmission\n' +
        'TCP_USER_TIMEOUT 100:\n' +
        '  tcpi_retransmits 1 tcpi_backoff 1\n' +
        '  SO_ERROR ETIMEDOUT, 0.05 to 0.3 s after the first retransmission\n' +
        'connect, TCP_SYNCNT 2:\n' +
        '  1 s: tcpi_retransmits 1 tcpi_backoff 0\n' +
        '  2 s: tcpi_retransmits 2 tcpi_backoff 0\n' +
        '  3 s: tcpi_retransmits 3 tcpi_backoff 0\n' +
        '  4 s: tcpi_retransmits 4 tcpi_backoff 0\n' +
        '  5 s: tcpi_retransmits 5 tcpi_backoff 1\n' +
        '  7 s: SO_ERROR ETIMEDOUT\n',
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'tcp-write-timeout', native), 90_000);
});
