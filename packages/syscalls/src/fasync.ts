/**
 * Signal-driven I/O: the owner of an open file description (fcntl F_SETOWN, F_SETOWN_EX), the
 * signal it gets (F_SETSIG), and the SIGIO sent when a description with O_ASYNC set (F_SETFL,
 * ioctl FIOASYNC) becomes ready, as Linux's fs/fcntl.c (f_setown, send_sigio, send_sigurg).
 *
 * The owner belongs to the open file description (Linux's `file->f_owner`), so it is shared by
 * dup'ed and inherited descriptors. The readiness comes from the description's wait queue: while
 * O_ASYNC is set, one waiter on it turns each readiness event into a signal to the owner, so
 * every file with a wait queue (sockets, pipes, FIFOs, ttys, eventfds, inotify) works alike.
 *
 * @module
 */
import { E, NSIG, PollEvent, Signal, SiCode, type LinuxError } from '@tsvisor/abi';
import type { Credentials, Task, ThreadGroup } from '@tsvisor/kernel';
import type { FileDescription, WaitQueue, Waiter } from '@tsvisor/vfs';

/** `F_OWNER_TID`, `F_OWNER_PID`, `F_OWNER_PGRP` (struct f_owner_ex's type). */
export const F_OWNER_TID = 0;
export const F_OWNER_PID = 1;
export const F_OWNER_PGRP = 2;

/** The si_code of a SIGIO-style signal (`POLL_IN` ... `POLL_HUP`). */
const POLL_IN = 1;
const POLL_OUT = 2;
const POLL_ERR = 4;
const POLL_PRI = 5;
const POLL_HUP = 6;

/** Linux's band_table: the si_band of each POLL_* reason. */
const BAND: Readonly<Record<number, number>> = {
  [POLL_IN]: PollEvent.POLLIN | PollEvent.POLLRDNORM,
  [POLL_OUT]: PollEvent.POLLOUT | PollEvent.POLLWRNORM | PollEvent.POLLWRBAND,
  [POLL_ERR]: PollEvent.POLLERR,
  [POLL_PRI]: PollEvent.POLLPRI | PollEvent.POLLRDBAND,
  [POLL_HUP]: PollEvent.POLLHUP | PollEvent.POLLERR,
};

/** Who gets a description's signals, and with whose credentials they were asked for. */
interface Owner {
  readonly type: number;
  readonly id: number;
  /** The real and effective uid of the task that set the owner (sigio_perm checks them). */
  readonly uid: number;
  readonly euid: number;
}

interface AsyncState {
  owner: Owner | undefined;
  /** F_SETSIG's signal; 0 means plain SIGIO. */
  signal: number;
  /** The O_ASYNC registration: the queue watched and the fd named in si_fd. */
  watch: { readonly queue: WaitQueue; readonly waiter: Waiter; fd: number } | undefined;
}

const states = new WeakMap<FileDescription, AsyncState>();

function stateOf(file: FileDescription): AsyncState {
  let s = states.get(file);
  if (!s) {
    s = { owner: undefined, signal: 0, watch: undefined };
    states.set(file, s);
  }
  return s;
}

/**
 * F_SETOWN / F_SETOWN_EX: `id` 0 clears the owner; otherwise some thread, process or process
 * group must have that number (Linux's find_vpid: `ESRCH` when none has), whatever the type.
 */
export function setOwner(t: Task, file: FileDescription, type: number, id: number): 0 | LinuxError {
  if (type !== F_OWNER_TID && type !== F_OWNER_PID && type !== F_OWNER_PGRP) return E.EINVAL;
  const s = stateOf(file);
  if (id === 0) {
    s.owner = undefined;
    return 0;
  }
  const k = t.kernel;
  if (!k.task(id) && !k.threadGroup(id) && !k.processGroup(id)) return E.ESRCH;
  const c = t.group.creds;
  s.owner = { type, id, uid: c.uid, euid: c.euid };
  return 0;
}

/** F_GETOWN_EX: the owner's type and id (`F_OWNER_PID`, 0 when none was set). */
export function ownerOf(file: FileDescription): { readonly type: number; readonly id: number } {
  const o = states.get(file)?.owner;
  return o ? { type: o.type, id: o.id } : { type: F_OWNER_PID, id: 0 };
}

