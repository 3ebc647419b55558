/**
 * The Internet checksum (RFC 1071) and the pseudo-headers of RFC 768/793 (IPv4) and RFC 8200
 * §8.1 (IPv6) that UDP, TCP and ICMPv6 include in theirs.
 *
 * @module
 */
import type { IpAddress } from './ip-address.js';

/** Adds the 16-bit big-endian words of `b[start..end)` to a running (unfolded) sum. */
export function checksumAdd(sum: number, b: Uint8Array, start = 0, end = b.length): number {
  let s = sum;
  let i = start;
  if (end - i >= 32) {
    // Hot path (every segment, both ways): 32-bit big-endian reads, two words per step. The sum
    // stays far below 2^53 for any IP packet, so no intermediate folding is needed.
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (; i + 3 < end; i += 4) {
      const w = dv.getUint32(i);
      s += (w >>> 16) + (w & 0xffff);
    }
  }
  for (; i + 1 < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (i < end) s += b[i]! << 8;
  return s;
}

/** Folds a running sum to 16 bits with end-around carry. */
export function checksumFold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

/** The checksum field value for `b[start..end)` plus an optional pseudo-header sum. */
export function internetChecksum(b: Uint8Array, start = 0, end = b.length, initial = 0): number {
  return ~checksumFold(checksumAdd(initial, b, start, end)) & 0xffff;
}

/** The running sum of a pseudo-header (addresses, upper-layer protocol, upper-layer length). */
export function pseudoHeaderSum(src: IpAddress, dst: IpAddress, protocol: number, length: number): number {
  let s = checksumAdd(0, src.bytes);
  s = checksumAdd(s, dst.bytes);
  s += protocol;
  // IPv6 carries a 32-bit length; IPv4 a 16-bit one. Both add the same words for length < 2^16.
  s += (length >>> 16) + (length & 0xffff);
  return s;
}

/** True when `b[start..end)` (with its checksum field in place) plus `initial` verifies. */
export function checksumVerifies(b: Uint8Array, start = 0, end = b.length, initial = 0): boolean {
  return checksumFold(checksumAdd(initial, b, start, end)) === 0xffff;
}
