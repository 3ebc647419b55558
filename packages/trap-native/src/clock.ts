/**
 * The host's clocks as the sandbox's vDSO reads them.
 *
 * @module
 */
import { native } from './native.native.js';

/**
 * The host's CLOCK_REALTIME minus CLOCK_MONOTONIC in nanoseconds, read now: added to
 * `process.hrtime.bigint()` (CLOCK_MONOTONIC) it gives the realtime the vDSO gives the sandbox,
 * to the nanosecond, where `Date.now()` is a millisecond (for the kernel's `HostTime`).
 *
 * @example
 * ```ts
 * const realtimeNs = hostClockOffsetNs() + process.hrtime.bigint();
 * ```
 */
export function hostClockOffsetNs(): bigint {
  return native().addon.clockOffset();
}
