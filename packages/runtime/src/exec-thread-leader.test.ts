// execve by a thread that is not its process's leader: Linux's de_thread gives the exec'ing
// thread the leader's pid (gettid() == getpid() afterwards, /proc/self/task lists that pid alone,
// the old thread's tid names nothing, the parent's waitpid sees the pid it forked).
// testdata/exec-thread-leader.c prints 0/1 answers, natively and then under tsvisor; before the
// fix tsvisor's exec'ing thread kept its own tid.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let exe = '';
const bed = testbed((dir) => {
  exe = compile(dir, 'exec-thread-leader', ['-O1', '-Wall', '-Werror', '-pthread']);
});

describe('execve from a non-leader thread', () => {
  it.each([
    ['while the leader waits', []],
    ['after the leader has exited', ['zombie']],
  ])('takes over the leader pid as on Linux %s', async (_, args) => {
    const native = execFileSync(exe, args, { encoding: 'utf8' });
    // The native run is the reference: every line must be a 1 there.
    expect(native).not.toMatch(/: 0$/m);
    expect(native.split('\n').filter(Boolean)).toHaveLength(11);
    const run = await bed.run(['/test/exec-thread-leader', ...args], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(native);
    expect(run.status).toBe(0);
    expect(run.log.filter((l) => l.includes('bug'))).toEqual([]);
  });

  it('ends the process once in the strace output, under its pid', async () => {
    const lines: string[] = [];
    const run = await bed.run(['/test/exec-thread-leader'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
      strace: (l) => lines.push(l),
    });
    expect(run.status).toBe(0);
    // The child is pid 2: its exec'ing thread (tid 3) became it, the retired leader ends nothing.
    expect(lines.filter((l) => l.includes('+++ exited with 7 +++'))).toEqual([
      '[pid     2] +++ exited with 7 +++',
    ]);
    expect(lines.filter((l) => l.includes('+++ exited with 0 +++'))).toHaveLength(1);
  });
});
