/**
 * File-related constants: open(2) flags, fcntl(2) commands and arguments, `AT_*` flags of the
 * *at() calls, openat2 `RESOLVE_*`, lseek whence, flock, renameat2, fallocate, xattr, utimensat
 * and splice flags. Values are Linux x86-64's (the asm-generic numbering).
 *
 * @module
 */
import { defineEnum, defineFlags } from './flagset.js';

/** open(2) flags (`O_*`), with the access mode in the low two bits (`O_ACCMODE`). */
export const OpenFlag = {
  O_RDONLY: 0o0,
  O_WRONLY: 0o1,
  O_RDWR: 0o2,
  O_ACCMODE: 0o3,
  O_CREAT: 0o100,
  O_EXCL: 0o200,
  O_NOCTTY: 0o400,
  O_TRUNC: 0o1000,
  O_APPEND: 0o2000,
  O_NONBLOCK: 0o4000,
  O_NDELAY: 0o4000,
  O_DSYNC: 0o10000,
  FASYNC: 0o20000,
  O_ASYNC: 0o20000,
  O_DIRECT: 0o40000,
  /** The kernel's value; glibc defines O_LARGEFILE as 0 on x86-64 because off_t is 64-bit there. */
  O_LARGEFILE: 0o100000,
  O_DIRECTORY: 0o200000,
  O_NOFOLLOW: 0o400000,
  O_NOATIME: 0o1000000,
  O_CLOEXEC: 0o2000000,
  __O_SYNC: 0o4000000,
  O_SYNC: 0o4010000,
  O_RSYNC: 0o4010000,
  O_PATH: 0o10000000,
  __O_TMPFILE: 0o20000000,
  O_TMPFILE: 0o20200000,
} as const;

/** open(2) flags as strace prints them: access mode first, then the flags in strace's order. */
export const openFlags = defineFlags(
  'open',
  [
    'O_CREAT',
    'O_EXCL',
    'O_NOCTTY',
    'O_TRUNC',
    'O_APPEND',
    'O_NONBLOCK',
    'O_SYNC',
    '__O_SYNC',
    'O_DSYNC',
    'O_DIRECT',
    'O_LARGEFILE',
    'O_NOFOLLOW',
    'O_NOATIME',
    'O_CLOEXEC',
    'O_PATH',
    'O_TMPFILE',
    '__O_TMPFILE',
    'O_DIRECTORY',
    'FASYNC',
  ].map((name) => ({ name, value: OpenFlag[name as keyof typeof OpenFlag] })),
  {
    mode: {
      mask: OpenFlag.O_ACCMODE,
      position: 'first',
      omitZero: false,
      values: [
        { name: 'O_RDONLY', value: 0 },
        { name: 'O_WRONLY', value: 1 },
        { name: 'O_RDWR', value: 2 },
        { name: 'O_ACCMODE', value: 3 },
      ],
    },
  },
);

/**
 * `O_*` flags without an access mode, as pipe2, dup3 and userfaultfd take them (strace decodes
 * these with the open flags; pipe2's O_NOTIFICATION_PIPE prints as O_EXCL).
 */
export const oFlagsNoMode = defineFlags('o_flags', openFlags.bits);

/** fcntl(2) commands (`F_*`). `F_LINUX_SPECIFIC_BASE` is 1024. */
export const FcntlCmd = {
  F_DUPFD: 0,
  F_GETFD: 1,
  F_SETFD: 2,
  F_GETFL: 3,
  F_SETFL: 4,
  F_GETLK: 5,
  F_SETLK: 6,
  F_SETLKW: 7,
  F_SETOWN: 8,
  F_GETOWN: 9,
  F_SETSIG: 10,
  F_GETSIG: 11,
  F_SETOWN_EX: 15,
  F_GETOWN_EX: 16,
  F_GETOWNER_UIDS: 17,
  F_OFD_GETLK: 36,
  F_OFD_SETLK: 37,
  F_OFD_SETLKW: 38,
  F_LINUX_SPECIFIC_BASE: 1024,
  F_SETLEASE: 1024,
  F_GETLEASE: 1025,
  F_NOTIFY: 1026,
  /** Linux 6.10. */
  F_DUPFD_QUERY: 1027,
  /** Linux 6.12. */
  F_CREATED_QUERY: 1028,
  F_CANCELLK: 1029,
  F_DUPFD_CLOEXEC: 1030,
  F_SETPIPE_SZ: 1031,
  F_GETPIPE_SZ: 1032,
  F_ADD_SEALS: 1033,
  F_GET_SEALS: 1034,
  F_GET_RW_HINT: 1035,
  F_SET_RW_HINT: 1036,
  F_GET_FILE_RW_HINT: 1037,
  F_SET_FILE_RW_HINT: 1038,
} as const;

