/**
 * @tsvisor/vfs: a POSIX virtual filesystem with Linux's semantics.
 *
 * - {@link Vfs}: a mount namespace and the path syscalls (openat, mkdirat, renameat2, ...).
 * - {@link FileDescription}: an open file (read, write, pread, lseek, getdents, ...).
 * - Filesystems: {@link Tmpfs} (memory), {@link Devfs}, {@link Hostfs} (a confined host
 *   directory), {@link Overlayfs}; pipes and FIFOs ({@link createPipe}); locks ({@link flock},
 *   {@link setRecordLock}).
 * - {@link Posix}: numeric fds over a Vfs, for standalone use.
 * - For filesystem authors: {@link Inode}, {@link FilesystemImpl}, {@link FileDescriptionImpl},
 *   {@link simpleStatfs}.
 *
 * Results are `T | LinuxError` (from `@tsvisor/abi`); nothing throws for bad input.
 *
 * @packageDocumentation
 */

export * from './constants.js';
export { nowNs } from './clock.js';
export { ALL_CAPS, ROOT_CREDS, userCreds, capable } from './types.js';
export type { Creds, FsContext, Location, Stat, Statfs, Dirent, DirentSink, SetAttr } from './types.js';
export { WOULD_BLOCK, WaitQueue, waitForEvents } from './wait.js';
export type { WouldBlock, Waiter, Waitable } from './wait.js';
export { Inode } from './inode.js';
export type { FilesystemImpl, CreateAttrs } from './inode.js';
export { FileDescription, FileDescriptionImpl, DEFAULT_POLLMASK } from './file.js';
export { UserIOSequence, BufferIOSequence } from './io-sequence.js';
export type { IOSequence, IORange, UserMemoryIO } from './io-sequence.js';
export { Mount, MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC } from './mount.js';
export {
  attachMount,
  changePropagation,
  copyForBind,
  mountTree,
  MOUNT_MAX,
  umountMounts,
  umountPropagation,
} from './propagation.js';
export type { PropagationType } from './propagation.js';
export {
  IN_ACCESS,
  IN_MODIFY,
  IN_ATTRIB,
  IN_CLOSE_WRITE,
  IN_CLOSE_NOWRITE,
  IN_OPEN,
  IN_MOVED_FROM,
  IN_MOVED_TO,
  IN_CREATE,
  IN_DELETE,
  IN_DELETE_SELF,
  IN_MOVE_SELF,
  IN_UNMOUNT,
  IN_Q_OVERFLOW,
  IN_IGNORED,
  IN_ONLYDIR,
  IN_DONT_FOLLOW,
  IN_EXCL_UNLINK,
  IN_MASK_CREATE,
  IN_MASK_ADD,
  IN_ISDIR,
  IN_ONESHOT,
  IN_ALL_EVENTS,
  ALL_INOTIFY_BITS,
  fsnotifyUnmount,
} from './fsnotify.js';
export { InotifyInstance, inotifyOf } from './inotify.js';
export type { InotifyLimits } from './inotify.js';
export { MAY_EXEC, MAY_READ, MAY_WRITE, permission, inGroup } from './permission.js';
export { Vfs, checkOpenHow } from './vfs.js';
export type { Timespec, OpenHowRequest } from './vfs.js';
export { DeviceRegistry, makedev, major, minor, anonDev } from './devices.js';
export type { CharDevice } from './devices.js';
export { Pipe, createPipe } from './pipe.js';
export { anonInode, anonInodeName } from './anon-inode.js';
export { simpleStatfs } from './stat.js';
export {
  Tmpfs,
  TmpfsDir,
  TmpfsFile,
  TmpfsSymlink,
  TmpfsInode,
  TMPFS_MAGIC,
  direntType,
} from './tmpfs/tmpfs.js';
export type { TmpfsOptions } from './tmpfs/tmpfs.js';
export type { HostMemoryProvider } from './tmpfs/file-data.js';
export {
  MemfdFs,
  memfdFsOf,
  MFD_CLOEXEC,
  MFD_ALLOW_SEALING,
  MFD_HUGETLB,
  MFD_NOEXEC_SEAL,
  MFD_EXEC,
  MFD_NAME_MAX_LEN,
} from './tmpfs/memfd.js';
export {
  F_ADD_SEALS,
  F_GET_SEALS,
  F_SEAL_SEAL,
  F_SEAL_SHRINK,
  F_SEAL_GROW,
  F_SEAL_WRITE,
  F_SEAL_FUTURE_WRITE,
  F_SEAL_EXEC,
} from './tmpfs/seals.js';
export { parseTmpfsMountData, TmpfsSpace } from './tmpfs/space.js';
export type { TmpfsMountData, SpaceFile } from './tmpfs/space.js';
export { Posix } from './posix.js';
export { Userfs, UserfsNode, USERFS_MAGIC } from './userfs/userfs.js';
export type {
  UserfsOps,
  UserfsOptions,
  UserfsAttr,
  UserfsDirent,
  UserfsCaller,
  UserfsSetattr,
  UserfsResult,
} from './userfs/userfs.js';
export { beginPendingIo, collectPendingIo, endPendingIo, notePendingIo, settleVfs } from './pending-io.js';
export type { Collected } from './pending-io.js';
export { FsPromises, FileHandle, Stats, Dirent as FsDirent, fsError } from './fs-promises.js';
export type { FsError, FsPromisesOptions, PathLike, TimeLike, Encoding } from './fs-promises.js';
export { Devfs, registerMemDevices } from './devfs/devfs.js';
export type { DevfsOptions, TtyHook } from './devfs/devfs.js';
export { Hostfs, HostDir, HostNode, HostRegularFile, hostError } from './hostfs/hostfs.js';
export type { HostfsOptions, HostCalls } from './hostfs/hostfs.js';
export { Overlayfs, OverlayNode } from './overlay/overlay.js';
export type { OverlayOptions } from './overlay/overlay.js';
export {
  F_RDLCK,
  F_WRLCK,
  F_UNLCK,
  LOCK_SH,
  LOCK_EX,
  LOCK_NB,
  LOCK_UN,
  flock,
  getRecordLock,
  setRecordLock,
  releasePosixLocks,
  cancelLockWait,
  lockWaitQueue,
} from './locks.js';
export type { FlockRequest } from './locks.js';
