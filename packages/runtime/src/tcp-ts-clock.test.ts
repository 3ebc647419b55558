// The clock of TCP timestamps against Linux: TSvals count CLOCK_MONOTONIC's milliseconds (with
// net.ipv4.tcp_timestamps 2 a SYN's TSval and TCP_TIMESTAMP are what clock_gettime reads), and
// with 1 each connection's offset hashes its addresses and ports. testdata/tcp-ts-clock.c runs in
// a fresh network namespace (lo up) and under tsvisor --network none and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'tcp-ts-clock', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('tcp-ts-clock.c', () => {
  it('TSvals are CLOCK_MONOTONIC ms, offset per addresses and ports with tcp_timestamps 1 (host kernel)', () => {
    expect(native).toBe(
      [
        "TCP_TIMESTAMP of a new socket: 0, low bit 0, within CLOCK_MONOTONIC's ms yes",
        "TCP_TIMESTAMP of a listener: 0, low bit 0, within CLOCK_MONOTONIC's ms yes",
        "tcp_timestamps 2: SYN TSvals yes, the first within CLOCK_MONOTONIC's ms around its connect yes, from two ports within 1 s of each other yes",
        "tcp_timestamps 1: SYN TSvals yes, the first within CLOCK_MONOTONIC's ms around its connect no, from two ports within 1 s of each other no",
        '',
      ].join('\n'),
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'tcp-ts-clock', native));

  // Network mode sandbox: the stack is the gateway's, polled on the same clock.
  it('prints the same under tsvisor --network sandbox', () =>
    expectSameUnderTsvisor(bed, 'tcp-ts-clock', native, { network: 'sandbox' }));
});
