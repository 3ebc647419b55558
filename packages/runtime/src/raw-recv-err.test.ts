// The error queue of raw and ping sockets against Linux: testdata/raw-recv-err.c sends UDP
// datagrams from raw IPPROTO_UDP sockets (IPv4 and IPv6, connected or not, with and without
// IP_RECVERR / IPV6_RECVERR, with IP_HDRINCL) to a loopback port nobody listens on and prints
// which raw sockets hear of the port unreachable and every field recvmsg(MSG_ERRQUEUE) gives;
// then the local errors of raw and ping sockets, EPOLLET wake-ups for each error, and how many
// errors a small SO_RCVBUF holds. It runs natively in a fresh network namespace and under
// tsvisor --network none, and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'raw-recv-err', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('raw-recv-err.c', () => {
  it('shows the error queue of the host kernel', () => {
    // Without these the comparison below would prove nothing.
    expect(native).toContain(
      '  errqueue: n 13 udp sport 45678 dport = destination data "first" msg_flags ERRQUEUE namelen 16' +
        ' name 127.0.0.1 port 0\n' +
        '    cmsg level 0 type 11 len 48: ee_errno ECONNREFUSED origin 2 type 3 code 3 info 0 data 0' +
        ' offender 127.0.0.1\n',
    );
    expect(native).toContain(
      ' bound 127.0.0.2:\n  poll: poll 0\n  SO_ERROR: 0\n  errqueue: EAGAIN\n  received: EAGAIN\n',
    );
    expect(native).toContain('  send with the error pending: -1 ECONNREFUSED\n');
    expect(native).toContain(' ip version 4 protocol 17 udp sport 45678 dport = destination data "hdr"');
    expect(native).toContain(
      'ping6 local errors:\n  send 65536: -90\n  errqueue: EAGAIN\n  IPV6_DONTFRAG, send 65497: -90\n' +
        '  errqueue: n 0 msg_flags ERRQUEUE namelen 28 name ::1 port 32768\n',
    );
    expect(native).toContain('  error 2: epoll_wait 1 EPOLLERR, SO_ERROR ECONNREFUSED\n');
    expect(native).toContain('udp4, 1-byte datagrams, SO_RCVBUF 2304: 10 errors, 2 queued\n');
    expect(native).toContain('udp4, 176-byte datagrams, SO_RCVBUF 2512: 10 errors, 1 queued\n');
    expect(native).toContain('udp6, 1000-byte datagrams, SO_RCVBUF 8000: 10 errors, 3 queued\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'raw-recv-err', native), 60_000);
});
