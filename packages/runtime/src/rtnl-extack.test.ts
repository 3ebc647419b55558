// Extended ACKs against Linux: testdata/rtnl-extack.c sends rtnetlink requests with attributes
// their policy refuses, unknown ones under strict checking, bytes after the last attribute,
// short headers and routes Linux explains, with NETLINK_EXT_ACK and NETLINK_CAP_ACK off and on,
// and prints each NLMSG_ERROR's flags, errno, text, offset and policy, then the errors `ip`
// prints. It runs natively in a fresh network namespace and under tsvisor --network none, and
// must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'rtnl-extack', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

const U32_POLICY = '0c00040000000000000000000c000500ffffffff000000000800010004000000';

describe('rtnl-extack.c', () => {
  it('shows what the host kernel answers', () => {
    // Without these the comparison below would prove nothing.
    expect(native).toContain(
      `short RTA_PRIORITY:\n  type 2 flags 0x300 error ERANGE msg "Attribute failed policy validation" offs 36 policy ${U32_POLICY}\n`,
    );
    expect(native).toContain(
      'uncapped: IPv4 route with bits beyond its prefix:\n  type 2 flags 0x200 error EINVAL msg "Invalid prefix for given prefix length"\n',
    );
    expect(native).toContain('no extended ACK: short RTA_OIF:\n  type 2 flags 0x0 error ERANGE\n');
    expect(native).toContain(
      'strict get: unknown attribute 200:\n  type 2 flags 0x300 error EINVAL msg "Unknown attribute type" offs 36\n',
    );
    expect(native).toContain(
      'type 2 flags 0x300 error 0 (ack) msg "bytes leftover after parsing attributes"\n',
    );
    expect(native).toContain(
      'IPv6 short IFA_ADDRESS:\n  type 2 flags 0x300 error ERANGE msg "Attribute failed policy validation" offs 24\n',
    );
    expect(native).toContain('Error: Invalid prefix for given prefix length.\n');
    expect(native).toContain('Error: Unknown device type.\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'rtnl-extack', native), 60_000);
});
