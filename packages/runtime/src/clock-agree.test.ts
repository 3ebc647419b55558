// The kernel's clock against the vDSO's: testdata/clock-agree.c checks that SO_TIMESTAMPNS,
// time(2) and file times fall between the program's own clock_gettime readings, natively and
// under tsvisor. Before the supervisor read the host's realtime offset exactly, its realtime lay
// up to a millisecond behind the vDSO's and nearly every timestamp came before its send.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'clock-agree', ['-O1', '-Wall', '-Werror']);
  native = execFileSync(exe, [], { encoding: 'utf8', timeout: 20_000 });
});

describe('clock-agree.c', () => {
  it('finds every timestamp in order on the host kernel', () => {
    expect(native).toContain('SO_TIMESTAMPNS before the send: 0, after the receive: 0, missing: 0');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/clock-agree'], {
      network: 'none',
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  }, 60_000);
});
