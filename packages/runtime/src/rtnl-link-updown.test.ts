// `ip link set lo down` and `up` against Linux: testdata/rtnl-link-updown.c takes lo down and up
// through RTM_NEWLINK, RTM_SETLINK and SIOCSIFFLAGS, changes its other flags and its queue
// length, and prints the link's state, the RTNLGRP_* announcements, the addresses and routes left,
// and what sockets get meanwhile, natively in a fresh network and mount namespace (with its own
// sysfs, so /sys/class/net shows that namespace's lo) and under tsvisor --network none.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'rtnl-link-updown', ['-O1', '-Wall', '-Werror']);
  native = execFileSync(
    'unshare',
    ['-n', '-m', 'sh', '-c', 'mount -t sysfs sysfs /sys && ip link set lo up && exec "$0"', exe],
    { encoding: 'utf8', timeout: 20_000 },
  );
});

describe('rtnl-link-updown.c', () => {
  it('takes lo down and up on the host kernel', () => {
    expect(native).toContain(
      'down:\n  type 2 flags 0x100 error 0 (ack)\n' +
        '  announced type 16 seq 0 link 1 flags 0x8 change 0x1 txqlen 1000 operstate 2 mtu 65536 promiscuity 0 carrier 1\n' +
        '  announced type 25 seq 0 route table 255 type 2 proto 2 scope 0 ::1/128 oif 1\n' +
        '  announced type 21 seq 0 addr if 1 ::1/128 scope 254 flags 0x80\n',
    );
    expect(native).toContain(
      'udp 127.0.0.1 sendto: ok, received: EAGAIN\nudp ::1 sendto: EADDRNOTAVAIL, connect: EADDRNOTAVAIL, bind: EADDRNOTAVAIL\n',
    );
    expect(native).toContain('tcp established after up: poll 1 received 5\n');
    expect(native).toContain('SIOCSIFTXQLEN -1: EINVAL\n');
    expect(native).toContain('lo tx dropped: some\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'rtnl-link-updown', native));
});
