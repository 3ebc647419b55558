/**
 * tmpfs space accounting: the `size=` and `nr_inodes=` limits of a mount (Linux's
 * shmem_sb_info max_blocks / max_inodes) and what counts against them.
 *
 * What Linux charges, and so what this charges:
 * - a block (4 KiB page) for every page of file data that was written or fallocated, and for
 *   the body of a symlink of 128 bytes or more (shorter ones live in the inode);
 * - an inode for every file, directory, symlink and node, the root included, and one more for
 *   every extra hard link (shmem_link reserves one per link to bound dentry memory);
 * - freed when the page is truncated or punched away, and for a whole file when its last link
 *   and its last open description are gone (eviction).
 *
 * Writes fill pages in order and stop at the first page that cannot be allocated (a short
 * write, or ENOSPC if no byte went in); fallocate either charges its whole range or fails with
 * ENOSPC; truncating upwards allocates nothing (the new range is a hole), so it never fails.
 *
 * @module
 */

import { E } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import type { FileData } from './file-data.js';

/** tmpfs's page size: the unit of `size=` and of statfs blocks. */
export const TMPFS_PAGE = 4096;
/** Symlink bodies up to this length (the NUL included) live in the inode and cost no block. */
const SHORT_SYMLINK_LEN = 128;

/** True when a symlink to `target` takes a page of its own (shmem_symlink). */
export function symlinkTakesBlock(target: string): boolean {
  return target.length + 1 > SHORT_SYMLINK_LEN;
}

/** The accounting view of a regular file: its data and its fallocated, never written pages. */
export interface SpaceFile {
  readonly data: FileData;
  /**
   * Page indices fallocated but not written: Linux allocates them (they count in st_blocks and
   * against `size=`) yet reads and SEEK_DATA see holes, so they are kept apart from the data.
   */
  reserved: Set<number> | null;
}

/** What one inode costs of the inode space (shmem's BOGO_INODE_SIZE). */
const BOGO_INODE_SIZE = 1024;

/**
 * What an extended attribute costs of the inode space when `nr_inodes=` is set
 * (simple_xattr_space: a fixed 40 for the record, the name and the value).
 */
export function xattrSpace(name: string, size: number): number {
  return 40 + name.length + size;
}

/** The space counters of one tmpfs instance. A limit of 0 means unlimited, as in Linux. */
export class TmpfsSpace {
  /** Blocks in use (pages of data, fallocated pages, long symlinks). Tracked when limited. */
  usedBlocks = 0;
  /**
   * Inode space in use, in bytes: BOGO_INODE_SIZE (1024) per inode and extra link, plus the
   * extended attributes when `nr_inodes=` is set (Linux 6.6's free_ispace, in reverse).
   */
  usedIspace = 0;

  constructor(
    /** `size=` in pages (0: unlimited). */
    readonly maxBlocks: number,
    /** `nr_inodes=` (0: unlimited). */
    readonly maxInodes: number,
  ) {}

  /** True when `size=` limits the data. */
  get blocksLimited(): boolean {
    return this.maxBlocks !== 0;
  }

  /** Inodes in use as statfs counts them (f_files - f_ffree). */
  get usedInodes(): number {
    return Math.ceil(this.usedIspace / BOGO_INODE_SIZE);
  }

  /** Take one inode (shmem_reserve_inode): ENOSPC when `nr_inodes=` is reached. */
  reserveInode(): LinuxError | undefined {
    return this.reserveIspace(BOGO_INODE_SIZE) ? undefined : E.ENOSPC;
  }

  /** Give one inode back (shmem_free_inode). */
  freeInode(): void {
    this.usedIspace -= BOGO_INODE_SIZE;
  }

  /** Take `bytes` of inode space (always granted without `nr_inodes=`). */
  reserveIspace(bytes: number): boolean {
    if (this.maxInodes !== 0 && this.usedIspace + bytes > this.maxInodes * BOGO_INODE_SIZE) return false;
    this.usedIspace += bytes;
    return true;
  }

