// IPv6 address configuration against Linux: testdata/ipv6-addrconf.c reads and writes the DAD
// sysctls of /proc/sys/net/ipv6 and connects into the prefix of an address added with
// `noprefixroute` (IPv6 and IPv4), natively in a fresh network namespace (lo up) and under
// tsvisor --network none; both must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'ipv6-addrconf', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('ipv6-addrconf.c', () => {
  it('prints what Linux answers', () => {
    // The program must show Linux's behaviour, or the comparison below proves nothing.
    expect(native).toContain('conf/lo/dad_transmits = 1\n');
    expect(native).toContain("write '+3': EINVAL; conf/lo/dad_transmits = 8\n");
    expect(native).toContain("write '8589935': EINVAL; idgen_delay = 8589934\n");
    expect(native).toContain('tcp connect 2001:db8:7::2: ENETUNREACH\n');
    expect(native).toContain('udp connect 2001:db8:8::2: 0\n');
    expect(native).not.toContain('2001:db8:7::/64');
    expect(native).toContain('inet 10.7.0.1/24 scope global noprefixroute lo\n');
    expect(native).toContain('udp connect 10.7.0.2: ENETUNREACH\n');
    expect(native).toContain('udp connect 10.8.0.2: 0\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'ipv6-addrconf', native), 30_000);
});
