// msg_flags after recvmsg (MSG_CMSG_CLOEXEC kept) against Linux: testdata/recvmsg-flags.c runs
// in a fresh network namespace (lo up) and under tsvisor --network none and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'recvmsg-flags', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('recvmsg-flags.c', () => {
  it('keeps MSG_CMSG_CLOEXEC in msg_flags on the host kernel', () => {
    expect(native).toContain('unix stream, flags 0x40000000: n 4, msg_flags 0x40000000\n');
    expect(native).toContain('unix dgram, flags 0x40000000: n 4, msg_flags 0x40000020\n');
    expect(native).toContain('tcp, flags 0: n 4, msg_flags 0\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'recvmsg-flags', native));
});
