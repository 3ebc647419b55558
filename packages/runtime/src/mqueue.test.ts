// POSIX message queues against Linux: testdata/mqueue.c runs natively and under tsvisor and
// must print the same (errnos of mq_open, priorities, O_NONBLOCK, timeouts, a receive woken by
// a forked child, mq_notify signals and SIGEV_THREAD, mq_unlink while open, poll/select readiness).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'mqueue', ['-O1', '-Wall', '-Werror']);
  native = execFileSync(exe, [], { encoding: 'utf8', timeout: 20_000 });
});

describe('mqueue.c', () => {
  it('runs on the host kernel', () => {
    expect(native).toContain('next: b5 prio 5\nnext: e5 prio 5\nnext: a1 prio 1\nnext: c1 prio 1\n');
    expect(native).toContain('blocked receive got: from child prio 3\n');
    expect(native).toContain('signal 10 si_code -3 (SI_MESGQ -3) si_pid is child 1 si_uid 0 si_value 42\n');
    expect(native).toContain('mq_timedreceive empty, timeout = -1 ETIMEDOUT\n');
    expect(native).toContain('receive after unlink: still prio 2\n');
    expect(native).toContain('notification thread wrote: T\n');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/mqueue'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  });
});
