/**
 * The same syscalls with the same (mostly bad) arguments, run natively by a generated C program
 * and under tsvisor's handlers: return values and errnos must agree.
 */
import { ArchPrctl, Prctl, Signal, WaitOption, syscallByName } from '@tsvisor/abi';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BAD, BUF, asC, harness } from './harness.test-util.js';

type Arg = number | bigint | 'BUF' | 'BUF1' | 'BAD' | 'NULL';
/** Bytes to place in BUF before the call: [offset, width, value]. */
type Fill = [number, 4 | 8, number | bigint] | [number, 'str', string];

interface Case {
  readonly name: string;
  readonly args: Arg[];
  readonly fill?: Fill[];
}

const NOPID = 0x3fffffff;
const cases: Case[] = [
  { name: 'rt_sigaction', args: [Signal.SIGKILL, 'BUF', 'NULL', 8] },
  { name: 'rt_sigaction', args: [Signal.SIGUSR1, 'NULL', 'NULL', 4] },
  { name: 'rt_sigaction', args: [65, 'NULL', 'NULL', 8] },
  { name: 'rt_sigaction', args: [0, 'NULL', 'NULL', 8] },
  { name: 'rt_sigaction', args: [Signal.SIGUSR1, 'BAD', 'NULL', 8] },
  { name: 'rt_sigaction', args: [Signal.SIGUSR1, 'NULL', 'BAD', 8] },
  { name: 'rt_sigaction', args: [Signal.SIGSTOP, 'NULL', 'BUF', 8] },
  { name: 'rt_sigprocmask', args: [99, 'BUF', 'NULL', 8] },
  { name: 'rt_sigprocmask', args: [0, 'BAD', 'NULL', 8] },
  { name: 'rt_sigprocmask', args: [0, 'NULL', 'NULL', 16] },
  { name: 'rt_sigprocmask', args: [99, 'NULL', 'NULL', 8] },
  { name: 'rt_sigprocmask', args: [0, 'NULL', 'BAD', 8] },
  { name: 'rt_sigpending', args: ['BUF', 16] },
  { name: 'rt_sigpending', args: ['BAD', 8] },
  { name: 'rt_sigsuspend', args: ['BUF', 4] },
  { name: 'rt_sigsuspend', args: ['BAD', 8] },
  { name: 'getrlimit', args: [99, 'BUF'] },
  { name: 'getrlimit', args: [7, 'BAD'] },
  {
    name: 'setrlimit',
    args: [7, 'BUF'],
    fill: [
      [0, 8, 10],
      [8, 8, 5],
    ],
  },
  { name: 'setrlimit', args: [7, 'BAD'] },
  { name: 'setrlimit', args: [99, 'BUF'] },
  { name: 'prlimit64', args: [0, 99, 'NULL', 'NULL'] },
  { name: 'prlimit64', args: [NOPID, 7, 'NULL', 'BUF'] },
  { name: 'prlimit64', args: [0, 7, 'NULL', 'BAD'] },
  { name: 'getrusage', args: [5, 'BUF'] },
  { name: 'getrusage', args: [0, 'BAD'] },
  { name: 'clock_gettime', args: [99, 'BUF'] },
  { name: 'clock_gettime', args: [0, 'BAD'] },
  { name: 'clock_gettime', args: [-1, 'BUF'] },
  { name: 'clock_gettime', args: [1, 'BUF'] },
  { name: 'clock_getres', args: [1, 'NULL'] },
  { name: 'clock_getres', args: [99, 'NULL'] },
  { name: 'clock_getres', args: [1, 'BAD'] },
  { name: 'nanosleep', args: ['BUF', 'NULL'], fill: [[8, 8, 1_000_000_000]] },
  { name: 'nanosleep', args: ['BUF', 'NULL'], fill: [[0, 8, -1n]] },
  { name: 'nanosleep', args: ['BAD', 'NULL'] },
  { name: 'nanosleep', args: ['BUF', 'NULL'] },
  { name: 'clock_nanosleep', args: [99, 0, 'BUF', 'NULL'] },
  { name: 'clock_nanosleep', args: [3, 0, 'BUF', 'NULL'] },
  { name: 'clock_nanosleep', args: [1, 0, 'BAD', 'NULL'] },
  { name: 'clock_nanosleep', args: [1, 0, 'BUF', 'NULL'], fill: [[8, 8, -5n]] },
  { name: 'gettimeofday', args: ['NULL', 'NULL'] },
  { name: 'gettimeofday', args: ['BAD', 'NULL'] },
  { name: 'gettimeofday', args: ['NULL', 'BAD'] },
  { name: 'time', args: ['BAD'] },
  { name: 'getrandom', args: ['BUF', 16, 8] },
  { name: 'getrandom', args: ['BUF', 16, 6] },
  { name: 'getrandom', args: ['BAD', 16, 0] },
  { name: 'getrandom', args: ['BUF', 16, 0] },
  { name: 'getrandom', args: ['BAD', 0, 0] },
  { name: 'sched_getaffinity', args: [0, 4, 'BUF'] },
  { name: 'sched_getaffinity', args: [0, 8, 'BAD'] },
  { name: 'sched_getaffinity', args: [NOPID, 8, 'BUF'] },
  { name: 'sched_getaffinity', args: [-1, 8, 'BUF'] },
  { name: 'sched_yield', args: [] },
  { name: 'getcpu', args: ['BAD', 'NULL', 'NULL'] },
  { name: 'getcpu', args: ['NULL', 'NULL', 'NULL'] },
  { name: 'wait4', args: [-1, 'NULL', 0x100, 'NULL'] },
  { name: 'wait4', args: [-1, 'NULL', 0, 'NULL'] },
  { name: 'wait4', args: [-1, 'NULL', WaitOption.WNOHANG, 'NULL'] },
  { name: 'wait4', args: [-0x80000000, 'NULL', 0, 'NULL'] },
  { name: 'waitid', args: [0, 0, 'BUF', 0, 'NULL'] },
  { name: 'waitid', args: [99, 0, 'BUF', WaitOption.WEXITED, 'NULL'] },
  { name: 'waitid', args: [1, 0, 'BUF', WaitOption.WEXITED, 'NULL'] },
  { name: 'waitid', args: [2, -1, 'BUF', WaitOption.WEXITED, 'NULL'] },
  { name: 'waitid', args: [0, 0, 'BUF', WaitOption.WEXITED, 'NULL'] },
  { name: 'kill', args: [NOPID, 0] },
  { name: 'kill', args: [1, 65] },
  { name: 'kill', args: [-0x80000000, 0] },
  { name: 'tgkill', args: [0, 1, 0] },
  { name: 'tgkill', args: [1, 0, 0] },
  { name: 'tgkill', args: [1, NOPID, 0] },
  { name: 'tkill', args: [0, 0] },
  { name: 'tkill', args: [-3, 0] },
  {
    name: 'sigaltstack',
    args: ['BUF', 'NULL'],
    fill: [
      [0, 8, 0x10000],
      [16, 8, 100],
    ],
  },
  {
    name: 'sigaltstack',
    args: ['BUF', 'NULL'],
    fill: [
      [8, 4, 99],
      [16, 8, 100000],
    ],
  },
  { name: 'sigaltstack', args: ['BAD', 'NULL'] },
  { name: 'sigaltstack', args: ['NULL', 'BAD'] },
  { name: 'sigaltstack', args: ['NULL', 'NULL'] },
  { name: 'prctl', args: [9999, 0, 0, 0, 0] },
  { name: 'prctl', args: [Prctl.PR_SET_PDEATHSIG, 99, 0, 0, 0] },
  { name: 'prctl', args: [Prctl.PR_GET_DUMPABLE, 0, 0, 0, 0] },
  { name: 'prctl', args: [Prctl.PR_SET_DUMPABLE, 5, 0, 0, 0] },
  { name: 'prctl', args: [Prctl.PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0] },
  { name: 'prctl', args: [Prctl.PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0] },
  { name: 'prctl', args: [Prctl.PR_GET_NAME, 'BAD', 0, 0, 0] },
  { name: 'prctl', args: [Prctl.PR_SET_NAME, 'BAD', 0, 0, 0] },
  { name: 'prctl', args: [Prctl.PR_GET_PDEATHSIG, 'BAD', 0, 0, 0] },
  { name: 'prctl', args: [Prctl.PR_CAPBSET_READ, 99, 0, 0, 0] },
  { name: 'prctl', args: [Prctl.PR_CAPBSET_READ, 0, 0, 0, 0] },
  { name: 'arch_prctl', args: [0x9999, 0] },
  { name: 'arch_prctl', args: [ArchPrctl.ARCH_GET_FS, 'BAD'] },
  { name: 'arch_prctl', args: [ArchPrctl.ARCH_SET_FS, 0xffff800000000000n] },
  { name: 'set_robust_list', args: ['BUF', 0] },
  { name: 'get_robust_list', args: [NOPID, 'BUF', 'BUF'] },
  { name: 'getgroups', args: [-1, 'BUF'] },
  { name: 'setgroups', args: [-1, 'NULL'] },
  { name: 'setgroups', args: [70000, 'NULL'] },
  { name: 'setgroups', args: [1, 'BAD'] },
  { name: 'getresuid', args: ['BAD', 'BUF', 'BUF'] },
  { name: 'getresgid', args: ['BUF', 'BUF', 'BAD'] },
  { name: 'sethostname', args: ['BUF', 65] },
  { name: 'sethostname', args: ['BUF', -1] },
  { name: 'sethostname', args: ['BAD', 5] },
  { name: 'syslog', args: [99, 'NULL', 0] },
  { name: 'syslog', args: [3, 'NULL', 10] },
  { name: 'syslog', args: [3, 'BUF', -1] },
  { name: 'syslog', args: [8, 'NULL', 9] },
  { name: 'uname', args: ['BAD'] },
  { name: 'setpgid', args: [0, -1] },
  { name: 'setpgid', args: [NOPID, 0] },
  { name: 'getpgid', args: [NOPID] },
  { name: 'getsid', args: [NOPID] },
  { name: 'umask', args: [0o77] },
  { name: 'restart_syscall', args: [] },
  { name: 'times', args: ['BAD'] },
  // files (tsvisor's root is an empty tmpfs here; every path below is absent on the host too)
  { name: 'read', args: [9999, 'BUF', 1] },
  { name: 'write', args: [9999, 'BUF', 1] },
  { name: 'close', args: [9999] },
  { name: 'close', args: [-1] },
  { name: 'lseek', args: [9999, 0, 0] },
  { name: 'fcntl', args: [9999, 1, 0] },
  { name: 'dup', args: [9999] },
  { name: 'dup2', args: [9999, 5] },
  { name: 'dup3', args: [9999, 5, 0] },
  { name: 'fstat', args: [9999, 'BUF'] },
  { name: 'getdents64', args: [9999, 'BUF', 100] },
  { name: 'pipe2', args: ['BUF', 1] },
  { name: 'pipe2', args: ['BAD', 0] },
  { name: 'getcwd', args: ['BUF', 1] },
  { name: 'getcwd', args: ['BAD', 100] },
  { name: 'mkdir', args: ['BAD', 0o755] },
  { name: 'openat', args: [-100, 'BAD', 0, 0] },
  { name: 'openat', args: [-100, 'BUF', 0, 0] },
  { name: 'openat', args: [-100, 'BUF', 0, 0], fill: [[0, 'str', '/tsvisor-nonexistent/x']] },
  { name: 'openat', args: [-100, 'BUF', 0, 0], fill: [[0, 'str', '/' + 'a'.repeat(5000)]] },
  { name: 'openat', args: [-100, 'BUF', 0o100 | 0o200000, 0], fill: [[0, 'str', '/tsvisor-x']] },
  { name: 'openat', args: [9999, 'BUF', 0, 0], fill: [[0, 'str', 'relative']] },
  { name: 'unlinkat', args: [-100, 'BUF', 1], fill: [[0, 'str', 'x']] },
  { name: 'readlinkat', args: [-100, 'BUF', 'BUF', 0], fill: [[0, 'str', '/']] },
  { name: 'readlinkat', args: [-100, 'BUF', 'BUF', 100], fill: [[0, 'str', '/']] },
  { name: 'newfstatat', args: [-100, 'BUF', 'BUF', 0x4000], fill: [[0, 'str', '/']] },
  { name: 'newfstatat', args: [-100, 'BUF', 'BAD', 0], fill: [[0, 'str', '/']] },
  { name: 'faccessat2', args: [-100, 'BUF', 8, 0], fill: [[0, 'str', '/']] },
  { name: 'faccessat2', args: [-100, 'BUF', 0, 0x1], fill: [[0, 'str', '/']] },
  { name: 'faccessat2', args: [-100, 'BUF', 0, 0], fill: [[0, 'str', '/']] },
  { name: 'renameat2', args: [-100, 'BUF', -100, 'BUF', 3], fill: [[0, 'str', '/a']] },
  { name: 'chdir', args: ['BUF'], fill: [[0, 'str', '/tsvisor-nonexistent']] },
  { name: 'truncate', args: ['BUF', -1], fill: [[0, 'str', '/tsvisor-nonexistent']] },
  { name: 'rmdir', args: ['BUF'], fill: [[0, 'str', '/']] },
  // futex
  { name: 'futex', args: ['BUF1', 0, 0, 'NULL', 'NULL', 0] },
  { name: 'futex', args: ['BUF', 0, 1, 'NULL', 'NULL', 0] },
  { name: 'futex', args: ['BUF', 1, 1, 'NULL', 'NULL', 0] },
  { name: 'futex', args: ['BUF', 9 | 128, 0, 'NULL', 'NULL', 0] },
  { name: 'futex', args: ['BUF', 0 | 256, 0, 'NULL', 'NULL', 0] },
  { name: 'futex', args: ['BAD', 0, 0, 'NULL', 'NULL', 0] },
  {
    name: 'futex',
    args: ['BUF', 0, 0, 'BUF'],
    fill: [
      [0, 8, 0],
      [8, 8, 0],
    ],
  },
  { name: 'futex', args: ['BUF', 128, 0, 'BUF'], fill: [[8, 8, 1_000_000_000]] },
  { name: 'futex', args: ['BUF', 99, 0, 'NULL', 'NULL', 0] },
  { name: 'futex', args: ['BUF', 4, 1, 1, 'BUF', 5] },
  { name: 'futex', args: ['BUF', 3, -1, 1, 'BUF', 0] },
  // poll and select
  { name: 'poll', args: ['NULL', 0, 0] },
  { name: 'poll', args: ['BAD', 1, 0] },
  {
    name: 'poll',
    args: ['BUF', 1, 0],
    fill: [
      [0, 4, 9999],
      [4, 4, 1],
    ],
  },
  {
    name: 'poll',
    args: ['BUF', 1, 0],
    fill: [
      [0, 4, -1],
      [4, 4, 1],
    ],
  },
  { name: 'poll', args: ['BUF', 0x7fffffff, 0] },
  { name: 'select', args: [-1, 'NULL', 'NULL', 'NULL', 'NULL'] },
  {
    name: 'select',
    args: [5, 'BUF', 'NULL', 'NULL', 'BUF'],
    fill: [
      [0, 8, 8],
      [8, 8, 0],
      [16, 8, 0],
    ],
  },
  {
    name: 'select',
    args: [10000, 'BUF', 'NULL', 'NULL', 'BUF'],
    fill: [
      [1240, 8, 0x8000],
      [8, 8, 0],
      [16, 8, 0],
    ],
  },
  {
    name: 'select',
    args: [0, 'NULL', 'NULL', 'NULL', 'BUF'],
    fill: [
      [0, 8, 0],
      [8, 8, 0],
    ],
  },
  {
    name: 'select',
    args: [0, 'NULL', 'NULL', 'NULL', 'BUF'],
    fill: [
      [0, 8, 0],
      [8, 8, -1n],
    ],
  },
  {
    name: 'ppoll',
    args: ['BUF', 1, 'BUF', 'NULL', 8],
    fill: [
      [0, 4, -1],
      [8, 8, 2_000_000_000],
    ],
  },
  { name: 'ppoll', args: ['NULL', 0, 'BUF', 'BUF', 4] },
  { name: 'pselect6', args: [-1, 'NULL', 'NULL', 'NULL', 'NULL', 'NULL'] },
  // timers and priorities
  { name: 'alarm', args: [0] },
  { name: 'getitimer', args: [5, 'BUF'] },
  { name: 'getitimer', args: [0, 'BAD'] },
  { name: 'getitimer', args: [0, 'BUF'] },
  { name: 'setitimer', args: [0, 'BUF', 'NULL'], fill: [[24, 8, 1_000_000]] },
  { name: 'setitimer', args: [9, 'BUF', 'NULL'] },
  { name: 'setitimer', args: [0, 'BAD', 'NULL'] },
  { name: 'sysinfo', args: ['BAD'] },
  { name: 'getpriority', args: [9, 0] },
  { name: 'getpriority', args: [0, NOPID] },
  { name: 'setpriority', args: [0, NOPID, 0] },
  { name: 'sched_getscheduler', args: [-1] },
  { name: 'sched_getscheduler', args: [NOPID] },
  { name: 'sched_getparam', args: [0, 'NULL'] },
  { name: 'fsync', args: [9999] },
  { name: 'flock', args: [9999, 2] },
  { name: 'flock', args: [9999, 3] },
  { name: 'flock', args: [9999, 99] },
  { name: 'flock', args: [-1, 8 | 4] },
  { name: 'tgkill', args: [-1, 1, 0] },
  { name: 'statx', args: [-100, 'BUF', 0x6000, 0x7ff, 'BUF1'], fill: [[0, 'str', '/']] },
  { name: 'utimensat', args: [-100, 'NULL', 'NULL', 0x8] },
  { name: 'utimensat', args: [-100, 'NULL', 'NULL', 0] },
  { name: 'utimensat', args: [9999, 'NULL', 'NULL', 0x100] },
  { name: 'pread64', args: [9999, 'BUF', 1, -1] },
  { name: 'fcntl', args: [9999, 5, 'NULL'] },
  { name: 'fadvise64', args: [9999, 0, 0, 0] },
  { name: 'sendfile', args: [9999, 9999, 'NULL', 10] },
  { name: 'syncfs', args: [9999] },
  { name: 'sync', args: [] },
  { name: 'lgetxattr', args: ['BUF', 'BUF', 'NULL', 0], fill: [[0, 'str', '/tsvisor-nonexistent']] },
  { name: 'lgetxattr', args: ['BAD', 'BUF', 'NULL', 0] },
  { name: 'fgetxattr', args: [9999, 'BUF', 'NULL', 0] },
  { name: 'fgetxattr', args: [9999, 'BUF', 'NULL', 0], fill: [[0, 'str', 'user.x']] },
  { name: 'getxattr', args: ['BUF', 'BUF', 'NULL', 0], fill: [[0, 'str', '/']] },
  { name: 'listxattr', args: ['BUF', 'NULL', 0], fill: [[0, 'str', '/tsvisor-nonexistent']] },
  { name: 'flistxattr', args: [9999, 'NULL', 0] },
  { name: 'chroot', args: ['BUF'], fill: [[0, 'str', '/tsvisor-nonexistent']] },
  { name: 'chroot', args: ['BAD'] },
  { name: 'eventfd2', args: [0, 0x10] },
  { name: 'capget', args: ['BUF', 'NULL'], fill: [[0, 4, 12345]] },
  { name: 'capget', args: ['BAD', 'NULL'] },
  {
    name: 'capget',
    args: ['BUF', 'BUF'],
    fill: [
      [0, 4, 0x20080522],
      [4, 4, NOPID],
    ],
  },
  { name: 'capget', args: ['BUF', 'BAD'], fill: [[0, 4, 0x20080522]] },
  {
    name: 'capget',
    args: ['BUF', 'NULL'],
    fill: [
      [0, 4, 0x20080522],
      [4, 4, -5],
    ],
  },
  { name: 'personality', args: [0xffffffff] },
  { name: 'unshare', args: [0x1] },
  { name: 'unshare', args: [0x400] },
  { name: 'epoll_create', args: [0] },
  { name: 'epoll_create1', args: [1] },
  { name: 'epoll_ctl', args: [9999, 1, 0, 'BUF'] },
  { name: 'epoll_wait', args: [9999, 'BUF', 1, 0] },
  { name: 'epoll_wait', args: [9999, 'BUF', 0, 0] },
];

