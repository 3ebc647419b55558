// The receive memory of datagram sockets against Linux: testdata/dgram-rcvbuf.c sends ten
// datagrams of 1, 100 and 1000 bytes to UDP (IPv4, IPv6), raw, ping and packet sockets with a
// small SO_RCVBUF that do not read, and prints what the queue is charged (SO_MEMINFO, /proc/net's
// rx_queue: the datagrams' sk_buff truesize), the drops (SO_MEMINFO, /proc/net's drops column,
// /proc/net/snmp) and how many can be read. It runs natively in a fresh network namespace and
// under tsvisor --network none, and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'dgram-rcvbuf', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('dgram-rcvbuf.c', () => {
  it('shows the receive memory of the host kernel', () => {
    // Without these the comparison below would prove nothing: UDP drops a datagram that would
    // take a non-empty queue over the limit, raw and ping sockets one that finds it reached.
    expect(native).toContain(
      'udp4, 1-byte datagrams, SO_RCVBUF 2304: meminfo rmem 1664 drops 8 proc rx_queue 1664 drops 8' +
        ' snmp RcvbufErrors +8 InErrors +8 FIONREAD 1\n  readable 2 (EAGAIN), then rmem 0\n',
    );
    expect(native).toContain(
      'udp6, 1-byte datagrams, SO_RCVBUF 3328: meminfo rmem 3328 drops 6 proc rx_queue 3328 drops 6' +
        ' FIONREAD 1\n  readable 4 (EAGAIN)',
    );
    expect(native).toContain(
      'raw4, 100-byte datagrams, SO_RCVBUF 2304: meminfo rmem 2496 drops 7 proc rx_queue 2496 drops 7' +
        ' FIONREAD 120\n  readable 3 (EAGAIN)',
    );
    expect(native).toContain('ping4, 1000-byte datagrams, SO_RCVBUF 4000: meminfo rmem 4608 drops 8');
    expect(native).toContain(
      'packet, 100-byte datagrams, SO_RCVBUF 2304: meminfo rmem 2496 drops 7 FIONREAD 128\n  readable 3 (EAGAIN)',
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'dgram-rcvbuf', native), 60_000);
});
