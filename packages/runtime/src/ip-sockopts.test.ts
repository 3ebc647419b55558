// The IP-, IPv6- and UDP-level socket options against Linux: testdata/ip-sockopts.c runs in a
// fresh network namespace (only lo, up, so no host sysctl or interface leaks in) and under
// tsvisor --network none, and must print the same: every option's default, set/get round trips
// with their errnos, and the effects (IP_MTU, FREEBIND, BIND_ADDRESS_NO_PORT,
// LOCAL_PORT_RANGE, UDP_CORK, MSG_MORE, UDP_SEGMENT).
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'ip-sockopts', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('ip-sockopts.c', () => {
  it('shows the options and their effects on the host kernel', () => {
    expect(native).toContain('udp4 IP_MTU_DISCOVER default: len 4 = 1\n');
    expect(native).toContain("udp4 connected IP_MTU: lo's, at most 65535\n");
    expect(native).toContain('udp4 bind 192.0.2.1 with IP_FREEBIND: ok\n');
    expect(native).toContain('tcp4 BIND_ADDRESS_NO_PORT 1: bind 0, port after bind 0, after connect set\n');
    expect(native).toContain('udp4 LOCAL_PORT_RANGE 40000-40009: set 0, port in range\n');
    expect(native).toContain('udp4 UDP_CORK: uncorked got: 60\n');
    expect(native).toContain('udp4 send 250: 250, got: 100 100 50\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'ip-sockopts', native));
});
