// TCP urgent data on netstack sockets (CPython's test_asyncore test_handle_expt):
// testdata/sock-urgent.c sends with MSG_OOB and prints what the receiver sees (poll's POLLPRI,
// select's exceptfds, SIOCATMARK, FIONREAD, recv(MSG_OOB) and its errnos, SO_OOBINLINE, SIGURG
// to the F_SETOWN owner), and how select reports a connection reset by a peer that closed
// (test_handle_close_after_conn_broken) and an echo to a client that closed (test_asynchat's
// test_close_when_done), natively and under tsvisor (network mode none: netstack
// on loopback); both must print the same.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

const bed = testbed((dir) => compile(dir, 'sock-urgent', ['-O1', '-Wall', '-Werror']));

describe('TCP urgent data on netstack sockets', () => {
  it('sock-urgent.c prints what it prints natively', async () => {
    const want = execFileSync(join(bed.dir, 'sock-urgent'), { encoding: 'utf8', timeout: 30_000 });
    // The program must show Linux's rules natively, not only agree with tsvisor.
    expect(want).toContain('ab c! de: poll IN PRI select 2 r e atmark 0 inq 2\nrecv: 2 "ab"\n');
    expect(want).toContain('oob: 1 "c"\noob again: EINVAL\n');
    expect(want).toContain('recv: 7 "abcdefg"\noob: 1 "h"\n');
    expect(want).toContain('only u!: poll PRI select 1 e atmark 1 inq 0\n');
    expect(want).toContain('oob inline: EINVAL\n');
    expect(want).toContain('select waiting on exceptfds: 1 e about 0.10s\n');
    expect(want).toContain('SIGURG with an owner: 1\n');
    expect(want).toContain('reset: select 2 r w poll 0x201d\nSO_ERROR EPIPE\nsend: EPIPE\n');
    expect(want).toContain('echo: 1\necho: EPIPE\n');
    const r = await bed.run(['/test/sock-urgent'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(want);
    expect(r.status).toBe(0);
  }, 60_000);
});