/** fcntl(2) commands, for decoding. */
export const fcntlCmds = defineEnum(
  'fcntl',
  Object.entries(FcntlCmd)
    .filter(([name]) => name !== 'F_LINUX_SPECIFIC_BASE')
    .map(([name, value]) => ({ name, value })),
);

/** File descriptor flags (F_GETFD/F_SETFD). */
export const FdFlag = { FD_CLOEXEC: 1 } as const;

/** File descriptor flags, for decoding. */
export const fdFlags = defineFlags('fd', FdFlag);

/** File seals (F_ADD_SEALS/F_GET_SEALS, memfd). */
export const Seal = {
  F_SEAL_SEAL: 0x1,
  F_SEAL_SHRINK: 0x2,
  F_SEAL_GROW: 0x4,
  F_SEAL_WRITE: 0x8,
  F_SEAL_FUTURE_WRITE: 0x10,
  /** Linux 6.3. */
  F_SEAL_EXEC: 0x20,
} as const;

/** File seals, for decoding. */
export const sealFlags = defineFlags('seals', Seal, { prefix: 'F_SEAL_' });

/** Record lock types (`struct flock`'s l_type) and F_SETOWN_EX owner types. */
export const LockType = {
  F_RDLCK: 0,
  F_WRLCK: 1,
  F_UNLCK: 2,
  F_EXLCK: 4,
  F_SHLCK: 8,
} as const;

/** Owner kinds of `struct f_owner_ex`. */
export const OwnerType = { F_OWNER_TID: 0, F_OWNER_PID: 1, F_OWNER_PGRP: 2 } as const;

/** Lease types (F_SETLEASE) use the lock types F_RDLCK, F_WRLCK, F_UNLCK. */
export const lockTypes = defineEnum('lock_type', LockType);

/** `AT_*` flags and the special directory fd of the *at() calls. */
export const At = {
  /** The dirfd meaning "the current directory". */
  AT_FDCWD: -100,
  AT_SYMLINK_NOFOLLOW: 0x100,
  /** faccessat(2) only; shares its value with AT_REMOVEDIR. */
  AT_EACCESS: 0x200,
  /** unlinkat(2) only. */
  AT_REMOVEDIR: 0x200,
  AT_SYMLINK_FOLLOW: 0x400,
  AT_NO_AUTOMOUNT: 0x800,
  AT_EMPTY_PATH: 0x1000,
  AT_STATX_SYNC_TYPE: 0x6000,
  AT_STATX_SYNC_AS_STAT: 0x0000,
  AT_STATX_FORCE_SYNC: 0x2000,
  AT_STATX_DONT_SYNC: 0x4000,
  AT_RECURSIVE: 0x8000,
  /** name_to_handle_at(2), Linux 6.5. */
  AT_HANDLE_FID: 0x200,
} as const;

/** The `AT_*` flags of fstatat, linkat, fchownat, utimensat, execveat, open_tree... */
export const atFlags = defineFlags('at', {
  AT_SYMLINK_NOFOLLOW: At.AT_SYMLINK_NOFOLLOW,
  AT_REMOVEDIR: At.AT_REMOVEDIR,
  AT_SYMLINK_FOLLOW: At.AT_SYMLINK_FOLLOW,
  AT_NO_AUTOMOUNT: At.AT_NO_AUTOMOUNT,
  AT_EMPTY_PATH: At.AT_EMPTY_PATH,
  AT_RECURSIVE: At.AT_RECURSIVE,
});

