/**
 * File mode bits (`S_IF*` types and permission bits) and statx(2) masks and attributes.
 *
 * @module
 */
import { defineFlags } from './flagset.js';

/** `st_mode` bits: the file type in `S_IFMT`, set-id and sticky bits, permission bits. */
export const Mode = {
  S_IFMT: 0o170000,
  S_IFSOCK: 0o140000,
  S_IFLNK: 0o120000,
  S_IFREG: 0o100000,
  S_IFBLK: 0o060000,
  S_IFDIR: 0o040000,
  S_IFCHR: 0o020000,
  S_IFIFO: 0o010000,
  S_ISUID: 0o4000,
  S_ISGID: 0o2000,
  S_ISVTX: 0o1000,
  S_IRWXU: 0o700,
  S_IRUSR: 0o400,
  S_IWUSR: 0o200,
  S_IXUSR: 0o100,
  S_IRWXG: 0o070,
  S_IRGRP: 0o040,
  S_IWGRP: 0o020,
  S_IXGRP: 0o010,
  S_IRWXO: 0o007,
  S_IROTH: 0o004,
  S_IWOTH: 0o002,
  S_IXOTH: 0o001,
} as const;

/** The file type of a mode (`mode & S_IFMT`), as its `S_IF*` name, for mknod and stat output. */
export const fileTypes = defineFlags(
  'file_type',
  {},
  {
    mode: {
      mask: Mode.S_IFMT,
      position: 'first',
      omitZero: true,
      values: [
        { name: 'S_IFSOCK', value: Mode.S_IFSOCK },
        { name: 'S_IFLNK', value: Mode.S_IFLNK },
        { name: 'S_IFREG', value: Mode.S_IFREG },
        { name: 'S_IFBLK', value: Mode.S_IFBLK },
        { name: 'S_IFDIR', value: Mode.S_IFDIR },
        { name: 'S_IFCHR', value: Mode.S_IFCHR },
        { name: 'S_IFIFO', value: Mode.S_IFIFO },
      ],
    },
  },
);

/** True when the mode's type is a directory (and so on for the other `S_IS*` tests). */
export function S_ISDIR(mode: number): boolean {
  return (mode & Mode.S_IFMT) === Mode.S_IFDIR;
}
/** True for a regular file. */
export function S_ISREG(mode: number): boolean {
  return (mode & Mode.S_IFMT) === Mode.S_IFREG;
}
/** True for a symbolic link. */
export function S_ISLNK(mode: number): boolean {
  return (mode & Mode.S_IFMT) === Mode.S_IFLNK;
}
/** True for a character device. */
export function S_ISCHR(mode: number): boolean {
  return (mode & Mode.S_IFMT) === Mode.S_IFCHR;
}
/** True for a block device. */
export function S_ISBLK(mode: number): boolean {
  return (mode & Mode.S_IFMT) === Mode.S_IFBLK;
}
/** True for a FIFO. */
export function S_ISFIFO(mode: number): boolean {
  return (mode & Mode.S_IFMT) === Mode.S_IFIFO;
}
/** True for a socket. */
export function S_ISSOCK(mode: number): boolean {
  return (mode & Mode.S_IFMT) === Mode.S_IFSOCK;
}

/** statx(2) request and result mask bits (`STATX_*`). */
export const StatxMask = {
  STATX_TYPE: 0x1,
  STATX_MODE: 0x2,
  STATX_NLINK: 0x4,
  STATX_UID: 0x8,
  STATX_GID: 0x10,
  STATX_ATIME: 0x20,
  STATX_MTIME: 0x40,
  STATX_CTIME: 0x80,
  STATX_INO: 0x100,
  STATX_SIZE: 0x200,
  STATX_BLOCKS: 0x400,
  STATX_BASIC_STATS: 0x7ff,
  STATX_BTIME: 0x800,
  /** Deprecated: what STATX_* covered before Linux 5.8. */
  STATX_ALL: 0xfff,
  STATX_MNT_ID: 0x1000,
  STATX_DIOALIGN: 0x2000,
  /** Linux 6.8. */
  STATX_MNT_ID_UNIQUE: 0x4000,
  /** Linux 6.10. */
  STATX_SUBVOL: 0x8000,
  /** Linux 6.11. */
  STATX_WRITE_ATOMIC: 0x10000,
  /** Linux 6.14. */
  STATX_DIO_READ_ALIGN: 0x20000,
  STATX__RESERVED: 0x80000000,
} as const;

/** statx masks as strace prints them (`STATX_BASIC_STATS` before the single bits). */
export const statxMask = defineFlags('statx_mask', [
  { name: 'STATX_ALL', value: StatxMask.STATX_ALL },
  { name: 'STATX_BASIC_STATS', value: StatxMask.STATX_BASIC_STATS },
  ...Object.entries(StatxMask)
    .filter(([n]) => !['STATX_ALL', 'STATX_BASIC_STATS', 'STATX__RESERVED'].includes(n))
    .map(([name, value]) => ({ name, value })),
]);

/** statx(2) `stx_attributes` bits (`STATX_ATTR_*`). */
export const StatxAttr = {
  STATX_ATTR_COMPRESSED: 0x4,
  STATX_ATTR_IMMUTABLE: 0x10,
  STATX_ATTR_APPEND: 0x20,
  STATX_ATTR_NODUMP: 0x40,
  STATX_ATTR_ENCRYPTED: 0x800,
  STATX_ATTR_AUTOMOUNT: 0x1000,
  STATX_ATTR_MOUNT_ROOT: 0x2000,
  STATX_ATTR_VERITY: 0x100000,
  STATX_ATTR_DAX: 0x200000,
  /** Linux 6.11. */
  STATX_ATTR_WRITE_ATOMIC: 0x400000,
} as const;

/** statx attributes, for decoding. */
export const statxAttrs = defineFlags('statx_attr', StatxAttr);
