/**
 * Futex queues keyed by address space and address. The syscall layer reads and compares the
 * futex word through {@link TaskMemory} and then uses this table to sleep and wake; the kernel
 * uses it for `CLONE_CHILD_CLEARTID` wake-ups and robust-list cleanup.
 *
 * Keys: a futex in private memory is identified by (address space, address); one in memory
 * shared between address spaces (a MAP_SHARED VMA, used without FUTEX_PRIVATE_FLAG) by the object
 * mapped (`MapFile.mapObject`) and its offset there ({@link FutexTable.keyOf}).
 *
 * @module
 */
import { PAGE_SIZE } from '@tsvisor/abi';
import { VM, type Vma } from '@tsvisor/mm';
import { Waiter, WaitQueue } from './wait-queue.js';

/** What {@link FutexTable.keyOf} needs of a memory model: the VMA holding an address. */
interface VmaLookup {
  findVma(addr: number): Vma | undefined;
}

/** `FUTEX_BITSET_MATCH_ANY`. */
export const FUTEX_BITSET_MATCH_ANY = 0xffffffff;

/** What a futex waiter carries: the bitset it waits for. */
export interface FutexWaitData {
  readonly bitset: number;
}

/** The futex hash table of a kernel. */
export class FutexTable {
  private readonly queues = new Map<string, WaitQueue<FutexWaitData>>();

  /** Numbers for the objects shared futexes live in (a string key cannot hold an object). */
  private static readonly objectIds = new WeakMap<object, number>();
  private static nextObjectId = 1;

  /**
   * The queue of the futex word at `addr` of address space `mm`. Private futexes
   * (FUTEX_PRIVATE_FLAG) are named by address space and address. A shared one in a shared
   * mapping (MAP_SHARED of a file, shared anonymous memory, SysV shm) is named by the object
   * mapped and the word's place in it, so processes mapping it anywhere meet on one queue (a
   * process-shared mutex or semaphore: POSIX sem_open, Python's multiprocessing locks); in
   * private memory it falls back to the private name, as Linux does for anonymous pages.
   */
  static keyOf(mm: { readonly id: number; readonly model: unknown }, addr: number, shared: boolean): string {
    if (shared) {
      const vma = (mm.model as Partial<VmaLookup> | undefined)?.findVma?.(addr);
      if (vma?.file && (vma.flags & VM.MAYSHARE) !== 0) {
        const into = addr - vma.start;
        return FutexTable.sharedKey(
          vma.file.mapObject ?? vma.file,
          vma.pgoff + Math.floor(into / PAGE_SIZE),
          into % PAGE_SIZE,
        );
      }
    }
    return FutexTable.key(mm.id, addr);
  }

  /** The key of a futex word in private memory: its address space and address. */
  static key(spaceId: number, addr: number): string {
    return `${spaceId}:${addr}`;
  }

  /**
   * The key of a futex word in shared memory: the object mapped (an inode) and the word's page
   * and offset in it, so processes that map it at different addresses meet on one queue
   * (Linux's get_futex_key for a page-cache page).
   */
  private static sharedKey(object: object | string, page: number, offset: number): string {
    if (typeof object === 'string') return `f${object}:${page}:${offset}`;
    let id = FutexTable.objectIds.get(object);
    if (id === undefined) {
      id = FutexTable.nextObjectId++;
      FutexTable.objectIds.set(object, id);
    }
    return `o${id}:${page}:${offset}`;
  }

  /**
   * Queues a new waiter on `key` (the caller has already checked the futex value, with no await
   * in between, which makes check-and-sleep atomic as FUTEX_WAIT requires).
   */
  enqueue(key: string, bitset: number = FUTEX_BITSET_MATCH_ANY): Waiter<FutexWaitData> {
    const w = new Waiter<FutexWaitData>({ bitset });
    const q = this.queue(key);
    q.add(w);
    // A waiter that times out or is interrupted leaves its queue; drop the queue once empty.
    void w.promise.then(() => this.prune(key, q));
    return w;
  }

  /** Wakes up to `n` waiters on `key` whose bitset intersects `bitset`. Returns the count. */
  wake(key: string, n: number, bitset: number = FUTEX_BITSET_MATCH_ANY): number {
    const q = this.queues.get(key);
    if (!q) return 0;
    const woken = q.notify(n, (d) => (d.bitset & bitset) !== 0);
    this.prune(key, q);
    return woken;
  }

  /**
   * FUTEX_REQUEUE: wakes up to `nWake` waiters on `from` and moves up to `nRequeue` more to `to`.
   * Returns woken + moved, as Linux does for FUTEX_CMP_REQUEUE.
   */
  requeue(from: string, to: string, nWake: number, nRequeue: number): number {
    const q = this.queues.get(from);
    if (!q) return 0;
    const woken = q.notify(nWake);
    const moved = from === to ? 0 : q.moveTo(this.queue(to), nRequeue);
    this.prune(from, q);
    return woken + moved;
  }

  /** Number of waiters on `key`. */
  waiters(key: string): number {
    return this.queues.get(key)?.size ?? 0;
  }

  private queue(key: string): WaitQueue<FutexWaitData> {
    let q = this.queues.get(key);
    if (!q) {
      q = new WaitQueue();
      this.queues.set(key, q);
    }
    return q;
  }

  private prune(key: string, q: WaitQueue<FutexWaitData>): void {
    if (q.size === 0 && this.queues.get(key) === q) this.queues.delete(key);
  }

  /** Number of futex words with waiters (for leak checks). */
  get activeKeys(): number {
    return this.queues.size;
  }
}
