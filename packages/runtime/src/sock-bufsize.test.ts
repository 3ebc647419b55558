// SO_SNDBUF and SO_RCVBUF on netstack's TCP sockets as on Linux: testdata/sock-bufsize.c prints
// how much a non-blocking sender can queue with SO_SNDBUF 4096 (set before or after connect),
// POLLOUT around it, how much a peer with SO_RCVBUF 4096 (at SYN time or later) holds, and the
// RST of a close with unread data (ECONNRESET, then EPIPE and SIGPIPE), natively and under
// tsvisor (network mode none: netstack on loopback); both must print the same.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

const bed = testbed((dir) => compile(dir, 'sock-bufsize', ['-O1', '-Wall', '-Werror']));

describe('SO_SNDBUF and SO_RCVBUF on netstack TCP sockets', () => {
  it('sock-bufsize.c prints what it prints natively', async () => {
    const want = execFileSync(join(bed.dir, 'sock-bufsize'), { encoding: 'utf8', timeout: 30_000 });
    // The program must show Linux's behaviour natively, not only agree with tsvisor.
    expect(want).toContain('sndbuf 4096 set after connect: get 8192\n');
    expect(want.match(/accepted >= 4096: yes, < 64 KiB: yes\n/g)).toHaveLength(2);
    expect(want.match(/pollout when full: 0, send: EAGAIN\n/g)).toHaveLength(2);
    expect(want).toContain('peer queue > 0: yes, <= 8192: yes\n  default peer queue > 64 KiB: yes\n');
    expect(want).toContain('then the peer holds at most 8 KiB: yes, and reads on: yes\n');
    expect(want).toContain('send: ECONNRESET, again: EPIPE, without MSG_NOSIGNAL: EPIPE, SIGPIPE 1\n');
    expect(want).toContain('blocked sender of 256 KiB: sent all: no, error: ECONNRESET\n');
    expect(want).toContain('blocked writer of 256 KiB: sent all: no, error: ECONNRESET\n');
    const r = await bed.run(['/test/sock-bufsize'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(want);
    expect(r.status).toBe(0);
  }, 60_000);
});
