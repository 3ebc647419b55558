// RTM_NEWADDR and RTM_DELADDR against Linux: testdata/rtnl-addr.c adds and removes addresses on
// lo (errors and extended ACK messages included) and uses them, natively in a fresh network
// namespace (lo up) and under tsvisor --network none; both must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'rtnl-addr', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('rtnl-addr.c', () => {
  it('changes lo addresses on the host kernel', () => {
    expect(native).toContain('add without CAP_NET_ADMIN:\n  type 2 flags 0x100 error EPERM\n');
    expect(native).toContain(
      'add 10.9.9.9/24 again:\n  type 2 flags 0x300 error EEXIST msg "ipv4: Address already assigned"\n',
    );
    expect(native).toContain('udp bind 10.9.9.77: 0, to itself: received\n');
    expect(native).toContain("tcp after the address went: send 5, the peer's recv EAGAIN\n");
    expect(native).toContain('udp bind 2001:db8::5: EADDRNOTAVAIL\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'rtnl-addr', native));
});
