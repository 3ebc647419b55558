// PACKET_TX_RING against Linux: testdata/packet-tx-ring.c (frames sent from a mapped TX ring by
// send(2) with a NULL buffer, V1/V2/V3, bad frames, PACKET_LOSS, an RX and a TX ring in one
// mapping) runs in a fresh network namespace (lo up) and under tsvisor --network none and must
// print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'packet-tx-ring', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe, [], 30_000);
});

describe('packet-tx-ring.c', () => {
  it('sends ring frames on the host kernel', () => {
    expect(native).toContain('three frames: 144\nafter: 0 0 0 0\nreceived: a38 b48 c58\n');
    expect(native).toContain('too long: -1 EMSGSIZE\nafter: 0 0 4 1\n');
    expect(native).toContain('a bad frame among good ones: 76\n');
    expect(native).toContain('v3 tx with a timeout: -1 EINVAL\n');
    expect(native).toContain('v3 tx: 0\n');
    expect(native).toContain('rx frame 0: status 0x1 len 61 first byte x\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'packet-tx-ring', native), 60_000);
});
