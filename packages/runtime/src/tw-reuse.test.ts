// connect(2) and TIME_WAIT on loopback (tcp_tw_reuse, the ports connect shares among peers),
// against Linux: testdata/tw-reuse.c runs in a fresh network namespace (lo up) and under tsvisor
// --network none and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'tw-reuse', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('tw-reuse.c', () => {
  it('takes over TIME_WAIT connections on the host kernel as tcp_tw_reuse says', () => {
    expect(native).toContain('fill the range: 10 of 10 connected, first failure -, ports in range yes\n');
    expect(native).toContain('tcp_tw_reuse 2, same peer: 10 of 10 connected');
    expect(native).toContain('tcp_tw_reuse 0, same peer: 0 of 3 connected, first failure EADDRNOTAVAIL');
    expect(native).toContain('tcp_tw_reuse 0, another peer: 3 of 3 connected');
    expect(native).toContain('tcp_tw_reuse 1, same peer: 10 of 10 connected');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'tw-reuse', native));
});
