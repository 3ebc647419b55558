// What TCP resends when the path MTU falls with data in flight, against Linux:
// testdata/pmtu-resend.c holds 2896 bytes and then 300 more in flight on lo (the peer's socket
// filter drops them) and reports fragmentation needed with MTU 1200: only the segments longer
// than the new MSS go again (tcp_simple_retransmit), with the window unchanged in segments. It
// runs natively in a fresh network namespace and under tsvisor --network none, and must print
// the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'pmtu-resend', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('pmtu-resend.c', () => {
  it('shows what the host kernel does', () => {
    // Without these the comparison below would prove nothing.
    expect(native).toBe(
      'SYN seen yes\n' +
        'path MTU 1500: TCP_MAXSEG 1448 tcpi_snd_cwnd unchanged tcpi_bytes_retrans 0\n' +
        'send 2896 send 300\n' +
        'frag needed 1200: TCP_MAXSEG 1148 tcpi_snd_cwnd unchanged tcpi_bytes_retrans 2896\n' +
        'received 3196\n',
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'pmtu-resend', native), 60_000);
});
