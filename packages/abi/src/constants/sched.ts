/**
 * Process constants: clone(2)/clone3/unshare/setns flags and the wait(2) family's options and
 * id types.
 *
 * @module
 */
import { signals } from '../signals.js';
import { defineEnum, defineFlags } from './flagset.js';

/** clone(2) flags (`CLONE_*`); the low byte (`CSIGNAL`) holds the exit signal. */
export const CloneFlag = {
  CSIGNAL: 0x000000ff,
  /** Linux 5.6; shares bit 7 with the exit signal in clone(2), valid in clone3/unshare/setns. */
  CLONE_NEWTIME: 0x00000080,
  CLONE_VM: 0x00000100,
  CLONE_FS: 0x00000200,
  CLONE_FILES: 0x00000400,
  CLONE_SIGHAND: 0x00000800,
  CLONE_PIDFD: 0x00001000,
  CLONE_PTRACE: 0x00002000,
  CLONE_VFORK: 0x00004000,
  CLONE_PARENT: 0x00008000,
  CLONE_THREAD: 0x00010000,
  CLONE_NEWNS: 0x00020000,
  CLONE_SYSVSEM: 0x00040000,
  CLONE_SETTLS: 0x00080000,
  CLONE_PARENT_SETTID: 0x00100000,
  CLONE_CHILD_CLEARTID: 0x00200000,
  CLONE_DETACHED: 0x00400000,
  CLONE_UNTRACED: 0x00800000,
  CLONE_CHILD_SETTID: 0x01000000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
  CLONE_IO: 0x80000000,
  /** clone3 only (bit 32). */
  CLONE_CLEAR_SIGHAND: 0x100000000,
  /** clone3 only (bit 33). */
  CLONE_INTO_CGROUP: 0x200000000,
} as const;

const cloneBits = Object.entries(CloneFlag)
  .filter(([n]) => n !== 'CSIGNAL' && n !== 'CLONE_NEWTIME')
  .map(([name, value]) => ({ name, value }));

/** clone(2) flags, for decoding: flags then the exit signal (`CLONE_VM|...|SIGCHLD`), like strace. */
export const cloneFlags = defineFlags('clone', cloneBits, {
  prefix: 'CLONE_',
  remainderComment: true,
  mode: { mask: CloneFlag.CSIGNAL, position: 'last', omitZero: true, values: signals.values },
});

/** clone3 / unshare / setns flags: no exit signal in the low byte, so CLONE_NEWTIME is a flag. */
export const unshareFlags = defineFlags('unshare', [
  { name: 'CLONE_NEWTIME', value: CloneFlag.CLONE_NEWTIME },
  ...cloneBits,
]);

/** setns(2) namespace types: the CLONE_NEW* flags. */
export const nsTypes = defineFlags(
  'setns',
  [
    'CLONE_NEWTIME',
    'CLONE_NEWNS',
    'CLONE_NEWCGROUP',
    'CLONE_NEWUTS',
    'CLONE_NEWIPC',
    'CLONE_NEWUSER',
    'CLONE_NEWPID',
    'CLONE_NEWNET',
  ].map((name) => ({ name, value: CloneFlag[name as keyof typeof CloneFlag] })),
  { prefix: 'CLONE_NEW' },
);

/** wait4/waitpid/waitid options (`W*`, `__W*`). */
export const WaitOption = {
  WNOHANG: 0x00000001,
  WUNTRACED: 0x00000002,
  WSTOPPED: 0x00000002,
  WEXITED: 0x00000004,
  WCONTINUED: 0x00000008,
  WNOWAIT: 0x01000000,
  __WNOTHREAD: 0x20000000,
  __WALL: 0x40000000,
  __WCLONE: 0x80000000,
} as const;

/** wait4 options, for decoding. */
export const waitOptions = defineFlags(
  'wait',
  {
    WNOHANG: WaitOption.WNOHANG,
    WEXITED: WaitOption.WEXITED,
    WSTOPPED: WaitOption.WSTOPPED,
    WCONTINUED: WaitOption.WCONTINUED,
    WNOWAIT: WaitOption.WNOWAIT,
    __WCLONE: WaitOption.__WCLONE,
    __WALL: WaitOption.__WALL,
    __WNOTHREAD: WaitOption.__WNOTHREAD,
  },
  { prefix: 'W' },
);

/** waitid options, for decoding (WEXITED before WSTOPPED, in strace's order). */
export const waitidOptions = defineFlags(
  'waitid',
  {
    WNOHANG: WaitOption.WNOHANG,
    WEXITED: WaitOption.WEXITED,
    WSTOPPED: WaitOption.WSTOPPED,
    WCONTINUED: WaitOption.WCONTINUED,
    WNOWAIT: WaitOption.WNOWAIT,
    __WCLONE: WaitOption.__WCLONE,
    __WALL: WaitOption.__WALL,
    __WNOTHREAD: WaitOption.__WNOTHREAD,
  },
  { prefix: 'W' },
);

/** waitid(2) id types. */
export const IdType = { P_ALL: 0, P_PID: 1, P_PGID: 2, P_PIDFD: 3 } as const;

/** waitid id types, for decoding. */
export const idTypes = defineEnum('idtype', IdType);

/** pidfd_open(2) and pidfd_send_signal flags. */
export const PidfdFlag = { PIDFD_NONBLOCK: 0o4000 } as const;

/** pidfd_open flags, for decoding. */
export const pidfdFlags = defineFlags('pidfd', PidfdFlag);

/** Scheduling policies of sched_setscheduler(2). */
export const SchedPolicy = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
  /** Linux 6.12. */
  SCHED_EXT: 7,
  SCHED_RESET_ON_FORK: 0x40000000,
} as const;

/** Scheduling policies as a plain enum (sched_get_priority_max/min take no flag). */
export const schedPolicyValues = defineEnum(
  'sched_policy_value',
  Object.entries(SchedPolicy)
    .filter(([n]) => n !== 'SCHED_RESET_ON_FORK')
    .map(([name, value]) => ({ name, value })),
);

/** Scheduling policies with SCHED_RESET_ON_FORK (sched_setscheduler), for decoding. */
export const schedPolicies = defineFlags(
  'sched_policy',
  { SCHED_RESET_ON_FORK: SchedPolicy.SCHED_RESET_ON_FORK },
  {
    mode: {
      mask: 0xff,
      position: 'first',
      omitZero: false,
      values: Object.entries(SchedPolicy)
        .filter(([n]) => n !== 'SCHED_RESET_ON_FORK')
        .map(([name, value]) => ({ name, value })),
    },
  },
);
