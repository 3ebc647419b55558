/**
 * Filesystem callbacks that finish later. The VFS is synchronous (it never blocks the event
 * loop); a filesystem whose answer comes from a promise (a {@link Userfs} with async callbacks)
 * starts the work, notes the promise here, and answers the operation with EAGAIN (path and
 * metadata operations) or {@link WOULD_BLOCK} (read/write on an open file). The caller waits
 * for the noted promises and issues the same call again, which then finds the finished result:
 * the restart protocol of Linux's ERESTARTSYS, with the filesystem keeping the answer.
 *
 * {@link collectPendingIo} runs one VFS call and tells whether it left work in flight, so a
 * caller restarts only the calls that asked for it; {@link settleVfs} is the loop for async
 * callers (the `node:fs/promises`-shaped facade uses it).
 *
 * @module
 */

import { E } from '@tsvisor/abi';
import { WOULD_BLOCK } from './wait.js';

let collector: Promise<unknown>[] | null = null;

/**
 * For filesystem implementations: the current VFS call is waiting for `work`. The caller of
 * {@link collectPendingIo} receives it.
 */
export function notePendingIo(work: Promise<unknown>): void {
  collector?.push(work);
}

/** What {@link collectPendingIo} returns. */
export interface Collected<T> {
  /** What the call returned. */
  result: T;
  /**
   * Settles when every callback the call started has finished (never rejects); null when the
   * call started none. When it is set and `result` is EAGAIN or WOULD_BLOCK, issue the call again
   * after it settles.
   */
  pending: Promise<void> | null;
}

/** Run `op` (one VFS call) and collect the callback promises it left in flight. */
export function collectPendingIo<T>(op: () => T): Collected<T> {
  const outer = collector;
  const mine: Promise<unknown>[] = [];
  collector = mine;
  let result: T;
  try {
    result = op();
  } finally {
    collector = outer;
    outer?.push(...mine);
  }
  const pending = mine.length === 0 ? null : Promise.allSettled(mine).then(() => undefined);
  return { result, pending };
}

/**
 * Run `op` until it stops waiting for filesystem callbacks: each time it answers EAGAIN or
 * WOULD_BLOCK with callbacks in flight, wait for them and run it again. For async callers of a
 * VFS whose filesystems may answer later ({@link Userfs} with async callbacks).
 *
 * @example
 * ```ts
 * const fd = await settleVfs(() => posix.open('/kv/greeting', O_RDONLY));
 * ```
 */
export async function settleVfs<T>(op: () => T): Promise<T> {
  for (;;) {
    const { result, pending } = collectPendingIo(op);
    if (pending === null || (result !== E.EAGAIN && result !== WOULD_BLOCK)) return result;
    await pending;
  }
}
