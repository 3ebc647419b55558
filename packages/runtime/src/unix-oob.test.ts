// Out-of-band data on AF_UNIX stream sockets and SIOCINQ/SIOCOUTQ on unix sockets:
// testdata/unix-oob.c sends with MSG_OOB on a socketpair and on a bound pair and prints what the
// receiver sees (poll's POLLPRI, select's exceptfds, epoll's EPOLLPRI, SIOCATMARK, SIOCINQ and
// the sender's SIOCOUTQ, reads stopping at the mark, recv(MSG_OOB) and its errnos, SO_OOBINLINE,
// SO_PEEK_OFF, a newer byte replacing the mark, SIGURG to the F_SETOWN owner, MSG_OOB refused by
// datagram and seqpacket sockets), the queue counts for each socket type and how much a send
// buffer takes (Linux charges buffer memory, not bytes), natively and under tsvisor; both must
// print the same.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

const bed = testbed((dir) => compile(dir, 'unix-oob', ['-O1', '-Wall', '-Werror']));

describe('AF_UNIX out-of-band data', () => {
  it('unix-oob.c prints what it prints natively', async () => {
    const want = execFileSync(join(bed.dir, 'unix-oob'), { encoding: 'utf8', timeout: 30_000 });
    // The program must show Linux's rules natively, not only agree with tsvisor.
    expect(want).toContain(
      'abc d! ef: poll IN PRI select 2 r e epoll 1 PRI atmark 0 inq 6 outq 2304\nrecv 2: 2 "ab"\n',
    );
    expect(want).toContain('recv: 1 "c"\nat mark: poll IN PRI select 2 r e epoll 1 PRI atmark 1 inq 3');
    expect(want).toContain('oob: 1 "d"\noob again: EINVAL\n');
    expect(want).toContain('read: 5 "hello"\n');
    expect(want).toContain('read over the mark: 5 "world"\n');
    expect(want).toContain('recv: 3 "1A2"\n');
    expect(want).toContain('oob inline: EINVAL\n');
    expect(want).toContain('select waiting on exceptfds: 1 e waited\n');
    expect(want).toContain('poll waiting for POLLPRI: 1 PRI waited\n');
    expect(want).toContain('waitall: 2 "ab"\n');
    expect(want).toContain('blocking read over a lone byte: 4 "late" waited\n');
    expect(want).toContain('SIGURG without an owner: 0\n');
    expect(want).toContain('SIGURG with an owner: 1\nSIGURG after plain data: 1\n');
    expect(want).toContain("recvmsg oob: 1 'k' flags OOB\n");
    expect(want).toContain('dgram send oob: EOPNOTSUPP\n');
    expect(want).toContain('seqpacket recv oob: EOPNOTSUPP\n');
    expect(want).toContain('stream 3+5: inq 8 outq 1536 peer outq 0 own inq 0\n');
    expect(want).toContain('dgram 3+5: inq 3 outq 1536');
    expect(want).toContain('seqpacket 3+5: inq 8 outq 1536');
    // Buffer memory, not bytes, counts against SO_SNDBUF.
    expect(want).toContain('stream fill by 1 (SO_SNDBUF 0): 278 in 278 sends, then EAGAIN; outq 213504');
    expect(want).toContain('dgram fill by 100000 (SO_SNDBUF 0): 300000 in 3 sends, then EAGAIN');
    const r = await bed.run(['/test/unix-oob'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(want);
    expect(r.status).toBe(0);
  }, 60_000);
});
