/**
 * Process and system structs: `utsname`, `sysinfo`, `rlimit`, `sched_param`, the capability
 * header/data pair of capget/capset, and the robust futex list head.
 *
 * @module
 */

import { array, at, cstr, defineStruct, i32, i64n, u16, u32, u64, u64n, type StructValue } from './layout.js';

/** Length of each utsname field, including the terminating NUL (`__NEW_UTS_LEN + 1`). */
export const UTS_FIELD_LEN = 65;

/** `struct new_utsname` (390 bytes) as uname(2) fills it: six 65-byte NUL-terminated strings. */
export const utsname = defineStruct('utsname', 390, {
  sysname: at(0, cstr(UTS_FIELD_LEN)),
  nodename: at(65, cstr(UTS_FIELD_LEN)),
  release: at(130, cstr(UTS_FIELD_LEN)),
  version: at(195, cstr(UTS_FIELD_LEN)),
  machine: at(260, cstr(UTS_FIELD_LEN)),
  domainname: at(325, cstr(UTS_FIELD_LEN)),
});
/** A `struct utsname` value. */
export type Utsname = StructValue<typeof utsname>;

/** `struct sysinfo` (112 bytes on x86-64). Memory sizes count `mem_unit` bytes; all `number`. */
export const sysinfo = defineStruct('sysinfo', 112, {
  uptime: at(0, i64n),
  /** 1, 5 and 15 minute load averages, scaled by 2^16 (SI_LOAD_SHIFT). */
  loads: at(8, array(u64n, 3)),
  totalram: at(32, u64n),
  freeram: at(40, u64n),
  sharedram: at(48, u64n),
  bufferram: at(56, u64n),
  totalswap: at(64, u64n),
  freeswap: at(72, u64n),
  procs: at(80, u16),
  pad: at(82, u16),
  totalhigh: at(88, u64n),
  freehigh: at(96, u64n),
  mem_unit: at(104, u32),
});
/** A `struct sysinfo` value. */
export type Sysinfo = StructValue<typeof sysinfo>;

/** RLIM_INFINITY: all ones in the kernel's unsigned 64-bit rlim_t (the public one is in constants). */
export const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

/** `struct rlimit` (16 bytes), as getrlimit/setrlimit/prlimit64 take it; limits are `bigint`. */
export const rlimit = defineStruct('rlimit', 16, {
  rlim_cur: at(0, u64),
  rlim_max: at(8, u64),
});
/** A `struct rlimit` value (named so as not to clash with the RLIMIT_* constant group `Rlimit`). */
export type RlimitValue = StructValue<typeof rlimit>;

/** `struct sched_param` (4 bytes). */
export const sched_param = defineStruct('sched_param', 4, {
  sched_priority: at(0, i32),
});
/** A `struct sched_param` value. */
export type SchedParam = StructValue<typeof sched_param>;

/** `struct __user_cap_header_struct` (8 bytes): `version` (_LINUX_CAPABILITY_VERSION_*), `pid`. */
export const cap_user_header = defineStruct('cap_user_header', 8, {
  version: at(0, u32),
  pid: at(4, i32),
});
/** A capability header value. */
export type CapUserHeader = StructValue<typeof cap_user_header>;

/**
 * `struct __user_cap_data_struct` (12 bytes). Versions 2 and 3 pass an array of two (low then high
 * 32 capability bits); read those with `parseArray(cap_user_data, bytes, offset, 2)`.
 */
export const cap_user_data = defineStruct('cap_user_data', 12, {
  effective: at(0, u32),
  permitted: at(4, u32),
  inheritable: at(8, u32),
});
/** A capability data value. */
export type CapUserData = StructValue<typeof cap_user_data>;

/**
 * `struct robust_list_head` (24 bytes, linux/futex.h) that set_robust_list registers and the
 * kernel walks at thread exit. `list_next` is the `list.next` member. All `number`: two user
 * addresses and a signed offset the kernel adds to entry addresses.
 */
export const robust_list_head = defineStruct('robust_list_head', 24, {
  list_next: at(0, u64n),
  futex_offset: at(8, i64n),
  list_op_pending: at(16, u64n),
});
/** A `struct robust_list_head` value. */
export type RobustListHead = StructValue<typeof robust_list_head>;
