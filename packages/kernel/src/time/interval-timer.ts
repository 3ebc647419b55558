/**
 * An expiring timer on the monotonic clock with a reload interval, counting expirations the way
 * Linux's hrtimer_forward does: however late the host runs the callback, every period that has
 * passed counts once. timerfd(2) and POSIX timers (timer_create(2)) are built on it.
 *
 * @module
 */
import type { TimeSource } from './time-source.js';

/** A periodic or one-shot timer; `onExpire` gets the number of expirations it has just counted. */
export class ExpiringTimer {
  private deadline: bigint | undefined;
  private interval = 0n;
  private cancelHost: (() => void) | undefined;

  constructor(
    private readonly time: TimeSource,
    /** Called from the host timer with the expirations counted since the last settle (>= 1). */
    private readonly onExpire: (count: bigint) => void,
  ) {}

  /** True while armed (a one-shot timer disarms when it expires). */
  get armed(): boolean {
    return this.deadline !== undefined;
  }

  /** The reload interval in ns (0 for one-shot). */
  get intervalNs(): bigint {
    return this.interval;
  }

  /**
   * Arms the timer to expire at monotonic `deadline`, then every `interval` ns (0: once).
   * A `deadline` of undefined disarms it.
   */
  arm(deadline: bigint | undefined, interval: bigint): void {
    this.cancelHost?.();
    this.cancelHost = undefined;
    this.deadline = deadline;
    this.interval = deadline === undefined ? 0n : interval;
    this.schedule();
  }

  /** Disarms the timer. */
  disarm(): void {
    this.arm(undefined, 0n);
  }

  /**
   * Counts the expirations due by now (possibly before the host timer has run) and moves the
   * deadline past them. Returns the count (0 when none were due).
   */
  settle(): bigint {
    const d = this.deadline;
    if (d === undefined) return 0n;
    const now = this.time.monotonicNs();
    if (now < d) return 0n;
    if (this.interval === 0n) {
      this.deadline = undefined;
      this.cancelHost?.();
      this.cancelHost = undefined;
      return 1n;
    }
    const n = 1n + (now - d) / this.interval;
    this.deadline = d + n * this.interval;
    this.schedule();
    return n;
  }

  /** Nanoseconds until the next expiration (after {@link settle}); 0 when disarmed. */
  remaining(): bigint {
    this.settleAndReport();
    const d = this.deadline;
    if (d === undefined) return 0n;
    const left = d - this.time.monotonicNs();
    // An armed timer never reports 0 (that would read as disarmed).
    return left > 0n ? left : 1n;
  }

  /** Settles and reports what was due to `onExpire`. */
  settleAndReport(): void {
    const n = this.settle();
    if (n > 0n) this.onExpire(n);
  }

  private schedule(): void {
    this.cancelHost?.();
    this.cancelHost = undefined;
    const d = this.deadline;
    if (d === undefined) return;
    this.cancelHost = this.time.setTimer(d, () => {
      this.cancelHost = undefined;
      const n = this.settle();
      if (n > 0n) this.onExpire(n);
      else this.schedule(); // the host woke early: wait again
    });
  }
}
