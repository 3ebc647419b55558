/**
 * Why a packet was rejected by a wire parser. Parsers return these values instead of throwing:
 * every byte that reaches them is untrusted. One frozen object per reason, so callers compare
 * with `===` and nothing is allocated on the drop path.
 *
 * @module
 */

/** A reason a buffer is not a valid packet of some format. */
export class WireError {
  /** @internal the four instances below are the only ones. */
  constructor(
    /** Short name of the reason. */
    readonly reason: 'truncated' | 'malformed' | 'checksum' | 'unsupported',
  ) {
    Object.freeze(this);
  }

  /** The buffer is shorter than the header or the lengths it declares. */
  static readonly Truncated = new WireError('truncated');
  /** A field holds a value the format forbids (bad version, bad option length, ...). */
  static readonly Malformed = new WireError('malformed');
  /** The checksum does not verify. */
  static readonly Checksum = new WireError('checksum');
  /** Valid, but a feature this stack does not handle (e.g. IPv4 fragments). */
  static readonly Unsupported = new WireError('unsupported');

  toString(): string {
    return `WireError(${this.reason})`;
  }
}

/**
 * Narrows a parse result to its error case.
 *
 * @example
 * ```ts
 * const repr = UdpRepr.parse(packet, src, dst);
 * if (isWireError(repr)) return; // drop
 * ```
 */
export function isWireError(value: unknown): value is WireError {
  return value instanceof WireError;
}