function cArg(a: Arg): string {
  if (a === 'BUF') return '(long)buf';
  if (a === 'BUF1') return '(long)buf + 1';
  if (a === 'BAD') return '1L';
  if (a === 'NULL') return '0L';
  return `(long)${BigInt.asIntN(64, BigInt(a))}L`;
}

function program(): string {
  const lines = [
    '#define _GNU_SOURCE',
    '#include <stdio.h>',
    '#include <string.h>',
    '#include <errno.h>',
    '#include <unistd.h>',
    '#include <sys/stat.h>',
    '#include <sys/syscall.h>',
    'static _Alignas(4096) unsigned char buf[65536];',
    'int main(void) {',
    '  long r;',
    '  umask(022);',
  ];
  for (const c of cases) {
    const nr = syscallByName(c.name)?.nr;
    lines.push('  memset(buf, 0, sizeof buf);');
    for (const [off, width, v] of c.fill ?? []) {
      if (width === 'str') {
        lines.push(`  strcpy((char *)buf + ${off}, "${v}");`);
        continue;
      }
      const type = width === 8 ? 'long long' : 'int';
      lines.push(`  *(${type} *)(buf + ${off}) = (${type})${BigInt(v)}LL;`);
    }
    lines.push(`  errno = 0; r = syscall(${nr}, ${c.args.map(cArg).join(', ') || '0'});`);
    lines.push(`  printf("%ld %d\\n", r, r == -1 ? errno : 0);`);
  }
  lines.push('  return 0;', '}');
  return lines.join('\n');
}

