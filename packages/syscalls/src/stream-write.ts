/**
 * The write loop of blocking streams, shared by write(2)/writev(2) on pipes, FIFOs and sockets
 * and by send(2)/sendto(2)/sendmsg(2): Linux's pipe_write, unix_stream_sendmsg and tcp_sendmsg
 * keep writing, sleeping whenever the buffer is full, until every byte went out. A signal that
 * arrives after some bytes ends the call with their count; before any, with ERESTARTSYS, so a
 * restart never sends a byte twice. O_NONBLOCK (or MSG_DONTWAIT) gives what fitted, or EAGAIN.
 *
 * The underlying objects never block: one attempt writes what fits now and answers
 * "would block" when nothing does. An attempt copies from the app's buffer itself (write(2)
 * hands the file an I/O sequence from `@tsvisor/vfs`): a fault there is an error of that attempt,
 * so bytes already sent are reported and the fault only when none were, as in Linux.
 *
 * @module
 */
import { E, isError, type LinuxError } from '@tsvisor/abi';
import { ERESTARTSYS, Waiter, type ControlResult, type Task } from '@tsvisor/kernel';
import type { WaitQueue } from '@tsvisor/vfs';
import { noteWriteBlocked } from './fasync.js';

/** What one attempt answers: bytes taken (possibly fewer than offered), an error, or `'block'`. */
export type WriteAttempt = (sent: number) => number | LinuxError | 'block';

/** How a write ended: the bytes that went out, and why it stopped short (undefined: it did not). */
export interface WriteOutcome {
  readonly sent: number;
  readonly stop: LinuxError | ControlResult | undefined;
}

/** Where a blocked writer sleeps: the object's wait queue and the events that wake it. */
export interface WriteWait {
  readonly queue: WaitQueue | undefined;
  readonly mask: number;
}

/**
 * Writes `total` bytes by calling `attempt(sent)` for the rest until all are written (when
 * `loop`), an attempt answers 0 or an error, or it would block: then EAGAIN when `nonBlocking`,
 * else a wait on `wait` and another attempt. Without `loop` (datagrams, regular files) one
 * accepted attempt ends the call. Returns synchronously unless it had to wait.
 */
export function writeStream(
  t: Task,
  wait: WriteWait,
  total: number,
  attempt: WriteAttempt,
  opts: { readonly nonBlocking: boolean; readonly loop: boolean },
): WriteOutcome | Promise<WriteOutcome> {
  return writeStreamFrom(t, wait, total, attempt, opts, attempt(0));
}

/**
 * {@link writeStream} after its first attempt, which the caller made itself and which answered
 * `first`. A caller whose first attempt usually ends the call (write(2) of a buffer that fits)
 * makes it directly, and builds the attempt closure and option objects only when it goes on.
 */
export function writeStreamFrom(
  t: Task,
  wait: WriteWait,
  total: number,
  attempt: WriteAttempt,
  opts: { readonly nonBlocking: boolean; readonly loop: boolean },
  first: number | LinuxError | 'block',
): WriteOutcome | Promise<WriteOutcome> {
  let sent = 0;
  // Counts what attempt `r` took and makes the next attempts while the call goes on.
  const settle = (r0: number | LinuxError | 'block'): WriteOutcome | 'block' => {
    let r = r0;
    for (;;) {
      if (r === 'block') return 'block';
      if (isError(r)) return { sent, stop: r };
      sent += r;
      if (!opts.loop || sent >= total || r === 0) return { sent, stop: undefined };
      r = attempt(sent);
    }
  };
  const done = settle(first);
  if (done !== 'block') return done;
  // No room: O_ASYNC bookkeeping (a socket's NOSPACE, a pipe's readers' SIGIO).
  noteWriteBlocked(wait.queue, sent);
  if (opts.nonBlocking) return { sent, stop: E.EAGAIN };
  return sleepAndRetry(
    t,
    wait,
    () => settle(attempt(sent)),
    () => sent,
  );
}

async function sleepAndRetry(
  t: Task,
  wait: WriteWait,
  step: () => WriteOutcome | 'block',
  sent: () => number,
): Promise<WriteOutcome> {
  for (;;) {
    // Subscribe before trying, so a readiness change during the attempt is not missed.
    const w = new Waiter(undefined);
    const sub = { mask: wait.mask, notify: (): void => void w.wake('notified') };
    wait.queue?.add(sub);
    try {
      const r = step();
      if (r !== 'block') return r;
      noteWriteBlocked(wait.queue, sent());
      if (w.reason !== undefined) continue;
      if (!wait.queue) {
        // Nothing will wake us: look again after other work has run.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      if ((await t.block(w)) === 'interrupted') {
        // As pipe_write and sock_alloc_send_pskb do, room that appeared with the signal is used.
        const last = step();
        if (last !== 'block') return last;
        return { sent: sent(), stop: ERESTARTSYS };
      }
    } finally {
      wait.queue?.remove(sub);
    }
  }
}
