// Signal-driven I/O (fcntl F_SETOWN/F_SETSIG/F_SETOWN_EX, O_ASYNC, FIOASYNC) against Linux:
// testdata/sigio.c runs natively and under tsvisor and must print the same.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'sigio', ['-O1', '-Wall', '-Werror']);
  native = execFileSync(exe, [], { encoding: 'utf8', timeout: 30_000 });
});

describe('sigio.c', () => {
  it('shows owners and O_ASYNC signals on the host kernel', () => {
    expect(native).toContain('F_SETOWN a pid nobody has = -1 ESRCH\n');
    expect(native).toContain('socketpair write without O_ASYNC: no signal\n');
    expect(native).toContain('socketpair write with O_ASYNC: signalled\n');
    expect(native).toContain(
      '  signal SIGRTMIN+1: 1, si_code POLL_IN: 1, si_fd is the fd: 1, si_band 0x41\n',
    );
    expect(native).toContain('pipe write with FIOASYNC: signalled\n');
    expect(native).toContain('TCP listener when a connection arrives: signalled\n');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/sigio'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  });
});
