// connect(2) from a port bind(2) named (SO_REUSEADDR) while a connection of the same addresses
// and ports waits in TIME_WAIT, on loopback, against Linux: testdata/tw-bound-connect.c runs in a
// fresh network namespace (lo up) and under tsvisor --network none and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'tw-bound-connect', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('tw-bound-connect.c', () => {
  it('takes over a TIME_WAIT connection with timestamps at once on the host kernel, whatever tcp_tw_reuse says', () => {
    expect(native).toContain('again at once: connect 0, TWRecycled +1, TIME_WAIT left 0\n');
    expect(native).toContain('tcp_tw_reuse 0: connect 0, TWRecycled +1, TIME_WAIT left 0\n');
    expect(native).toContain('same as live: connect EADDRNOTAVAIL');
    expect(native).toContain('after no timestamps: connect EADDRNOTAVAIL');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'tw-bound-connect', native));
});
