/**
 * Test helper: where each registered struct lives in C, and a runner that compiles a small C
 * program with gcc into a temp dir and returns what it prints.
 *
 * Two translation units, because the kernel's uapi headers and glibc's declare clashing types
 * (struct stat, sigset_t, struct sigaction, termios):
 * - `glibc`: glibc's headers, for structs whose glibc layout is the kernel's on x86-64;
 * - `uapi`: only <linux/*.h> and <asm/*.h>, for the kernel's own structs (stat from asm/stat.h,
 *   sigaction from asm/signal.h, termios with NCCS 19 from asm/termbits.h, siginfo, sigcontext,
 *   ucontext, statx, clone_args, open_how, the robust list, capabilities, sockaddr_storage).
 * Two structs have no uapi header and are written here from the kernel source layout:
 * `struct linux_dirent64` (include/linux/dirent.h) and `struct rt_sigframe`
 * (arch/x86/include/asm/sigframe.h).
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The C side of one struct: its unit, its C type, and C member designators that differ by name. */
export interface CStruct {
  unit: 'glibc' | 'uapi';
  ctype: string;
  /** TS field name -> C member designator (may be nested: `list.next`); default: the same name. */
  members?: Record<string, string>;
}

export const cStructs: Record<string, CStruct> = {
  stat: { unit: 'uapi', ctype: 'struct stat' },
  statx_timestamp: { unit: 'uapi', ctype: 'struct statx_timestamp' },
  statx: { unit: 'uapi', ctype: 'struct statx' },
  statfs: { unit: 'glibc', ctype: 'struct statfs' },
  linux_dirent64: { unit: 'uapi', ctype: 'struct linux_dirent64' },
  timespec: { unit: 'glibc', ctype: 'struct timespec' },
  timeval: { unit: 'glibc', ctype: 'struct timeval' },
  itimerspec: { unit: 'glibc', ctype: 'struct itimerspec' },
  itimerval: { unit: 'glibc', ctype: 'struct itimerval' },
  timezone: { unit: 'glibc', ctype: 'struct timezone' },
  rusage: { unit: 'glibc', ctype: 'struct rusage' },
  tms: { unit: 'glibc', ctype: 'struct tms' },
  utsname: { unit: 'glibc', ctype: 'struct utsname' },
  sysinfo: { unit: 'glibc', ctype: 'struct sysinfo' },
  iovec: { unit: 'glibc', ctype: 'struct iovec' },
  msghdr: { unit: 'glibc', ctype: 'struct msghdr' },
  cmsghdr: { unit: 'glibc', ctype: 'struct cmsghdr' },
  sockaddr: { unit: 'glibc', ctype: 'struct sockaddr' },
  sockaddr_in: { unit: 'glibc', ctype: 'struct sockaddr_in' },
  sockaddr_in6: { unit: 'glibc', ctype: 'struct sockaddr_in6' },
  sockaddr_un: { unit: 'glibc', ctype: 'struct sockaddr_un' },
  sockaddr_nl: { unit: 'glibc', ctype: 'struct sockaddr_nl' },
  sockaddr_storage: { unit: 'uapi', ctype: 'struct __kernel_sockaddr_storage' },
  linger: { unit: 'glibc', ctype: 'struct linger' },
  ucred: { unit: 'glibc', ctype: 'struct ucred' },
  pollfd: { unit: 'glibc', ctype: 'struct pollfd' },
  epoll_event: { unit: 'uapi', ctype: 'struct epoll_event' },
  kernel_sigaction: { unit: 'uapi', ctype: 'struct sigaction' },
  siginfo: { unit: 'uapi', ctype: 'siginfo_t' },
  sigset: { unit: 'uapi', ctype: 'sigset_t' },
  stack_t: { unit: 'uapi', ctype: 'stack_t' },
  sigcontext: { unit: 'uapi', ctype: 'struct sigcontext' },
  fpx_sw_bytes: { unit: 'uapi', ctype: 'struct _fpx_sw_bytes' },
  fpstate: { unit: 'uapi', ctype: 'struct _fpstate_64' },
  xstate_header: { unit: 'uapi', ctype: 'struct _header' },
  ucontext: { unit: 'uapi', ctype: 'struct ucontext' },
  rt_sigframe: { unit: 'uapi', ctype: 'struct rt_sigframe' },
  rlimit: { unit: 'glibc', ctype: 'struct rlimit' },
  termios: { unit: 'uapi', ctype: 'struct termios' },
  termios2: { unit: 'uapi', ctype: 'struct termios2' },
  winsize: { unit: 'glibc', ctype: 'struct winsize' },
  clone_args: { unit: 'uapi', ctype: 'struct clone_args' },
  open_how: { unit: 'uapi', ctype: 'struct open_how' },
  robust_list_head: { unit: 'uapi', ctype: 'struct robust_list_head', members: { list_next: 'list.next' } },
  sched_param: { unit: 'glibc', ctype: 'struct sched_param' },
  cap_user_header: { unit: 'uapi', ctype: 'struct __user_cap_header_struct' },
  cap_user_data: { unit: 'uapi', ctype: 'struct __user_cap_data_struct' },
};

/** Headers and declarations at the top of each unit. */
export const unitPreludes: Record<CStruct['unit'], string> = {
  glibc: `#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
`,
  uapi: `#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include <asm/stat.h>
#include <linux/stat.h>
#include <asm/sigcontext.h>
#include <asm/signal.h>
#include <linux/signal.h>
#include <asm/ucontext.h>
#include <asm/termbits.h>
#include <linux/socket.h>
#include <linux/eventpoll.h>
#include <linux/sched.h>
#include <linux/openat2.h>
#include <linux/futex.h>
#include <linux/capability.h>

/* include/linux/dirent.h (kernel-internal, no uapi header) */
struct linux_dirent64 {
  __u64 d_ino;
  __s64 d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

/* arch/x86/include/asm/sigframe.h, x86-64 (no uapi header); fpstate follows separately */
struct rt_sigframe {
  char *pretcode;
  struct ucontext uc;
  siginfo_t info;
};
`,
};

/** Compiles `source` with gcc in a fresh temp dir, runs it with `args`, returns its stdout. */
export function compileAndRun(source: string, args: readonly string[] = [], cwd?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-abi-'));
  try {
    const src = join(dir, 'prog.c');
    const exe = join(dir, 'prog');
    writeFileSync(src, source);
    execFileSync('gcc', ['-std=gnu11', '-Wall', '-O0', '-o', exe, src], { stdio: 'pipe' });
    return execFileSync(exe, [...args], { encoding: 'utf8', cwd: cwd ?? dir, stdio: 'pipe' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
