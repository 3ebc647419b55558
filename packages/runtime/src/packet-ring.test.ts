// PACKET_RX_RING against Linux: testdata/packet-ring.c (TPACKET_V2 and V3 rings on lo, with a
// known set of datagrams) runs in a fresh network namespace (lo up) and under tsvisor
// --network none and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'packet-ring', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe, [], 30_000);
});

describe('packet-ring.c', () => {
  it('fills V2 frames and V3 blocks on the host kernel', () => {
    expect(native).toContain('ring again: -1 EBUSY\n');
    expect(native).toMatch(/full: frame 2 status 0x9 len 2042 snaplen 1982 mac 66 net 80 /);
    expect(native).toContain('stats len 8 packets 10 drops 2\n');
    expect(native).toMatch(/block 0: version 2 priv 48 status 0x21 pkts 2 first 48 len 320 seq 1 ts 1 1\n/);
    expect(native).toContain('stats len 12 packets 10 drops 4 freezes 1\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'packet-ring', native), 60_000);
});
