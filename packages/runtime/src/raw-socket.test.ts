// Raw IP sockets against Linux: testdata/raw-socket.c runs in a fresh network namespace (lo up)
// and under tsvisor --network none and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'raw-socket', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('raw-socket.c', () => {
  it('opens raw sockets and sees echo requests and replies on the host kernel', () => {
    expect(native).toContain('unprivileged socket(AF_INET, SOCK_RAW, ICMP): -1 EPERM\n');
    expect(native).toContain('socket(AF_INET, SOCK_RAW, 0): -1 EPROTONOSUPPORT\n');
    expect(native).toMatch(/first: len 84, .* type 8, .*\nsecond: len 84, .* type 0, /);
    expect(native).toContain('icmp6 1: len 24, type 129, code 0, id 0x1234, seq 5, from ::1 port 0\n');
    expect(native).toContain('getsockname 127.0.0.1 port 1 len 16\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'raw-socket', native));
});
