/**
 * System V shared memory: shmget(2), shmat(2), shmdt(2), shmctl(2). A segment's memory is a memfd
 * of the sandbox (so the platform maps the same host pages into every process that attaches it,
 * across fork and in unrelated processes); the kernel's {@link ShmNamespace} keeps the ids and
 * the bookkeeping, and the address-space model holds the attachments as shared file VMAs shown
 * as `/SYSV<key> (deleted)` in /proc/<pid>/maps.
 *
 * @module
 */
import { Capability, E, MapFlag, Prot, isError, type LinuxError } from '@tsvisor/abi';
import {
  IPC_INFO,
  IPC_RMID,
  IPC_SET,
  IPC_STAT,
  SHMALL,
  SHMMAX,
  SHMMIN,
  SHMMNI,
  SHM_LOCKED,
  capable,
  ipcOwnerCheck,
  ipcPermitted,
  ipcSetPerm,
  type ShmBacking,
  type ShmSegment,
  type Task,
} from '@tsvisor/kernel';
import type { MapFile } from '@tsvisor/mm';
import { memfdFsOf, type FileDescription } from '@tsvisor/vfs';
import { totalmem } from 'node:os';
import { applyHostOps, modelOf } from './sys-mm.js';
import { buffer, checkPermSet, copyOut, emitPerm, ipcNow, readDs } from './sys-sysv-common.js';
import {
  FULL,
  int,
  partial,
  ptr,
  size,
  type SyscallArgs,
  type SyscallFamily,
  type SyscallResult,
} from './types.js';
import { vfsCreds, vfsOf } from './vfs-context.js';

/** shmat flags. */
export const SHM_RDONLY = 0o10000;
export const SHM_RND = 0o20000;
export const SHM_REMAP = 0o40000;
export const SHM_EXEC = 0o100000;
/** shmctl commands beyond the common ones. */
export const SHM_LOCK = 11;
export const SHM_UNLOCK = 12;
export const SHM_STAT = 13;
export const SHM_INFO = 14;
export const SHM_STAT_ANY = 15;
const SHMLBA = 4096;
const PAGE = 4096;
const SHMID_DS_SIZE = 112;

/**
 * A segment as the memory model maps it: the memfd (which the platform maps through its host
 * fd), on the shm device 00:01 with the segment id as inode, as Linux shows it. One object per
 * access mode, since a read-only attach must not be mprotect-able to writable (EACCES).
 */
export class ShmMapFile implements MapFile {
  readonly mapReadable = true;
  readonly mapDevMajor = 0;
  readonly mapDevMinor = 1;
  readonly mapNoMerge = true;
  mapInode = 0;
  readonly mapObject: object;

  constructor(
    /** The memfd; the runtime finds its host fd here. */
    readonly description: FileDescription,
    readonly mapWritable: boolean,
    private readonly key: number,
  ) {
    this.mapObject = description.location.inode;
  }

  mapPath(): string {
    return `/SYSV${(this.key >>> 0).toString(16).padStart(8, '0')} (deleted)`;
  }
}

/** The memory of a new segment: a memfd of `size` bytes. */
function makeBacking(t: Task, key: number, bytes: number): ShmBacking | LinuxError {
  // Linux charges the segment to the commit limit (overcommit heuristic: no more than RAM plus
  // swap at once); the host's RAM is the bound here.
  if (bytes > totalmem()) return E.ENOMEM;
  const fs = memfdFsOf(vfsOf(t));
  const file = fs.create(`SYSV${(key >>> 0).toString(16).padStart(8, '0')}`, 0, vfsCreds(t));
  if (isError(file)) return file;
  const e = vfsOf(t).ftruncate(file, bytes);
  if (e) {
    file.release();
    return e === E.EFBIG ? E.ENOMEM : e;
  }
  const rw = new ShmMapFile(file, true, key);
  const ro = new ShmMapFile(file, false, key);
  return { mapFiles: [rw, ro], release: () => file.release() };
}

/** The map file of `seg` for an access mode. */
function mapFileOf(seg: ShmSegment, writable: boolean): ShmMapFile {
  const f = seg.backing.mapFiles[writable ? 0 : 1] as ShmMapFile;
  f.mapInode = seg.id;
  return f;
}

