/**
 * Where the kernel gets time and timer callbacks from. The kernel never reads a clock or calls
 * `setTimeout` directly: it asks a {@link TimeSource}, so tests run on a {@link ManualTime} that
 * advances only when told and are deterministic.
 *
 * @module
 */

/** A source of the two base clocks and of timer callbacks. */
export interface TimeSource {
  /** Nanoseconds since the Unix epoch (CLOCK_REALTIME). */
  realtimeNs(): bigint;
  /** Nanoseconds of a clock that never jumps (CLOCK_MONOTONIC). */
  monotonicNs(): bigint;
  /**
   * Calls `fire` once the monotonic clock reaches `deadlineNs` (at once, asynchronously, if it
   * already has). Returns a function that cancels the timer if it has not fired.
   */
  setTimer(deadlineNs: bigint, fire: () => void): () => void;
}

/** Nanoseconds in a millisecond. */
const MS = 1_000_000n;

/**
 * The host's clocks: realtime is `process.hrtime` (CLOCK_MONOTONIC) plus an offset to the wall
 * clock, so it has hrtime's nanoseconds; monotonic is hrtime.
 *
 * Sandboxed programs also read realtime through the host's vDSO, and trapped reads (and the
 * timestamps the kernel stamps, such as SO_TIMESTAMP) must agree with it to the nanosecond, or
 * a program comparing the two sees time go back (ping: "time of day goes back"). `exactOffset`,
 * when given, reads the host's CLOCK_REALTIME minus CLOCK_MONOTONIC exactly (the runtime passes
 * the platform's); without it the offset comes from `Date.now()` and may be a millisecond off.
 *
 * The offset is taken again whenever the wall clock is seen to have moved against hrtime by more
 * than its own millisecond truncation allows (the host's clock was stepped: settimeofday, an NTP
 * step, a VM resume), as the vDSO follows such steps at once.
 */
export class HostTime implements TimeSource {
  private offset: bigint;

  /**
   * `wallMs` is the host's wall clock in ms since the epoch (a parameter for tests);
   * `exactOffset` the host's CLOCK_REALTIME - CLOCK_MONOTONIC in ns.
   */
  constructor(
    private readonly wallMs: () => number = Date.now,
    private readonly exactOffset?: () => bigint,
  ) {
    this.offset = exactOffset ? exactOffset() : BigInt(wallMs()) * MS - process.hrtime.bigint();
  }

  realtimeNs(): bigint {
    const mono = process.hrtime.bigint();
    const derived = this.offset + mono;
    const wall = BigInt(this.wallMs()) * MS;
    // Without a step, `derived` lies within a millisecond of `wall` either way (both truncations);
    // one more millisecond of slack keeps a reading at the edge from re-anchoring back and forth.
    if (derived < wall - 2n * MS || derived >= wall + 2n * MS) {
      if (this.exactOffset) {
        this.offset = this.exactOffset();
        return this.offset + process.hrtime.bigint();
      }
      this.offset = wall - mono;
      return wall;
    }
    return derived;
  }

  monotonicNs(): bigint {
    return process.hrtime.bigint();
  }

  setTimer(deadlineNs: bigint, fire: () => void): () => void {
    const ms = Number(deadlineNs - process.hrtime.bigint()) / 1e6;
    // setTimeout has millisecond granularity and may fire early by a fraction: re-arm until due.
    let handle: ReturnType<typeof setTimeout>;
    const arm = (delay: number): void => {
      handle = setTimeout(
        () => {
          const left = Number(deadlineNs - process.hrtime.bigint()) / 1e6;
          if (left > 0) arm(left);
          else fire();
        },
        Math.max(0, Math.ceil(delay)),
      );
    };
    arm(ms);
    return () => clearTimeout(handle);
  }
}

/**
 * A clock that moves only when {@link advance} is called; due timers fire, in deadline order,
 * during `advance`.
 *
 * @example
 * ```ts
 * const t = new ManualTime();
 * let fired = false;
 * t.setTimer(1_000n, () => (fired = true));
 * t.advance(1_000n); // fired === true
 * ```
 */
export class ManualTime implements TimeSource {
  private mono: bigint;
  private readonly timers = new Set<{ at: bigint; fire: () => void }>();

  constructor(
    private readonly realtimeOffset = 1_700_000_000_000_000_000n,
    start = 1_000_000_000n,
  ) {
    this.mono = start;
  }

  realtimeNs(): bigint {
    return this.realtimeOffset + this.mono;
  }

  monotonicNs(): bigint {
    return this.mono;
  }

  setTimer(deadlineNs: bigint, fire: () => void): () => void {
    const t = { at: deadlineNs, fire };
    this.timers.add(t);
    if (deadlineNs <= this.mono) queueMicrotask(() => this.fireDue());
    return () => this.timers.delete(t);
  }

  /** Moves the clock forward by `ns` and fires the timers that became due. */
  advance(ns: bigint): void {
    this.mono += ns;
    this.fireDue();
  }

  /** Number of armed timers (for tests that check cancellation). */
  get pendingTimers(): number {
    return this.timers.size;
  }

  private fireDue(): void {
    const due = [...this.timers].filter((t) => t.at <= this.mono).sort((a, b) => (a.at < b.at ? -1 : 1));
    for (const t of due) {
      this.timers.delete(t);
      t.fire();
    }
  }
}
