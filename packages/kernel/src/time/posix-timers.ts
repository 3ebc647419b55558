/**
 * POSIX per-process timers (timer_create(2) and friends): each process has a table of timers
 * numbered from 0; an expiring timer queues one signal (SIGEV_SIGNAL to the process,
 * SIGEV_THREAD_ID to one thread) or nothing (SIGEV_NONE). While its signal is still pending,
 * further expirations are not queued again but counted as overruns, which the delivered
 * siginfo carries in `si_overrun` and timer_getoverrun(2) reports afterwards.
 *
 * Timers are not inherited by fork and are deleted by execve and exit ({@link exitPosixTimers}).
 *
 * @module
 */
import { SiCode } from '@tsvisor/abi';
import type { Kernel } from '../kernel.js';
import type { SigInfo } from '../signal/signal-state.js';
import type { Task, ThreadGroup } from '../task/task.js';
import { ExpiringTimer } from './interval-timer.js';
import type { TimeSource } from './time-source.js';

/** DELAYTIMER_MAX: the overrun count saturates at INT_MAX. */
const DELAYTIMER_MAX = 0x7fff_ffffn;

/** How a timer notifies (struct sigevent after validation). */
export type TimerNotify =
  | { readonly kind: 'none' }
  | { readonly kind: 'signal'; readonly signo: number; readonly value: bigint }
  | { readonly kind: 'thread'; readonly signo: number; readonly value: bigint; readonly task: Task };

/** One POSIX timer. */
export class PosixTimer {
  /** The expiration engine; its deadlines are monotonic. */
  readonly timer: ExpiringTimer;
  /** The overrun count of the last delivered signal (timer_getoverrun). */
  overrunLast = 0;
  private queued: SigInfo | undefined;
  private pendingOverrun = 0n;
  private deleted = false;
  /** Bumped by every re-arm and the delete: a signal queued before is dropped when taken. */
  private generation = 0;

  constructor(
    private readonly kernel: Kernel,
    private readonly group: ThreadGroup,
    /** The timer id timer_create returned. */
    readonly id: number,
    /** The clock it was created on (its absolute times are read against this clock). */
    readonly clockId: number,
    readonly notify: TimerNotify,
    /** The clock its deadlines are on: the kernel's monotonic clock, or a CPU-time clock. */
    readonly clock: TimeSource = kernel.time,
  ) {
    this.timer = new ExpiringTimer(clock, (n) => this.expire(n));
  }

  /** Stops the timer for good (timer_delete, exec, exit). */
  delete(): void {
    this.deleted = true;
    this.generation++;
    this.timer.disarm();
  }

  private expire(n: bigint): void {
    const ev = this.notify;
    if (this.deleted || ev.kind === 'none') return;
    const g = this.group;
    if (g.state !== 'alive' || g.exiting) {
      this.timer.disarm();
      return;
    }
    const target = ev.kind === 'thread' ? ev.task : undefined;
    const queue = target ? target.pending : g.sharedPending;
    if (this.queued && queue.holds(this.queued)) {
      this.pendingOverrun += n;
      return;
    }
    this.pendingOverrun = n - 1n;
    const generation = this.generation;
    const info: SigInfo = {
      signo: ev.signo,
      code: SiCode.SI_TIMER,
      timerId: this.id,
      value: ev.value,
      onDequeue: (queuedInfo) => (generation === this.generation ? this.dequeued(queuedInfo) : undefined),
    };
    this.queued = info;
    if (target) {
      if (target.state !== 'alive') return;
      this.kernel.sendToTask(target, info);
    } else this.kernel.sendToGroup(g, info);
  }

  /** The signal is being taken: fix its overrun count (expirations since it was queued). */
  private dequeued(info: SigInfo): SigInfo {
    if (this.queued === info) this.queued = undefined;
    // Expirations that are due but whose host callback has not run yet count too.
    const late = this.timer.settle();
    let over = this.pendingOverrun + late;
    this.pendingOverrun = 0n;
    if (over > DELAYTIMER_MAX) over = DELAYTIMER_MAX;
    this.overrunLast = Number(over);
    return {
      signo: info.signo,
      code: info.code,
      timerId: this.id,
      overrun: this.overrunLast,
      value: info.value ?? 0n,
    };
  }

  /**
   * Arms with a new setting. A signal of the previous setting still pending is dropped when
   * taken, as Linux 6.13+ does (and its overruns are forgotten).
   */
  arm(deadline: bigint | undefined, interval: bigint): void {
    this.generation++;
    this.queued = undefined;
    this.pendingOverrun = 0n;
    this.timer.arm(deadline, interval);
  }
}

/** The timers of one process. */
export class PosixTimerTable {
  private readonly timers = new Map<number, PosixTimer>();
  private nextId = 0;

  /**
   * Creates a timer with the next free id; `notify` may depend on that id (a NULL sigevent
   * sends SIGALRM with the id as its value).
   */
  create(
    kernel: Kernel,
    g: ThreadGroup,
    clockId: number,
    notify: TimerNotify | ((id: number) => TimerNotify),
    clock: TimeSource = kernel.time,
  ): PosixTimer {
    while (this.timers.has(this.nextId)) this.nextId = (this.nextId + 1) & 0x7fff_ffff;
    const how = typeof notify === 'function' ? notify(this.nextId) : notify;
    const t = new PosixTimer(kernel, g, this.nextId, clockId, how, clock);
    this.nextId = (this.nextId + 1) & 0x7fff_ffff;
    this.timers.set(t.id, t);
    return t;
  }

  /** The timer with id `id`, if any. */
  get(id: number): PosixTimer | undefined {
    return this.timers.get(id);
  }

  /** Deletes timer `id`; false when there is no such timer. */
  delete(id: number): boolean {
    const t = this.timers.get(id);
    if (!t) return false;
    t.delete();
    this.timers.delete(id);
    return true;
  }

  /** Deletes every timer. */
  clear(): void {
    for (const t of this.timers.values()) t.delete();
    this.timers.clear();
  }

  /** Number of timers. */
  get size(): number {
    return this.timers.size;
  }
}

const tables = new WeakMap<ThreadGroup, PosixTimerTable>();

/** The POSIX timer table of process `g` (created empty on first use). */
export function posixTimersOf(g: ThreadGroup): PosixTimerTable {
  let t = tables.get(g);
  if (!t) tables.set(g, (t = new PosixTimerTable()));
  return t;
}

/** Deletes the process's POSIX timers (execve and exit do, as Linux's exit_itimers). */
export function exitPosixTimers(g: ThreadGroup): void {
  tables.get(g)?.clear();
}
