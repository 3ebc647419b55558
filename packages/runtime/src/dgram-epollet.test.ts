// Edge-triggered epoll on datagram sockets against Linux: testdata/dgram-epollet.c waits with
// EPOLLIN | EPOLLET on UDP (IPv4, IPv6), raw, ping, AF_UNIX datagram and packet sockets while
// two datagrams arrive, the first still unread when the second does, and on a UDP socket with
// IP_RECVERR while two ICMP errors arrive; Linux wakes an edge-triggered waiter at each, and
// signals O_ASYNC's owner at each datagram. It runs natively in a fresh network namespace and
// under tsvisor --network none, and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'dgram-epollet', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('dgram-epollet.c', () => {
  it('shows the wake-ups of the host kernel', () => {
    // Without these the comparison below would prove nothing.
    for (const kind of ['udp4', 'udp6', 'raw4', 'ping4', 'unix dgram', 'packet'])
      expect(native).toContain(
        `${kind}:\n  idle: 0\n  first datagram: 1 EPOLLIN\n  again: 0\n` +
          '  second datagram, the first unread: 1 EPOLLIN\n  read: ok\n  after the read: 0\n',
      );
    expect(native).toContain('  second error, the first unread: 1 EPOLLERR\n');
    for (const kind of ['udp4', 'raw4', 'ping4'])
      expect(native).toContain(`  ${kind}: three datagrams in a row, 3 signals, 0 not POLL_IN\n`);
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'dgram-epollet', native), 60_000);
});
