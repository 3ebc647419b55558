// splice(2) from a pipe into a non-blocking TCP socket against Linux: testdata/splice-socket.c
// runs in a fresh network namespace (lo up) and under tsvisor --network none and must print the
// same (only what the socket took leaves the pipe; EAGAIN keeps the pipe's bytes).
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'splice-socket', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe, [], 30_000);
});

describe('splice-socket.c', () => {
  it('loses no byte and meets EAGAIN on the host kernel', () => {
    expect(native).toBe(
      'non-blocking socket: spliced 8388608 of 8388608, received 8388608, in order yes, EAGAIN seen yes, pipe kept its bytes on EAGAIN yes\n',
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'splice-socket', native), 60_000);
});
