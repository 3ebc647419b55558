// RTM_NEWLINK and RTM_SETLINK against Linux: testdata/rtnl-link.c changes lo's MTU (errors and
// extended ACK messages included), prints the RTNLGRP_LINK announcements and what the MTU does
// to sockets, natively in a fresh network namespace (lo up) and under tsvisor --network none.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'rtnl-link', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('rtnl-link.c', () => {
  it('changes lo on the host kernel', () => {
    expect(native).toMatch(/^lo mtu: getlink 65536, SIOCGIFMTU 65536\n/);
    expect(native).toContain(
      'mtu -1:\n  type 2 flags 0x300 error EINVAL msg "mtu less than device minimum"\n',
    );
    expect(native).toContain(
      'mtu 1400:\n  type 2 flags 0x100 error 0 (ack)\n' +
        '  announced type 16 flags 0x0 seq 0 pid 0 ifindex 1 flags 0x10049 change 0x0 name lo operstate 0 mtu 1400\n' +
        'mtu 1400 again:\n',
    );
    expect(native).toContain(
      'udp: IP_MTU 1400 IPV6_MTU 1400, 3000 bytes sent 3000/3000 received 3000/3000, with DF EMSGSIZE/EMSGSIZE\n',
    );
    expect(native).toContain(
      'tcp opened before: sent 200000 received 200000\ntcp opened after: TCP_MAXSEG 1348/1348\n',
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'rtnl-link', native));
});
