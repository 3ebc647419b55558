// SO_REUSEPORT members that stop and start again, against Linux: testdata/reuseport-rejoin.c (a
// TCP listener shut down or disconnected leaves its group and rejoins at the end when it listens
// again; a UDP socket that connects leaves its group, the program still picking among the others)
// runs in a fresh network namespace and under tsvisor and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'reuseport-rejoin', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('reuseport-rejoin.c', () => {
  it('moves members as the host kernel does', () => {
    expect(native).toContain('l1 listens again: 0\ngroup: l0 l3 l2 l1\n');
    expect(native).toContain('group (unchanged): l0 l3 l2 l1\n');
    expect(native).toContain('connect(l3, AF_UNSPEC): 0\n');
    expect(native).toContain('from the sender, first byte 0..2: m0 m3 m2\n');
    expect(native).toContain('by the hash, 8 new senders: 0 to the connected member, 0 lost\n');
    // UDP-Lite bound to an address: m1 stays in the group, and the program's 1 picks it.
    expect(native).toContain('m1 connects to the peer: 0\nfrom the sender, first byte 0..2: m0 m1 m2\n');
    expect(native).not.toMatch(/l-1|l-2|m-1|m-2|nobody|attach:/);
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'reuseport-rejoin', native), 60_000);
});
