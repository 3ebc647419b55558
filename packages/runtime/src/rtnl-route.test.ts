// RTM_NEWROUTE and RTM_DELROUTE against Linux: testdata/rtnl-route.c adds and removes routes in
// the main table (errors and extended ACK messages included) and shows what they change for
// sockets, natively in a fresh network namespace (lo up) and under tsvisor --network none.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'rtnl-route', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('rtnl-route.c', () => {
  it('changes routes on the host kernel', () => {
    expect(native).toMatch(/^udp to 10\.8\.0\.1: ENETUNREACH, tcp connect ENETUNREACH\n/);
    expect(native).toContain(
      '10.7.0.0/16 via 10.9.9.1 (off link):\n  type 2 flags 0x300 error ENETUNREACH msg "Nexthop has invalid gateway"\n',
    );
    expect(native).toContain(
      'udp to 10.6.1.1: sent, connected from 127.0.0.1, IP_MTU 1400, tcp connect EINPROGRESS\n',
    );
    expect(native).toContain('del 10.3.0.0/16:\n  type 2 flags 0x100 error ESRCH\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'rtnl-route', native));
});
