// Mapping AF_PACKET rings against Linux: testdata/packet-ring-map.c (mmap(2) of a ring of another
// size or at an offset, PACKET_RX_RING while the ring is mapped, by a second or partial mapping or
// a forked child) runs in a fresh network namespace (lo up) and under tsvisor --network none and
// must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'packet-ring-map', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe, [], 30_000);
});

describe('packet-ring-map.c', () => {
  it('refuses other mappings and ring changes while mapped on the host kernel', () => {
    expect(native).toContain('one block: -1 EINVAL\nthree blocks: -1 EINVAL\n');
    expect(native).toContain('at offset 4096: -1 EINVAL\n');
    expect(native).toContain('ring again: -1 EBUSY\nteardown: -1 EBUSY\nteardown with frames: -1 EBUSY\n');
    expect(native).toContain('half left, teardown: -1 EBUSY\nunmapped, teardown: 0\n');
    expect(native).toContain('child still maps it, teardown: -1 EBUSY\nchild gone, teardown: 0\n');
    expect(native).toContain('after close: status 0 byte 7\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'packet-ring-map', native), 60_000);
});
