/**
 * Readiness and waiting. The VFS never blocks: an operation that would block on Linux (read of
 * an empty pipe, write to a full one, open of a FIFO with no peer) returns {@link WOULD_BLOCK}
 * when the description is blocking, or EAGAIN when it has O_NONBLOCK. The kernel then waits on
 * the description's {@link WaitQueue} for the events it needs and retries, so it alone decides
 * about signals (EINTR / restart) and timeouts.
 *
 * @module
 */

/**
 * The result of an operation that would block a blocking description: wait for readiness and
 * call again. Never returned for O_NONBLOCK descriptions (they get EAGAIN).
 */
export const WOULD_BLOCK: unique symbol = Symbol('WOULD_BLOCK');
/** The type of {@link WOULD_BLOCK}. */
export type WouldBlock = typeof WOULD_BLOCK;

/** A subscriber to a {@link WaitQueue}: called with the events that happened. */
export interface Waiter {
  /** The poll events (POLLIN, POLLOUT, ...) this waiter cares about. */
  mask: number;
  /** Called synchronously from the operation that made the events happen; must not throw. */
  notify(events: number): void;
}

/**
 * The waiters of one object (a pipe, a FIFO, a device). The kernel's poll/epoll and blocking
 * syscalls add waiters; the object calls {@link WaitQueue.notify} when its readiness changes.
 */
export class WaitQueue {
  private readonly waiters = new Set<Waiter>();

  /**
   * `onActive` runs when the first waiter comes (true) and when the last one goes (false): an
   * object whose readiness costs work to follow follows it only while someone waits. Every
   * waiter looks at the readiness itself before it waits, so changes before it came are not owed.
   */
  constructor(private readonly onActive?: (active: boolean) => void) {}

  /** Subscribe; keep the waiter to {@link WaitQueue.remove} it later. */
  add(waiter: Waiter): void {
    const before = this.waiters.size;
    this.waiters.add(waiter);
    if (before === 0 && this.onActive !== undefined) this.onActive(true);
  }

  remove(waiter: Waiter): void {
    if (this.waiters.delete(waiter) && this.waiters.size === 0 && this.onActive !== undefined)
      this.onActive(false);
  }

  /** True when someone waits (lets the notifier skip work). */
  get active(): boolean {
    return this.waiters.size > 0;
  }

  /** Wake every waiter whose mask intersects `events`. */
  notify(events: number): void {
    if (this.waiters.size === 0) return;
    for (const w of [...this.waiters]) if ((w.mask & events) !== 0) w.notify(events);
  }
}

/** Something with readiness: a file description or the object behind it. */
export interface Waitable {
  /** The poll events ready now, restricted to `mask` (POLLERR/POLLHUP are always reported). */
  readiness(mask: number): number;
  /** Where to wait for readiness changes; null when readiness never changes. */
  readonly waitQueue: WaitQueue | null;
}

/**
 * Wait until `target` has one of the events in `mask` (or POLLERR/POLLHUP). Resolves with the
 * ready events. `signal` aborts the wait (the kernel's signal delivery), rejecting with the
 * signal's reason. Checks readiness first, so a missed wake-up cannot hang.
 */
export function waitForEvents(target: Waitable, mask: number, signal?: AbortSignal): Promise<number> {
  const always = 0x8 | 0x10; // POLLERR | POLLHUP
  const now = target.readiness(mask | always);
  if (now !== 0) return Promise.resolve(now);
  const queue = target.waitQueue;
  if (queue === null) return new Promise(() => undefined);
  return new Promise<number>((resolve, reject) => {
    const waiter: Waiter = {
      mask: mask | always,
      notify() {
        const ready = target.readiness(mask | always);
        if (ready === 0) return;
        queue.remove(waiter);
        signal?.removeEventListener('abort', onAbort);
        resolve(ready);
      },
    };
    const onAbort = (): void => {
      queue.remove(waiter);
      reject(signal?.reason);
    };
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    queue.add(waiter);
  });
}