describe('syscall results agree with the host kernel', () => {
  it('for bad pointers, lengths, flags, ids and a few valid calls', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-diff-'));
    writeFileSync(join(dir, 'diff.c'), program());
    execFileSync('gcc', ['-O0', '-o', join(dir, 'diff'), join(dir, 'diff.c')]);
    const native = execFileSync(join(dir, 'diff'), { encoding: 'utf8' }).trim().split('\n');
    const h = harness();
    const ours: string[] = [];
    for (const c of cases) {
      h.mem.write(BUF, new Uint8Array(65536));
      const view = new DataView(new ArrayBuffer(8));
      for (const [off, width, v] of c.fill ?? []) {
        if (width === 'str') {
          h.mem.write(BUF + off, new TextEncoder().encode(`${v}\0`));
          continue;
        }
        if (width === 8) view.setBigInt64(0, BigInt(v), true);
        else view.setInt32(0, Number(v), true);
        h.mem.write(BUF + off, new Uint8Array(view.buffer, 0, width));
      }
      const args = c.args.map((a) =>
        a === 'BUF' ? BUF : a === 'BUF1' ? BUF + 1 : a === 'BAD' ? BAD : a === 'NULL' ? 0 : a,
      );
      const [r, errno] = asC(await h.call(c.name, ...args));
      ours.push(`${r} ${errno}`);
    }
    const rows = cases.map(
      (c, i) => `${c.name}(${c.args.join(', ')}): native ${native[i]} tsvisor ${ours[i]}`,
    );
    const mismatches = rows.filter((_, i) => native[i] !== ours[i]);
    expect(mismatches).toEqual([]);
    expect(native.length).toBe(cases.length);
  });
});
