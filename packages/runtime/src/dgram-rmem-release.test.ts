// The receive queues of datagram sockets past 256 datagrams, and when UDP gives back the memory
// of datagrams read, against Linux: testdata/dgram-rmem-release.c fills UDP, raw and ping
// sockets with SO_RCVBUF 200000, then reads and sends on UDP sockets step by step, printing
// SO_MEMINFO (with UDP's forward allocation) and /proc/net/udp's rx_queue after each step. It
// runs natively in a fresh network namespace and under tsvisor --network none, and must print
// the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'dgram-rmem-release', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('dgram-rmem-release.c', () => {
  it('shows the host kernel holding every datagram the memory admits, and lagging reads', () => {
    // Without these the comparison below would prove nothing: more than 256 datagrams queue, and
    // SO_MEMINFO keeps what was read (rx_queue does not) until a quarter of the limit was read.
    expect(native).toContain('udp, SO_RCVBUF 400000: rmem 399360 drops 120 fwd 2048, readable 480\n');
    expect(native).toContain('ping, SO_RCVBUF 400000: rmem 400192 drops 119 fwd 0, readable 481\n');
    expect(native).toContain(
      '  r60  rmem 83200 rx_queue 33280 drops 0 fwd 2816\n  r1   rmem 32448 rx_queue 32448 drops 0 fwd 320\n',
    );
    // Once all is read and given back, the last page stays reserved.
    expect(native).toContain('  r1   rmem 0 rx_queue 0 drops 0 fwd 4096\n');
    // A full queue after one read still drops an arrival.
    expect(native).toContain('  s1   rmem 212992 rx_queue 212160 drops 45 fwd 0\n');
  });

  it(
    'prints the same under tsvisor',
    () => expectSameUnderTsvisor(bed, 'dgram-rmem-release', native),
    60_000,
  );
});
