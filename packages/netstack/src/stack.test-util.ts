// Helpers for stack tests: run stacks until quiet, advancing a virtual clock to deadlines.
import type { Stack } from './stack.js';

/** Polls all stacks at `now` until none has immediate work; returns the earliest deadline. */
export function settle(stacks: readonly Stack[], now: number): number | undefined {
  for (let i = 0; i < 10_000; i++) {
    let next: number | undefined;
    for (const s of stacks) {
      const d = s.poll(now);
      if (d !== undefined && (next === undefined || d < next)) next = d;
    }
    // A stack polled early in the round may have received frames from one polled later.
    for (const s of stacks) {
      const d = s.device.pollAt?.(now);
      if (d !== undefined && (next === undefined || d < next)) next = d;
    }
    if (next === undefined || next > now) return next;
  }
  throw new Error('stacks never settled');
}

/** Runs stacks on a virtual clock until `done()` or `limit` ms pass; returns the final time. */
export function runUntil(
  stacks: readonly Stack[],
  start: number,
  done: () => boolean,
  limit = 600_000,
): number {
  let now = start;
  while (now - start <= limit) {
    const next = settle(stacks, now);
    if (done()) return now;
    if (next === undefined) return now;
    now = Math.max(next, now + 1);
  }
  return now;
}
