// TCP's answer to ICMP errors against Linux: testdata/tcp-icmp-error.c sends ICMP and ICMPv6
// errors from raw sockets on lo quoting a connect's SYN (its sequence number seen by a raw TCP
// socket) and a segment of an established connection, and prints what poll, SO_ERROR, recv
// and MSG_ERRQUEUE say (also after a reconnect of the socket: the queue stays; and with
// IP_MINTTL and IPV6_MINHOPCOUNT), and TcpExt OutOfWindowIcmps and TCPMinTTLDrop. It runs natively in a fresh network namespace and under tsvisor
// --network none, and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'tcp-icmp-error', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('tcp-icmp-error.c', () => {
  it('shows what the host kernel does', () => {
    // Without these the comparison below would prove nothing.
    expect(native).toContain('port unreachable, ISN + 2: revents SO_ERROR 0\n');
    expect(native).toContain(
      'port unreachable: revents POLLIN POLLOUT POLLERR POLLHUP SO_ERROR ECONNREFUSED\n',
    );
    expect(native).toContain(
      'again: revents POLLIN POLLOUT POLLERR POLLHUP SO_ERROR 0\n' +
        '  errqueue: n 8 name 127.0.0.2 port 1 flags 0x2000\n' +
        '    cmsg level 0 type 11 len 48: ee_errno ECONNREFUSED origin 2 type 3 code 3 pad 0 info 0 data 0 offender 127.0.0.1 port 0\n' +
        '  then: revents POLLIN POLLOUT POLLHUP SO_ERROR 0\nOutOfWindowIcmps 2\n',
    );
    expect(native).toContain(
      'reconnect, port unreachable: revents POLLIN POLLOUT POLLERR POLLHUP SO_ERROR ECONNREFUSED\n' +
        '  connect -1 ECONNABORTED, -1 EINPROGRESS\n' +
        '  connecting again: revents POLLERR SO_ERROR 0\n' +
        '  connect(AF_UNSPEC) 0\n' +
        '  errqueue: n 8 name 127.0.0.2 port 1 flags 0x2000\n',
    );
    expect(native).toContain(
      'host unreachable: revents POLLIN POLLOUT POLLERR POLLHUP SO_ERROR EHOSTUNREACH\n',
    );
    expect(native).toContain(
      'communication prohibited: revents POLLIN POLLOUT POLLERR POLLHUP SO_ERROR EHOSTUNREACH\n',
    );
    expect(native).toContain('unreachable code 16: revents SO_ERROR 0\n');
    expect(native).toContain('parameter problem: revents POLLIN POLLOUT POLLERR POLLHUP SO_ERROR EPROTO\n');
    expect(native).toContain('established, host unreachable: revents POLLOUT SO_ERROR EHOSTUNREACH\n');
    expect(native).toContain('IP_RECVERR, net unreachable: revents POLLERR recv ENETUNREACH then EAGAIN\n');
    expect(native).toContain('after: revents POLLOUT SO_ERROR 0\nOutOfWindowIcmps 3\n');
    expect(native).toContain(
      'ipv6 port unreachable: revents POLLIN POLLOUT POLLERR POLLHUP SO_ERROR ECONNREFUSED\n  errqueue: EAGAIN\n',
    );
    expect(native).toContain(
      'ipv6 port unreachable, IPV6_RECVERR: revents POLLIN POLLOUT POLLERR POLLHUP SO_ERROR ECONNREFUSED\n' +
        '  errqueue: n 8 name ::1 port 1 flags 0x2000\n',
    );
    expect(native).toContain(
      'ipv6 administratively prohibited: revents POLLIN POLLOUT POLLERR POLLHUP SO_ERROR EACCES\n',
    );
    // IP_MINTTL reads the TTL the error quotes, IPV6_MINHOPCOUNT the ICMPv6 packet's own hop
    // limit; both before the sequence number is looked at.
    expect(native).toContain(
      'IP_MINTTL 100, port unreachable quoting TTL 64: revents SO_ERROR 0\n' +
        '  quoting TTL 99, ISN + 2: revents SO_ERROR 0\n' +
        '  quoting TTL 100: revents POLLIN POLLOUT POLLERR POLLHUP SO_ERROR ECONNREFUSED\n' +
        '  TCPMinTTLDrop +2\n',
    );
    expect(native).toContain(
      'ipv6 IPV6_MINHOPCOUNT 100, port unreachable with hop limit 99: revents SO_ERROR 0\n' +
        '  with hop limit 100: revents POLLIN POLLOUT POLLERR POLLHUP SO_ERROR ECONNREFUSED\n' +
        '  TCPMinTTLDrop +1\n',
    );
    expect(native).toContain('OutOfWindowIcmps 4\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'tcp-icmp-error', native), 60_000);
});
