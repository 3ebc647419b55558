/**
 * System V shared memory segments (`ipc/shm.c`). A segment's pages are a shared memory object
 * the syscall layer makes (a memfd of the sandbox, so the platform maps the same host pages into
 * every attaching process); this module keeps the ids, the `shmid_ds` bookkeeping and the
 * limits. Attachments are counted from the address-space models (every VMA of the segment's
 * mapped file, as Linux's `shm_nattch` counts VMAs), so munmap, fork, exec and exit keep the
 * count right without hooks; a segment marked for removal goes once nothing maps it.
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';
import type { MapFile } from '@tsvisor/mm';
import type { Credentials } from '../creds/credentials.js';
import { IpcIds, IpcObject, ipcGet } from './ipc-ids.js';

/** Linux's defaults (/proc/sys/kernel/shmmax, shmall, shmmni). shmall counts pages. */
export const SHMMAX = 18446744073692774399n;
export const SHMALL = 18446744073692774399n;
export const SHMMNI = 4096;
export const SHMMIN = 1;
/** Mode bits: marked for removal, and locked (SHM_LOCK). */
export const SHM_DEST = 0o1000;
export const SHM_LOCKED = 0o2000;

/** The memory behind a segment, made by the syscall layer. */
export interface ShmBacking {
  /**
   * What the address-space model maps (its path shows as `/SYSV<key> (deleted)`): one file per
   * access mode (read-write, read-only); a VMA of any of them is an attachment.
   */
  readonly mapFiles: readonly MapFile[];
  /** Frees the memory once the segment is gone and unmapped. */
  release(): void;
}

/** One segment. */
export class ShmSegment extends IpcObject {
  atime = 0;
  dtime = 0;
  ctime: number;
  lpid = 0;

  constructor(
    key: number,
    creds: Credentials,
    flags: number,
    /** `shm_segsz`, bytes as asked. */
    readonly size: number,
    readonly cpid: number,
    now: number,
    readonly backing: ShmBacking,
  ) {
    super(key, creds, flags);
    this.ctime = now;
  }

  /** Pages the segment takes (what shmall and SHM_INFO's shm_tot count). */
  get pages(): number {
    return Math.ceil(this.size / 4096);
  }
}

/** The shared memory segments of one IPC namespace. */
export class ShmNamespace {
  readonly ids = new IpcIds<ShmSegment>(SHMMNI);
  /** Pages in all segments (`shm_tot`). */
  totalPages = 0;

  constructor(
    /** How many VMAs map `file` across the namespace's address spaces. */
    private readonly countMappings: (files: readonly MapFile[]) => number,
  ) {}

  /** `shm_nattch`. */
  nattch(seg: ShmSegment): number {
    return this.countMappings(seg.backing.mapFiles);
  }

  /**
   * `shmget()`: creating needs SHMMIN <= size <= SHMMAX (EINVAL) and room under SHMALL and
   * SHMMNI (ENOSPC); an existing segment smaller than `size` gives EINVAL. `make` gives the
   * memory (ENOMEM...).
   */
  get(
    key: number,
    size: number,
    flags: number,
    creds: Credentials,
    pid: number,
    now: number,
    make: (size: number) => ShmBacking | LinuxError,
  ): number | LinuxError {
    this.reap();
    return ipcGet(
      this.ids,
      key,
      flags,
      creds,
      () => {
        if (!(size >= SHMMIN && size <= Number(SHMMAX))) return E.EINVAL;
        const pages = Math.ceil(size / 4096);
        if (this.totalPages + pages > Number(SHMALL)) return E.ENOSPC;
        if (this.ids.inUse >= SHMMNI) return E.ENOSPC;
        const backing = make(size);
        if (!('mapFiles' in backing)) return backing;
        const seg = new ShmSegment(key, creds, flags, size, pid, now, backing);
        const id = this.ids.add(seg);
        if (typeof id !== 'number') backing.release();
        else this.totalPages += pages;
        return id;
      },
      (seg) => (seg.size < size ? E.EINVAL : undefined),
    );
  }

  /** IPC_RMID: gone now if unattached; otherwise marked (SHM_DEST, key IPC_PRIVATE) until the last detach. */
  remove(seg: ShmSegment): void {
    seg.mode |= SHM_DEST;
    seg.key = 0;
    this.reap();
  }

  /** Destroys marked segments nothing maps any more. Called before every lookup. */
  reap(): void {
    for (const seg of this.ids.all()) {
      if (seg.mode & SHM_DEST && this.nattch(seg) === 0) {
        this.ids.remove(seg);
        this.totalPages -= seg.pages;
        seg.backing.release();
      }
    }
  }

  /** The segment with `id` (EINVAL), after reaping. */
  find(id: number): ShmSegment | LinuxError {
    this.reap();
    return this.ids.find(id);
  }
}
