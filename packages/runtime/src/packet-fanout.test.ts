// PACKET_FANOUT against Linux: testdata/packet-fanout.c (the errnos of joining a group, and where
// known UDP datagrams on lo go in the modes whose outcome does not depend on chance) runs in a
// fresh network namespace (lo up) and under tsvisor --network none and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'packet-fanout', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe, [], 30_000);
});

describe('packet-fanout.c', () => {
  it('spreads datagrams over a group on the host kernel', () => {
    expect(native).toContain('not running: -1 EINVAL\n');
    expect(native).toContain('join again: -1 EALREADY\n');
    expect(native).toContain('second of max 1: -1 ENOSPC\n');
    expect(native).toContain('lb 3 sockets, 10 datagrams: 3 4 3\n');
    expect(native).toContain('socket 1: 7000 7003 7006\n');
    expect(native).toContain('rollover: 4 3\nfirst rollover stats: all 6 huge 0 failed 4\n');
    expect(native).toContain('flow 3: sticks\n');
    expect(native).toContain('datagram 2: 1 0 0\n');
    expect(native).toContain('defrag, first:\ndefrag, second: 68(off 0x0000)\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'packet-fanout', native), 60_000);
});
