/**
 * Zero as V8 stores a fraction: the starting value of a class field that will hold integers of
 * 2^30 and more (addresses, uint32 TCP sequence numbers) or fractional milliseconds.
 *
 * V8 gives each field of a class the representation of the first value its objects store there.
 * A field that starts as a small integer has to be rebuilt the first time it gets a larger one or
 * a fraction: its hidden class and every hidden class made after it for later fields, with each
 * object that has them migrated. In TcpSocket (about 150 fields) that was some 1000 hidden
 * classes during a sandbox's first connection, 2 of its 3 ms. A field that starts as -0 is a
 * double from the first object on, which it would become anyway. -0 equals 0 in every comparison
 * and arithmetic operation and is written as 0 to typed arrays and strings, but `Object.is` (and
 * so a test's `toBe(0)`) tells it apart: use it for private fields whose starting value is never
 * handed out as it is.
 */
export const DOUBLE_ZERO = -0;
