/**
 * File status structs: the kernel's x86-64 `struct stat` (same layout as glibc's), `statx` with
 * `statx_timestamp`, and `statfs`. Identity and size fields are `bigint` (exact), times and small
 * counts `number`.
 *
 * @module
 */

import {
  array,
  at,
  bytes,
  defineStruct,
  i32,
  i64,
  i64n,
  struct,
  structView,
  u16,
  u32,
  u64,
  u64n,
  type StructValue,
} from './layout.js';

/**
 * `struct stat` as fstat(2)/newfstatat(2) fill it on x86-64 (asm/stat.h, 144 bytes). Times are
 * flat `st_atime` + `st_atime_nsec` pairs as in the kernel header. Hot: has a view.
 *
 * `bigint`: `st_dev`, `st_ino`, `st_rdev`, `st_size`, `st_blocks`. `number`: `st_nlink` and
 * `st_blksize` (32-bit in the kernel), the times, and the 32-bit fields.
 */
export const stat = defineStruct('stat', 144, {
  /** Device number (new_encode_dev). */
  st_dev: at(0, u64),
  st_ino: at(8, u64),
  /** Link count: the kernel's is 32-bit, so `number` is exact. */
  st_nlink: at(16, u64n),
  st_mode: at(24, u32),
  st_uid: at(28, u32),
  st_gid: at(32, u32),
  __pad0: at(36, u32),
  st_rdev: at(40, u64),
  st_size: at(48, i64),
  /** Preferred I/O size: a 32-bit quantity in the kernel. */
  st_blksize: at(56, i64n),
  st_blocks: at(64, i64),
  st_atime: at(72, i64n),
  st_atime_nsec: at(80, i64n),
  st_mtime: at(88, i64n),
  st_mtime_nsec: at(96, i64n),
  st_ctime: at(104, i64n),
  st_ctime_nsec: at(112, i64n),
  __unused: at(120, bytes(24)),
});
/** A `struct stat` value. */
export type Stat = StructValue<typeof stat>;
/** Zero-copy view of a `struct stat`: fstat can fill a user buffer field by field. */
export const StatView = structView(stat);

/** `struct statx_timestamp` (16 bytes): `tv_sec` (s64), `tv_nsec` (u32), reserved (s32). */
export const statx_timestamp = defineStruct('statx_timestamp', 16, {
  tv_sec: at(0, i64n),
  tv_nsec: at(8, u32),
  __reserved: at(12, i32),
});
/** A `struct statx_timestamp` value. */
export type StatxTimestamp = StructValue<typeof statx_timestamp>;

/**
 * `struct statx` (linux/stat.h, 256 bytes) with the fields of the 6.1 uapi header; the 96 spare
 * bytes at the end are kept raw so newer fields pass through unchanged. `bigint`: the u64 fields
 * (`stx_attributes`, `stx_ino`, `stx_size`, `stx_blocks`, `stx_attributes_mask`, `stx_mnt_id`);
 * timestamp seconds are `number`.
 */
export const statx = defineStruct('statx', 256, {
  stx_mask: at(0, u32),
  stx_blksize: at(4, u32),
  stx_attributes: at(8, u64),
  stx_nlink: at(16, u32),
  stx_uid: at(20, u32),
  stx_gid: at(24, u32),
  stx_mode: at(28, u16),
  __spare0: at(30, u16),
  stx_ino: at(32, u64),
  stx_size: at(40, u64),
  stx_blocks: at(48, u64),
  stx_attributes_mask: at(56, u64),
  stx_atime: at(64, struct(statx_timestamp)),
  stx_btime: at(80, struct(statx_timestamp)),
  stx_ctime: at(96, struct(statx_timestamp)),
  stx_mtime: at(112, struct(statx_timestamp)),
  stx_rdev_major: at(128, u32),
  stx_rdev_minor: at(132, u32),
  stx_dev_major: at(136, u32),
  stx_dev_minor: at(140, u32),
  stx_mnt_id: at(144, u64),
  stx_dio_mem_align: at(152, u32),
  stx_dio_offset_align: at(156, u32),
  __spare3: at(160, bytes(96)),
});
/** A `struct statx` value. */
export type Statx = StructValue<typeof statx>;

/**
 * `struct statfs` (120 bytes; the kernel's x86-64 layout equals glibc's). Block and inode counts
 * are `bigint`; the magic, sizes and name length are `number`; `f_flags` (ST_* bits) is `bigint`.
 */
export const statfs = defineStruct('statfs', 120, {
  f_type: at(0, i64n),
  f_bsize: at(8, i64n),
  f_blocks: at(16, u64),
  f_bfree: at(24, u64),
  f_bavail: at(32, u64),
  f_files: at(40, u64),
  f_ffree: at(48, u64),
  f_fsid: at(56, array(i32, 2)),
  f_namelen: at(64, i64n),
  f_frsize: at(72, i64n),
  f_flags: at(80, u64),
  f_spare: at(88, bytes(32)),
});
/** A `struct statfs` value. */
export type Statfs = StructValue<typeof statfs>;
