// epoll against Linux: testdata/epoll-nest.c (nesting limits and loops, EPOLLEXCLUSIVE's errors,
// closed files leaving epoll sets) runs natively and under tsvisor and must print the same.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'epoll-nest', ['-O1', '-Wall', '-Werror']);
  native = execFileSync(exe, [], { encoding: 'utf8', timeout: 20_000 });
});

describe('epoll-nest.c', () => {
  it('shows the limits and rules on the host kernel', () => {
    expect(native).toContain('add e3 into e4 = 0\nadd e4 into e5 = ELOOP\n');
    expect(native).toContain('add b into a (cycle) = ELOOP\n');
    expect(native).toContain('add x4 into x3 = 0\nadd x5 into x4 = ELOOP\n');
    expect(native).toContain('MOD EPOLLEXCLUSIVE of a fd not added = EINVAL\n');
    expect(native).toContain('ready after closing every watched file: 0\n');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/epoll-nest'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  });
});
