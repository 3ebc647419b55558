// The ACK for segments a reader has not taken yet, against Linux: testdata/ack-on-read.c (a
// client's full segments 2 ms apart that the server leaves unread, then one read; then a lone
// full segment with and without MSG_MORE, each read at once; ACKs counted in a capture of lo)
// runs in a fresh network namespace (lo up, its segmentation offloads off) and under tsvisor
// --network none and must print the same. netstack's tcp-options.test.ts has the rules
// (__tcp_ack_snd_check, tcp_cleanup_rbuf, tcp_measure_rcv_mss) in detail.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'ack-on-read', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('ack-on-read.c', () => {
  it('acknowledges unread segments when the reader takes them, a lone one only if it ended a write (host kernel)', () => {
    const lines = [1, 2, 3, 4, 5, 6].map((i) => `segment ${i}: unread ${988 * i}, ACKs since the last 0`);
    expect(native).toBe(
      [
        ...lines,
        'read 5928: ACKs 1',
        'one segment with MSG_MORE: ACKs before the read 0, read 988, ACKs at the read 0',
        'one segment: ACKs before the read 0, read 988, ACKs at the read 1',
        '',
      ].join('\n'),
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'ack-on-read', native));
});
