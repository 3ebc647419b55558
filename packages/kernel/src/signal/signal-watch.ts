/**
 * Watchers of signal queueing: signalfd(2) and rt_sigtimedwait(2) wait for a signal that is
 * blocked, so no wake-up of the usual kind (interrupting the chosen thread) reaches them. The
 * kernel calls {@link notifySignalQueued} each time it queues a signal; watchers re-check their
 * own condition, as Linux's signalfd_notify wakes every signalfd waiter of the sighand.
 *
 * @module
 */
import type { ThreadGroup } from '../task/task.js';

type Watcher = (g: ThreadGroup) => void;

const watchers = new WeakMap<object, Set<Watcher>>();

/**
 * Calls `fn` with the receiving process each time `kernel` queues a signal, until the returned
 * function is called.
 */
export function watchSignals(kernel: object, fn: Watcher): () => void {
  let set = watchers.get(kernel);
  if (!set) watchers.set(kernel, (set = new Set()));
  set.add(fn);
  return () => void set.delete(fn);
}

/** @internal the kernel tells the watchers that `g` (or one of its threads) got a signal. */
export function notifySignalQueued(kernel: object, g: ThreadGroup): void {
  const set = watchers.get(kernel);
  if (!set) return;
  for (const fn of [...set]) fn(g);
}
