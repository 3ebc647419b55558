// timerfd, signalfd, POSIX timers (glibc's SIGEV_THREAD included), rt_sigtimedwait, the
// sigqueue calls and the CPU-time interval timers against Linux: testdata/timers.c runs natively
// and under tsvisor and must print the same lines.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'timers', ['-O1', '-Wall', '-Werror', '-pthread']);
  native = execFileSync(exe, { encoding: 'utf8', timeout: 20_000 });
});

describe('timers.c', () => {
  it('prints what Linux answers', () => {
    // The program must show Linux's behaviour, or the comparison below proves nothing.
    expect(native).toContain('expirations 11\n');
    expect(native).toContain('signo 34 code -1 pid_ok 1 uid 0 int 42\n');
    expect(native).toContain(
      'sigtimedwait = SIGRTMIN 1 code SI_TIMER 1 timerid_ok 1 value 0x1234 overrun in 5..expirations-1 1\n',
    );
    expect(native).toContain('sigtimedwait(again, 0) finds no second signal 1\n');
    expect(native).toContain('callback value 77\n');
    expect(native).toContain('rt_sigqueueinfo(child, SI_USER) = -1 EPERM\n');
    expect(native).toContain('ITIMER_PROF fired 1, then disarmed 1\n');
    expect(native).toContain('  sigmask:\t0000000200000200\n');
    expect(native).toContain('sigtimedwait after timer_delete = -1 EAGAIN\n');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/timers'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  });
});
