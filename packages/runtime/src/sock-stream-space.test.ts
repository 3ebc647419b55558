// When netstack's TCP sockets are writable (issue 8): testdata/sock-stream-space.c prints the
// POLLOUT rule of Linux's tcp_poll (free send space at least half of what is queued), the
// TCP_NOTSENT_LOWAT gate and SO_SNDLOWAT, natively and under tsvisor (network mode none:
// netstack on loopback); both must print the same.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

const bed = testbed((dir) => compile(dir, 'sock-stream-space', ['-O1', '-Wall', '-Werror']));

describe('TCP writability on netstack sockets', () => {
  it('sock-stream-space.c prints what it prints natively', async () => {
    const want = execFileSync(join(bed.dir, 'sock-stream-space'), { encoding: 'utf8', timeout: 30_000 });
    // The program must show the rule natively, not only agree with tsvisor.
    expect(want).toContain('full: pollout 0 send EAGAIN\nroom free but not writable: yes\n');
    expect(want).toContain('writable again at 50-72% of full: yes\n');
    expect(want).toContain('filled: pollout 0, queue under 256 KiB: yes\n');
    const r = await bed.run(['/test/sock-stream-space'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(want);
    expect(r.status).toBe(0);
  }, 60_000);
});