  /** Give back `bytes` of inode space. */
  freeIspace(bytes: number): void {
    this.usedIspace -= bytes;
  }

  /** True when extended attributes are charged (only with `nr_inodes=`, as in Linux). */
  get xattrsCharged(): boolean {
    return this.maxInodes !== 0;
  }

  /** Take `n` blocks: false (nothing taken) when fewer are free. */
  reserveBlocks(n: number): boolean {
    if (this.maxBlocks !== 0) {
      if (this.usedBlocks + n > this.maxBlocks) return false;
      this.usedBlocks += n;
    }
    return true;
  }

  /**
   * Give `n` blocks back. Never below zero: a file whose bytes moved to host memory (mapped
   * shared) reports the host's page count, which can differ from what was charged here.
   */
  freeBlocks(n: number): void {
    if (this.maxBlocks !== 0) this.usedBlocks = Math.max(0, this.usedBlocks - n);
  }

  /**
   * How many bytes of a write of `len` bytes at `offset` go in: all of them, or those before the
   * first page that is neither allocated nor allocatable (0: ENOSPC). Charges the new pages of
   * the bytes that go in and un-reserves fallocated pages that the write turns into data.
   */
  fitWrite(file: SpaceFile, offset: number, len: number): number {
    const reserved = file.reserved;
    if (this.maxBlocks === 0) {
      if (reserved !== null) unreserve(file, offset, offset + len);
      return len;
    }
    const end = offset + len;
    const free = this.maxBlocks - this.usedBlocks;
    const data = file.data;
    const lastPage = Math.ceil(end / TMPFS_PAGE);
    let fresh = 0;
    let page = Math.floor(offset / TMPFS_PAGE);
    while (page < lastPage) {
      const at = page * TMPFS_PAGE;
      if (at < data.size) {
        const hole = data.nextHole(at);
        if (hole > at) {
          page = Math.ceil(hole / TMPFS_PAGE);
          continue;
        }
      } else if (reserved === null) {
        // Past the end of the data every page is new: count them at once.
        const n = lastPage - page;
        if (fresh + n > free) {
          page += free - fresh;
          fresh = free;
          break;
        }
        fresh += n;
        page = lastPage;
        break;
      }
      if (reserved === null || !reserved.has(page)) {
        if (fresh === free) break;
        fresh++;
      }
      page++;
    }
    const fits = page >= lastPage ? len : Math.max(0, page * TMPFS_PAGE - offset);
    if (fits > 0) {
      this.usedBlocks += fresh;
      if (reserved !== null) unreserve(file, offset, offset + fits);
    }
    return fits;
  }

  /**
   * fallocate(2) mode 0 / FALLOC_FL_KEEP_SIZE over [offset, offset+len): reserve every page of
   * the range that holds no data yet, or ENOSPC (shmem_fallocate undoes a partial allocation).
   */
  fallocate(file: SpaceFile, offset: number, len: number): LinuxError | undefined {
    const first = Math.floor(offset / TMPFS_PAGE);
    const last = Math.ceil((offset + len) / TMPFS_PAGE);
    if (this.maxBlocks !== 0 && last - first > this.maxBlocks) return E.ENOSPC;
    const data = file.data;
    const fresh: number[] = [];
    for (let page = first; page < last;) {
      const at = page * TMPFS_PAGE;
      if (at < data.size) {
        const hole = data.nextHole(at);
        if (hole > at) {
          page = Math.ceil(hole / TMPFS_PAGE);
          continue;
        }
      }
      if (file.reserved?.has(page) !== true) fresh.push(page);
      page++;
    }
    if (!this.reserveBlocks(fresh.length)) return E.ENOSPC;
    if (fresh.length > 0) {
      const reserved = (file.reserved ??= new Set());
      for (const p of fresh) reserved.add(p);
    }
    return undefined;
  }

