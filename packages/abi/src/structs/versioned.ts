/**
 * Extensible structs that grow by appending fields and carry their size in the syscall arguments:
 * `clone_args` (clone3) and `open_how` (openat2). They are read like copy_struct_from_user: a
 * smaller (older) struct is accepted and the missing fields are zero; a larger (newer) one is
 * accepted only if every byte past the fields known here is zero, else `E.E2BIG`.
 *
 * @module
 */

import { E, type LinuxError } from '../errno.js';
import {
  at,
  checkRange,
  dataView,
  defineStruct,
  u64,
  u64n,
  type FixedStruct,
  type StructValue,
} from './layout.js';

/** The page size that bounds extensible structs (clone3 and openat2 refuse more with E2BIG). */
export const PAGE_SIZE = 4096;

/**
 * Reads an extensible struct given by the caller with size `usize` (copy_struct_from_user):
 * fields beyond `usize` read as zero; bytes beyond `def.size` must be zero, else `E.E2BIG`.
 * Input shorter than `usize` gives `E.EFAULT`. Size limits are the caller's (see
 * {@link parseCloneArgs}, {@link parseOpenHow}).
 */
export function copyStructFromUser<V>(
  def: FixedStruct<V>,
  buf: Uint8Array,
  offset: number,
  usize: number,
): V | LinuxError {
  const bad = checkRange(buf, offset, usize);
  if (bad) return bad;
  if (usize > def.size) {
    for (let i = offset + def.size; i < offset + usize; i++) if (buf[i] !== 0) return E.E2BIG;
  }
  if (usize >= def.size) return def.read(dataView(buf), offset);
  const copy = new Uint8Array(def.size);
  copy.set(buf.subarray(offset, offset + usize));
  return def.read(dataView(copy), 0);
}

/**
 * `struct clone_args` (linux/sched.h), 88 bytes in its current version. Flags and exit_signal are
 * `bigint` (bit-tested: a stray high bit must give EINVAL, not vanish); addresses and sizes are
 * `number`.
 */
export const clone_args = defineStruct('clone_args', 88, {
  flags: at(0, u64),
  pidfd: at(8, u64n),
  child_tid: at(16, u64n),
  parent_tid: at(24, u64n),
  exit_signal: at(32, u64),
  stack: at(40, u64n),
  stack_size: at(48, u64n),
  tls: at(56, u64n),
  set_tid: at(64, u64n),
  set_tid_size: at(72, u64n),
  cgroup: at(80, u64n),
});
/** A `struct clone_args` value. */
export type CloneArgs = StructValue<typeof clone_args>;

/** CLONE_ARGS_SIZE_VER0: the first clone3 version (up to `tls`). */
export const CLONE_ARGS_SIZE_VER0 = 64;
/** CLONE_ARGS_SIZE_VER1: adds `set_tid`, `set_tid_size`. */
export const CLONE_ARGS_SIZE_VER1 = 80;
/** CLONE_ARGS_SIZE_VER2: adds `cgroup`. */
export const CLONE_ARGS_SIZE_VER2 = 88;

/**
 * Reads clone3's argument as copy_clone_args_from_user does before its semantic checks: `usize`
 * above PAGE_SIZE gives `E.E2BIG`, below CLONE_ARGS_SIZE_VER0 `E.EINVAL`, then
 * {@link copyStructFromUser}. The checks on the values (set_tid/set_tid_size, exit_signal bits,
 * CLONE_INTO_CGROUP needing VER2) belong to clone3 itself, which also needs `usize`.
 */
export function parseCloneArgs(buf: Uint8Array, offset: number, usize: number): CloneArgs | LinuxError {
  if (!Number.isSafeInteger(usize) || usize < 0) return E.EINVAL;
  if (usize > PAGE_SIZE) return E.E2BIG;
  if (usize < CLONE_ARGS_SIZE_VER0) return E.EINVAL;
  return copyStructFromUser(clone_args, buf, offset, usize);
}

/** `struct open_how` (linux/openat2.h, 24 bytes): flags, mode, resolve, all u64 `bigint`. */
export const open_how = defineStruct('open_how', 24, {
  flags: at(0, u64),
  mode: at(8, u64),
  resolve: at(16, u64),
});
/** A `struct open_how` value. */
export type OpenHow = StructValue<typeof open_how>;

/** OPEN_HOW_SIZE_VER0: the first openat2 version. */
export const OPEN_HOW_SIZE_VER0 = 24;

/**
 * Reads openat2's `how` as sys_openat2 does: `usize` below OPEN_HOW_SIZE_VER0 gives `E.EINVAL`,
 * above PAGE_SIZE `E.E2BIG`, then {@link copyStructFromUser}.
 */
export function parseOpenHow(buf: Uint8Array, offset: number, usize: number): OpenHow | LinuxError {
  if (!Number.isSafeInteger(usize) || usize < OPEN_HOW_SIZE_VER0) return E.EINVAL;
  if (usize > PAGE_SIZE) return E.E2BIG;
  return copyStructFromUser(open_how, buf, offset, usize);
}
