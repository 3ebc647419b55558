/**
 * The realtime clock for file timestamps, in nanoseconds since the epoch.
 *
 * @module
 */

const base = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Now, in nanoseconds since the epoch (CLOCK_REALTIME). */
export function nowNs(): bigint {
  return base + process.hrtime.bigint();
}