/** The flags of faccessat2(2), where 0x200 means AT_EACCESS. */
export const accessAtFlags = defineFlags('faccessat', {
  AT_SYMLINK_NOFOLLOW: At.AT_SYMLINK_NOFOLLOW,
  AT_EACCESS: At.AT_EACCESS,
  AT_EMPTY_PATH: At.AT_EMPTY_PATH,
});

/** statx(2) flags: the sync type (bits 13-14) first, as strace prints it, then the AT_ flags. */
export const statxAtFlags = defineFlags(
  'statx_at',
  {
    AT_SYMLINK_NOFOLLOW: At.AT_SYMLINK_NOFOLLOW,
    AT_REMOVEDIR: At.AT_REMOVEDIR,
    AT_SYMLINK_FOLLOW: At.AT_SYMLINK_FOLLOW,
    AT_NO_AUTOMOUNT: At.AT_NO_AUTOMOUNT,
    AT_EMPTY_PATH: At.AT_EMPTY_PATH,
    AT_RECURSIVE: At.AT_RECURSIVE,
  },
  {
    mode: {
      mask: At.AT_STATX_SYNC_TYPE,
      position: 'first',
      omitZero: false,
      values: [
        { name: 'AT_STATX_SYNC_AS_STAT', value: At.AT_STATX_SYNC_AS_STAT },
        { name: 'AT_STATX_FORCE_SYNC', value: At.AT_STATX_FORCE_SYNC },
        { name: 'AT_STATX_DONT_SYNC', value: At.AT_STATX_DONT_SYNC },
        { name: 'AT_STATX_FORCE_SYNC|AT_STATX_DONT_SYNC', value: At.AT_STATX_SYNC_TYPE },
      ],
    },
  },
);

/** access(2) modes. */
export const AccessMode = { F_OK: 0, X_OK: 1, W_OK: 2, R_OK: 4 } as const;

/** access(2) modes, for decoding (0 is F_OK). */
export const accessModes = defineFlags('access', { R_OK: 4, W_OK: 2, X_OK: 1 }, { zero: 'F_OK' });

/** openat2(2) `RESOLVE_*` flags (`struct open_how`'s resolve). */
export const Resolve = {
  RESOLVE_NO_XDEV: 0x01,
  RESOLVE_NO_MAGICLINKS: 0x02,
  RESOLVE_NO_SYMLINKS: 0x04,
  RESOLVE_BENEATH: 0x08,
  RESOLVE_IN_ROOT: 0x10,
  RESOLVE_CACHED: 0x20,
} as const;

/** `RESOLVE_*` flags, for decoding. */
export const resolveFlags = defineFlags('resolve', Resolve);

/** lseek(2) whence values. */
export const Seek = { SEEK_SET: 0, SEEK_CUR: 1, SEEK_END: 2, SEEK_DATA: 3, SEEK_HOLE: 4 } as const;

/** lseek(2) whence, for decoding. */
export const seekWhence = defineEnum('seek', Seek);

/** flock(2) operations. */
export const Flock = {
  LOCK_SH: 1,
  LOCK_EX: 2,
  LOCK_NB: 4,
  LOCK_UN: 8,
  /** Mandatory locks (LOCK_MAND and its modes) are gone since Linux 5.15; the bits remain. */
  LOCK_MAND: 32,
  LOCK_RW: 192,
  LOCK_READ: 64,
  LOCK_WRITE: 128,
} as const;

/** flock(2) operations, for decoding. */
export const flockOps = defineFlags('flock', Flock);

/** renameat2(2) flags. */
export const Rename = { RENAME_NOREPLACE: 1, RENAME_EXCHANGE: 2, RENAME_WHITEOUT: 4 } as const;

/** renameat2(2) flags, for decoding. */
export const renameFlags = defineFlags('rename', Rename, { marker: 'RENAME_??' });

/** fallocate(2) modes. */
export const Falloc = {
  FALLOC_FL_KEEP_SIZE: 0x01,
  FALLOC_FL_PUNCH_HOLE: 0x02,
  FALLOC_FL_NO_HIDE_STALE: 0x04,
  FALLOC_FL_COLLAPSE_RANGE: 0x08,
  FALLOC_FL_ZERO_RANGE: 0x10,
  FALLOC_FL_INSERT_RANGE: 0x20,
  FALLOC_FL_UNSHARE_RANGE: 0x40,
  /** Linux 6.17. */
  FALLOC_FL_WRITE_ZEROES: 0x80,
} as const;

