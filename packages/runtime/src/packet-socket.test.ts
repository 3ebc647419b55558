// AF_PACKET sockets against Linux: testdata/packet-socket.c runs in a fresh network namespace
// (lo up) and under tsvisor --network none and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'packet-socket', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('packet-socket.c', () => {
  it('captures, sends and counts on the host kernel', () => {
    expect(native).toContain('unprivileged SOCK_RAW: -1 EPERM\n');
    expect(native).toMatch(/udp raw 1: .* pkttype 4 halen 6 addr 00:00:00:00:00:00\n/);
    expect(native).toMatch(/udp raw 2: .* pkttype 0 halen 6 addr 00:00:00:00:00:00\n/);
    expect(native).toContain('ping raw 3: n 50 link 00 00 00 00 00 00 00 00 00 00 00 00 08 00');
    expect(native).toContain('tx sees: its frame arriving\n');
    expect(native).toMatch(/PACKET_STATISTICS: 0 len 8 packets 40 drops>0 1 received\+drops==packets 1\n/);
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'packet-socket', native), 60_000);
});
