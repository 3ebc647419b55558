// Scheduling policy calls (sched_setscheduler family, sched_setattr/getattr, the EPERM rules of
// an unprivileged user, SCHED_RESET_ON_FORK across fork), affinity, fallocate and the other
// byte-range calls, fcntl(F_NOTIFY), the old utime/utimes/futimesat/getdents, copy_file_range,
// splice, pidfds (poll on exit, waitid P_PIDFD, pidfd_getfd) and statvfs against Linux:
// testdata/sched-fileops.c runs natively (on the host's /dev/shm tmpfs) and under tsvisor (on
// its /tmp tmpfs) and must print the same lines.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'sched-fileops', ['-O1', '-Wall', '-Werror']);
  native = execFileSync(exe, ['/dev/shm'], { encoding: 'utf8', timeout: 20_000 });
});

describe('sched-fileops.c', () => {
  it('prints what Linux answers', () => {
    // The program must show Linux's behaviour, or the comparison below proves nothing.
    expect(native).toContain('setscheduler(RR, 7) = 0 \ngetscheduler = 2 \n');
    expect(native).toContain('rr_get_interval(RR) = 0 \n  0.100000000\n');
    expect(native).toContain('child: policy 0 nice 0\n');
    expect(native).toContain('user setscheduler(FIFO 1) = -1 EPERM\n');
    expect(native).toContain('child affinity count 1\n');
    expect(native).toContain('fallocate(PUNCH alone) = -1 EOPNOTSUPP\n');
    expect(native).toContain('F_NOTIFY(dir, DN_MULTISHOT) = 0 \n');
    expect(native).toContain('total>0 1 used>0 1 free<=total 1\n');
    expect(native).toContain('utimes = 0 \n  atime 1000000.250000000 mtime 2000000.999999000\n');
    expect(native).toContain('getdents: 4 entries, 3 with the right d_type\n');
    expect(native).toContain('copy_file_range(5.., 2.., 10) = 10 \n  off_in 15 off_out 12 pos_b 0\n');
    expect(native).toContain('splice(empty pipe, NONBLOCK) = -1 EAGAIN\n');
    expect(native).toContain('poll(exiting child, 5 s) = 1 \n  revents 0x1\n');
    expect(native).toContain('waitid(P_PIDFD) = 0 \n  pid ok 1 code 1 status 7\n');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/sched-fileops', '/tmp'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  });
});
