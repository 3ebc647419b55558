/**
 * The part every System V IPC object shares (`ipc/util.c`): the `ipc_perm` of an object, the id
 * registry of one object kind in an IPC namespace (index + sequence number, keys), the
 * permission check `ipcperms` and the owner check of IPC_SET / IPC_RMID.
 *
 * @module
 */
import { Capability, E, type LinuxError } from '@tsvisor/abi';
import { capable, inGroup, type Credentials } from '../creds/credentials.js';

/** `IPC_PRIVATE`: a key that always makes a new object. */
export const IPC_PRIVATE = 0;
/** Flag bits of the `*get` calls and of the operations. */
export const IPC_CREAT = 0o1000;
export const IPC_EXCL = 0o2000;
export const IPC_NOWAIT = 0o4000;
/** Control commands shared by shmctl, semctl and msgctl. */
export const IPC_RMID = 0;
export const IPC_SET = 1;
export const IPC_STAT = 2;
export const IPC_INFO = 3;
/** Index bits of an id (`IPCMNI_SHIFT` without `ipcmni_extend`). */
const IPCMNI_SHIFT = 15;
const IPCMNI = 1 << IPCMNI_SHIFT;
const SEQ_MAX = 0xffff; // ipc_perm.seq is an unsigned short; ids stay positive ints
const S_IRWXUGO = 0o777;

/** The `ipc_perm` part of an object, plus its id. */
export class IpcObject {
  /** The id the `*get` call returned (index + sequence << 15); set by {@link IpcIds.add}. */
  id = -1;
  seq = 0;
  uid: number;
  gid: number;
  readonly cuid: number;
  readonly cgid: number;
  /** Permission bits (and, for shm, SHM_DEST / SHM_LOCKED). */
  mode: number;
  /** False once removed: waiters then answer EIDRM. */
  valid = true;

  constructor(
    /** The key; IPC_PRIVATE once a segment is marked for destruction (shm). */
    public key: number,
    creds: Credentials,
    flags: number,
  ) {
    this.uid = this.cuid = creds.euid;
    this.gid = this.cgid = creds.egid;
    this.mode = flags & S_IRWXUGO;
  }

  /** The index part of the id (what SHM_STAT and friends take). */
  get index(): number {
    return this.id & (IPCMNI - 1);
  }
}

/**
 * `ipcperms()`: true when `creds` may access `obj` for the rwx bits of `flag` (any of the three
 * triplets in `flag` asks for that access); root (CAP_IPC_OWNER) always may.
 */
export function ipcPermitted(obj: IpcObject, creds: Credentials, flag: number): boolean {
  const requested = ((flag >> 6) | (flag >> 3) | flag) & 7;
  let granted = obj.mode;
  if (creds.euid === obj.cuid || creds.euid === obj.uid) granted >>= 6;
  else if (inGroup(creds, obj.cgid) || inGroup(creds, obj.gid)) granted >>= 3;
  return (requested & ~granted & 7) === 0 || capable(creds, Capability.CAP_IPC_OWNER);
}

/** The owner check of IPC_SET and IPC_RMID: the creator, the owner or root; else EPERM. */
export function ipcOwnerCheck(obj: IpcObject, creds: Credentials): LinuxError | undefined {
  if (creds.euid === obj.cuid || creds.euid === obj.uid || capable(creds, Capability.CAP_SYS_ADMIN))
    return undefined;
  return E.EPERM;
}

/** IPC_SET's common part: new owner uid/gid and the permission bits. */
export function ipcSetPerm(obj: IpcObject, uid: number, gid: number, mode: number): void {
  obj.uid = uid;
  obj.gid = gid;
  obj.mode = (obj.mode & ~S_IRWXUGO) | (mode & S_IRWXUGO);
}

/** The ids of one object kind in one IPC namespace. */
export class IpcIds<T extends IpcObject> {
  private readonly byIndex = new Map<number, T>();
  private lastIdx = -1;
  private seq = 0;

  constructor(
    /** The most objects there may be (SHMMNI, SEMMNI, MSGMNI). */
    private readonly mni: number,
  ) {}

  /** Number of objects. */
  get inUse(): number {
    return this.byIndex.size;
  }

  /** Every object, by index. */
  all(): T[] {
    return [...this.byIndex.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
  }

  /** The object with `id`, checking the sequence number (EINVAL otherwise, as Linux). */
  find(id: number): T | LinuxError {
    if (id < 0) return E.EINVAL;
    const obj = this.byIndex.get(id & (IPCMNI - 1));
    return obj !== undefined && obj.id === id ? obj : E.EINVAL;
  }

  /** The object at index `idx` (the *_STAT commands); EINVAL when the slot is empty. */
  atIndex(idx: number): T | LinuxError {
    return this.byIndex.get(idx) ?? E.EINVAL;
  }

  /** The object with `key` (never IPC_PRIVATE ones). */
  findKey(key: number): T | undefined {
    if (key === IPC_PRIVATE) return undefined;
    for (const obj of this.byIndex.values()) if (obj.key === key) return obj;
    return undefined;
  }

  /**
   * Gives `obj` an id: the next free index after the last one allocated (cyclic, as Linux's
   * `idr_alloc_cyclic`), the sequence number moving on when the index wraps. ENOSPC when full.
   */
  add(obj: T): number | LinuxError {
    const limit = Math.min(this.mni, IPCMNI);
    if (this.byIndex.size >= limit) return E.ENOSPC;
    let idx = this.lastIdx + 1;
    for (;;) {
      if (idx >= limit) idx = 0;
      if (!this.byIndex.has(idx)) break;
      idx++;
    }
    if (idx <= this.lastIdx) {
      this.seq++;
      if (this.seq > SEQ_MAX) this.seq = 0;
    }
    this.lastIdx = idx;
    obj.seq = this.seq;
    obj.id = (this.seq << IPCMNI_SHIFT) + idx;
    this.byIndex.set(idx, obj);
    return obj.id;
  }

  /** Removes `obj` (IPC_RMID); its waiters are the caller's to wake. */
  remove(obj: T): void {
    if (this.byIndex.get(obj.index) === obj) this.byIndex.delete(obj.index);
    obj.valid = false;
  }

  /** The highest index in use, or -1 (`ipc_get_maxidx`). */
  maxIndex(): number {
    let max = -1;
    for (const idx of this.byIndex.keys()) if (idx > max) max = idx;
    return max;
  }
}

/**
 * `ipcget()`: the common lookup of shmget, semget and msgget. IPC_PRIVATE always creates; a key
 * that exists gives EEXIST with IPC_CREAT|IPC_EXCL, else `check` (size / nsems, EINVAL) then the
 * access check (EACCES); a missing key gives ENOENT without IPC_CREAT.
 */
export function ipcGet<T extends IpcObject>(
  ids: IpcIds<T>,
  key: number,
  flags: number,
  creds: Credentials,
  create: () => number | LinuxError,
  check: (obj: T) => LinuxError | undefined,
): number | LinuxError {
  if (key === IPC_PRIVATE) return create();
  const obj = ids.findKey(key);
  if (obj === undefined) return flags & IPC_CREAT ? create() : E.ENOENT;
  if (flags & IPC_CREAT && flags & IPC_EXCL) return E.EEXIST;
  const bad = check(obj);
  if (bad) return bad;
  if (!ipcPermitted(obj, creds, flags)) return E.EACCES;
  return obj.id;
}
