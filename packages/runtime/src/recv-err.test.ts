// IP_RECVERR / IPV6_RECVERR and the socket error queue against Linux: testdata/recv-err.c sends
// from UDP sockets (IPv4 and IPv6, connected or not, with and without the option) to a loopback
// port nobody listens on and prints poll's revents, SO_ERROR and every field recvmsg(MSG_ERRQUEUE)
// gives, then the local errors of sends too large and an AF_INET6 socket sending to an
// IPv4-mapped address. It runs natively in a fresh network namespace and under tsvisor
// --network none, and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'recv-err', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('recv-err.c', () => {
  it('shows the error queue of the host kernel', () => {
    // Without these the comparison below would prove nothing.
    expect(native).toContain(
      '  errqueue: n 5 payload "first" msg_flags ERRQUEUE namelen 16 name 127.0.0.1 port = destination\n' +
        '    cmsg level 0 type 11 len 48: ee_errno ECONNREFUSED origin 2 type 3 code 3 pad 0 info 0 data 0' +
        ' offender 127.0.0.1 port 0\n',
    );
    expect(native).toContain(
      '    cmsg level 41 type 25 len 60: ee_errno ECONNREFUSED origin 3 type 1 code 4 pad 0 info 0 data 0' +
        ' offender ::1 port 0\n',
    );
    expect(native).toContain('udp4 unconnected, without:\n  send: 5\n  after the error: poll 0\n');
    expect(native).toContain('  drained: poll 0\n  errqueue: EAGAIN\n');
    expect(native).toContain(
      '  errqueue: n 0 payload "" msg_flags ERRQUEUE namelen 16 name 127.0.0.1 port 0\n' +
        '    cmsg level 0 type 11 len 48: ee_errno EMSGSIZE origin 1 type 0 code 0 pad 0 info 65535 data 0' +
        ' offender none port 0\n',
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'recv-err', native), 60_000);
});