  /**
   * After the data shrank or a hole was punched: give back the data pages that went (`pagesBefore`
   * is `data.pages()` from before, or -1 when the counter is not tracked) and the fallocated pages
   * inside [from, to).
   */
  released(file: SpaceFile, pagesBefore: number, from: number, to: number): void {
    if (pagesBefore >= 0) this.freeBlocks(pagesBefore - file.data.pages());
    const reserved = file.reserved;
    if (reserved === null) return;
    const first = Math.ceil(from / TMPFS_PAGE);
    const last = to === Infinity ? Infinity : Math.floor(to / TMPFS_PAGE);
    let n = 0;
    for (const p of reserved)
      if (p >= first && p < last) {
        reserved.delete(p);
        n++;
      }
    if (reserved.size === 0) file.reserved = null;
    this.freeBlocks(n);
  }

  /** The pages a file holds (data and fallocated), for eviction and st_blocks. */
  static pagesOf(file: SpaceFile): number {
    return file.data.pages() + (file.reserved?.size ?? 0);
  }
}

/** Fallocated pages touched by a write in [from, to) become data: no longer reserved apart. */
function unreserve(file: SpaceFile, from: number, to: number): void {
  const reserved = file.reserved;
  if (reserved === null) return;
  const last = Math.ceil(to / TMPFS_PAGE);
  for (let p = Math.floor(from / TMPFS_PAGE); p < last; p++) reserved.delete(p);
  if (reserved.size === 0) file.reserved = null;
}

/** Linux's memparse: a number with an optional k/m/g/t/p/e suffix (powers of 1024). */
function memparse(s: string): number | null {
  const m = /^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)([kmgtpe]?)$/i.exec(s);
  if (m === null) return null;
  const digits = m[1] ?? '';
  const base =
    digits.startsWith('0x') || digits.startsWith('0X')
      ? Number.parseInt(digits, 16)
      : digits.length > 1 && digits.startsWith('0')
        ? Number.parseInt(digits, 8)
        : Number(digits);
  const suffix = (m[2] ?? '').toLowerCase();
  const shift = suffix === '' ? 0 : 'kmgtpe'.indexOf(suffix) + 1;
  return base * 2 ** (10 * shift);
}

/** Parsed tmpfs mount data (see {@link parseTmpfsMountData}). */
export interface TmpfsMountData {
  size?: number;
  nrInodes?: number;
  mode?: number;
  uid?: number;
  gid?: number;
}

/**
 * Parse the data string of `mount -t tmpfs -o ...` (`size=64k,nr_inodes=100,mode=0755,uid=1,gid=2`)
 * into options: sizes and inode counts take k/m/g/... suffixes, mode is octal. EINVAL for an
 * unknown option or a bad value, as tmpfs's parser gives. `size=N%` (a share of RAM) is not
 * supported (EINVAL): a sandbox states sizes in bytes.
 */
export function parseTmpfsMountData(data: string): TmpfsMountData | LinuxError {
  const out: TmpfsMountData = {};
  for (const item of data.split(',')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? '' : item.slice(eq + 1);
    switch (key) {
      case 'size':
      case 'nr_blocks':
      case 'nr_inodes': {
        const n = memparse(value);
        if (n === null || !Number.isSafeInteger(n)) return E.EINVAL;
        if (key === 'size') out.size = n;
        else if (key === 'nr_blocks') out.size = n * TMPFS_PAGE;
        else out.nrInodes = n;
        break;
      }
      case 'mode': {
        if (!/^[0-7]+$/.test(value)) return E.EINVAL;
        out.mode = Number.parseInt(value, 8) & 0o7777;
        break;
      }
      case 'uid':
      case 'gid': {
        if (!/^[0-9]+$/.test(value)) return E.EINVAL;
        const id = Number(value);
        if (id > 0xfffffffe) return E.EINVAL;
        if (key === 'uid') out.uid = id;
        else out.gid = id;
        break;
      }
      default:
        return E.EINVAL;
    }
  }
  return out;
}
