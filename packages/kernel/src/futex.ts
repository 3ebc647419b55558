/**
 * Futex queues keyed by address space and address. The syscall layer reads and compares the
 * futex word through {@link TaskMemory} and then uses this table to sleep and wake; the kernel
 * uses it for `CLONE_CHILD_CLEARTID` wake-ups and robust-list cleanup.
 *
 * Keys: a futex in private memory is identified by (address space, address). Futexes in memory
 * shared between address spaces (MAP_SHARED, without FUTEX_PRIVATE_FLAG) would need the backing
 * object and offset; until the memory model exposes them they are keyed the same way, so such
 * a futex only wakes waiters of the same address space.
 *
 * @module
 */
import { Waiter, WaitQueue } from './wait-queue.js';

/** `FUTEX_BITSET_MATCH_ANY`. */
export const FUTEX_BITSET_MATCH_ANY = 0xffffffff;

/** What a futex waiter carries: the bitset it waits for. */
export interface FutexWaitData {
  readonly bitset: number;
}

/** The futex hash table of a kernel. */
export class FutexTable {
  private readonly queues = new Map<string, WaitQueue<FutexWaitData>>();

  /** The key of a futex word. */
  static key(spaceId: number, addr: number): string {
    return `${spaceId}:${addr}`;
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