/** fallocate(2) modes, for decoding. */
export const fallocFlags = defineFlags('falloc', Falloc, { prefix: 'FALLOC_FL_' });

/** setxattr(2) flags. */
export const Xattr = { XATTR_CREATE: 1, XATTR_REPLACE: 2 } as const;

/** setxattr(2) flags, for decoding. */
export const xattrFlags = defineFlags('xattr', Xattr);

/** Special `tv_nsec` values of utimensat(2). */
export const Utime = { UTIME_NOW: (1 << 30) - 1, UTIME_OMIT: (1 << 30) - 2 } as const;

/** splice(2), tee(2) and vmsplice(2) flags. */
export const SpliceFlag = {
  SPLICE_F_MOVE: 1,
  SPLICE_F_NONBLOCK: 2,
  SPLICE_F_MORE: 4,
  SPLICE_F_GIFT: 8,
} as const;

/** splice flags, for decoding. */
export const spliceFlags = defineFlags('splice', SpliceFlag, { prefix: 'SPLICE_F_' });

/** close_range(2) flags. */
export const CloseRange = { CLOSE_RANGE_UNSHARE: 2, CLOSE_RANGE_CLOEXEC: 4 } as const;

/** close_range(2) flags, for decoding. */
export const closeRangeFlags = defineFlags('close_range', CloseRange, { prefix: 'CLOSE_RANGE_' });

/** memfd_create(2) flags. */
export const Memfd = {
  MFD_CLOEXEC: 1,
  MFD_ALLOW_SEALING: 2,
  MFD_HUGETLB: 4,
  MFD_NOEXEC_SEAL: 8,
  MFD_EXEC: 0x10,
  /** Huge page size selection: log2(size) << MFD_HUGE_SHIFT, with MFD_HUGETLB. */
  MFD_HUGE_SHIFT: 26,
  MFD_HUGE_MASK: 0x3f,
  /** Huge page sizes for MFD_HUGETLB. */
  MFD_HUGE_64KB: 16 * 2 ** 26,
  MFD_HUGE_512KB: 19 * 2 ** 26,
  MFD_HUGE_1MB: 20 * 2 ** 26,
  MFD_HUGE_2MB: 21 * 2 ** 26,
  MFD_HUGE_8MB: 23 * 2 ** 26,
  MFD_HUGE_16MB: 24 * 2 ** 26,
  MFD_HUGE_32MB: 25 * 2 ** 26,
  MFD_HUGE_256MB: 28 * 2 ** 26,
  MFD_HUGE_512MB: 29 * 2 ** 26,
  MFD_HUGE_1GB: 30 * 2 ** 26,
  MFD_HUGE_2GB: 31 * 2 ** 26,
  MFD_HUGE_16GB: 34 * 2 ** 26,
} as const;

/** memfd_create(2) flags, for decoding (`MFD_HUGETLB|21<<MFD_HUGE_SHIFT`). */
export const memfdFlags = defineFlags(
  'memfd',
  {
    MFD_CLOEXEC: Memfd.MFD_CLOEXEC,
    MFD_ALLOW_SEALING: Memfd.MFD_ALLOW_SEALING,
    MFD_HUGETLB: Memfd.MFD_HUGETLB,
    MFD_NOEXEC_SEAL: Memfd.MFD_NOEXEC_SEAL,
    MFD_EXEC: Memfd.MFD_EXEC,
  },
  { field: { shift: Memfd.MFD_HUGE_SHIFT, mask: Memfd.MFD_HUGE_MASK, name: 'MFD_HUGE_SHIFT' } },
);

/** posix_fadvise(2) advice (fadvise64 on x86-64). */
export const Fadvise = {
  POSIX_FADV_NORMAL: 0,
  POSIX_FADV_RANDOM: 1,
  POSIX_FADV_SEQUENTIAL: 2,
  POSIX_FADV_WILLNEED: 3,
  POSIX_FADV_DONTNEED: 4,
  POSIX_FADV_NOREUSE: 5,
} as const;

