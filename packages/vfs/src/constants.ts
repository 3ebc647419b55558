/**
 * The Linux numeric constants the VFS speaks (x86-64 values).
 *
 * Those `@tsvisor/abi` defines (O_*, S_IF*, AT_*, RENAME_*, SEEK_*, access modes, UTIME_*,
 * F_* commands, POLL* events, CAP_* numbers) are taken from its objects (`OpenFlag`, `Mode`,
 * `At`, ...), so the values have one source; they stay exported here under their Linux names
 * because packages written against earlier versions import them from `@tsvisor/vfs`. New code
 * should import them from `@tsvisor/abi`. The values abi lacks (directory entry types, VFS limits
 * and masks) are defined here.
 *
 * @module
 */

import {
  AccessMode,
  At,
  Capability,
  FcntlCmd,
  Mode,
  OpenFlag,
  PollEvent,
  Rename,
  Seek,
  Utime,
} from '@tsvisor/abi';

/** abi's constant objects with plain `number` fields, so the names below widen like literals. */
type Numbers<T> = { readonly [K in keyof T]: number };

/** open(2) flags (abi's `OpenFlag`). */
export const {
  O_ACCMODE,
  O_RDONLY,
  O_WRONLY,
  O_RDWR,
  O_CREAT,
  O_EXCL,
  O_NOCTTY,
  O_TRUNC,
  O_APPEND,
  O_NONBLOCK,
  O_DSYNC,
  O_ASYNC,
  O_DIRECT,
  O_LARGEFILE,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_NOATIME,
  O_CLOEXEC,
  O_SYNC,
  O_PATH,
  O_TMPFILE,
}: Numbers<typeof OpenFlag> = OpenFlag;
/** Every flag open(2) knows; other bits are ignored by Linux's open (but rejected by openat2). */
export const O_VALID_FLAGS =
  O_ACCMODE |
  O_CREAT |
  O_EXCL |
  O_NOCTTY |
  O_TRUNC |
  O_APPEND |
  O_NONBLOCK |
  O_SYNC |
  O_ASYNC |
  O_DIRECT |
  O_LARGEFILE |
  O_DIRECTORY |
  O_NOFOLLOW |
  O_NOATIME |
  O_CLOEXEC |
  O_PATH |
  O_TMPFILE;
/** The status flags F_SETFL may change (the rest of the word is ignored, as Linux does). */
export const SETFL_MASK = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_ASYNC;

/** File types and mode bits of stat.st_mode (abi's `Mode`). */
export const {
  S_IFMT,
  S_IFSOCK,
  S_IFLNK,
  S_IFREG,
  S_IFBLK,
  S_IFDIR,
  S_IFCHR,
  S_IFIFO,
  S_ISUID,
  S_ISGID,
  S_ISVTX,
  S_IXGRP,
}: Numbers<typeof Mode> = Mode;
/** The permission bits plus setuid/setgid/sticky: what chmod may set. */
export const S_IALLUGO = 0o7777;

// Directory entry types (getdents64 d_type).
export const DT_UNKNOWN = 0;
export const DT_FIFO = 1;
export const DT_CHR = 2;
export const DT_DIR = 4;
export const DT_BLK = 6;
export const DT_REG = 8;
export const DT_LNK = 10;
export const DT_SOCK = 12;

/** *at() flags (abi's `At`); AT_FDCWD is the dirfd meaning "the current working directory". */
export const {
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  AT_REMOVEDIR,
  AT_EACCESS,
  AT_SYMLINK_FOLLOW,
  AT_NO_AUTOMOUNT,
  AT_EMPTY_PATH,
  AT_STATX_SYNC_TYPE,
}: Numbers<typeof At> = At;

/** renameat2(2) flags (abi's `Rename`). */
export const { RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT }: Numbers<typeof Rename> = Rename;

/** lseek(2) whence (abi's `Seek`). */
export const { SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE }: Numbers<typeof Seek> = Seek;

/** access(2) modes (abi's `AccessMode`). */
export const { F_OK, X_OK, W_OK, R_OK }: Numbers<typeof AccessMode> = AccessMode;

/** utimensat(2) special nanosecond values (abi's `Utime`). */
export const { UTIME_NOW, UTIME_OMIT }: Numbers<typeof Utime> = Utime;

/** fcntl(2) commands the VFS answers (abi's `FcntlCmd`). */
export const { F_GETFL, F_SETFL, F_SETPIPE_SZ, F_GETPIPE_SZ }: Numbers<typeof FcntlCmd> = FcntlCmd;

/** poll(2) events (abi's `PollEvent`). */
export const {
  POLLIN,
  POLLPRI,
  POLLOUT,
  POLLERR,
  POLLHUP,
  POLLNVAL,
  POLLRDNORM,
  POLLRDBAND,
  POLLWRNORM,
  POLLWRBAND,
  POLLRDHUP,
}: Numbers<typeof PollEvent> = PollEvent;

/** Capabilities the VFS consults (bit numbers of capabilities(7), abi's `Capability`). */
export const {
  CAP_CHOWN,
  CAP_DAC_OVERRIDE,
  CAP_DAC_READ_SEARCH,
  CAP_FOWNER,
  CAP_FSETID,
  CAP_LINUX_IMMUTABLE,
  CAP_SYS_ADMIN,
  CAP_SYS_RESOURCE,
  CAP_MKNOD,
}: Numbers<typeof Capability> = Capability;

// Limits.
/** Longest path, including its terminating NUL. */
export const PATH_MAX = 4096;
/** Longest name of one path component. */
export const NAME_MAX = 255;
/** Symlinks followed in one path walk before ELOOP. */
export const MAXSYMLINKS = 40;
/** Writes to a pipe of at most this many bytes are atomic. */
export const PIPE_BUF = 4096;
/** Default capacity of a pipe (16 pages). */
export const PIPE_DEF_SIZE = 65536;
/** /proc/sys/fs/pipe-max-size default: the most an unprivileged F_SETPIPE_SZ may ask. */
export const PIPE_MAX_SIZE = 1048576;
/** The largest file offset (loff_t max). */
export const MAX_LFS_FILESIZE = Number.MAX_SAFE_INTEGER;
