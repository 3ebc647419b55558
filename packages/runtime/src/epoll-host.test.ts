// epoll over host sockets (network mode `host`) against Linux: testdata/epoll-host-idle.c (300
// idle connections in the set, level- and edge-triggered, with busy ones, two connections made
// ready just before one wait, a peer's close and reset, one-shot, a socket closed while ready, a
// blocking wait woken by another process) runs natively and under tsvisor and must print the
// same. The sandbox learns of the host's changes from readiness watches, and its epoll asks only
// the sockets something happened to (the syscalls unit tests count the host polls).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'epoll-host-idle', ['-O1', '-Wall', '-Werror']);
  native = execFileSync(exe, [], { encoding: 'utf8', timeout: 20_000 });
});

describe('epoll-host-idle.c', () => {
  it('shows on the host kernel what each phase reports', () => {
    expect(native).toContain('idle 300: first wait 150 events, 150 writable edge-triggered, 0 others\n');
    expect(native).toContain('two sent to at once: 50 rounds, 0 wrong\n');
    expect(native).toContain('peer closed, edge-triggered: 1 events, 0x2001; again: 0 events\n');
    expect(native).toContain('idle connections reported after the first wait: 0\n');
  });

  it('prints the same under tsvisor in network mode host', async () => {
    const got = await bed.run(['/test/epoll-host-idle'], {
      network: 'host',
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  }, 60_000);
});
