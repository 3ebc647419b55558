// RTM_GETRULE against Linux: testdata/rtnl-rules.c dumps the policy routing rules byte for byte,
// natively in a fresh network namespace (lo up) and under tsvisor --network none.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'rtnl-rules', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('rtnl-rules.c', () => {
  it('dumps the default rules on the host kernel', () => {
    // IPv4's main rule: table 254, FR_ACT_TO_TBL, FRA_PRIORITY 32766.
    expect(native).toContain(
      'dump AF_INET:\n  type 32 flags 0x2 fixed 02000000ff00000100000000\n    attr 15 len 8: ff000000\n',
    );
    expect(native).toContain('    attr 6 len 8: fe7f0000\n');
    expect(native).toContain('dump AF_PACKET:\n  type 3 flags 0x2 done -97\n');
    expect(native).toContain('get AF_INET without NLM_F_DUMP:\n  type 2 flags 0x100 error EOPNOTSUPP\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'rtnl-rules', native));
});