/** implements shmget(2). */
function shmget(t: Task, a: SyscallArgs): SyscallResult {
  const key = int(a[0]);
  // Above SHMMAX stays above it (size() would clamp to 2^53): EINVAL to create, to look up.
  const bytes = a[1] > SHMMAX ? Infinity : size(a[1]);
  const flags = int(a[2]);
  const shm = t.kernel.ipc.shm;
  return shm.get(key, bytes, flags, t.creds, t.tgid, ipcNow(t), (n) => makeBacking(t, key, n));
}

/**
 * implements shmat(2): `EINVAL` for a misaligned address without SHM_RND, SHM_REMAP without an
 * address, an unknown id or an attach over existing mappings without SHM_REMAP; `EACCES` without
 * the access asked for.
 */
async function shmat(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  const shmid = int(a[0]);
  let addr = ptr(a[1]);
  const flg = int(a[2]);
  const shm = t.kernel.ipc.shm;
  if (addr) {
    if (addr & (SHMLBA - 1)) {
      if (!(flg & SHM_RND)) return E.EINVAL;
      addr -= addr & (SHMLBA - 1);
      if (!addr && flg & SHM_REMAP) return E.EINVAL;
    }
  } else if (flg & SHM_REMAP) return E.EINVAL;
  const readOnly = (flg & SHM_RDONLY) !== 0;
  let prot = readOnly ? Prot.PROT_READ : Prot.PROT_READ | Prot.PROT_WRITE;
  let access = readOnly ? 0o444 : 0o666;
  if (flg & SHM_EXEC) {
    prot |= Prot.PROT_EXEC;
    access |= 0o111;
  }
  const seg = shm.find(shmid);
  if (isError(seg)) return seg;
  if (!ipcPermitted(seg, t.creds, access)) return E.EACCES;
  const model = modelOf(t);
  const len = Math.ceil(seg.size / PAGE) * PAGE;
  let mapFlags = MapFlag.MAP_SHARED;
  if (addr) {
    mapFlags |= MapFlag.MAP_FIXED;
    if (!(flg & SHM_REMAP) && model.list().some((v) => v.start < addr + len && v.end > addr)) return E.EINVAL;
  }
  const r = model.mmap(addr, len, prot, mapFlags, mapFileOf(seg, !readOnly), 0);
  const e = await applyHostOps(t);
  if (isError(r)) return r;
  if (e) return e;
  seg.atime = ipcNow(t);
  seg.lpid = t.tgid;
  return r;
}

/**
 * implements shmdt(2): unmaps the segment attached at `addr` (every piece of it a partial
 * munmap or mprotect left, within the segment's size); `EINVAL` if no attachment starts there.
 */
async function shmdt(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  const addr = ptr(a[0]);
  if (addr & (PAGE - 1)) return E.EINVAL;
  const model = modelOf(t);
  const origin = (v: { start: number; pgoff: number }): number => v.start - v.pgoff * PAGE;
  const first = model.list().find((v) => v.file instanceof ShmMapFile && origin(v) === addr);
  if (!first || !(first.file instanceof ShmMapFile)) return E.EINVAL;
  const file = first.file;
  const seg = t.kernel.ipc.shm.ids.all().find((s) => s.backing.mapFiles.includes(file));
  // The attachment found goes whole; then what partial munmap/mprotect left of the same attach
  // (same file, same origin) within the segment's size.
  const bytes = seg?.size ?? file.description.stat().size;
  const victims = model
    .list()
    .filter((v) => v === first || (v.file === file && origin(v) === addr && v.end - addr <= bytes))
    .map((v) => [v.start, v.end - v.start] as const);
  for (const [start, length] of victims) model.munmap(start, length);
  const e = await applyHostOps(t);
  if (seg) {
    seg.dtime = ipcNow(t);
    seg.lpid = t.tgid;
  }
  t.kernel.ipc.shm.reap();
  return e ?? 0;
}

function emitShmidDs(t: Task, seg: ShmSegment): Uint8Array {
  const { bytes, dv } = buffer(SHMID_DS_SIZE);
  emitPerm(dv, seg);
  dv.setBigUint64(48, BigInt(seg.size), true);
  dv.setBigInt64(56, BigInt(seg.atime), true);
  dv.setBigInt64(64, BigInt(seg.dtime), true);
  dv.setBigInt64(72, BigInt(seg.ctime), true);
  dv.setInt32(80, seg.cpid, true);
  dv.setInt32(84, seg.lpid, true);
  dv.setBigUint64(88, BigInt(t.kernel.ipc.shm.nattch(seg)), true);
  return bytes;
}

