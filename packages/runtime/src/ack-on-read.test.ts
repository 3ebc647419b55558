// The ACK a read sends, against Linux: testdata/ack-on-read.c (a lone full segment with and
// without MSG_MORE, read at once; ACKs counted in a capture of lo) runs in a fresh network
// namespace (lo up, its segmentation offloads off) and under tsvisor --network none and must
// print the same. netstack's tcp-options.test.ts has the rule (tcp_cleanup_rbuf,
// tcp_measure_rcv_mss) in detail.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'ack-on-read', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('ack-on-read.c', () => {
  it('acknowledges a lone full segment at its read only if it ended a write (host kernel)', () => {
    expect(native).toBe(
      [
        'one segment with MSG_MORE: ACKs before the read 0, read 988, ACKs at the read 0',
        'one segment: ACKs before the read 0, read 988, ACKs at the read 1',
        '',
      ].join('\n'),
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'ack-on-read', native));
});
