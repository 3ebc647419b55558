/**
 * Resource limits, rusage targets, priority targets, clock ids and timer flags.
 *
 * @module
 */
import { defineEnum, defineFlags } from './flagset.js';

/** getrlimit/setrlimit/prlimit64 resources (`RLIMIT_*`). */
export const Rlimit = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
  RLIM_NLIMITS: 16,
} as const;

/** rlimit resources, for decoding. */
export const rlimitResources = defineEnum(
  'rlimit',
  Object.entries(Rlimit)
    .filter(([n]) => n !== 'RLIM_NLIMITS')
    .map(([name, value]) => ({ name, value })),
);

/** "No limit" (`RLIM_INFINITY`): all 64 bits set, so a bigint. */
export const RLIM_INFINITY = 0xffffffffffffffffn;

/** getrusage(2) targets. */
export const RusageWho = { RUSAGE_SELF: 0, RUSAGE_CHILDREN: -1, RUSAGE_THREAD: 1 } as const;

/** getrusage targets, for decoding. */
export const rusageWho = defineEnum('rusage', RusageWho);

/** getpriority/setpriority targets. */
export const Prio = { PRIO_PROCESS: 0, PRIO_PGRP: 1, PRIO_USER: 2 } as const;

/** priority targets, for decoding. */
export const prioWhich = defineEnum('prio', Prio);

/** Clock ids (`CLOCK_*`). */
export const ClockId = {
  CLOCK_REALTIME: 0,
  CLOCK_MONOTONIC: 1,
  CLOCK_PROCESS_CPUTIME_ID: 2,
  CLOCK_THREAD_CPUTIME_ID: 3,
  CLOCK_MONOTONIC_RAW: 4,
  CLOCK_REALTIME_COARSE: 5,
  CLOCK_MONOTONIC_COARSE: 6,
  CLOCK_BOOTTIME: 7,
  CLOCK_REALTIME_ALARM: 8,
  CLOCK_BOOTTIME_ALARM: 9,
  CLOCK_SGI_CYCLE: 10,
  CLOCK_TAI: 11,
} as const;

/** Clock ids, for decoding (dynamic negative ids, CPU clocks and clock fds, print as unknown, as strace 6.1 does). */
export const clockIds = defineEnum('clock', ClockId);

/** Flags of clock_nanosleep and timer_settime. */
export const TimerFlag = { TIMER_ABSTIME: 1 } as const;

/** timer flags, for decoding. */
export const timerFlags = defineFlags('timer', TimerFlag);

/** setitimer/getitimer timers. */
export const Itimer = { ITIMER_REAL: 0, ITIMER_VIRTUAL: 1, ITIMER_PROF: 2 } as const;

/** itimer kinds, for decoding. */
export const itimerWhich = defineEnum('itimer', Itimer);
