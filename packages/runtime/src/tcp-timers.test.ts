// The timers and TCP figures of /proc/net/tcp against Linux: testdata/tcp-timers.c runs in a
// fresh network namespace (lo up) and under tsvisor --network none and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'tcp-timers', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('tcp-timers.c', () => {
  it('shows keepalive, TIME_WAIT, SYN retransmission and zero window probe timers and a pending FIN on the host kernel', () => {
    expect(native).toContain('idle client: rto 20 ato 0 cwnd 10 ssthresh -1\n');
    expect(native).toContain('keepalive client: st 01 tr 2 when in 98..100s retrnsmt 0 timeout 0\n');
    expect(native).toContain('time_wait: st 06 tr 3 when in 58..60s\n');
    expect(native).toContain('syn_sent after 1.3 s: st 02 tr 1 when in 0..2s retrnsmt 1\n');
    expect(native).toContain('fin, read of 3: rx_queue 4, read 3, rx_queue 0, then read 0, rx_queue 0\n');
    expect(native).toContain(
      'zero window at 1000 ms: st 01 tr 4 when in 0..1s retrnsmt 0 timeout 1 rto 20\n',
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'tcp-timers', native));
});
