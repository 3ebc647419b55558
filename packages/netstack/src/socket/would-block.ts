/**
 * The "would block" result. A socket operation that cannot complete now (no data, no buffer
 * space, no pending connection) returns this value rather than an errno: the caller decides
 * whether that means EAGAIN (non-blocking) or waiting for readiness (blocking).
 *
 * @module
 */

/** Returned when an operation cannot complete now; wait for readiness and retry. */
export const WOULD_BLOCK: unique symbol = Symbol('WOULD_BLOCK');

/** The type of {@link WOULD_BLOCK}. */
export type WouldBlock = typeof WOULD_BLOCK;
