/**
 * Time structs: `timespec`, `timeval`, `itimerspec`, `itimerval`, `timezone`, `tms`, `rusage`.
 * Seconds and sub-second parts are `number` (times, see the layout module note); validity checks
 * such as `0 <= tv_nsec < 1e9` belong to the syscall, since some take special values (UTIME_NOW).
 *
 * @module
 */

import { at, defineStruct, i32, i64n, struct, structView, type StructValue } from './layout.js';

/** `struct timespec` (16 bytes): `tv_sec` (time_t), `tv_nsec` (long). Hot: has a view. */
export const timespec = defineStruct('timespec', 16, {
  tv_sec: at(0, i64n),
  tv_nsec: at(8, i64n),
});
/** A `struct timespec` value. */
export type Timespec = StructValue<typeof timespec>;
/** Zero-copy view of a `struct timespec`. */
export const TimespecView = structView(timespec);

/** `struct timeval` (16 bytes): `tv_sec`, `tv_usec`. */
export const timeval = defineStruct('timeval', 16, {
  tv_sec: at(0, i64n),
  tv_usec: at(8, i64n),
});
/** A `struct timeval` value. */
export type Timeval = StructValue<typeof timeval>;

/** `struct itimerspec` (32 bytes), for timer_settime and timerfd_settime. */
export const itimerspec = defineStruct('itimerspec', 32, {
  it_interval: at(0, struct(timespec)),
  it_value: at(16, struct(timespec)),
});
/** A `struct itimerspec` value. */
export type Itimerspec = StructValue<typeof itimerspec>;

/** `struct itimerval` (32 bytes), for setitimer/getitimer. */
export const itimerval = defineStruct('itimerval', 32, {
  it_interval: at(0, struct(timeval)),
  it_value: at(16, struct(timeval)),
});
/** A `struct itimerval` value. */
export type Itimerval = StructValue<typeof itimerval>;

/** `struct timezone` (8 bytes), the obsolete second argument of gettimeofday. */
export const timezone = defineStruct('timezone', 8, {
  tz_minuteswest: at(0, i32),
  tz_dsttime: at(4, i32),
});
/** A `struct timezone` value. */
export type Timezone = StructValue<typeof timezone>;

/** `struct tms` (32 bytes), filled by times(2); clock_t counts in USER_HZ ticks. */
export const tms = defineStruct('tms', 32, {
  tms_utime: at(0, i64n),
  tms_stime: at(8, i64n),
  tms_cutime: at(16, i64n),
  tms_cstime: at(24, i64n),
});
/** A `struct tms` value. */
export type Tms = StructValue<typeof tms>;

/** `struct rusage` (144 bytes): two timevals, then fourteen longs (counts; `number`). */
export const rusage = defineStruct('rusage', 144, {
  ru_utime: at(0, struct(timeval)),
  ru_stime: at(16, struct(timeval)),
  ru_maxrss: at(32, i64n),
  ru_ixrss: at(40, i64n),
  ru_idrss: at(48, i64n),
  ru_isrss: at(56, i64n),
  ru_minflt: at(64, i64n),
  ru_majflt: at(72, i64n),
  ru_nswap: at(80, i64n),
  ru_inblock: at(88, i64n),
  ru_oublock: at(96, i64n),
  ru_msgsnd: at(104, i64n),
  ru_msgrcv: at(112, i64n),
  ru_nsignals: at(120, i64n),
  ru_nvcsw: at(128, i64n),
  ru_nivcsw: at(136, i64n),
});
/** A `struct rusage` value. */
export type Rusage = StructValue<typeof rusage>;