/** fadvise advice, for decoding. */
export const fadviseAdvice = defineEnum('fadvise', Fadvise, { prefix: 'POSIX_FADV_' });

/** preadv2/pwritev2 flags (`RWF_*`). */
export const Rwf = {
  RWF_HIPRI: 0x01,
  RWF_DSYNC: 0x02,
  RWF_SYNC: 0x04,
  RWF_NOWAIT: 0x08,
  RWF_APPEND: 0x10,
  /** Linux 6.9. */
  RWF_NOAPPEND: 0x20,
  /** Linux 6.11. */
  RWF_ATOMIC: 0x40,
  /** Linux 6.14. */
  RWF_DONTCACHE: 0x80,
} as const;

/** preadv2/pwritev2 flags, for decoding. */
export const rwfFlags = defineFlags('rwf', Rwf);

/** mount(2) flags (`MS_*`); the top half may hold the old magic `MS_MGC_VAL`. */
export const MountFlag = {
  MS_RDONLY: 1,
  MS_NOSUID: 2,
  MS_NODEV: 4,
  MS_NOEXEC: 8,
  MS_SYNCHRONOUS: 16,
  MS_REMOUNT: 32,
  MS_MANDLOCK: 64,
  MS_DIRSYNC: 128,
  MS_NOSYMFOLLOW: 256,
  MS_NOATIME: 1024,
  MS_NODIRATIME: 2048,
  MS_BIND: 4096,
  MS_MOVE: 8192,
  MS_REC: 16384,
  MS_SILENT: 32768,
  MS_POSIXACL: 1 << 16,
  MS_UNBINDABLE: 1 << 17,
  MS_PRIVATE: 1 << 18,
  MS_SLAVE: 1 << 19,
  MS_SHARED: 1 << 20,
  MS_RELATIME: 1 << 21,
  MS_KERNMOUNT: 1 << 22,
  MS_I_VERSION: 1 << 23,
  MS_STRICTATIME: 1 << 24,
  MS_LAZYTIME: 1 << 25,
  /** Bits 26-29 are superblock flags internal to the kernel; the uapi header names them anyway. */
  MS_SUBMOUNT: 1 << 26,
  MS_NOREMOTELOCK: 1 << 27,
  MS_NOSEC: 1 << 28,
  MS_BORN: 1 << 29,
  MS_ACTIVE: 1 << 30,
  /** `1 << 31` in C: an int, so negative. */
  MS_NOUSER: 1 << 31,
  MS_MGC_VAL: 0xc0ed0000,
  MS_MGC_MSK: 0xffff0000,
} as const;

/** mount flags, for decoding (the magic MS_MGC_VAL prints first when present). */
export const mountFlags = defineFlags(
  'mount',
  Object.entries(MountFlag)
    .filter(([n]) => n !== 'MS_MGC_VAL' && n !== 'MS_MGC_MSK')
    .map(([name, value]) => ({ name, value })),
  {
    mode: {
      mask: MountFlag.MS_MGC_MSK,
      position: 'first',
      omitZero: true,
      values: [{ name: 'MS_MGC_VAL', value: MountFlag.MS_MGC_VAL }],
      unknown: 'remainder',
    },
  },
);

/** umount2(2) flags. */
export const UmountFlag = { MNT_FORCE: 1, MNT_DETACH: 2, MNT_EXPIRE: 4, UMOUNT_NOFOLLOW: 8 } as const;

/** umount2 flags, for decoding. */
export const umountFlags = defineFlags('umount', UmountFlag);

/** F_NOTIFY directory notification events (`DN_*`). */
export const DnotifyFlag = {
  DN_ACCESS: 0x00000001,
  DN_MODIFY: 0x00000002,
  DN_CREATE: 0x00000004,
  DN_DELETE: 0x00000008,
  DN_RENAME: 0x00000010,
  DN_ATTRIB: 0x00000020,
  DN_MULTISHOT: 0x80000000,
} as const;

/** F_NOTIFY events, for decoding. */
export const dnotifyFlags = defineFlags('dnotify', DnotifyFlag);
