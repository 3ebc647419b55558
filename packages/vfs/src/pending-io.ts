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

/**
 * The promises noted by the calls being collected, innermost call's last. A nested collection
 * leaves its promises here when it ends, so the enclosing one receives them too. One array for
 * every collection: collecting a call that notes nothing (almost every call) allocates nothing.
 */
const noted: Promise<unknown>[] = [];
/** How many collections are open (0: nobody listens, {@link notePendingIo} drops the promise). */
let depth = 0;

/**
 * For filesystem implementations: the current VFS call is waiting for `work`. The caller of
 * {@link collectPendingIo} receives it.
 */
export function notePendingIo(work: Promise<unknown>): void {
  if (depth > 0) noted.push(work);
}

/**
 * Starts collecting the callback promises of one VFS call made without a closure (the syscall
 * dispatcher's form of {@link collectPendingIo}). Returns the mark to pass to
 * {@link endPendingIo} when the call returns or throws; collections nest and must end in the
 * reverse order they began.
 */
export function beginPendingIo(): number {
  depth++;
  return noted.length;
}

/**
 * Ends the collection begun by {@link beginPendingIo} at `mark`: what {@link Collected.pending}
 * says for the call. Promises the call noted stay visible to an enclosing collection.
 */
export function endPendingIo(mark: number): Promise<void> | null {
  depth--;
  if (noted.length === mark) return null;
  const mine = noted.slice(mark);
  if (depth === 0) noted.length = 0;
  return Promise.allSettled(mine).then(() => undefined);
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
  const mark = beginPendingIo();
  let result: T;
  try {
    result = op();
  } catch (e) {
    endPendingIo(mark);
    throw e;
  }
  return { result, pending: endPendingIo(mark) };
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
