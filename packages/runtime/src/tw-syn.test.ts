// A SYN for a connection the server holds in TIME_WAIT (the client reconnecting from the same
// port), on loopback, against Linux: testdata/tw-syn.c runs in a fresh network namespace (lo up)
// and under tsvisor --network none and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'tw-syn', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('tw-syn.c', () => {
  it('opens each new connection at once on the host kernel, ending the TIME_WAIT, with timestamps or without', () => {
    for (const what of ['timestamps', 'no timestamps'])
      for (const round of [1, 2, 3])
        expect(native).toContain(
          `${what}, round ${round}: server TIME_WAIT before 1, connect 0, under 500 ms yes, server TIME_WAIT after 0\n`,
        );
    expect(native).not.toContain(' no');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'tw-syn', native));
});
