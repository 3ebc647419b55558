/**
 * Wait queues: how a blocked syscall waits without blocking Node's event loop. A handler that
 * must wait creates a {@link Waiter}, puts it on one or more {@link WaitQueue}s (and on its task,
 * so that a signal can interrupt it) and awaits `waiter.promise`. Whoever makes progress
 * possible calls `queue.notify()`. The first of notify / interrupt / timeout wins; the waiter
 * then leaves every queue it was on.
 *
 * Re-entrancy: `notify` resolves promises, so woken handlers run later (in a microtask), never
 * inside `notify`. A handler must therefore re-check its condition after waking: wake-ups are
 * hints, as on Linux.
 *
 * @module
 */
import type { TimeSource } from './time/time-source.js';

/** Why a wait ended. */
export type WakeReason = 'notified' | 'interrupted' | 'timeout';

/**
 * One blocked wait, carrying data that notifiers may match on (a futex bitset, a wait4 filter).
 */
export class Waiter<D = undefined> {
  /** Resolves once with the reason the wait ended. */
  readonly promise: Promise<WakeReason>;
  private resolve!: (r: WakeReason) => void;
  private readonly queues = new Set<WaitQueue<D>>();
  private cancelTimer: (() => void) | undefined;
  private ended: WakeReason | undefined;

  constructor(readonly data: D) {
    this.promise = new Promise((r) => (this.resolve = r));
  }

  /** The reason the wait ended, or `undefined` while it is still waiting. */
  get reason(): WakeReason | undefined {
    return this.ended;
  }

  /** Ends the wait unless already ended. Returns true if this call ended it. */
  wake(reason: WakeReason): boolean {
    if (this.ended) return false;
    this.ended = reason;
    for (const q of this.queues) q.remove(this);
    this.queues.clear();
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.resolve(reason);
    return true;
  }

  /** Arms a timeout at a monotonic deadline. */
  setDeadline(time: TimeSource, deadlineNs: bigint): void {
    if (this.ended) return;
    this.cancelTimer?.();
    this.cancelTimer = time.setTimer(deadlineNs, () => this.wake('timeout'));
  }

  /** @internal called by WaitQueue */
  joined(q: WaitQueue<D>): void {
    this.queues.add(q);
  }

  /** @internal called by WaitQueue */
  left(q: WaitQueue<D>): void {
    this.queues.delete(q);
  }
}

/** A FIFO of waiters. */
export class WaitQueue<D = undefined> {
  private readonly list = new Set<Waiter<D>>();

  /** Adds a waiter (no-op if it has already ended). */
  add(w: Waiter<D>): void {
    if (w.reason) return;
    this.list.add(w);
    w.joined(this);
  }

  /** Removes a waiter without waking it. */
  remove(w: Waiter<D>): void {
    if (this.list.delete(w)) w.left(this);
  }

  /** Number of waiters. */
  get size(): number {
    return this.list.size;
  }

  /** The waiters in arrival order. */
  waiters(): IterableIterator<Waiter<D>> {
    return this.list.values();
  }

  /**
   * Wakes up to `n` waiters in arrival order, only those whose data `match` accepts. Returns how
   * many were woken.
   */
  notify(n = Infinity, match?: (data: D) => boolean): number {
    let woken = 0;
    for (const w of [...this.list]) {
      if (woken >= n) break;
      if (match && !match(w.data)) continue;
      if (w.wake('notified')) woken++;
    }
    return woken;
  }

  /** Moves up to `n` matching waiters to `target` without waking them (futex requeue). */
  moveTo(target: WaitQueue<D>, n: number, match?: (data: D) => boolean): number {
    let moved = 0;
    for (const w of [...this.list]) {
      if (moved >= n) break;
      if (match && !match(w.data)) continue;
      this.remove(w);
      target.add(w);
      moved++;
    }
    return moved;
  }
}