/**
 * implements shmctl(2): IPC_STAT, SHM_STAT, SHM_STAT_ANY, IPC_SET, IPC_RMID, IPC_INFO, SHM_INFO,
 * SHM_LOCK, SHM_UNLOCK; `EINVAL` for a negative id or command or an unknown command.
 */
function shmctl(t: Task, a: SyscallArgs): SyscallResult {
  const shmid = int(a[0]);
  const cmd = int(a[1]);
  const buf = ptr(a[2]);
  const shm = t.kernel.ipc.shm;
  if (cmd < 0 || shmid < 0) return E.EINVAL;
  switch (cmd) {
    case IPC_INFO: {
      const { bytes, dv } = buffer(72);
      dv.setBigUint64(0, SHMMAX, true);
      dv.setBigUint64(8, BigInt(SHMMIN), true);
      dv.setBigUint64(16, BigInt(SHMMNI), true);
      dv.setBigUint64(24, BigInt(SHMMNI), true);
      dv.setBigUint64(32, SHMALL, true);
      shm.reap();
      return copyOut(t, buf, bytes) ?? Math.max(0, shm.ids.maxIndex());
    }
    case SHM_INFO: {
      shm.reap();
      const { bytes, dv } = buffer(48);
      dv.setInt32(0, shm.ids.inUse, true);
      dv.setBigUint64(8, BigInt(shm.totalPages), true);
      return copyOut(t, buf, bytes) ?? Math.max(0, shm.ids.maxIndex());
    }
    case IPC_STAT:
    case SHM_STAT:
    case SHM_STAT_ANY: {
      shm.reap();
      const seg = cmd === IPC_STAT ? shm.ids.find(shmid) : shm.ids.atIndex(shmid);
      if (isError(seg)) return seg;
      if (cmd !== SHM_STAT_ANY && !ipcPermitted(seg, t.creds, 0o444)) return E.EACCES;
      return copyOut(t, buf, emitShmidDs(t, seg)) ?? (cmd === IPC_STAT ? 0 : seg.id);
    }
    case IPC_SET: {
      const ds = readDs(t, buf, SHMID_DS_SIZE);
      if (isError(ds)) return ds;
      const seg = shm.find(shmid);
      if (isError(seg)) return seg;
      const denied = ipcOwnerCheck(seg, t.creds) ?? checkPermSet(ds.perm);
      if (denied) return denied;
      ipcSetPerm(seg, ds.perm.uid, ds.perm.gid, ds.perm.mode);
      seg.ctime = ipcNow(t);
      return 0;
    }
    case IPC_RMID: {
      const seg = shm.find(shmid);
      if (isError(seg)) return seg;
      const denied = ipcOwnerCheck(seg, t.creds);
      if (denied) return denied;
      shm.remove(seg);
      return 0;
    }
    case SHM_LOCK:
    case SHM_UNLOCK: {
      const seg = shm.find(shmid);
      if (isError(seg)) return seg;
      const c = t.creds;
      if (!capable(c, Capability.CAP_IPC_LOCK) && c.euid !== seg.uid && c.euid !== seg.cuid) return E.EPERM;
      if (cmd === SHM_LOCK) seg.mode |= SHM_LOCKED;
      else seg.mode &= ~SHM_LOCKED;
      return 0;
    }
    default:
      return E.EINVAL;
  }
}

/** System V shared memory syscalls. */
export const sysvShmSyscalls: SyscallFamily = {
  shmget: {
    handler: shmget,
    support: FULL,
  },
  shmat: {
    handler: shmat,
    support: partial(
      'a segment is a memfd of the sandbox: without host memory for memfds (the runtime attaches it) the host mapping fails with ENODEV and the model keeps the attachment until shmdt',
    ),
  },
  shmdt: {
    handler: shmdt,
    support: partial('shm_dtime and shm_lpid change on shmdt only, not on munmap or exit'),
  },
  shmctl: {
    handler: shmctl,
    support: partial(
      'SHM_INFO reports shm_rss and shm_swp as 0 (residency is not tracked); SHM_LOCK only sets the flag',
    ),
  },
};
