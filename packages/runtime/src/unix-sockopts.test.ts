// SOL_SOCKET options of AF_UNIX sockets: testdata/unix-sockopts.c prints the defaults, round
// trips and errnos of SO_LINGER, SO_GET_FILTER, SO_BPF_EXTENSIONS, SO_MEMINFO, SO_TXTIME,
// SO_RESERVE_MEM, SO_PEERPIDFD, SO_RCVPRIORITY, SO_PASSRIGHTS and SO_PASSPIDFD on the three
// socket types, then their effects (the peer's pidfd from a socketpair, connect and accept,
// before and after the peer exits and is reaped; SCM_RIGHTS refused with SO_PASSRIGHTS off;
// SCM_PIDFD with SO_PASSPIDFD; SO_MEMINFO with data queued), natively and under tsvisor; both
// must print the same.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, testbed } from './c-programs.test-util.js';

const bed = testbed((dir) => compile(dir, 'unix-sockopts', ['-O1', '-Wall', '-Werror']));

describe('AF_UNIX socket options', () => {
  it('unix-sockopts.c prints what it prints natively', async () => {
    const want = execFileSync(join(bed.dir, 'unix-sockopts'), { encoding: 'utf8', timeout: 30_000 });
    // The program must show Linux's rules natively, not only agree with tsvisor.
    expect(want).toContain(
      'stream defaults: linger len 8 [0 0] filter len 0 [] bpfext len 4 [64] meminfo len 36 [0 212992 0 212992 0 0 0 0 0] txtime len 8 [0 0] resmem len 4 [0] peerpidfd ENODATA rcvprio len 4 [0] passrights len 4 [1] passpidfd len 4 [0]\n',
    );
    expect(want).toContain('set linger{0,9}/8 0 linger len 8 [0 5]');
    expect(want).toContain('set txtime{boottime,0}/8 EINVAL');
    expect(want).toContain('set resmem=4096/4 EOPNOTSUPP set resmem=0/4 EOPNOTSUPP set resmem=-1/4 EINVAL');
    expect(want).toContain('set passrights=7/4 0 passrights len 4 [1]');
    expect(want).toContain('stream pair: peerpidfd len 4 cloexec 1 pid peer signal0 0\n');
    expect(want).toContain('dgram connected: peerpidfd ENODATA\n');
    expect(want).toContain(
      'stream accepted: peerpidfd len 4 cloexec 1 pid peer signal0 0\n poll before exit 0\n poll for exit 1\n',
    );
    expect(want).toContain(
      ' old pidfd pid -1 poll 17\n reaped: peerpidfd len 4 cloexec 1 pid -1 signal0 ESRCH\n',
    );
    expect(want).toContain('stream passrights off at the receiver: rights EPERM plain 2\n');
    expect(want).toContain(
      'accepted from a listener with passrights 0: passrights len 4 [0] send rights EPERM\n',
    );
    expect(want).toContain(
      ' with rights: recv 2 "hi" CREDENTIALS(pid self) RIGHTS(open) PIDFD(cloexec 1, pid self)\n',
    );
    expect(want).toContain(' no control buffer: recv 2 "hi" CTRUNC\n');
    expect(want).toContain(' then: recv 2 "cd" CREDENTIALS(pid other) PIDFD(cloexec 1, pid none)\n');
    expect(want).toContain('stream without passpidfd, two senders: recv 4 "abcd"\n');
    expect(want).toContain('dgram with passpidfd connected: name length 8\n');
    expect(want).toContain(
      'credentials of pid 999999: ESRCH pid 0: ESRCH\ncredentials of a child: 2 recv 2 pidfd pid child\n',
    );
    expect(want).toContain(
      'stream meminfo: sender 0 212992 9472 100000 0 0 0 0 0 receiver 0 212992 0 212992',
    );
    await expectSameUnderTsvisor(bed, 'unix-sockopts', want, {});
  }, 60_000);
});
