// epoll's ready list against Linux: testdata/epoll-ready.c (the order events are reported in,
// level-triggered interests back at the end after each report, edge-triggered and one-shot
// bookkeeping, closed files leaving the set, a set of 1500 idle pipes) runs natively and under
// tsvisor and must print the same.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'epoll-ready', ['-O1', '-Wall', '-Werror']);
  native = execFileSync(exe, [], { encoding: 'utf8', timeout: 20_000 });
});

describe('epoll-ready.c', () => {
  it('shows the ready list order on the host kernel', () => {
    expect(native).toContain('lt max 2: p3/1 p1/1\nlt max 2 again: p5/1 p3/1\n');
    expect(native).toContain('et after a partial read:\net after a new write: p4/1\n');
    expect(native).toContain('idle pipes added: 1500\n');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/epoll-ready'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  }, 60_000);
});
