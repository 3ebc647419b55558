/**
 * Every struct definition of this folder by its C name, so tools (layout tests, the strace
 * formatter, documentation) can enumerate them.
 *
 * @module
 */

import { linux_dirent64 } from './dirent.js';
import { epoll_event, iovec, pollfd } from './io.js';
import type { StructCodec } from './layout.js';
import {
  fpstate,
  fpx_sw_bytes,
  kernel_sigaction,
  rt_sigframe,
  sigcontext,
  siginfo,
  sigset,
  stack_t,
  ucontext,
  xstate_header,
} from './signal.js';
import {
  cmsghdr,
  linger,
  msghdr,
  sockaddr,
  sockaddr_in,
  sockaddr_in6,
  sockaddr_nl,
  sockaddr_storage,
  sockaddr_un,
  ucred,
} from './socket.js';
import { stat, statfs, statx, statx_timestamp } from './stat.js';
import {
  cap_user_data,
  cap_user_header,
  rlimit,
  robust_list_head,
  sched_param,
  sysinfo,
  utsname,
} from './system.js';
import { itimerspec, itimerval, rusage, timespec, timeval, timezone, tms } from './time.js';
import { termios, termios2, winsize } from './tty.js';
import { clone_args, open_how } from './versioned.js';

/** All struct layouts, keyed by C struct name. */
export const structRegistry: ReadonlyMap<string, StructCodec> = new Map(
  (
    [
      stat,
      statx_timestamp,
      statx,
      statfs,
      linux_dirent64,
      timespec,
      timeval,
      itimerspec,
      itimerval,
      timezone,
      rusage,
      tms,
      utsname,
      sysinfo,
      iovec,
      msghdr,
      cmsghdr,
      sockaddr,
      sockaddr_in,
      sockaddr_in6,
      sockaddr_un,
      sockaddr_nl,
      sockaddr_storage,
      linger,
      ucred,
      pollfd,
      epoll_event,
      kernel_sigaction,
      siginfo,
      sigset,
      stack_t,
      sigcontext,
      fpx_sw_bytes,
      fpstate,
      xstate_header,
      ucontext,
      rt_sigframe,
      rlimit,
      termios,
      termios2,
      winsize,
      clone_args,
      open_how,
      robust_list_head,
      sched_param,
      cap_user_header,
      cap_user_data,
    ] as const
  ).map((s): [string, StructCodec] => [s.name, s]),
);