/** F_SETSIG: 0 (plain SIGIO) or any signal number; `EINVAL` past the last one. */
export function setAsyncSignal(file: FileDescription, sig: number): 0 | LinuxError {
  if (sig < 0 || sig > NSIG) return E.EINVAL;
  stateOf(file).signal = sig;
  return 0;
}

/** F_GETSIG. */
export function asyncSignalOf(file: FileDescription): number {
  return states.get(file)?.signal ?? 0;
}

/**
 * Follows the description's O_ASYNC flag after F_SETFL or FIOASYNC changed it (Linux's ->fasync):
 * while set, readiness events of the file signal its owner, naming `fd` in si_fd.
 */
export function syncAsync(t: Task, file: FileDescription, fd: number, on: boolean): void {
  const s = stateOf(file);
  if (!on) {
    if (s.watch) s.watch.queue.remove(s.watch.waiter);
    s.watch = undefined;
    return;
  }
  if (s.watch) {
    s.watch.fd = fd;
    return;
  }
  const queue = file.waitQueue;
  if (!queue) return;
  const kernel = t.kernel;
  const waiter: Waiter = {
    mask: -1,
    notify: (events) => {
      if (file.isReleased) {
        queue.remove(waiter);
        return;
      }
      const reason =
        events & (PollEvent.POLLIN | PollEvent.POLLRDNORM)
          ? POLL_IN
          : events & (PollEvent.POLLOUT | PollEvent.POLLWRNORM)
            ? POLL_OUT
            : events & PollEvent.POLLPRI
              ? POLL_PRI
              : events & PollEvent.POLLHUP
                ? POLL_HUP
                : events & PollEvent.POLLERR
                  ? POLL_ERR
                  : 0;
      if (reason !== 0) sendSigio(kernel, s, reason);
    },
  };
  queue.add(waiter);
  s.watch = { queue, waiter, fd };
}

/**
 * Linux's send_sigurg: urgent data arrived on a socket; SIGURG goes to the description's owner
 * (whether or not O_ASYNC is set), if it has one.
 */
export function sendSigurg(kernel: Task['kernel'], file: FileDescription): void {
  const s = states.get(file);
  if (!s?.owner) return;
  forEachTarget(kernel, s.owner, (g, task) => {
    const info = { signo: Signal.SIGURG, code: SiCode.SI_KERNEL };
    if (task) kernel.sendToTask(task, info);
    else kernel.sendToGroup(g, info);
  });
}

function sendSigio(kernel: Task['kernel'], s: AsyncState, reason: number): void {
  const owner = s.owner;
  if (!owner) return;
  const fd = s.watch?.fd ?? 0;
  forEachTarget(kernel, owner, (g, task) => {
    // F_SETSIG: a queued signal with the reason, band and fd; else plain SIGIO from the kernel.
    const info =
      s.signal !== 0
        ? { signo: s.signal, code: reason, band: BAND[reason] ?? 0, fd }
        : { signo: Signal.SIGIO, code: SiCode.SI_KERNEL };
    if (task) kernel.sendToTask(task, info);
    else kernel.sendToGroup(g, info);
  });
}

/** The owner's processes (or thread) that sigio_perm lets it signal. */
function forEachTarget(
  kernel: Task['kernel'],
  owner: Owner,
  send: (g: ThreadGroup, task: Task | undefined) => void,
): void {
  if (owner.type === F_OWNER_TID) {
    const task = kernel.task(owner.id);
    if (task && permitted(owner, task.group.creds)) send(task.group, task);
    return;
  }
  if (owner.type === F_OWNER_PID) {
    const g = kernel.threadGroup(owner.id);
    if (g && permitted(owner, g.creds)) send(g, undefined);
    return;
  }
  const pgrp = kernel.processGroup(owner.id);
  if (!pgrp) return;
  for (const g of [...pgrp.members]) if (permitted(owner, g.creds)) send(g, undefined);
}

/** sigio_perm: root, or the owner's uid or euid matching the target's uid or saved uid. */
function permitted(owner: Owner, target: Credentials): boolean {
  return (
    owner.euid === 0 ||
    owner.euid === target.suid ||
    owner.euid === target.uid ||
    owner.uid === target.suid ||
    owner.uid === target.uid
  );
}
