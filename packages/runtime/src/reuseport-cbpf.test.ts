// Classic BPF programs choosing SO_REUSEPORT members against Linux: testdata/reuseport-cbpf.c
// (SO_ATTACH_REUSEPORT_CBPF/EBPF and SO_DETACH_REUSEPORT_BPF errnos, which UDP socket or TCP
// listener of a group of four each program picks, the group's array order after closes, which
// group keeps a program) runs in a fresh network namespace and under tsvisor and must print the
// same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'reuseport-cbpf', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('reuseport-cbpf.c', () => {
  it('lets a program pick the member on the host kernel', () => {
    // UDP: the program sees the payload; TCP: a SYN's (empty) payload, so a load fails (0).
    expect(native).toContain('first byte 3: member 3\n');
    expect(native).toContain('connection (no byte to load: 0): member 0\n');
    expect(native).toContain('first byte 1: member 3 (slot 1)\n');
    expect(native).not.toMatch(/nobody|several|unexpected/);
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'reuseport-cbpf', native), 60_000);
});
