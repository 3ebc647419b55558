/**
 * inotify(7): inotify_init, inotify_init1, inotify_add_watch and inotify_rm_watch over the
 * VFS's change notification (`InotifyInstance` in `@tsvisor/vfs`). The limits are those
 * /proc/sys/fs/inotify shows: 128 instances per user, 8192 watches per instance's user, 16384
 * queued events.
 *
 * @module
 */
import { At, E, OpenFlag, isError } from '@tsvisor/abi';
import type { Task } from '@tsvisor/kernel';
import {
  ALL_INOTIFY_BITS,
  FileDescription,
  IN_DONT_FOLLOW,
  IN_MASK_ADD,
  IN_MASK_CREATE,
  IN_ONLYDIR,
  InotifyInstance,
  MAY_READ,
  anonInode,
  inotifyOf,
  permission,
} from '@tsvisor/vfs';
import { ctxOf, dirOf, fileAt, filesOf, nofile, pathArg, vfsCreds, vfsOf } from './vfs-context.js';
import {
  int,
  partial,
  ptr,
  uint,
  type SyscallArgs,
  type SyscallFamily,
  type SyscallResult,
} from './types.js';

const IN_CLOEXEC = OpenFlag.O_CLOEXEC;
const IN_NONBLOCK = OpenFlag.O_NONBLOCK;

/** fs.inotify.max_user_instances, max_user_watches, max_queued_events (Linux's defaults). */
export const INOTIFY_MAX_USER_INSTANCES = 128;
export const INOTIFY_MAX_USER_WATCHES = 8192;
export const INOTIFY_MAX_QUEUED_EVENTS = 16384;

/** Instances per real uid of each kernel (the max_user_instances count). */
const instances = new WeakMap<object, Map<number, Set<InotifyInstance>>>();

function userInstances(t: Task): Set<InotifyInstance> {
  let byUid = instances.get(t.kernel);
  if (!byUid) instances.set(t.kernel, (byUid = new Map()));
  let set = byUid.get(t.creds.uid);
  if (!set) byUid.set(t.creds.uid, (set = new Set()));
  return set;
}

/** An instance that leaves its user's count when its last descriptor closes. */
class CountedInotify extends InotifyInstance {
  constructor(private readonly owners: Set<InotifyInstance>) {
    super({ maxQueuedEvents: INOTIFY_MAX_QUEUED_EVENTS, maxWatches: INOTIFY_MAX_USER_WATCHES });
    owners.add(this);
  }

  override release(): void {
    this.owners.delete(this);
    super.release();
  }
}

function create(t: Task, flags: number): SyscallResult {
  if ((flags & ~(IN_CLOEXEC | IN_NONBLOCK)) !== 0) return E.EINVAL;
  const owners = userInstances(t);
  if (owners.size >= INOTIFY_MAX_USER_INSTANCES) return E.EMFILE;
  const impl = new CountedInotify(owners);
  const file = new FileDescription(
    impl,
    anonInode('inotify'),
    OpenFlag.O_RDONLY | (flags & IN_NONBLOCK),
    vfsCreds(t),
  );
  const fd = filesOf(t).install(file, { limit: nofile(t), cloexec: (flags & IN_CLOEXEC) !== 0 });
  if (isError(fd)) file.release();
  return fd;
}

/** implements inotify_init1(2): EINVAL for flags other than IN_CLOEXEC and IN_NONBLOCK. */
function inotifyInit1(t: Task, a: SyscallArgs): SyscallResult {
  return create(t, int(a[0]));
}

/** implements inotify_init(2). */
function inotifyInit(t: Task): SyscallResult {
  return create(t, 0);
}

/** implements inotify_add_watch(2), with the checks in Linux's order. */
function inotifyAddWatch(t: Task, a: SyscallArgs): SyscallResult {
  const mask = uint(a[2]);
  if ((mask & ~ALL_INOTIFY_BITS) !== 0 || (mask & ALL_INOTIFY_BITS) === 0) return E.EINVAL;
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  if ((mask & IN_MASK_ADD) !== 0 && (mask & IN_MASK_CREATE) !== 0) return E.EINVAL;
  const ino = inotifyOf(file);
  if (isError(ino)) return ino;
  const path = pathArg(t, ptr(a[1]));
  if (isError(path)) return path;
  const ctx = ctxOf(t);
  const loc = vfsOf(t).lookupat(
    ctx,
    dirOf(t, At.AT_FDCWD),
    path,
    (mask & IN_DONT_FOLLOW) !== 0 ? At.AT_SYMLINK_NOFOLLOW : 0,
  );
  if (isError(loc)) return loc;
  if ((mask & IN_ONLYDIR) !== 0 && !loc.inode.isDir) return E.ENOTDIR;
  // The watcher must be able to read the file (inotify_find_inode).
  loc.inode.refresh();
  const err = permission(ctx.creds, loc.inode, MAY_READ);
  if (err) return err;
  return ino.addWatch(loc.inode, mask);
}

/** implements inotify_rm_watch(2). */
function inotifyRmWatch(t: Task, a: SyscallArgs): SyscallResult {
  const file = fileAt(t, int(a[0]));
  if (isError(file)) return file;
  const ino = inotifyOf(file);
  if (isError(ino)) return ino;
  return ino.removeWatch(int(a[1])) ?? 0;
}

const NOTE = partial(
  'events from every VFS operation in Linux order; IN_UNMOUNT when the last mount of a filesystem is ' +
    'detached (even with files open); a removed directory that is a cwd ends at once; fixed default limits',
);

/** The inotify family. */
export const inotifySyscalls: SyscallFamily = {
  inotify_init: { handler: inotifyInit, support: NOTE },
  inotify_init1: { handler: inotifyInit1, support: NOTE },
  inotify_add_watch: { handler: inotifyAddWatch, support: NOTE },
  inotify_rm_watch: { handler: inotifyRmWatch, support: NOTE },
};
